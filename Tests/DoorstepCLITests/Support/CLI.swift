import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// What a `doorstep` process did.
struct CLIResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutData: Data

    /// The stderr lines that are not empty.
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }

    /// The error lines on stderr (`错误 [code]: …` / `error [code]: …`).
    var errorLines: [String] {
        stderrLines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("错误 [") || $0.hasPrefix("error [") }
    }

    /// Stdout decoded as JSON.
    func json<T: Decodable>(_ type: T.Type = [String: JSONValue].self) throws -> T {
        try JSONDecoder().decode(type, from: stdoutData)
    }

    /// Stdout as `doorstep sync --json` prints it.
    func syncJSON() throws -> SyncOutput { try json(SyncOutput.self) }

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// `doorstep sync --json`.
struct SyncOutput: Decodable {
    var summary: SyncSummary
    var pending: Int
    var quarantine: Int
    var server: String
}

/// Runs the built `doorstep` executable as a real process, each with its own database.
struct CLI: Sendable {
    /// The local database every command of this CLI uses (`--db`).
    let database: String
    /// `LANG` for the process.
    var lang = "zh_CN.UTF-8"

    init(lang: String = "zh_CN.UTF-8") {
        database = Scratch.root.appendingPathComponent("doorstep-cli-\(UUID().uuidString)/doorstep.sqlite").path
        self.lang = lang
    }

    var folder: String { (database as NSString).deletingLastPathComponent }

    /// The executable: next to the test bundle (the products folder), else `.build/debug` of this package.
    static var executable: URL { Executables.cli }

    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:], withDatabase: Bool = true) async throws -> CLIResult {
        try await Self.run(
            arguments + (withDatabase ? ["--db", database] : []), stdin: stdin,
            environment: ["LANG": lang].merging(extra) { $1 }, folder: folder)
    }

    func run(_ arguments: String..., stdin: String? = nil, environment: [String: String] = [:]) async throws -> CLIResult {
        try await run(arguments, stdin: stdin, environment: environment)
    }

    /// Runs the command line in a pseudo-terminal (`script` of util-linux), so that stdin is a terminal; `nil` without `script`.
    func runInTerminal(_ arguments: [String], stdin: String) async throws -> CLIResult? {
        let script = "/usr/bin/script"
        guard FileManager.default.isExecutableFile(atPath: script) else { return nil }
        let line = ([Self.executable.path] + arguments + ["--db", database]).map { "'" + $0 + "'" }.joined(separator: " ")
        return try await Self.run(
            ["-qec", line, "/dev/null"], stdin: stdin, environment: ["LANG": lang], folder: folder,
            executable: URL(fileURLWithPath: script))
    }

    static func run(
        _ arguments: [String], stdin: String?, environment extra: [String: String], folder: String,
        executable: URL = CLI.executable
    ) async throws -> CLIResult {
        let result = try await ChildProcess.run(executable, arguments, environment: extra, directory: folder, stdin: stdin)
        return CLIResult(status: result.status, stdout: result.stdout, stderr: result.stderr, stdoutData: result.stdoutData)
    }
}
