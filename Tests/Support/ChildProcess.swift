public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one child-process helper of the tests: runs a program to its end (or kills it), with a
/// clean environment, and collects what it wrote.
///
/// Written on Foundation's `Process` rather than swift-subprocess: the crash tests kill a child at
/// a chosen moment and still need everything it wrote, which Subprocess 1.0 gives only by
/// streaming in its closure form; this is one file with no dependency.
public enum ChildProcess {
    /// How a child ended, and what it wrote.
    public struct Result: Sendable, CustomStringConvertible {
        /// The exit status, or the signal's number.
        public var status: Int32
        /// Whether this helper killed it on purpose, after `killAfterMillis`.
        public var killed: Bool
        /// Whether it was still running at its timeout and was killed for it (a hang, never on purpose).
        public var timedOut: Bool
        /// Whether the process died of a signal (its own crash, or the kill).
        public var signalled: Bool
        public var stdoutData: Data
        public var stderrData: Data
        /// Seconds from start to end.
        public var seconds: Double

        public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
        public var stderr: String { String(decoding: stderrData, as: UTF8.self) }

        public var description: String {
            "\(signalled ? "signal" : "exit") \(status)\(killed ? " (killed)" : "")\(timedOut ? " (timed out)" : "") after \(String(format: "%.3f", seconds)) s\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
        }
    }

    /// Runs `executable` with `arguments` and waits for it.
    ///
    /// The environment is `PATH=/usr/bin:/bin`, `HOME` (the working folder), `LANG=en_US.UTF-8` and
    /// `TZ=UTC`, then `environment` over it (with `inheritEnvironment`, this process's own instead
    /// of the clean one). `stdin` is written and closed; without it the child reads nothing.
    /// With `killAfterMillis` the child is sent SIGKILL then (if still running); at `timeout`
    /// seconds it is killed in any case, so a hung child never hangs the suite.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], inheritEnvironment: Bool = false,
        directory: String? = nil, stdin: String? = nil, killAfterMillis: Int? = nil,
        timeout: Double = 60
    ) async throws -> Result {
        let folder = Executables.temporaryFolder("doorstep-child")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outPath = folder + "/out", errPath = folder + "/err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let home = directory ?? folder
        if let directory {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        var base = inheritEnvironment ? ProcessInfo.processInfo.environment : ["PATH": "/usr/bin:/bin", "HOME": home, "LANG": "en_US.UTF-8", "TZ": "UTC"]
        base.merge(environment) { $1 }
        process.environment = base
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let started = Date()
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        var killed = false
        var timedOut = false
        let deadline = started.addingTimeInterval(killAfterMillis.map { Double($0) / 1000 } ?? timeout)
        while process.isRunning {
            if Date() >= deadline {
                if killAfterMillis != nil { killed = true } else { timedOut = true }
                _ = kill(process.processIdentifier, SIGKILL)
                while process.isRunning { try await Task.sleep(nanoseconds: 1_000_000) }
                break
            }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        let seconds = Date().timeIntervalSince(started)
        try? out.close()
        try? err.close()
        // A process that exited on its own just before the kill was not killed.
        if killed && process.terminationReason == .exit { killed = false }
        return Result(
            status: process.terminationStatus, killed: killed, timedOut: timedOut, signalled: process.terminationReason == .uncaughtSignal,
            stdoutData: FileManager.default.contents(atPath: outPath) ?? Data(),
            stderrData: FileManager.default.contents(atPath: errPath) ?? Data(), seconds: seconds)
    }

    /// Runs a program found on the PATH, in this process's environment (`python3 -m …`).
    public static func run(program: String, _ arguments: [String], timeout: Double = 60) async throws -> Result {
        try await run(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments, inheritEnvironment: true, timeout: timeout)
    }
}
