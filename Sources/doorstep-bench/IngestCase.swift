import DoorstepClient
import DoorstepCore
import DoorstepServer
import DoorstepStorage
import Foundation
import GRDB

/// Ingest, local write and bundles: one server seeded with a scope, field clients enrolled on it.
enum IngestCase {
    struct Outcome {
        var ingest: IngestResult?
        var localWrite: LocalWriteResult?
        var bundles: BundleResult?
    }

    static func run(_ options: Options, backend: Backend, cases: Set<BenchCase>) async throws -> Outcome {
        let sizes = options.sizes
        let tag = backend.databaseURL == nil ? "sqlite" : "postgres"
        let data = Workspace.shared.path("ingest-\(tag)")
        Log.note("ingest (\(backend.name)): seeding \(sizes.ingestHouseholds) households")
        let local = try await LocalStorage(backend: backend, data: data)
        let seeder = try await Seeder.enroll(local.storage)
        try await seeder.grow(to: sizes.ingestHouseholds, visits: 2)
        let households = seeder.households
        local.close()

        let server = try await ServerProcess.start(data: data, database: backend.databaseURL, name: "ingest-\(tag)-server")
        defer { server.stop() }
        var outcome = Outcome()

        if cases.contains(.ingest) {
            outcome.ingest = try await ingest(sizes: sizes, backend: backend, server: server, households: households, tag: tag)
        }
        if cases.contains(.localWrite) || cases.contains(.bundles) {
            let client = try await FieldClient.enrolled(on: server, name: "local-\(tag)")
            try await client.sync()
            if cases.contains(.localWrite) {
                try await settle(client)
                outcome.localWrite = try await localWrite(client: client, samples: sizes.localWrites, households: households, tag: tag)
            }
            if cases.contains(.bundles) {
                outcome.bundles = try await bundles(client: client, server: server, mutations: sizes.bundleMutations, households: households, tag: tag)
            }
        }
        return outcome
    }

    // MARK: Ingest

