import Foundation

/// Reading and writing the files commands name.
enum Files {
    static func read(_ path: String, console: Console) throws -> Data {
        guard let data = FileManager.default.contents(atPath: (path as NSString).expandingTildeInPath) else {
            throw console.failure("fileUnreadable", "无法读取文件 \(path)", "cannot read the file \(path)")
        }
        return data
    }

    static func write(_ data: Data, to path: String, console: Console) throws {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw console.failure("fileUnwritable", "无法写入文件 \(path)", "cannot write the file \(path)")
        }
    }
}
