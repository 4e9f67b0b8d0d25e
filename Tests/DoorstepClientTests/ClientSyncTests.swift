import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Synchronization
import Testing

/// The field client against a real server on loopback (issue 4's tests).
struct ClientSyncTests {
    @Test func twoVisitorsEditOneHouseholdOffline_bothEndEqual_officeSeesConflict() async throws {
        try await LiveServer.run { server in
            let a = try await server.enrolledClient()
            let b = try await server.enrolledClient()
            let household = try await a.fileHousehold(Facts.household(1))
            try await a.sync()
            try await b.sync()
            // Offline on both laptops:
            try await a.editHousehold(household, set: ["monthlyIncomeFen": 90_000])
            try await b.editHousehold(household, set: ["monthlyIncomeFen": 95_000])
            try await b.recordVisit(to: household, Facts.visit)
            let local = try #require(try await a.household(household))
            #expect(local.household["monthlyIncomeFen"] == 90_000, "a sees its own unsynced edit")
            #expect(try await a.households().first?.hasLocalChanges == true)
            let first = try await a.sync()
            let second = try await b.sync()
            #expect(first.pushed == 1)
            #expect(second.conflicts == 1)
            try await a.sync()
            let viewA = try #require(try await a.household(household))
            let viewB = try #require(try await b.household(household))
            #expect(viewA == viewB)
            #expect(viewA.household.fields["monthlyIncomeFen"]?.heads.count == 2)
            #expect(viewA.entities.filter { $0.kind == .visit }.count == 1)
            let review = try await AdminCalls(server: server).review()
            #expect(review["conflicts"]?.arrayValue?.count == 1)
            #expect(try await a.status().pending == 0)
        }
    }