    static func ingest(sizes: Sizes, backend: Backend, server: ServerProcess, households: [EntityID], tag: String) async throws -> IngestResult {
        let gate = IngestGate()
        var clients: [FieldClient] = []
        for index in 0..<sizes.ingestClients {
            let client = try await FieldClient.enrolled(on: server, name: "ingest-\(tag)-client-\(index)", transport: { gate.transport($0) })
            try await client.sync()
            clients.append(client)
        }
        Log.note("ingest (\(backend.name)): \(clients.count) clients record \(sizes.ingestMutations) visits")
        try await recordVisits(clients: clients, total: sizes.ingestMutations, households: households)
        var devices: [String] = []
        for client in clients {
            guard let device = try await client.enrollment?.device else { throw BenchError("an ingest client lost its enrollment") }
            devices.append(device.rawValue)
        }
        let databasePath = (server.dataDirectory as NSString).appendingPathComponent("doorstep.sqlite")
        let rawPath = Workspace.shared.path("ingest-raw.sqlite")
        if backend.databaseURL == nil {
            // The limit starts from the same database state: a copy taken now, before any push.
            try await SQLiteStorage(path: databasePath).backup(to: rawPath)
        }

        let bytesBefore = backend.databaseURL == nil ? try RawSQLite.tableBytes(databasePath) : nil
        Log.note("ingest (\(backend.name)): \(clients.count) clients push at once")
        gate.arm(clients: clients.count, server: server)
        let summaries = try await pushAtOnce(clients: clients, gate: gate)
        guard let window = gate.window else { throw BenchError("the ingest clients pushed nothing") }
        let applied = summaries.reduce(0) { $0 + $1.pushed }
        let quarantined = summaries.reduce(0) { $0 + $1.quarantined }
        guard applied == sizes.ingestMutations, quarantined == 0 else {
            throw BenchError("the server applied \(applied) of \(sizes.ingestMutations) visits (\(quarantined) refused)")
        }
        let seconds = window.seconds
        let cpu = gate.serverCPU
        var result = IngestResult(
            backend: backend.name, mutations: applied, clients: clients.count, batchSize: ClientConfiguration(databasePath: "").batchSize,
            seconds: seconds, perSecond: Double(applied) / seconds, serverCpuSeconds: cpu, perServerCpuSecond: Double(applied) / max(cpu, 1e-9))
        let bytesAfter = bytesBefore == nil ? nil : try RawSQLite.tableBytes(databasePath)
        if let bytesBefore, let bytesAfter {
            let visits = RawSQLite.growth(from: bytesBefore, to: bytesAfter, per: applied)
            result.bytesPerVisit = visits.total
            result.visitBytesByTable = visits.tables
            Log.note("ingest (SQLite): the same visits as plain rows")
            let plainPath = Workspace.shared.path("ingest-plain.sqlite")
            let plain = try RawSQLite.plainVisits(count: applied, batchSize: result.batchSize, households: households, path: plainPath)
            result.plainSeconds = plain
            result.plainPerSecond = Double(applied) / plain
            result.plainRatio = result.perSecond / (Double(applied) / plain)
            removeDatabase(plainPath)
        }
        if backend.databaseURL == nil {
            Log.note("ingest (SQLite): the same rows written straight into a copy")
            let rows = try RawSQLite.serverRows(from: databasePath, devices: devices)
            let written = rows.reduce(0) { $0 + $1.count }
            guard written == applied else { throw BenchError("read back \(written) mutations from the server, expected \(applied)") }
            let raw = try RawSQLite.replayServerRows(rows, into: rawPath, batchSize: result.batchSize)
            result.rawSeconds = raw
            result.rawPerSecond = Double(written) / raw
            result.ratio = result.perSecond / (Double(written) / raw)
            removeDatabase(rawPath)
        }
        if let bytesAfter {
            // Household edits: the first client changes an income on as many households, and syncs.
            let edits = min(households.count, max(1, applied / 4))
            Log.note("ingest (SQLite): \(edits) household edits, for the bytes stored per edit")
            for n in 0..<edits {
                try await clients[0].editHousehold(households[n], set: ["monthlyIncomeFen": .int(Int64(120_000 + n))])
            }
            try await clients[0].sync()
            let edited = RawSQLite.growth(from: bytesAfter, to: try RawSQLite.tableBytes(databasePath), per: edits)
            result.bytesPerEdit = edited.total
            result.editBytesByTable = edited.tables
        }
        for index in clients.indices { removeDatabase(Workspace.shared.path("ingest-\(tag)-client-\(index).sqlite")) }
        return result
    }

