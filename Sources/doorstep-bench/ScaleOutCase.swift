import DoorstepClient
import DoorstepCore
import Foundation
import Synchronization

/// PostgreSQL with 1, 2 and 4 server processes on one database (issue 21): the same visits,
/// recorded by the ingest clients spread over the processes, pushed at once; with the share of
/// each push spent holding the advisory write lock, from the servers' own metrics
/// (`doorstep_write_lock_*`, `doorstep_request_duration_seconds` of `/v1/push`).
enum ScaleOutCase {
    static func run(_ options: Options, databases: PostgresDatabases) async throws -> ScaleOutResult {
        let sizes = options.sizes
        var result = ScaleOutResult(mutations: sizes.ingestMutations, clients: sizes.ingestClients)
        // Every client on the same households (each push then shares households with the others:
        // they merge one after the other), then each on its own, as visitors of different areas.
        for own in [false, true] {
            for processes in sizes.scaleOutProcesses {
                result.points.append(try await point(processes: processes, ownHouseholds: own, sizes: sizes, databases: databases))
            }
        }
        return result
    }

    static func point(processes: Int, ownHouseholds: Bool, sizes: Sizes, databases: PostgresDatabases) async throws -> ScaleOutPoint {
        let tag = "scale-\(processes)\(ownHouseholds ? "-own" : "")"
        let url = try await databases.create("scale\(processes)\(ownHouseholds ? "own" : "")")
        Log.note("scale-out (PostgreSQL, \(processes) server processes): seeding \(sizes.ingestHouseholds) households")
        let local = try await LocalStorage(backend: .postgres(url: url), data: Workspace.shared.path("\(tag)-seed"))
        let seeder = try await Seeder.enroll(local.storage)
        try await seeder.grow(to: sizes.ingestHouseholds, visits: 2)
        let households = seeder.households
        local.close()

        var servers: [ServerProcess] = []
        defer { for server in servers { server.stop() } }
        for index in 0..<processes {
            servers.append(
                try await ServerProcess.start(data: Workspace.shared.path("\(tag)-server-\(index)"), database: url, name: "\(tag)-server-\(index)"))
        }
        // The first process made the city administrator's token; the codes come from it, and
        // each client enrolls on (and syncs with) the process of its number.
        let gate = IngestGate()
        var clients: [FieldClient] = []
        for index in 0..<sizes.ingestClients {
            var configuration = ClientConfiguration(databasePath: Workspace.shared.path("\(tag)-client-\(index).sqlite"))
            configuration.transport = { gate.transport($0) }
            let client = try FieldClient(configuration: configuration)
            try await client.enroll(
                server: servers[index % processes].url, code: try await servers[0].enrollmentCode(), deviceName: "doorstep-bench \(tag) \(index)")
            try await client.sync()
            clients.append(client)
        }
        defer { for index in clients.indices { removeDatabase(Workspace.shared.path("\(tag)-client-\(index).sqlite")) } }
        try await IngestCase.recordVisits(clients: clients, total: sizes.ingestMutations, households: households, own: ownHouseholds)

        Log.note("scale-out (PostgreSQL, \(processes) server processes): \(clients.count) clients push at once")
        let before = try await servers.asyncMap { try await Reading.of($0) }
        // Read again the moment every push is answered, before the clients pull (pulls note the
        // time under the write lock too).
        let readings = Mutex<Result<[Reading], any Error>?>(nil)
        gate.arm(clients: clients.count, server: servers[0]) { [servers] in
            let after: Result<[Reading], any Error>
            do {
                after = .success(try await servers.asyncMap { try await Reading.of($0) })
            } catch {
                after = .failure(error)
            }
            readings.withLock { $0 = after }
        }
        let summaries = try await IngestCase.pushAtOnce(clients: clients, gate: gate)
        guard let after = try readings.withLock({ $0 })?.get() else { throw BenchError("the servers' metrics were not read after the pushes") }
        guard let window = gate.window else { throw BenchError("the scale-out clients pushed nothing") }
        let applied = summaries.reduce(0) { $0 + $1.pushed }
        guard applied == sizes.ingestMutations, summaries.allSatisfy({ $0.quarantined == 0 }) else {
            throw BenchError("the servers applied \(applied) of \(sizes.ingestMutations) visits")
        }
        let spent = zip(before, after).map { $1 - $0 }.reduce(Reading(), +)
        let seconds = window.seconds
        var point = ScaleOutPoint(processes: processes, ownHouseholds: ownHouseholds, seconds: seconds, perSecond: Double(applied) / seconds)
        point.retries = spent.retries
        point.serverCpuSeconds = spent.cpuSeconds
        point.pushSeconds = spent.pushSeconds
        point.lockWaitSeconds = spent.lockWaitSeconds
        point.lockHeldSeconds = spent.lockHeldSeconds
        point.writeTransactions = spent.transactions
        point.heldShareOfPush = spent.pushSeconds > 0 ? spent.lockHeldSeconds / spent.pushSeconds : 0
        point.lockBusyShare = spent.lockHeldSeconds / seconds
        Log.note(
            "  \(processes) process(es)\(ownHouseholds ? ", own households" : ""): \(Table.number(point.perSecond)) visits/s; the lock held \(Table.number(point.heldShareOfPush * 100, digits: 0)) % of the pushes' time, busy \(Table.number(point.lockBusyShare * 100, digits: 0)) % of the window"
        )
        return point
    }

    /// What a server process has spent so far: CPU, time answering pushes, the write lock's use.
    struct Reading {
        var cpuSeconds = 0.0
        var pushSeconds = 0.0
        var lockWaitSeconds = 0.0
        var lockHeldSeconds = 0.0
        var transactions = 0.0
        var retries = 0.0

        static func of(_ server: ServerProcess) async throws -> Reading {
            let text = try await server.metricsText()
            func value(_ prefix: String) -> Double {
                text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                    .reduce(0, +)
            }
            return Reading(
                cpuSeconds: server.cpuSeconds,
                pushSeconds: value(#"doorstep_request_duration_seconds_sum{method="POST",route="/v1/push""#),
                lockWaitSeconds: value("doorstep_write_lock_wait_seconds_total"),
                lockHeldSeconds: value("doorstep_write_lock_held_seconds_total"),
                transactions: value("doorstep_write_lock_transactions_total"),
                retries: value("doorstep_write_lock_retries_total"))
        }

        static func - (lhs: Reading, rhs: Reading) -> Reading {
            Reading(
                cpuSeconds: lhs.cpuSeconds - rhs.cpuSeconds, pushSeconds: lhs.pushSeconds - rhs.pushSeconds,
                lockWaitSeconds: lhs.lockWaitSeconds - rhs.lockWaitSeconds, lockHeldSeconds: lhs.lockHeldSeconds - rhs.lockHeldSeconds,
                transactions: lhs.transactions - rhs.transactions, retries: lhs.retries - rhs.retries)
        }

        static func + (lhs: Reading, rhs: Reading) -> Reading {
            Reading(
                cpuSeconds: lhs.cpuSeconds + rhs.cpuSeconds, pushSeconds: lhs.pushSeconds + rhs.pushSeconds,
                lockWaitSeconds: lhs.lockWaitSeconds + rhs.lockWaitSeconds, lockHeldSeconds: lhs.lockHeldSeconds + rhs.lockHeldSeconds,
                transactions: lhs.transactions + rhs.transactions, retries: lhs.retries + rhs.retries)
        }
    }
}

extension Array {
    /// The elements mapped in order, one after the other.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var mapped: [T] = []
        for element in self { mapped.append(try await transform(element)) }
        return mapped
    }
}