    @Test func crashBetweenWriteAndPush_losesNothing() async throws {
        try await LiveServer.run { server in
            let path = Scratch.root.appendingPathComponent("doorstep-crash-\(UUID().uuidString)/local.sqlite").path
            var client: FieldClient? = try await server.enrolledClient(path: path)
            let household = try await client?.fileHousehold(Facts.household(2))
            _ = try await client?.recordVisit(to: try #require(household), Facts.visit)
            client = nil  // the process "dies" before any sync
            let reopened = try FieldClient(configuration: LiveServer.clientConfiguration(path: path))
            #expect(try await reopened.status().pending == 2)
            let summary = try await reopened.sync()
            #expect(summary.pushed == 2)
            let id = try #require(household)
            let view = try #require(try await reopened.household(id))
            #expect(view.entities.filter { $0.kind == .visit }.count == 1)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "the local file is readable by its owner only")
        }
    }

    /// The pull's progress says how many households to expect (the first page's estimate,
    /// protocol 1.3), and from the second page on the time and bytes left.
    @Test func aFirstSync_reportsHouseholdsExpected_andTimeLeft() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            for n in 0..<30 { _ = try await colleague.fileHousehold(Facts.household(300 + n)) }
            try await colleague.sync()
            var settings = LiveServer.clientConfiguration()
            settings.pullPageSize = 10
            let laptop = try FieldClient(configuration: settings)
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "new laptop")
            let seen = Mutex<[SyncProgress]>([])
            let summary = try await laptop.sync { progress in seen.withLock { $0.append(progress) } }
            #expect(summary.pulledHouseholds == 30)
            // Each page's step, and (once a second at most) the same step again as bytes move.
            let pulling = seen.withLock { $0 }.filter { $0.phase == .pulling }
            #expect(pulling.map(\.done).reduce(into: [Int]()) { steps, done in if steps.last != done { steps.append(done) } } == [10, 20, 30])
            #expect(pulling.allSatisfy { $0.total == 30 }, "\(pulling.map(\.total))")
            #expect(pulling.allSatisfy { $0.secondsLeft != nil && $0.expectedBytes != nil })
            #expect(pulling.last?.secondsLeft == 0)
            let first = try #require(pulling.first)
            #expect((first.expectedBytes ?? 0) > first.bytes, "two pages of bytes still expected after the first")
        }
    }

    @Test func rejectedMutation_goesToQuarantine_neverBlocksTheRest_fixAndResendWorks() async throws {
        try await LiveServer.run { server in
            let city = try await server.enrolledClient(district: "150602", role: .city)
            let visitor = try await server.enrolledClient()
            let moved = try await visitor.fileHousehold(Facts.household(3))
            let other = try await visitor.fileHousehold(Facts.household(4))
            try await visitor.sync()
            try await city.sync()
            // The city moves one household to Kangbashi while the visitor, offline, edits it and visits the other.
            try await city.editHousehold(moved, set: ["district": "150603"])
            try await city.sync()
            try await visitor.editHousehold(moved, set: ["phone": "13912345678"])
            try await visitor.recordVisit(to: other, Facts.visit)
            let summary = try await visitor.sync()
            #expect(summary.quarantined == 1)
            #expect(summary.pushed == 1, "the rest of the queue went through")
            let quarantined = try await visitor.quarantine()
            #expect(quarantined.map(\.code) == [.outOfScope])
            #expect(try await visitor.household(moved) == nil, "the moved household left the visitor's scope")
            #expect(try await visitor.household(other)?.entities.filter { $0.kind == .visit }.count == 1)
            // The city moves it back; the visitor resends the fix, which now applies.
            try await city.editHousehold(moved, set: ["district": "150602"])
            try await city.sync()
            try await visitor.sync()
            let item = try #require(quarantined.first)
            try await visitor.resend(item.seq, with: ["phone": "13912345679"])
            #expect(try await visitor.quarantine().isEmpty)
            let after = try await visitor.sync()
            #expect(after.pushed == 1 && after.quarantined == 0)
            try await city.sync()
            #expect(try await city.household(moved)?.household["phone"] == "13912345679")
            // Discard drops an item for good.
            try await city.editHousehold(moved, set: ["district": "150603"])
            try await city.sync()
            try await visitor.editHousehold(other, set: ["phone": "13912345670"])
            try await visitor.sync()
            #expect(try await visitor.quarantine().isEmpty)
        }
    }

    @Test func discard_dropsAQuarantinedMutation() async throws {
        try await LiveServer.run { server in
            let city = try await server.enrolledClient(district: "150602", role: .city)
            let visitor = try await server.enrolledClient()
            let household = try await visitor.fileHousehold(Facts.household(5))
            try await visitor.sync()
            try await city.sync()
            try await city.editHousehold(household, set: ["district": "150603"])
            try await city.sync()
            try await visitor.recordVisit(to: household, Facts.visit)
            try await visitor.sync()
            let item = try #require(try await visitor.quarantine().first)
            #expect(item.code == .outOfScope)
            try await visitor.discard(item.seq)
            #expect(try await visitor.quarantine().isEmpty)
            #expect(try await visitor.status().pending == 0)
            await #expect(throws: DoorstepError.self) { try await visitor.discard(item.seq) }
        }
    }

    @Test func syncCancelledOrCutAtRandomPoints_everyMutationOnTheServerExactlyOnce() async throws {
        try await LiveServer.run { server in
            let flaky = FlakyTransports(seed: 42)
            let client = try await server.enrolledClient(transport: { flaky.make($0) })
            var households: [EntityID] = []
            for n in 0..<8 {
                let household = try await client.fileHousehold(Facts.household(10 + n))
                households.append(household)
                try await client.recordVisit(to: household, Facts.visit)
            }
            var attempts = 0
            while try await client.status().pending > 0 || attempts == 0 {
                attempts += 1
                flaky.enabled = true
                let task = Task { try await client.sync() }
                if attempts % 3 == 0 { task.cancel() }
                _ = try? await task.value
                if attempts > 60 { break }
            }
            flaky.enabled = false
            try await client.sync()
            let reader = try await server.enrolledClient()
            try await reader.sync()
            let pulled = try await reader.households()
            #expect(Set(pulled.map(\.id)) == Set(households))
            for id in households {
                let view = try #require(try await reader.household(id))
                #expect(view.entities.filter { $0.kind == .visit }.count == 1, "visit of \(id) held once")
            }
            #expect(flaky.failures > 0, "the schedule must actually cut some requests")
        }
    }
}

/// A transport that, on a seeded schedule, fails before sending or drops the answer after the server acted.
final class FlakyTransports: @unchecked Sendable {
    private let lock = NSLock()
    private var random: UInt64
    var enabled = false
    private(set) var failures = 0

    init(seed: UInt64) { random = seed }

    func make(_ url: URL) -> any SyncTransport { Flaky(inner: URLSessionTransport(baseURL: url), owner: self) }

