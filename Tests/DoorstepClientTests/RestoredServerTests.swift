import DoorstepCore
import DoorstepServer
import DoorstepTestSupport
import Foundation
import Testing

@testable import DoorstepClient

/// A server restored from an older backup (§8 "Settling", §9 "A restored server", §16 step 2):
/// the laptop's acknowledged work that the backup lacks is sent again, and a cursor the restored
/// server never reached takes the laptop back to the start of its scope. The server is real, on
/// a kept folder, stopped, its database replaced by the backup (as README's restore says), and
/// started again at another port.
struct RestoredServerTests {
    @Test func aRestoreBetweenPushAndPull_takesTheAcknowledgedWorkAgain_eachOnce() async throws {
        let drill = try Drill()
        defer { drill.remove() }
        let (line, path, data, backup) = (drill.line, drill.path, drill.data, drill.backup)
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
        try await Self.restore(backup, into: data)
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
            let list = try await server.admin.deviceList()
            #expect(list.restoredAt != nil && list.notSyncedSinceRestore.isEmpty, "caught up: the server holds all it had acknowledged")
        }
    }

    @Test func aRestoreAfterThePull_refusesTheCursor_andTheLaptopPullsItsScopeAgain() async throws {
        let drill = try Drill()
        defer { drill.remove() }
        let (line, path, data, backup) = (drill.line, drill.path, drill.data, drill.backup)
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
        try await Self.restore(backup, into: data)
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

    /// The restore drill with photos: a backup holds the files the server held whole; a restore
    /// checks the backup before it changes anything, refuses while a server holds the folder,
    /// and sets the replaced database aside; after it, the laptop sends again the work and the
    /// photo the backup lacked, and a colleague fetches both photos byte for byte.
    @Test func aRestoreDrillWithPhotos_bringsBackEveryAcknowledgedFile() async throws {
        let drill = try Drill()
        defer { drill.remove() }
        let (folder, line, path, data, backup) = (drill.folder, drill.line, drill.path, drill.data, drill.backup)
        let (household, first, second, firstBytes, secondBytes) = try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "Hanggin laptop")
            let household = try await laptop.fileHousehold(Facts.household(73))
            let (url1, bytes1) = try AttachmentClientTests.photo(120_000, seed: 90, name: "收入证明.jpg")
            let first = try await laptop.attach(fileAt: url1, to: household)
            #expect(try await laptop.sync().filesSent == 1)
            // A second photo whose attachment reaches the server before the backup, its bytes after.
            let (url2, bytes2) = try AttachmentClientTests.photo(80_000, seed: 91, name: "残疾证.jpg")
            let second = try await laptop.attach(fileAt: url2, to: household)
            line.filesFail = true
            #expect(try await laptop.sync().filesWaiting == 1)
            let written = try await DoorstepServerSetup.backup(configuration: server.configuration, to: backup)
            #expect(written.files == 1 && written.filesCopied == 1 && written.fileBytes == 120_000, "\(written)")
            #expect(FileManager.default.fileExists(atPath: backup + "-files"))
            line.filesFail = false
            let after = try await laptop.sync()
            #expect(after.pushed == 0 && after.filesSent == 1, "\(after)")
            return (household, first, second, bytes1, bytes2)
        }
        let database = data + "/doorstep.sqlite"
        let before = try Data(contentsOf: URL(fileURLWithPath: database))

        // A damaged backup (one byte of its photo changed) is refused, and nothing changes.
        let damaged = folder + "/damaged.sqlite"
        try FileManager.default.copyItem(atPath: backup, toPath: damaged)
        try FileManager.default.copyItem(atPath: backup + "-files", toPath: damaged + "-files")
        let stored = try #require(FileManager.default.enumerator(atPath: damaged + "-files")?.allObjects.compactMap { $0 as? String }.first { $0.count == 67 })
        let photoPath = damaged + "-files/" + stored
        var bytes = try Data(contentsOf: URL(fileURLWithPath: photoPath))
        bytes[500] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: photoPath))
        await #expect(throws: DoorstepError.self) { try await Self.restore(damaged, into: data) }
        // Not a database at all.
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: folder + "/notes.sqlite"))
        await #expect(throws: DoorstepError.self) { try await Self.restore(folder + "/notes.sqlite", into: data) }
        // A backup without its folder of files: refused, unless told it is an older backup.
        try FileManager.default.copyItem(atPath: backup, toPath: folder + "/alone.sqlite")
        await #expect(throws: DoorstepError.self) { try await Self.restore(folder + "/alone.sqlite", into: data) }
        let older = try await DoorstepServerSetup.restore(
            from: folder + "/alone.sqlite", configuration: ServerConfiguration(dataDirectory: folder + "/elsewhere"), replace: false, withoutFiles: true)
        #expect(older.files == 0 && older.setAside == nil && FileManager.default.fileExists(atPath: folder + "/elsewhere/doorstep.sqlite"))
        // Without --replace, a folder that holds a database is refused.
        await #expect(throws: DoorstepError.self) {
            try await DoorstepServerSetup.restore(from: backup, configuration: ServerConfiguration(dataDirectory: data), replace: false)
        }
        // While a server holds the folder.
        do {
            let running = try DataFolderLock.acquire(data)
            #expect(DataFolderLock.isHeld(data))
            await #expect(throws: DoorstepError.self) { try await Self.restore(backup, into: data) }
            withExtendedLifetime(running) {}
        }
        #expect(!DataFolderLock.isHeld(data))
        #expect(try Data(contentsOf: URL(fileURLWithPath: database)) == before, "a refused restore changes nothing")

        // The crash: the server's files are gone too. The restore puts back the backup's.
        try FileManager.default.removeItem(atPath: data + "/files")
        let restored = try await Self.restore(backup, into: data)
        #expect(restored.files == 1 && restored.filesCopied == 1, "\(restored)")
        let aside = try #require(restored.setAside)
        #expect(try Data(contentsOf: URL(fileURLWithPath: aside)) == before, "the replaced database is set aside, not deleted")

        try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            _ = try await laptop.recordVisit(to: household, Facts.visit)
            // The restored server refuses the laptop's cursor (issued before the restore): the
            // laptop pulls its scope again and asks about each of its files, sending the one lost.
            let summary = try await laptop.sync()
            #expect(summary.pushed == 1 && summary.filesSent == 1, "the new visit, then the photo the backup lacked: \(summary)")
            #expect(try await laptop.sync().filesSent == nil, "nothing is sent twice")
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            #expect(try Data(contentsOf: try await colleague.attachmentFile(first, in: household)) == firstBytes)
            #expect(try Data(contentsOf: try await colleague.attachmentFile(second, in: household)) == secondBytes)
        }
    }

    /// Protocol 1.7: the laptop's work the server confirmed and the laptop settled (a whole sync
    /// after the backup) is kept 30 days, so a restored server, which refuses the laptop's cursor,
    /// is asked where it stands and sent that work again, each once.
    @Test func aRestoreAfterTheLaptopSettled_sendsItsKeptWorkAgain_eachOnce() async throws {
        let drill = try Drill()
        defer { drill.remove() }
        let (line, path, data, backup) = (drill.line, drill.path, drill.data, drill.backup)
        let (household, visit) = try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "Otog laptop")
            let household = try await laptop.fileHousehold(Facts.household(73))
            try await laptop.sync()
            try await DoorstepServerSetup.backup(configuration: server.configuration, to: backup)
            let visit = try await laptop.recordVisit(to: household, Facts.visit)
            _ = try await laptop.addEntry(.member, to: household, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            try await laptop.sync()
            let status = try await laptop.status()
            #expect(status.pending == 0 && status.awaitingConfirmation == 0, "pushed and pulled back: settled")
            #expect(status.kept == 3, "the creation, the visit and the member, kept out of every view")
            return (household, visit)
        }
        try await Self.restore(backup, into: data)
        try await LiveServer.run(directory: data) { server in
            line.url = server.url
            #expect(try await server.admin.household(household).entities.isEmpty, "the backup lacks the visit and the member")
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            let summary = try await laptop.sync()
            #expect(summary.sentAgain == 2 && summary.declaredLost == nil)
            let held = try await server.admin.household(household)
            #expect(held.entities.filter { $0.kind == .visit }.map(\.id) == [visit])
            #expect(held.entities.filter { $0.kind == .member }.count == 1)
            let shown = try #require(try await laptop.household(household))
            #expect(Set(shown.entities.map(\.id)) == Set(held.entities.map(\.id)))
            let status = try await laptop.status()
            #expect(status.pending == 0 && status.awaitingConfirmation == 0 && status.kept == 3 && status.lost.isEmpty)
            #expect(try await laptop.sync().pushed == 0, "nothing is sent twice")
            let list = try await server.admin.deviceList()
            #expect(list.restoredAt != nil && list.notSyncedSinceRestore.isEmpty && list.devices.allSatisfy { $0.lost == nil })
        }
    }

    /// Protocol 1.7: work the restored server lacks and the laptop no longer keeps is declared
    /// lost: the server records the gap, the office sees it in the device list, `/health` and
    /// `/metrics` (with the colleague who has not synced since the restore), and the laptop goes on.
    @Test func workNoLongerKept_isDeclaredLost_theOfficeSeesTheGap_andTheLaptopGoesOn() async throws {
        let drill = try Drill()
        defer { drill.remove() }
        let (line, path, data, backup) = (drill.line, drill.path, drill.data, drill.backup)
        let configuration = {
            var configuration = LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() })
            configuration.keepSettledFor = 0
            return configuration
        }()
        let (household, colleague) = try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: configuration)
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "Otog laptop")
            let colleague = try await server.enrolledClient(deviceName: "Dongsheng laptop")
            try await colleague.sync()
            let household = try await laptop.fileHousehold(Facts.household(74))
            try await laptop.sync()
            try await DoorstepServerSetup.backup(configuration: server.configuration, to: backup)
            _ = try await laptop.recordVisit(to: household, Facts.visit)
            _ = try await laptop.addEntry(.member, to: household, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            try await laptop.sync()
            #expect(try await laptop.status().kept == 0, "settled and forgotten at once")
            return (household, try #require(try await colleague.enrollment).device)
        }
        try await Self.restore(backup, into: data)
        try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: configuration)
            let device = try #require(try await laptop.enrollment).device
            let summary = try await laptop.sync()
            #expect(summary.declaredLost == 2 && (summary.sentAgain ?? 0) == 0)
            let status = try await laptop.status()
            #expect(status.lost.map { [$0.from, $0.through] } == [[2, 3]])
            #expect(status.lastSyncError == nil)
            let list = try await server.admin.deviceList()
            let record = try #require(list.devices.first { $0.id == device })
            #expect(record.lost?.map { [$0.from, $0.through] } == [[2, 3]] && record.highestSeq == 3)
            #expect(list.notSyncedSinceRestore.map(\.id) == [colleague], "the colleague's work after the backup may still be missing: \(list)")
            #expect(list.lostMutations == 2)

            // The laptop goes on: its next change follows the gap.
            let later = try await laptop.recordVisit(to: household, Facts.visit)
            #expect(try await laptop.sync().pushed == 1)
            #expect(try await server.admin.household(household).entities.map(\.id) == [later])

            let transport = URLSessionTransport(baseURL: server.url)
            let health = try JSONDecoder().decode(
                [String: JSONValue].self, from: try await transport.send(TransportRequest(method: "GET", path: "/health")).body)
            guard case .object(let restore)? = health["restore"] else {
                Issue.record("/health has no restore member: \(health)")
                return
            }
            #expect(restore["devicesNotSyncedSince"] == .int(1) && restore["lostMutations"] == .int(2))
            let metrics = String(decoding: try await transport.send(TransportRequest(method: "GET", path: "/metrics")).body, as: UTF8.self)
            #expect(metrics.contains("doorstep_lost_mutations 2") && metrics.contains("doorstep_devices_unsynced_since_restore 1"))
        }
    }

    /// Protocol 1.7: a seq missing in the middle (a refused change the visitor discarded) is
    /// declared lost alone; every confirmed change around it is sent again, each once.
    @Test func aDiscardedRefusal_isTheOnlyGap_theWorkAroundItComesBack() async throws {
        let drill = try Drill()
        defer { drill.remove() }
        let (line, path, data, backup) = (drill.line, drill.path, drill.data, drill.backup)
        let (household, visits) = try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "Otog laptop")
            let city = try await server.enrolledClient(district: "150602", role: .city)
            let household = try await laptop.fileHousehold(Facts.household(75))
            let moved = try await laptop.fileHousehold(Facts.household(76))
            try await laptop.sync()
            try await city.sync()
            try await DoorstepServerSetup.backup(configuration: server.configuration, to: backup)
            try await city.editHousehold(moved, set: ["district": "150603"])
            try await city.sync()
            let first = try await laptop.recordVisit(to: household, Facts.visit)
            try await laptop.editHousehold(moved, set: ["phone": "13912345678"])
            let second = try await laptop.recordVisit(to: household, Facts.visit)
            let summary = try await laptop.sync()
            #expect(summary.pushed == 2 && summary.quarantined == 1)
            let refused = try #require(try await laptop.quarantine().first)
            #expect(refused.seq == 4 && refused.code == .outOfScope)
            try await laptop.discard(refused.seq)
            #expect(try await laptop.status().kept == 4, "seqs 1, 2, 3 and 5")
            return (household, [first, second])
        }
        try await Self.restore(backup, into: data)
        try await LiveServer.run(directory: data) { server in
            line.url = server.url
            let laptop = try FieldClient(configuration: LiveServer.clientConfiguration(path: path, transport: { _ in line.transport() }))
            let device = try #require(try await laptop.enrollment).device
            #expect(try await server.admin.deviceList().devices.first { $0.id == device }?.notSyncedSinceRestore == true)
            let summary = try await laptop.sync()
            #expect(summary.sentAgain == 2 && summary.declaredLost == 1)
            #expect(Set(try await server.admin.household(household).entities.filter { $0.kind == .visit }.map(\.id)) == Set(visits))
            let record = try #require(try await server.admin.deviceList().devices.first { $0.id == device })
            #expect(record.lost?.map { [$0.from, $0.through] } == [[4, 4]] && record.highestSeq == 5 && record.notSyncedSinceRestore == nil)
            #expect(try await laptop.status().lost.map { [$0.from, $0.through] } == [[4, 4]])
            #expect(try await laptop.sync().pushed == 0, "nothing is sent twice")
        }
    }

    /// The rules of what is sent again and what is declared lost, on seqs alone.
    @Test func gaps_areTheRunsOfSeqsNotHeld() {
        #expect(FieldClient.gaps(in: [3, 5], from: 3, before: 6).map { [$0.from, $0.through] } == [[4, 4]])
        #expect(FieldClient.gaps(in: [], from: 2, before: 4).map { [$0.from, $0.through] } == [[2, 3]])
        #expect(FieldClient.gaps(in: [2, 3], from: 2, before: 4).isEmpty)
        #expect(FieldClient.gaps(in: [4, 7], from: 2, before: 10).map { [$0.from, $0.through] } == [[2, 3], [5, 6], [8, 9]])
    }

    /// A drill's places: a laptop's database, the server's data folder and its backup, in one
    /// temporary folder, and the laptop's line to wherever the server listens.
    struct Drill {
        let folder: String
        let line = MovableLine()
        var path: String { folder + "/laptop/local.sqlite" }
        var data: String { folder + "/server" }
        var backup: String { folder + "/backup.sqlite" }

        init() throws { folder = try RestoredServerTests.folder() }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    static func folder() throws -> String {
        let folder = Scratch.root.appendingPathComponent("doorstep-restore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// `doorstep-server restore --replace`, with the server stopped.
    @discardableResult
    static func restore(_ backup: String, into data: String) async throws -> RestoreSummary {
        try await DoorstepServerSetup.restore(from: backup, configuration: ServerConfiguration(dataDirectory: data), replace: true)
    }
}

/// The laptop's line to a server that may have moved to another port: requests go wherever the
/// server is now; pulls fail while ``pullsFail`` is set, files' requests while ``filesFail`` is.
final class MovableLine: @unchecked Sendable {
    private let lock = NSLock()
    private var current = URL(fileURLWithPath: "/")
    private var failing = false
    private var filesFailing = false

    var url: URL {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    var pullsFail: Bool {
        get { lock.withLock { failing } }
        set { lock.withLock { failing = newValue } }
    }

    var filesFail: Bool {
        get { lock.withLock { filesFailing } }
        set { lock.withLock { filesFailing = newValue } }
    }

    func transport() -> any SyncTransport { Line(owner: self) }

    struct Line: SyncTransport {
        let owner: MovableLine

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            if owner.pullsFail, request.path.hasPrefix("/v1/pull") { throw URLError(.notConnectedToInternet) }
            if owner.filesFail, request.path.hasPrefix("/v1/files/") { throw URLError(.networkConnectionLost) }
            return try await URLSessionTransport(baseURL: owner.url).send(request)
        }
    }
}
