import DoorstepClient
import DoorstepCore
import DoorstepServer
import DoorstepStorage
import Foundation
import Logging
import Synchronization

/// Where the server keeps its data: the embedded SQLite file, or a PostgreSQL database.
enum Backend: Sendable {
    case sqlite
    case postgres(url: String)

    var name: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    var databaseURL: String? {
        switch self {
        case .sqlite: nil
        case .postgres(let url): url
        }
    }
}

/// The server's storage opened in the benchmark's own process, for seeding (and the change counter).
final class LocalStorage: @unchecked Sendable {
    let storage: any ServerStorage
    private let pool: Task<Void, Never>?

    init(backend: Backend, data: String) async throws {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        switch backend {
        case .sqlite:
            storage = try SQLiteStorage(path: (data as NSString).appendingPathComponent("doorstep.sqlite"))
            pool = nil
        case .postgres(let url):
            var logger = Logger(label: "doorstep-bench.seed")
            logger.logLevel = .error
            let postgres = try PostgresStorage(url: url, logger: logger)
            storage = postgres
            pool = Task { await postgres.run() }
        }
        try await storage.migrate()
    }

    func close() { pool?.cancel() }
}

/// Wraps the client's HTTP transport to time the ingest: it notes the first push request and,
/// once armed, holds every client's first pull until all clients have finished pushing, so the
/// pushes are measured alone (a client's pull would otherwise compete with the others' pushes).
final class IngestGate: Sendable {
    private struct State {
        var armed = false
        var expected = 0
        var arrived = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var server: ServerProcess?
        var firstPush: ContinuousClock.Instant?
        var lastPush: ContinuousClock.Instant?
        var cpuAtFirstPush = 0.0
        var cpuAtLastPush = 0.0
        var beforeRelease: (@Sendable () async -> Void)?
    }
    private let state = Mutex(State())

    /// Starts timing: `server`'s CPU time is read at the first push and at each push answer.
    /// `beforeRelease` runs once every client has pushed, before any pull starts.
    func arm(clients: Int, server: ServerProcess, beforeRelease: (@Sendable () async -> Void)? = nil) {
        state.withLock { state in
            state.beforeRelease = beforeRelease
            state.armed = true
            state.expected = clients
            state.arrived = 0
            state.firstPush = nil
            state.lastPush = nil
            state.server = server
        }
    }

    func pushStarted() {
        state.withLock { state in
            if state.armed && state.firstPush == nil {
                state.firstPush = .now
                state.cpuAtFirstPush = state.server?.cpuSeconds ?? 0
            }
        }
    }

    func pushAnswered() {
        state.withLock { state in
            if state.armed {
                state.lastPush = .now
                state.cpuAtLastPush = state.server?.cpuSeconds ?? 0
            }
        }
    }

    /// The server's CPU time from the first push request to the last push answer.
    var serverCPU: Double { state.withLock { $0.cpuAtLastPush - $0.cpuAtFirstPush } }

    /// A client is done pushing (its first pull, or its sync failed).
    func arrive() async {
        let wait: Bool = state.withLock { state in
            guard state.armed else { return false }
            state.arrived += 1
            return state.arrived < state.expected
        }
        if wait {
            await withCheckedContinuation { continuation in
                let release: Bool = state.withLock { state in
                    if !state.armed { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if release { continuation.resume() }
            }
        } else {
            if let hook = state.withLock({ $0.armed ? $0.beforeRelease : nil }) { await hook() }
            release()
        }
    }

    private func release() {
        let all: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard state.armed else { return [] }
            state.armed = false
            Log.note("  every client has pushed; pulls may start")
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in all { continuation.resume() }
    }

    /// First push request to last push answer.
    var window: Duration? {
        state.withLock { state in
            guard let first = state.firstPush, let last = state.lastPush else { return nil }
            return last - first
        }
    }

    func transport(_ url: URL) -> any SyncTransport { GatedTransport(inner: ClientConfiguration.platformTransport(url), gate: self) }
}

struct GatedTransport: SyncTransport {
    let inner: any SyncTransport
    let gate: IngestGate

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        if request.path.hasPrefix("/v1/pull") {
            await gate.arrive()
            return try await inner.send(request)
        }
        guard request.path.hasPrefix("/v1/push") else { return try await inner.send(request) }
        gate.pushStarted()
        let response = try await inner.send(request)
        gate.pushAnswered()
        return response
    }
}

/// Progress lines on standard error (standard output carries the table or the JSON).
enum Log {
    static let started = ContinuousClock.now

    static func note(_ text: String) {
        let elapsed = (ContinuousClock.now - started).seconds
        FileHandle.standardError.write(Data(String(format: "[%6.1fs] ", elapsed).appending(text + "\n").utf8))
    }
}

extension FieldClient {
    /// A new client database in the workspace, enrolled on `server` as a visitor of the sample district.
    static func enrolled(on server: ServerProcess, name: String, transport: (@Sendable (URL) -> any SyncTransport)? = nil) async throws -> FieldClient {
        var configuration = ClientConfiguration(databasePath: Workspace.shared.path("\(name).sqlite"))
        if let transport { configuration.transport = transport }
        let client = try FieldClient(configuration: configuration)
        try await client.enroll(server: server.url, code: try await server.enrollmentCode(), deviceName: "doorstep-bench \(name)")
        return client
    }
}

/// Removes a SQLite database and its WAL and shared-memory files.
func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}
