import DoorstepClient
import DoorstepCore
import DoorstepServer
import Foundation

/// First sync and incremental pull: one server grown through the scopes (seeded through storage),
/// restarted at each size so its peak memory belongs to that size alone.
enum ScopeCase {
    struct Outcome {
        var firstSync: FirstSyncResult?
        var pull: PullResult?
    }

    static func run(_ options: Options, backend: Backend, scopes: [Int], cases: Set<BenchCase>) async throws -> Outcome {
        let sizes = options.sizes
        let tag = backend.databaseURL == nil ? "sqlite" : "postgres"
        let data = Workspace.shared.path("scope-\(tag)")
        let local = try await LocalStorage(backend: backend, data: data)
        defer { local.close() }
        let seeder = try await Seeder.enroll(local.storage)
        var points: [ScopeResult] = []
        var pulls: [PullPoint] = []
        var raw: (rows: Int, seconds: Double)?

        for (index, scope) in scopes.enumerated() {
            Log.note(
                "first sync (\(backend.name)): seeding up to \(Table.number(Double(scope))) households (\(Table.number(Double(scope * sizes.changesPerHousehold)))) changes)"
            )
            let seedStart = ContinuousClock.now
            let before = seeder.mutations
            try await seeder.grow(to: scope, visits: sizes.visitsPerHousehold) { done in Log.note("  \(Table.number(Double(done))) households") }
            let seeded = seeder.mutations - before
            Log.note(
                "  seeded \(seeded) mutations at \(Table.number(Double(seeded) / max(0.001, (ContinuousClock.now - seedStart).seconds))) mut/s (storage layer)")

            let server = try await ServerProcess.start(data: data, database: backend.databaseURL, name: "scope-\(tag)-\(scope)-server")
            defer { server.stop() }
            let clientPath = Workspace.shared.path("first-sync-\(tag)-\(scope).sqlite")
            let serverCPU = server.cpuSeconds
            let child = try ChildProcess(
                arguments: ["_first-sync", "--server", server.url.absoluteString, "--code", try await server.enrollmentCode(), "--db", clientPath],
                log: Workspace.shared.path("first-sync-\(tag)-\(scope).log"),
                wrapper: ProcessInfo.processInfo.environment["DOORSTEP_BENCH_WRAP_CLIENT"])
            Log.note("  first-sync client \(scope) started (pid \(child.pid))")
            let status = try await child.waitForExit(timeout: 6 * 3600)
            guard status == 0 else { throw BenchError("the first-sync client failed (exit \(status)); log:\n\(child.logTail)") }
            let result = try child.printedResult(Children.FirstSyncResult.self, what: "the first-sync client")
            guard result.households == scope else {
                throw BenchError("the new device holds \(result.households) households, expected \(scope)")
            }
            let records = scope * (2 + sizes.visitsPerHousehold)
            points.append(
                ScopeResult(
                    households: scope, records: records, seconds: result.seconds, recordsPerSecond: Double(records) / result.seconds,
                    householdsPerSecond: Double(scope) / result.seconds, clientPeakKib: result.peakKiB, serverPeakKib: server.peakKiB,
                    clientCpuSeconds: result.cpuSeconds, serverCpuSeconds: server.cpuSeconds - serverCPU))
            Log.note(
                "  first sync: \(Table.number(Double(records) / result.seconds)) records/s, client \(result.peakKiB / 1024) MiB, server \(server.peakKiB / 1024) MiB"
            )

            if cases.contains(.pull) {
                // Every seeded mutation touched one household of one district: one change each.
                let held = seeder.mutations
                let client = try FieldClient(configuration: ClientConfiguration(databasePath: clientPath))
                var times: [Double] = []
                for _ in 0..<(sizes.pullRounds + 1) {
                    try await seeder.addVisits(count: sizes.pullDelta)
                    let start = ContinuousClock.now
                    let summary = try await client.sync()
                    let seconds = (ContinuousClock.now - start).seconds
                    guard summary.pulledHouseholds == sizes.pullDelta else {
                        throw BenchError("the pull delivered \(summary.pulledHouseholds) households, expected \(sizes.pullDelta)")
                    }
                    times.append(seconds)
                }
                times.removeFirst()  // the first pull warms the client's and server's caches
                pulls.append(PullPoint(changes: held, households: scope, medianSeconds: Stats.median(times), minSeconds: times.min() ?? 0))
                Log.note("  pull of \(sizes.pullDelta) changes after \(held): \(Table.number(Stats.median(times) * 1000, digits: 1)) ms")
            }
            if cases.contains(.firstSync), backend.databaseURL == nil, index == scopes.count - 1 {
                Log.note("  the client's rows inserted straight into a fresh client database")
                let rawPath = Workspace.shared.path("first-sync-raw.sqlite")
                raw = try RawSQLite.replayClientRows(
                    from: clientPath, order: seeder.households, into: rawPath,
                    page: ClientConfiguration(databasePath: "").pullPageSize)
                removeDatabase(rawPath)
            }
            server.stop()
            if !options.keep { removeDatabase(clientPath) }
        }

        var outcome = Outcome()
        if cases.contains(.firstSync) {
            var first = FirstSyncResult(backend: backend.name, scopes: points)
            if let raw, let last = points.last {
                let rate = Double(raw.rows) / raw.seconds
                first.rawHouseholdsPerSecond = rate
                first.rawRecordsPerSecond = rate * Double(last.records) / Double(last.households)
                first.ratio = last.householdsPerSecond / rate
            }
            if points.count >= 2 {
                let last = points[points.count - 1], before = points[points.count - 2]
                first.clientMemoryRatio = Double(last.clientPeakKib) / Double(max(1, before.clientPeakKib))
                first.serverMemoryRatio = Double(last.serverPeakKib) / Double(max(1, before.serverPeakKib))
            }
            outcome.firstSync = first
        }
        if cases.contains(.pull) {
            var pull = PullResult(backend: backend.name, delta: sizes.pullDelta, rounds: sizes.pullRounds, points: pulls)
            if let first = pulls.first, let last = pulls.last, pulls.count >= 2 { pull.ratio = last.medianSeconds / first.medianSeconds }
            outcome.pull = pull
        }
        return outcome
    }
}
