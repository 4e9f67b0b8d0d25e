import Foundation
import DoorstepTestSupport

/// The package's built executables (`swift build` puts them beside the test bundle).
enum Executables {
    /// The package root (four levels above this file).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable `name`: next to the test bundle (the products folder), else `.build/debug`.
    static func url(_ name: String) -> URL {
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent(),
                          packageRoot.appendingPathComponent(".build/debug")]
        for folder in candidates {
            let file = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: file.path) { return file }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)")
    }

    static var server: URL { url("doorstep-server") }
    static var cli: URL { url("doorstep") }

    /// A program on the PATH (`openssl`, `curl`), or `nil`.
    static func onPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/local/bin"] {
            let file = URL(fileURLWithPath: folder).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: file.path) { return file }
        }
        return nil
    }

    /// A fresh temporary folder.
    static func temporaryFolder(_ prefix: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Reads an integer setting from the environment (the long modes), else `ci`.
    static func setting(_ name: String, ci: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? ci
    }
}

/// A seeded generator shared by concurrent tasks.
final class SharedRandom: @unchecked Sendable {
    private let lock = NSLock()
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    func int(_ range: Range<Int>) -> Int { lock.withLock { Int.random(in: range, using: &generator) } }
    func int(_ range: ClosedRange<Int>) -> Int { lock.withLock { Int.random(in: range, using: &generator) } }
    func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func read() -> Value { lock.withLock { value } }

    @discardableResult
    func update<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}
