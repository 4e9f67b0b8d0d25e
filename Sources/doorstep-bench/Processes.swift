import DoorstepClient
import DoorstepCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's temporary folder and the child processes it started: both are cleaned up on
/// every way out (normal end, error, Ctrl-C, SIGTERM).
final class Workspace: Sendable {
    static let shared = Workspace()

    /// What the workspace holds, behind one lock.
    private struct State: ~Copyable {
        var children: [Int32: Process] = [:]
        var root: String?
        var keep = false
        var signalSources: [SignalSource] = []
    }

    /// A signal source, kept for the life of the run (Dispatch sources carry no `Sendable`
    /// conformance; this one is only retained, never used again).
    private struct SignalSource: @unchecked Sendable {
        let source: any DispatchSourceSignal
    }

    private let state = Mutex(State())

    /// The run's folder, once made.
    var root: String? { state.withLock { $0.root } }

    /// Whether the folder stays after the run (`--keep`).
    var keep: Bool {
        get { state.withLock { $0.keep } }
        set { state.withLock { $0.keep = newValue } }
    }

    /// Makes the run's folder under `parent`.
    func create(under parent: String?) throws -> String {
        let base = parent ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        var template = Array((base as NSString).appendingPathComponent("doorstep-bench.XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BenchError("cannot make a temporary folder under \(base) (errno \(errno))")
        }
        let path = String(cString: made)
        state.withLock { $0.root = path }
        return path
    }

    func path(_ name: String) -> String {
        ((root ?? "/tmp") as NSString).appendingPathComponent(name)
    }

    func register(_ process: Process) {
        state.withLock { $0.children[process.processIdentifier] = process }
    }

    func unregister(_ process: Process) {
        state.withLock { _ = $0.children.removeValue(forKey: process.processIdentifier) }
    }

    /// Kills every child still running and removes the folder (unless `--keep`).
    func cleanUp() {
        let (running, folder, keep) = state.withLock { (Array($0.children.values), $0.root, $0.keep) }
        for child in running where child.isRunning { kill(child.processIdentifier, SIGKILL) }
        for child in running { child.waitUntilExit() }
        state.withLock { $0.children.removeAll() }
        if let folder {
            if keep {
                FileHandle.standardError.write(Data("kept \(folder)\n".utf8))
            } else {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }

    /// On SIGINT or SIGTERM: kill the children, remove the folder, exit.
    func cleanUpOnSignals() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(Data("\ndoorstep-bench: interrupted; stopping servers and removing the temporary folder\n".utf8))
                cleanUp()
                exit(130)
            }
            source.resume()
            let kept = SignalSource(source: source)
            state.withLock { $0.signalSources.append(kept) }
        }
    }
}

/// Peak and current resident memory of a process, from `/proc/PID/status` (Linux), in KiB.
enum Memory {
    static func peakKiB(pid: Int32? = nil) -> Int? { field("VmHWM", pid: pid) }
    static func residentKiB(pid: Int32? = nil) -> Int? { field("VmRSS", pid: pid) }

    /// CPU time (user and system) a process has used so far, in seconds, from `/proc/PID/stat`.
    static func cpuSeconds(pid: Int32? = nil) -> Double {
        let path = pid.map { "/proc/\($0)/stat" } ?? "/proc/self/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else { return 0 }
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func field(_ name: String, pid: Int32?) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}

/// This executable, for starting it again as a server or a client child.
enum SelfExecutable {
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// A child process of this executable (a hidden subcommand), with its output in a log file.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    private let output: FileHandle

    /// Whether the child runs under a profiler (`wrapper`): it then gets more time to stop.
    let wrapped: Bool

