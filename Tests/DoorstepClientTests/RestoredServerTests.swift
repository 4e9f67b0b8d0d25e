import DoorstepClient
import DoorstepCore
import DoorstepServer
import DoorstepTestSupport
import Foundation
import Testing

/// A server restored from an older backup (§8 "Settling", §9 "A restored server", §16 step 2):
/// the laptop's acknowledged work that the backup lacks is sent again, and a cursor the restored
/// server never reached takes the laptop back to the start of its scope. The server is real, on
/// a kept folder, stopped, its database replaced by the backup (as README's restore says), and
/// started again at another port.
struct RestoredServerTests {
    @Test func aRestoreBetweenPushAndPull_takesTheAcknowledgedWorkAgain_eachOnce() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let line = MovableLine()
        let path = folder + "/laptop/local.sqlite"
        let data = folder + "/server"
        let backup = folder + "/backup.sqlite"
        let household = try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "Otog laptop")
            let household = try await laptop.fileHousehold(Facts.household(70))
            try await laptop.sync()
            try await DoorstepServerSetup.backup(configuration: server.configuration, to: backup)
            _ = try await laptop.recordVisit(to: household, Facts.visit)
            _ = try await laptop.addEntry(.member, to: household, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            line.pullsFail = true
            await #expect(throws: (any Error).self) { try await laptop.sync() }
            #expect(try await laptop.status().awaitingConfirmation == 2, "pushed and acknowledged; the line dropped before the pull")
            return household
        }
        try Self.restore(backup, into: data)
        try await LiveServer.run(directory: data) { server in
            line.url = server.url
            line.pullsFail = false
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            let later = try await laptop.recordVisit(to: household, Facts.visit)
            let summary = try await laptop.sync()
            #expect(summary.pushed == 3, "the two the restored server lost, sent again from its resume point, and the new visit")
            let status = try await laptop.status()
            #expect(status.pending == 0 && status.awaitingConfirmation == 0 && status.quarantined == 0)
            let held = try await server.admin.household(household)
            #expect(held.entities.filter { $0.kind == .visit }.count == 2 && held.entities.contains { $0.id == later })
            #expect(held.entities.filter { $0.kind == .member }.count == 1)
            let shown = try #require(try await laptop.household(household))
            #expect(Set(shown.entities.map(\.id)) == Set(held.entities.map(\.id)))
            #expect(try await laptop.sync().pushed == 0, "nothing is sent twice")
        }
    }

    @Test func aRestoreAfterThePull_refusesTheCursor_andTheLaptopPullsItsScopeAgain() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let line = MovableLine()
        let path = folder + "/laptop/local.sqlite"
        let data = folder + "/server"
        let backup = folder + "/backup.sqlite"
        let (kept, lost) = try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "Otog laptop")
            let kept = try await laptop.fileHousehold(Facts.household(71))
            try await laptop.sync()
            try await DoorstepServerSetup.backup(configuration: server.configuration, to: backup)
            let colleague = try await server.enrolledClient()
            let lost = try await colleague.fileHousehold(Facts.household(72))
            try await colleague.sync()
            try await laptop.sync()
            #expect(try await laptop.household(lost) != nil, "pulled after the backup was taken")
            return (kept, lost)
        }
        try Self.restore(backup, into: data)
        try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            try await laptop.sync()
            #expect(try await laptop.household(lost) == nil, "the restored server never had it: the laptop's copy follows the server")
            #expect(try await laptop.households().map(\.id) == [kept])
            _ = try await laptop.recordVisit(to: kept, Facts.visit)
            #expect(try await laptop.sync().pushed == 1)
            #expect(try await server.admin.household(kept).entities.filter { $0.kind == .visit }.count == 1)
        }
    }

    static func folder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-restore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The README's restore, with the server stopped: the WAL and its index removed, the backup copied in.
    static func restore(_ backup: String, into data: String) throws {
        let database = data + "/doorstep.sqlite"
        for file in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.removeItem(atPath: file)
        }
        try FileManager.default.copyItem(atPath: backup, toPath: database)
    }
}

/// The laptop's line to a server that may have moved to another port: requests go wherever the
/// server is now; pulls fail while ``pullsFail`` is set.
final class MovableLine: @unchecked Sendable {
    private let lock = NSLock()
    private var current = URL(fileURLWithPath: "/")
    private var failing = false

    var url: URL {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    var pullsFail: Bool {
        get { lock.withLock { failing } }
        set { lock.withLock { failing = newValue } }
    }

    func transport() -> any SyncTransport { Line(owner: self) }

    struct Line: SyncTransport {
        let owner: MovableLine

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            if owner.pullsFail, request.path.hasPrefix("/v1/pull") { throw URLError(.notConnectedToInternet) }
            return try await URLSessionTransport(baseURL: owner.url).send(request)
        }
    }
}
