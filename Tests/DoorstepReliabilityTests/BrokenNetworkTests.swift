import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Issue 7, broken networks: every request between the field clients and the real server goes
/// through a proxy that drops, cuts, delays and duplicates on a seeded schedule. Sync ends
/// complete and exactly-once.
///
/// `DOORSTEP_PROXY_ROUNDS=200 DOORSTEP_PROXY_SEED=9 swift test --filter BrokenNetworkTests` runs long.
@Suite(.serialized) struct BrokenNetworkTests {
    static let rounds = Executables.setting("DOORSTEP_PROXY_ROUNDS", ci: 8)
    static let seed = UInt64(Executables.setting("DOORSTEP_PROXY_SEED", ci: 1_586_000))

    @Test func syncThroughAFaultyProxy_endsCompleteAndExactlyOnce() async throws {
        let server = ServerProcess()
        let url = try await server.start()
        let proxy = try ChaosProxy(upstreamPort: UInt16(url.port ?? 0), seed: Self.seed)
        defer { proxy.shutdown() }
        let admin = AdminAPI(url: url, token: try server.adminToken)
        let ledger = Ledger()
        let random = SharedRandom(seed: Self.seed)

        var visitors: [Visitor] = []
        for index in 0..<4 {
            var configuration = ClientConfiguration(
                databasePath: Executables.temporaryFolder("doorstep-proxy-client") + "/local.sqlite",
                batchSize: 7, pullPageSize: 3,
                retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05))
            configuration.transport = { _ in LedgerTransport(inner: platformTransport(proxy.url, timeout: 10), ledger: ledger) }
            let client = try FieldClient(configuration: configuration)
            // Enrollment is not idempotent (a lost answer spends the code), so it goes around the proxy.
            var direct = configuration
            direct.transport = { _ in URLSessionTransport(baseURL: url) }
            let code = try await admin.code(district: "150602", role: index == 3 ? .office : .visitor)
            try await FieldClient(configuration: direct).enroll(server: proxy.url, code: code, deviceName: "proxy \(index)")
            let visitor = Visitor(client: client, name: "device \(index)")
            try await visitor.fileHousehold(200 + 2 * index)
            try await visitor.fileHousehold(201 + 2 * index)
            visitors.append(visitor)
        }

        var failedSyncs = 0
        for round in 1...Self.rounds {
            failedSyncs += try await withThrowingTaskGroup(of: Int.self) { group in
                for visitor in visitors {
                    group.addTask {
                        try await visitor.work(random, step: round)
                        return (try? await visitor.client.sync()) == nil ? 1 : 0
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        try await syncUntilSettled(visitors.map(\.client), attempts: 60)
        let report = try await ExactlyOnce(databasePath: server.databasePath)
            .verify(ledger: ledger, clients: visitors.map(\.client), recordedVisits: visitors.reduce(into: Set()) { $0.formUnion($1.visits) })
        let dealt = proxy.dealt
        await server.stop()
        let secrets = try secretsOf(
            clients: visitors.map(\.client), adminToken: try server.adminToken, names: ["王某某"],
            nationalIDs: (200..<208).map { Facts.nationalID($0) })
        #expect(SecretScan.leaks(of: secrets, in: server.log).isEmpty, "the server's log holds \(SecretScan.leaks(of: secrets, in: server.log))")
        for fault in ChaosProxy.Fault.allCases where fault != .pass {
            #expect(dealt[fault, default: 0] > 0, "the schedule never dealt \(fault)")
        }
        print(
            "BrokenNetworkTests (seed \(Self.seed)): \(dealt.values.reduce(0, +)) requests through the proxy, "
                + ChaosProxy.Fault.allCases.map { "\($0.rawValue) \(dealt[$0, default: 0])" }.joined(separator: ", ")
                + "; \(failedSyncs) syncs gave up and were resumed; \(report)")
    }
}
