public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one child-process helper of the tests: runs a program to its end (or kills it), with a
/// clean environment, and collects what it wrote.
///
/// Written on `posix_spawn` (``SpawnedProcess``) rather than swift-subprocess: the crash tests kill a
/// child at a chosen moment and still need everything it wrote, which Subprocess 1.0 gives only by
/// streaming in its closure form; and not on Foundation's `Process`, which crashes now and then on
/// this toolchain (see ``SpawnedProcess``).
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
        let home = directory ?? folder
        if let directory { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var base = inheritEnvironment ? ProcessInfo.processInfo.environment : ["PATH": "/usr/bin:/bin", "HOME": home, "LANG": "en_US.UTF-8", "TZ": "UTC"]
        base.merge(environment) { $1 }
        let started = Date()
        let process = try SpawnedProcess.start(
            executable.path, arguments, environment: base, directory: directory, stdin: stdin.map { Data($0.utf8) }, stdoutPath: outPath,
            stderrPath: errPath)
        var killed = false
        var timedOut = false
        let deadline = started.addingTimeInterval(killAfterMillis.map { Double($0) / 1000 } ?? timeout)
        var ending = process.ending
        while ending == nil {
            if Date() >= deadline {
                if killAfterMillis != nil { killed = true } else { timedOut = true }
                process.send(SIGKILL)
                ending = await process.wait()
                break
            }
            try await Task.sleep(nanoseconds: 1_000_000)
            ending = process.ending
        }
        let seconds = Date().timeIntervalSince(started)
        let end = ending ?? SpawnedProcess.Ending(status: 0, signalled: false)
        // A process that exited on its own just before the kill was not killed.
        if killed && !end.signalled { killed = false }
        return Result(
            status: end.status, killed: killed, timedOut: timedOut, signalled: end.signalled,
            stdoutData: FileManager.default.contents(atPath: outPath) ?? Data(),
            stderrData: FileManager.default.contents(atPath: errPath) ?? Data(), seconds: seconds)
    }

    /// Runs a program found on the PATH, in this process's environment (`python3 -m …`).
    public static func run(program: String, _ arguments: [String], timeout: Double = 60) async throws -> Result {
        try await run(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments, inheritEnvironment: true, timeout: timeout)
    }
}
