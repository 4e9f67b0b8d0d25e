import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Issue 7, crashes: the real `doorstep-server` process is killed with SIGKILL at seeded random
/// moments while field clients push and pull, and started again on the same data folder.
///
/// CI runs a few kills; `DOORSTEP_CRASH_KILLS=200 DOORSTEP_CRASH_SEED=7 swift test --filter ServerCrashTests`
/// runs a long one by hand.
@Suite(.serialized) struct ServerCrashTests {
    static let kills = Executables.setting("DOORSTEP_CRASH_KILLS", ci: 4)
    static let seed = UInt64(Executables.setting("DOORSTEP_CRASH_SEED", ci: 20200430))

    @Test func serverKilledAtRandomMoments_everyAcknowledgedMutationHeldOnce_replicasConverge() async throws {
        let server = ServerProcess()
        let address = MovingAddress(try await server.start())
        let ledger = Ledger()
        let random = SharedRandom(seed: Self.seed)
        let admin = { AdminAPI(url: try server.url, token: try server.adminToken) }

        // Four visitors of one district and an office device, each with its own local database,
        // all reaching the server through a transport that follows it to its new port.
        var visitors: [Visitor] = []
        for index in 0..<5 {
            var configuration = ClientConfiguration(
                databasePath: Executables.temporaryFolder("doorstep-crash-client") + "/local.sqlite",
                retry: .quick)
            configuration.transport = { _ in MovingTransport(address: address, ledger: ledger) }
            let client = try FieldClient(configuration: configuration)
            let role: Role = index == 4 ? .office : .visitor
            try await client.enroll(server: try server.url, code: try await admin().code(district: "150602", role: role), deviceName: "crash \(index)")
            let visitor = Visitor(client: client, name: "device \(index)")
            try await visitor.fileHousehold(100 + index)
            visitors.append(visitor)
        }

        let running = Locked(true)
        let killer = Task {
            var survived = 0
            for _ in 0..<Self.kills {
                try await Task.sleep(nanoseconds: UInt64(random.int(150...700)) * 1_000_000)
                await server.kill()
                address.set(nil)
                try await Task.sleep(nanoseconds: UInt64(random.int(0...150)) * 1_000_000)
                address.set(try await server.start())
                survived += 1
            }
            running.update { $0 = false }
            return survived
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for visitor in visitors {
                group.addTask {
                    var step = 0
                    while running.read() || step < 6 {
                        step += 1
                        try await visitor.work(random, step: step)
                        _ = try? await visitor.client.sync()
                        try await Task.sleep(nanoseconds: UInt64(random.int(0...40)) * 1_000_000)
                    }
                }
            }
            try await group.waitForAll()
        }
        let survived = try await killer.value

        try await syncUntilSettled(visitors.map(\.client))
        let visits = visitors.reduce(into: Set<EntityID>()) { $0.formUnion($1.visits) }
        let report = try await ExactlyOnce(databasePath: server.databasePath)
            .verify(ledger: ledger, clients: visitors.map(\.client), recordedVisits: visits)
        await server.stop()
        // The real server's own log over all its lives holds none of the run's secrets.
        let secrets = try secretsOf(
            clients: visitors.map(\.client), adminToken: try server.adminToken, names: ["王某某"],
            nationalIDs: (0..<5).map { Facts.nationalID(100 + $0) })
        #expect(SecretScan.leaks(of: secrets, in: server.log).isEmpty, "the server's log holds \(SecretScan.leaks(of: secrets, in: server.log))")
        #expect(survived == Self.kills)
        #expect(report.acknowledged > 0 && report.lost == 0 && report.duplicated == 0)
        print("ServerCrashTests: survived \(survived) SIGKILLs of doorstep-server (seed \(Self.seed)): \(report)")
    }
}
