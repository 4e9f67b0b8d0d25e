import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Issue 22, the restore drill, with the real `doorstep-server` process and its own commands: a
/// district's morning of work synced, a backup (`doorstep-server backup`, the server running),
/// an afternoon of work (three laptops sync it whole, one stays offline), the server SIGKILLed,
/// `doorstep-server restore --replace` from the morning's backup, the server started again. Then
/// every laptop syncs: every mutation the server ever acknowledged, before or after the backup,
/// is held exactly once (protocol 1.7: the laptops kept their confirmed work and send again
/// what the restored server lacks), every device's seqs are whole, the replicas converge, and
/// nothing is declared lost.
@Suite(.serialized) struct RestoreDrillTests {
    @Test func aDayOfWork_aBackup_moreWork_aCrash_aRestore_everyAcknowledgedMutationComesBackOnce() async throws {
        let server = ServerProcess()
        let address = MovingAddress(try await server.start())
        let ledger = Ledger()
        let random = SharedRandom(seed: 20_261_206)
        let admin = { AdminAPI(url: try server.url, token: try server.adminToken) }
        var visitors: [Visitor] = []
        for index in 0..<4 {
            var configuration = ClientConfiguration(databasePath: Executables.temporaryFolder("doorstep-drill-client") + "/local.sqlite", retry: .quick)
            configuration.transport = { _ in MovingTransport(address: address, ledger: ledger) }
            let client = try FieldClient(configuration: configuration)
            let role: Role = index == 3 ? .office : .visitor
            try await client.enroll(server: try server.url, code: try await admin().code(district: "150602", role: role), deviceName: "drill \(index)")
            let visitor = Visitor(client: client, name: "device \(index)")
            try await visitor.fileHousehold(300 + index)
            visitors.append(visitor)
        }
        for step in 1...3 {
            for visitor in visitors {
                try await visitor.work(random, step: step)
                try await visitor.client.sync()
            }
        }
        let backup = Executables.temporaryFolder("doorstep-drill-backup") + "/morning.sqlite"
        let made = try await ChildProcess.run(Executables.server, ["backup", "--data", server.dataDirectory, "--out", backup])
        #expect(made.status == 0, "\(made)")
        let acknowledgedAtBackup = ledger.acknowledged.count

        // The afternoon: laptops 0 to 2 sync it whole (pushed, pulled back, settled); laptop 3 stays offline.
        for step in 4...6 {
            for (index, visitor) in visitors.enumerated() {
                try await visitor.work(random, step: step)
                if index < 3 { try await visitor.client.sync() }
            }
        }
        for visitor in visitors.prefix(3) { try await visitor.client.sync() }
        let settled = try await visitors[0].client.status()
        #expect(settled.pending == 0 && settled.awaitingConfirmation == 0 && settled.kept > 0, "\(settled)")
        #expect(ledger.acknowledged.count > acknowledgedAtBackup, "work acknowledged after the backup")

        await server.kill()
        address.set(nil)
        let restored = try await ChildProcess.run(Executables.server, ["restore", "--from", backup, "--data", server.dataDirectory, "--replace"])
        #expect(restored.status == 0, "\(restored)")
        address.set(try await server.start())

        let list = try await OfficeClient(server: try server.url, token: try server.adminToken).deviceList()
        #expect(list.restoredAt != nil && list.notSyncedSinceRestore.count == visitors.count, "no laptop has synced since the restore")

        try await syncUntilSettled(visitors.map(\.client))
        let visits = visitors.reduce(into: Set<EntityID>()) { $0.formUnion($1.visits) }
        let report = try await ExactlyOnce(databasePath: server.databasePath)
            .verify(ledger: ledger, clients: visitors.map(\.client), recordedVisits: visits)
        let after = try await OfficeClient(server: try server.url, token: try server.adminToken).deviceList()
        await server.stop()
        #expect(after.notSyncedSinceRestore.isEmpty && after.lostMutations == 0, "\(after)")
        for visitor in visitors { #expect(try await visitor.client.status().lost.isEmpty) }
        #expect(report.acknowledged > acknowledgedAtBackup && report.lost == 0 && report.duplicated == 0)
        print("RestoreDrillTests: \(report.acknowledged) acknowledged, \(acknowledgedAtBackup) of them before the backup: \(report)")
    }
}