    func roll() -> Int {
        lock.lock()
        defer { lock.unlock() }
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        guard enabled else { return 99 }
        let value = Int((random >> 33) % 100)
        if value < 30 { failures += 1 }
        return value
    }

    struct Flaky: SyncTransport {
        let inner: URLSessionTransport
        let owner: FlakyTransports

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            let roll = owner.roll()
            if roll < 15 { throw URLError(.networkConnectionLost) }  // never reached the server
            let response = try await inner.send(request)
            if roll < 30 { throw URLError(.networkConnectionLost) }  // the server acted; the answer was cut
            return response
        }
    }
}

extension ClientSyncTests {
    @Test func rejectedCreation_fixedAndResent_isCreated() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            let elsewhere = try await server.enrolledClient(district: "150603")
            // A household of 150603 holds the national ID this visitor is about to file: out of scope.
            _ = try await elsewhere.fileHousehold(Facts.household(80))
            try await elsewhere.sync()
            let filed = try await visitor.fileHousehold(Facts.household(80))
            let summary = try await visitor.sync()
            #expect(summary.quarantined == 1)
            let item = try #require(try await visitor.quarantine().first)
            #expect(item.code == .outOfScope)
            // The visitor finds the typo in the national ID and resends the creation with the right one.
            try await visitor.resend(item.seq, with: ["nationalId": .string(Facts.nationalID(81))])
            #expect(try await visitor.quarantine().isEmpty)
            let after = try await visitor.sync()
            #expect(after.pushed == 1 && after.quarantined == 0)
            #expect(try await visitor.household(filed)?.household["nationalId"] == .string(Facts.nationalID(81)))
        }
    }
}

/// A transport whose pulls fail while `pullsFail` is set: the device pushed, then lost the line.
final class PullCutter: @unchecked Sendable {
    private let lock = NSLock()
    private var failing = true
    var pullsFail: Bool {
        get { lock.withLock { failing } }
        set { lock.withLock { failing = newValue } }
    }

    func make(_ url: URL) -> any SyncTransport { Cut(inner: URLSessionTransport(baseURL: url), owner: self) }

    struct Cut: SyncTransport {
        let inner: URLSessionTransport
        let owner: PullCutter
        func send(_ request: TransportRequest) async throws -> TransportResponse {
            if owner.pullsFail, request.path.hasPrefix("/v1/pull") { throw URLError(.notConnectedToInternet) }
            return try await inner.send(request)
        }
    }
}

extension ClientSyncTests {
    /// §5, §8: a laptop whose clock runs a day ahead pushes; the server clamps the stamps and says
    /// so (`stamp`); the line drops before the pull. The laptop shows its acknowledged writes under
    /// the ids the server gave them, and an edit made then names those ids: no phantom conflict,
    /// before the pull or after it.
    @Test func acknowledgedWrites_showUnderTheServersStamp_untilThePullBringsThem() async throws {
        try await LiveServer.run { server in
            let cutter = PullCutter()
            var configuration = LiveServer.clientConfiguration(transport: { cutter.make($0) })
            let ahead: Int64 = 24 * 3600 * 1000
            configuration.clock = { HybridLogicalClock.systemMillis() + ahead }
            let client = try FieldClient(configuration: configuration)
            try await client.enroll(server: server.url, code: try await server.code(district: "150602", role: .visitor), deviceName: "fast clock")
            let household = try await client.fileHousehold(Facts.household(40))
            await #expect(throws: (any Error).self) { try await client.sync() }
            #expect(try await client.status().pending == 0, "pushed and acknowledged")
            let view = try #require(try await client.household(household))
            let heads = view.household.heads("monthlyIncomeFen")
            #expect(heads.count == 1)
            #expect((heads.first?.write.hlc.wallMillis ?? .max) < HybridLogicalClock.systemMillis() + ahead / 2, "the server's stamp, not the laptop's")
            try await client.editHousehold(household, set: ["monthlyIncomeFen": 90_000])
            let edited = try #require(try await client.household(household))
            #expect(edited.household.heads("monthlyIncomeFen").count == 1, "the edit replaced the acknowledged write: no phantom conflict")
            cutter.pullsFail = false
            try await client.sync()
            let synced = try #require(try await client.household(household))
            #expect(synced.household.heads("monthlyIncomeFen").map(\.value) == [90_000])
        }
    }
}