    /// The clients record `total` visits between them, each to a household drawn at random (seeded:
    /// the same households every run); with `own`, from the client's own share of `households`.
    static func recordVisits(clients: [FieldClient], total: Int, households: [EntityID], own: Bool = false) async throws {
        let share = total / clients.count
        let counts = clients.indices.map { $0 == 0 ? total - share * (clients.count - 1) : share }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                let count = counts[index]
                let visited = own ? households.enumerated().filter { $0.offset % clients.count == index }.map(\.element) : households
                group.addTask {
                    var generator = SeededGenerator(seed: 2020, stream: "client \(index)")
                    for n in 0..<count {
                        let household = visited[Int.random(in: 0..<visited.count, using: &generator)]
                        try await client.recordVisit(to: household, Facts.visit(n))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Every client syncs at once (the gate, armed, holds their pulls until all pushes are answered).
    static func pushAtOnce(clients: [FieldClient], gate: IngestGate) async throws -> [SyncSummary] {
        try await withThrowingTaskGroup(of: SyncSummary.self) { group in
            for client in clients {
                group.addTask {
                    do {
                        return try await client.sync()
                    } catch {
                        await gate.arrive()
                        throw error
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    // MARK: Local write

    /// Copies the client's WAL into its database and empties it, as the client's own checkpoint does
    /// once writes pause after a sync: the visits then start, like the bare inserts, from an empty WAL.
    static func settle(_ client: FieldClient) async throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: client.configuration.databasePath, configuration: configuration)
        try await queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try queue.close()
    }

    /// `recordVisit` against a bare one-row insert transaction in a database beside it. The bare
    /// inserts run in two halves, before and after the visits, so that the baseline brackets the
    /// visits in time; they are not interleaved, since the client's background checkpoints
    /// (see DoorstepClient's Checkpointer) would then run during the baseline's inserts.
    static func localWrite(client: FieldClient, samples: Int, households: [EntityID], tag: String) async throws -> LocalWriteResult {
        Log.note("local write: \(samples) visits, between two halves of \(samples) bare inserts")
        let bare = try RawSQLite.BareInsert(path: Workspace.shared.path("bare-\(tag).sqlite"), bodyBytes: 600)
        var visits: [Double] = []
        var inserts: [Double] = []
        var generator = SeededGenerator(seed: 2020)
        let warmUp = min(20, max(2, samples / 10))
        func bareInserts(_ count: Int) async throws {
            for _ in 0..<count {
                let start = ContinuousClock.now
                try await bare.insert()
                inserts.append((ContinuousClock.now - start).seconds * 1000)
            }
        }
        for _ in 0..<warmUp { try await bare.insert() }
        try await bareInserts(samples / 2)
        for n in 0..<(samples + warmUp) {
            let household = households[Int.random(in: 0..<households.count, using: &generator)]
            let start = ContinuousClock.now
            try await client.recordVisit(to: household, Facts.visit(n))
            if n >= warmUp { visits.append((ContinuousClock.now - start).seconds * 1000) }
        }
        try await bareInserts(samples - samples / 2)
        let p99 = Stats.percentile(visits, 99), bareP99 = Stats.percentile(inserts, 99)
        return LocalWriteResult(
            samples: visits.count, p50Ms: Stats.median(visits), p99Ms: p99, bareP50Ms: Stats.median(inserts), bareP99Ms: bareP99,
            ratio: p99 / bareP99)
    }

    // MARK: Bundles

    static func bundles(client: FieldClient, server: ServerProcess, mutations: Int, households: [EntityID], tag: String) async throws -> BundleResult {
        let pending = try await client.status().pending
        Log.note("bundles: recording \(max(0, mutations - pending)) more visits to export \(mutations)")
        var generator = SeededGenerator(seed: 2020)
        for n in pending..<max(pending, mutations) {
            try await client.recordVisit(to: households[Int.random(in: 0..<households.count, using: &generator)], Facts.visit(n))
        }
        let count = try await client.status().pending
        let path = Workspace.shared.path("bench-\(tag).dsbundle")
        let exportStart = ContinuousClock.now
        try await client.exportBundle(to: path)
        let exportSeconds = (ContinuousClock.now - exportStart).seconds
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let office = try server.office()
        let uploadStart = ContinuousClock.now
        let result = try await office.upload(bundle: data)
        let uploadSeconds = (ContinuousClock.now - uploadStart).seconds
        let applied = result.receipts.reduce(0) { $0 + $1.results.filter { $0.outcome == .applied || $0.outcome == .conflict }.count }
        guard applied == count else { throw BenchError("the bundle upload applied \(applied) of \(count) mutations") }
        let megabytes = Double(data.count) / 1_000_000
        try? FileManager.default.removeItem(atPath: path)
        return BundleResult(
            mutations: count, bytes: data.count, exportSeconds: exportSeconds, exportMbPerSecond: megabytes / exportSeconds,
            uploadSeconds: uploadSeconds, uploadMbPerSecond: megabytes / uploadSeconds, uploadMutationsPerSecond: Double(count) / uploadSeconds)
    }
}
