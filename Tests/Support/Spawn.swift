public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, for the tests' process helpers.
///
/// Not Foundation's `Process`: on this toolchain (Swift 6.3.1) `Process.run()` lists
/// `/proc/self/fd` to close inherited descriptors and copies each entry's whole 256-byte name,
/// reading past glibc's buffer now and then, which kills the test process with SIGSEGV
/// (swift-corelibs-foundation pull request 5472, fixed after this toolchain; seen here in full
/// runs). Here the child closes every descriptor from 3 up itself
/// (`posix_spawn_file_actions_addclosefrom_np`), and its output goes straight to files.
public final class SpawnedProcess: @unchecked Sendable {
    /// How a child ended.
    public struct Ending: Sendable, Hashable {
        /// The exit status, or the signal's number.
        public var status: Int32
        /// Whether a signal ended it.
        public var signalled: Bool
    }

    /// The child's process id.
    public let pid: pid_t
    private let lock = NSLock()
    private var ended: Ending?

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` with `arguments` and exactly `environment`, in `directory` (if any), its
    /// standard input from `stdinPath` (`/dev/null` by default) or from `stdin`'s bytes, and its
    /// standard output and error written to `stdoutPath` and `stderrPath` (appended to with
    /// `append`; both may be the same file).
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil,
        stdin: Data? = nil, stdoutPath: String, stderrPath: String, append: Bool = false
    ) throws -> SpawnedProcess {
        guard let addCloseFrom = GNU.addCloseFrom, let addChdir = GNU.addChdir, let pipe2 = GNU.pipe2 else {
            throw Self.failure("glibc 2.34's posix_spawn_file_actions_addclosefrom_np", ENOSYS)
        }
        _ = Self.ignoringBrokenPipes
        var actions = posix_spawn_file_actions_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { throw Self.failure("posix_spawn_file_actions_init", errno) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child starts with no signal blocked and the usual actions, whatever this thread has.
        var attributes = posix_spawnattr_t()
        guard posix_spawnattr_init(&attributes) == 0 else { throw Self.failure("posix_spawnattr_init", errno) }
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var usual = sigset_t()
        sigemptyset(&usual)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&usual, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &usual)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var input: (read: Int32, write: Int32)?
        if stdin != nil {
            var ends: [Int32] = [0, 0]
            guard pipe2(&ends, O_CLOEXEC) == 0 else { throw Self.failure("pipe2", errno) }
            input = (ends[0], ends[1])
            posix_spawn_file_actions_adddup2(&actions, ends[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, flags, 0o644)
        if stderrPath == stdoutPath {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, flags, 0o644)
        }
        if let directory { _ = addChdir(&actions, directory) }
        _ = addCloseFrom(&actions, 3)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        if let input { close(input.read) }
        guard result == 0 else {
            if let input { close(input.write) }
            throw Self.failure("posix_spawn \(executable)", result)
        }
        if let input, let stdin {
            stdin.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count, let base = buffer.baseAddress {
                    let written = write(input.write, base + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }  // the child closed its input (EPIPE: SIGPIPE is ignored here)
                    offset += written
                }
            }
            close(input.write)
        }
        return SpawnedProcess(pid: pid)
    }

    /// How it ended, or `nil` while it runs (reaps it once it has ended).
    public var ending: Ending? {
        lock.withLock {
            if let ended { return ended }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == -1 && errno != EINTR {
                // Not this process's child any more (reaped elsewhere): ended, its status unknown.
                ended = Ending(status: -1, signalled: false)
                return ended
            }
            guard reaped == pid else { return nil }
            let signal = status & 0x7f
            ended = signal == 0 ? Ending(status: (status >> 8) & 0xff, signalled: false) : Ending(status: signal, signalled: true)
            return ended
        }
    }

    /// Whether it is still running.
    public var isRunning: Bool { ending == nil }

    /// Sends it a signal (nothing once it has ended and been reaped: its pid may be another's then).
    public func send(_ signal: Int32) {
        lock.withLock {
            if ended == nil { _ = kill(pid, signal) }
        }
    }

    /// Waits until it has ended.
    public func wait() async -> Ending {
        while true {
            if let ending { return ending }
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
    }

    /// glibc's GNU extensions (2.29 and 2.34), which the Glibc module does not declare without
    /// `_GNU_SOURCE`: looked up by name.
    enum GNU {
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

        static let addChdir = symbol("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)
        static let addCloseFrom = symbol("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)
        static let pipe2 = symbol("pipe2", as: Pipe2.self)

        static func symbol<F>(_ name: String, as type: F.Type) -> F? {
            guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
            return unsafeBitCast(address, to: type)
        }
    }

    /// Writing the input of a child that has exited fails with EPIPE instead of killing the tests.
    static let ignoringBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static func failure(_ call: String, _ code: Int32) -> NSError {
        NSError(domain: NSPOSIXErrorDomain, code: Int(code), userInfo: [NSLocalizedDescriptionKey: "\(call) failed: \(String(cString: strerror(code)))"])
    }

    deinit {
        if isRunning {
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}
