import Foundation

/// Reading and writing the files commands name.
enum Files {
    static func read(_ path: String, console: Console) throws -> Data {
        guard let data = FileManager.default.contents(atPath: (path as NSString).expandingTildeInPath) else {
            throw console.failure("fileUnreadable", "cli.error.fileUnreadable.cannotReadTheFile", ["path": "\(path)"])
        }
        return data
    }

    static func write(_ data: Data, to path: String, console: Console) throws {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw console.failure("fileUnwritable", "cli.error.fileUnwritable.cannotWriteTheFile", ["path": "\(path)"])
        }
    }
}
