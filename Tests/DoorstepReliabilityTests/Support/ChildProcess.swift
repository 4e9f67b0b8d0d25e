import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process, optionally killed with SIGKILL after a delay.
struct ChildProcess {
    struct Result: Sendable, CustomStringConvertible {
        var status: Int32
        var killed: Bool
        /// Whether the process died of a signal (its own crash, or our kill).
        var signalled: Bool
        var stdout: String
        var stderr: String
        var seconds: Double

        var description: String { "\(signalled ? "signal" : "exit") \(status)\(killed ? " (killed)" : "") after \(String(format: "%.3f", seconds)) s\n\(stdout)\(stderr)" }
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                    killAfterMillis: Int? = nil, timeout: Double = 60) async throws -> Result {
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
        var base = ["PATH": "/usr/bin:/bin", "HOME": folder, "LANG": "en_US.UTF-8", "TZ": "UTC"]
        base.merge(environment) { $1 }
        process.environment = base
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        var killed = false
        let deadline = started.addingTimeInterval(killAfterMillis.map { Double($0) / 1000 } ?? timeout)
        while process.isRunning {
            if Date() >= deadline {
                killed = killAfterMillis != nil
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
        return Result(status: process.terminationStatus, killed: killed, signalled: process.terminationReason == .uncaughtSignal,
                      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "", seconds: seconds)
    }
}
