public import Foundation

/// The package's built executables and programs on the PATH, for tests that run them.
public enum Executables {
    /// The package root (three levels above this file).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable `name`: next to the test bundle (the products folder), else `.build/debug`.
    public static func url(_ name: String) -> URL {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent(),
            packageRoot.appendingPathComponent(".build/debug"),
        ]
        for folder in candidates {
            let file = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: file.path) { return file }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)")
    }

    /// `doorstep-server`.
    public static var server: URL { url("doorstep-server") }
    /// `doorstep`, the CLI.
    public static var cli: URL { url("doorstep") }

    /// A program on the PATH (`openssl`, `curl`, `python3`), or `nil`.
    public static func onPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/local/bin"] {
            let file = URL(fileURLWithPath: folder).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: file.path) { return file }
        }
        return nil
    }

    /// A fresh temporary folder (under `Scratch.root`, removed when the tests end).
    public static func temporaryFolder(_ prefix: String) -> String {
        Scratch.folder(prefix).path
    }

    /// Reads an integer setting from the environment (the long modes), else `ci`.
    public static func setting(_ name: String, ci: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? ci
    }
}