    /// Starts this executable with `arguments`; `wrapper` (a command line such as
    /// `valgrind --tool=callgrind`) runs it under a profiler.
    init(arguments: [String], log: String, wrapper: String? = nil) throws {
        logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: log) else { throw BenchError("cannot write the log \(log)") }
        output = handle
        let prefix = (wrapper ?? "").split(separator: " ").map(String.init)
        wrapped = !prefix.isEmpty
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: SelfExecutable.path)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = prefix + [SelfExecutable.path] + arguments
        }
        process.standardError = handle
        process.standardOutput = handle
        var environment = ProcessInfo.processInfo.environment
        environment["DOORSTEP_BENCH_PARENT"] = String(getpid())
        process.environment = environment
        try process.run()
        Workspace.shared.register(process)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// The last lines of the log, for error messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// What a `_` child printed as its result: the last line of its log that is a JSON object, decoded.
    func printedResult<Result: Decodable>(_ type: Result.Type, what: String) throws -> Result {
        let lines = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
        guard let line = lines.last(where: { $0.hasPrefix("{") }), let result = try? JSONDecoder().decode(type, from: Data(line.utf8)) else {
            throw BenchError("\(what) printed no result; log:\n\(logTail)")
        }
        return result
    }

    /// Waits for the process to end by itself (polling, so no thread blocks), up to `timeout` seconds.
    func waitForExit(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                stop()
                throw BenchError("\(process.arguments?.first ?? "child") did not finish within \(Int(timeout)) s; log:\n\(logTail)")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        Workspace.shared.unregister(process)
        try? output.close()
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL after a grace period.
    func stop(grace: Double = 10) {
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(wrapped ? 300 : grace)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        Workspace.shared.unregister(process)
        try? output.close()
    }
}

/// A Doorstep server running as a child process (`doorstep-bench _serve`), so its memory is its own.
final class ServerProcess: @unchecked Sendable {
    let child: ChildProcess
    let url: URL
    let dataDirectory: String

    private init(child: ChildProcess, url: URL, dataDirectory: String) {
        self.child = child
        self.url = url
        self.dataDirectory = dataDirectory
    }

    /// Starts a server on a free loopback port over `data` (SQLite inside it, or `database`) and
    /// waits until it listens.
    static func start(data: String, database: String?, name: String, extra: [String] = []) async throws -> ServerProcess {
        let address = (data as NSString).appendingPathComponent("server.addr")
        try? FileManager.default.removeItem(atPath: address)
        var arguments = ["_serve", "--data", data]
        if let database { arguments += ["--database", database] }
        arguments += extra
        let child = try ChildProcess(
            arguments: arguments, log: Workspace.shared.path("\(name).log"),
            wrapper: ProcessInfo.processInfo.environment["DOORSTEP_BENCH_WRAP_SERVER"])
        let deadline = Date().addingTimeInterval(child.wrapped ? 1200 : 120)
        while true {
            if let text = try? String(contentsOfFile: address, encoding: .utf8),
                let url = URL(string: text.trimmingCharacters(in: .whitespacesAndNewlines)), url.port != nil
            {
                Log.note("  server \(name) listening at \(url.absoluteString) (pid \(child.pid))")
                return ServerProcess(child: child, url: url, dataDirectory: data)
            }
            guard child.isRunning else {
                child.stop()
                throw BenchError("the server \(name) stopped before it listened; log:\n\(child.logTail)")
            }
            guard Date() < deadline else {
                child.stop()
                throw BenchError("the server \(name) did not listen in time; log:\n\(child.logTail)")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    var adminToken: String {
        get throws {
            let path = (dataDirectory as NSString).appendingPathComponent("admin.token")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw BenchError("the server wrote no admin token at \(path)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The server's `/metrics` text.
    func metricsText() async throws -> String {
        let browser = OfficeBrowser(base: url, token: "")
        defer { browser.shutdown() }
        return try await browser.get("/metrics", api: false).text
    }

    func office() throws -> OfficeClient {
        try OfficeClient(server: url, token: try adminToken)
    }

    func enrollmentCode(district: String = Facts.district, role: Role = .visitor) async throws -> String {
        try await office().createEnrollmentCode(district: district, role: role).code
    }

    /// The server's peak resident memory so far.
    var peakKiB: Int { Memory.peakKiB(pid: child.pid) ?? 0 }

    /// The CPU time the server has used so far.
    var cpuSeconds: Double { Memory.cpuSeconds(pid: child.pid) }

    func stop() { child.stop() }
}

/// Dies with the benchmark: a child polls the benchmark's pid and exits when it is gone (no prctl
/// in Swift; the benchmark may not be the direct parent when a profiler wraps the child).
enum ParentWatch {
    static func start() {
        guard let text = ProcessInfo.processInfo.environment["DOORSTEP_BENCH_PARENT"], let parent = Int32(text) else { return }
        Thread.detachNewThread {
            while true {
                if kill(parent, 0) != 0 && errno == ESRCH { exit(3) }
                sleep(1)
            }
        }
    }
}
