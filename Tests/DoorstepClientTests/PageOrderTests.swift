import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// §9 "Storing a page": a link or an unlink changes two households, whose pages may come in either
/// order (a 1.0 server splits a link too). The pages are the server's own, recorded by a third
/// laptop and played to the laptops under test in each order, the pull cut between them: what is
/// shown after the first page and after the second is the section's table, row by row, and the
/// device's own work (a visit acknowledged but not yet pulled back) is never lost in between.
struct PageOrderTests {
    @Test func anUnlinkSplitOverTwoPages_inEitherOrder_showsWhatTheTableSays_andEndsEqual() async throws {
        try await LiveServer.run { server in
            let filer = try await server.enrolledClient()
            let survivor = try await filer.fileHousehold(Facts.household(60))
            try await filer.sync()
            let other = try await server.enrolledClient()
            let alias = try await other.fileHousehold(Facts.household(60))
            let member = try await other.addEntry(.member, to: alias, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            try await other.sync()
            let script = [PageScript(), PageScript()]
            var laptops: [FieldClient] = []
            for script in script {
                let laptop = try await server.enrolledClient(transport: { script.make($0) })
                try await laptop.sync()
                #expect(try await laptop.household(alias)?.household.id == survivor, "linked: the alias shows its survivor")
                laptops.append(laptop)
            }
            // Each laptop corrects the alias's member (a write addressed to the alias) and pushes
            // it; the line drops before the pull.
            let corrections: [(String, JSONValue)] = [("health", "chronicIllness"), ("employment", "retired")]
            for (laptop, (script, correction)) in zip(laptops, zip(script, corrections)) {
                try await laptop.editEntry(member, in: alias, set: [correction.0: correction.1])
                script.pullsFail = true
                await #expect(throws: (any Error).self) { try await laptop.sync() }
                #expect(try await laptop.status().awaitingConfirmation == 1)
            }
            // The pages of the unlink, as the server gives a laptop that held the link them, one household at a time.
            let recorder = PageScript()
            var configuration = LiveServer.clientConfiguration(transport: { recorder.make($0) })
            configuration.pullPageSize = 1
            let witness = try FieldClient(configuration: configuration)
            try await witness.enroll(server: server.url, code: try await server.code(), deviceName: "witness")
            try await witness.sync()
            _ = try await server.admin.unlink(survivor: survivor, alias: alias)
            recorder.recording = true
            try await witness.sync()
            let pages = recorder.recorded.filter { !(($0["households"]?.arrayValue ?? []).isEmpty) }
            #expect(pages.count == 2, "the survivor and the alias, one per page")
            let ids = pages.map { PageScript.householdIDs($0).first }
            #expect(Set(ids.compactMap { $0 }) == [survivor.description, alias.description])
            guard pages.count == 2 else { return }
            let aliasFirst = ids[0] == alias.description ? pages : pages.reversed()
            let orders = [aliasFirst, aliasFirst.reversed()]

            // Order 1: the alias as a survivor of its own, then the survivor without it.
            let (laptop1, laptop2) = (laptops[0], laptops[1])
            script[0].play([orders[0][0]], more: true)
            await #expect(throws: (any Error).self) { try await laptop1.sync() }
            let own = try #require(try await laptop1.household(alias))
            #expect(own.household.id == alias, "the alias is a household of its own again")
            #expect(own.entities.first { $0.id == member }?["health"] == corrections[0].1, "with the correction")
            let stale = try #require(try await laptop1.household(survivor))
            #expect(stale.entities.contains { $0.id == member }, "the survivor's older copy still holds the alias's member: shown under both")
            #expect(try await laptop1.status().awaitingConfirmation == 0, "the alias's aggregate settled the correction: it holds it")
            script[0].play([orders[0][1]])
            try await laptop1.sync()
            #expect(try await laptop1.household(survivor)?.entities.contains { $0.id == member } == false)

            // Order 2: the survivor without the alias, then the alias.
            script[1].play([orders[1][0]], more: true)
            await #expect(throws: (any Error).self) { try await laptop2.sync() }
            #expect(try await laptop2.household(alias) == nil, "no longer mapped, not yet delivered: not shown")
            #expect(try await laptop2.household(survivor)?.entities.contains { $0.id == member } == false)
            #expect(try await laptop2.status().awaitingConfirmation == 1, "the correction to the alias's member waits in the outbox")
            script[1].play([orders[1][1]])
            try await laptop2.sync()
            let delivered = try #require(try await laptop2.household(alias))
            #expect(delivered.household.id == alias && delivered.entities.first { $0.id == member }?["employment"] == corrections[1].1)
            #expect(try await laptop2.status().awaitingConfirmation == 0)

            // Both end as the laptop that pulled the pages in the server's order.
            for (laptop, script) in zip(laptops, script) {
                script.pullsFail = false
                try await laptop.sync()
                for id in [survivor, alias] {
                    #expect(try await laptop.household(id) == (try await witness.household(id)))
                }
            }
        }
    }

    @Test func aLinkSplitOverTwoPages_asA10ServerMay_inEitherOrder_losesNothing() async throws {
        try await LiveServer.run { server in
            let filer = try await server.enrolledClient()
            let survivor = try await filer.fileHousehold(Facts.household(61))
            try await filer.sync()
            let other = try await server.enrolledClient()
            let alias = try await other.fileHousehold(Facts.household(62))
            try await other.sync()
            let script = [PageScript(), PageScript()]
            var laptops: [FieldClient] = []
            for script in script {
                let laptop = try await server.enrolledClient(transport: { script.make($0) })
                try await laptop.sync()
                #expect(try await laptop.household(alias)?.household.id == alias)
                laptops.append(laptop)
            }
            var visits: [EntityID] = []
            for (laptop, script) in zip(laptops, script) {
                visits.append(try await laptop.recordVisit(to: alias, Facts.visit))
                script.pullsFail = true
                await #expect(throws: (any Error).self) { try await laptop.sync() }
            }
            let recorder = PageScript()
            let witness = try await server.enrolledClient(transport: { recorder.make($0) })
            try await witness.sync()
            // The alias's national ID is corrected to the survivor's: the two are linked.
            try await other.editHousehold(alias, set: ["nationalId": .string(Facts.nationalID(61))])
            try await other.sync()
            recorder.recording = true
            try await witness.sync()
            // A 1.1 server sends the survivor on the page that lists its alias in `removed`; split
            // it in two, as a 1.0 server may send them.
            let page = try #require(recorder.recorded.first { ($0["removed"]?.arrayValue ?? []).contains(.string(alias.description)) })
            let aggregates = (page["households"]?.arrayValue ?? []).filter { PageScript.householdIDs(["households": .array([$0])]) == [survivor.description] }
            #expect(aggregates.count == 1 && PageScript.aliases(of: aggregates.first) == [alias.description])
            var removal = page
            removal["households"] = .array([])
            removal["removed"] = .array([.string(alias.description)])
            var delivery = page
            delivery["households"] = .array(aggregates)
            delivery["removed"] = .array([])

            // Order 1: `removed: [X]`, then S with `aliases: [X]`.
            let (laptop1, laptop2) = (laptops[0], laptops[1])
            script[0].play([removal], more: true)
            script[0].pullsFail = true
            await #expect(throws: (any Error).self) { try await laptop1.sync() }
            #expect(try await laptop1.household(alias) == nil, "the alias's copy dropped; its visit waits")
            #expect(try await laptop1.status().awaitingConfirmation == 1)
            script[0].play([delivery])
            try await laptop1.sync()
            let merged1 = try #require(try await laptop1.household(alias))
            #expect(merged1.household.id == survivor && merged1.entities.contains { $0.id == visits[0] })

            // Order 2: S with `aliases: [X]`, then `removed: [X]`.
            script[1].play([delivery], more: true)
            script[1].pullsFail = true
            await #expect(throws: (any Error).self) { try await laptop2.sync() }
            let merged2 = try #require(try await laptop2.household(alias))
            #expect(merged2.household.id == survivor && merged2.entities.contains { $0.id == visits[1] })
            #expect(try await laptop2.status().awaitingConfirmation == 0, "the survivor's aggregate settled the visit")
            script[1].play([removal])
            try await laptop2.sync()
            #expect(try await laptop2.household(alias) == merged2, "the removal after it changes nothing: the mapping stays")

            for (laptop, script) in zip(laptops, script) {
                script.pullsFail = false
                try await laptop.sync()
                #expect(try await laptop.household(alias) == (try await witness.household(survivor)))
                #expect(try await laptop.households().count == (try await witness.households().count))
            }
        }
    }
}

/// A laptop's line to the server: passes requests through, records pull pages when asked, cuts
/// pulls, or answers pulls from a script of pages (the last one marked as the end; when the
/// script runs out, pulls fail like a dropped line until ``pullsFail`` is cleared).
final class PageScript: @unchecked Sendable {
    private let lock = NSLock()
    private var failing = false
    private var scripted: [[String: JSONValue]] = []
    private var pages: [[String: JSONValue]] = []
    private var recordingOn = false

    var pullsFail: Bool {
        get { lock.withLock { failing } }
        set { lock.withLock { failing = newValue } }
    }

    var recording: Bool {
        get { lock.withLock { recordingOn } }
        set { lock.withLock { recordingOn = newValue } }
    }

    /// The pull pages answered while recording, decoded.
    var recorded: [[String: JSONValue]] { lock.withLock { pages } }

    /// The next pulls are answered with these pages, in order; the last says `hasMore: more`.
    func play(_ pages: [[String: JSONValue]], more: Bool = false) {
        lock.withLock {
            scripted = pages.enumerated().map { index, page in
                var page = page
                page["hasMore"] = .bool(more || index < pages.count - 1)
                return page
            }
        }
    }

    /// The ids of a page's aggregates.
    static func householdIDs(_ page: [String: JSONValue]) -> [String] {
        (page["households"]?.arrayValue ?? []).compactMap { aggregate in
            guard case .object(let fields) = aggregate, case .object(let household)? = fields["household"] else { return nil }
            return household["id"]?.stringValue
        }
    }

    /// An aggregate's alias ids.
    static func aliases(of aggregate: JSONValue?) -> [String] {
        guard case .object(let fields)? = aggregate else { return [] }
        return (fields["aliases"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    func make(_ url: URL) -> any SyncTransport { Line(inner: URLSessionTransport(baseURL: url), owner: self) }

    fileprivate func answer(_ request: TransportRequest) -> Result<TransportResponse, URLError>? {
        lock.withLock {
            guard request.path.hasPrefix("/v1/pull") else { return nil }
            if !scripted.isEmpty {
                let page = scripted.removeFirst()
                guard let body = try? JSONEncoder().encode(page) else { return .failure(URLError(.cannotDecodeContentData)) }
                return .success(TransportResponse(status: 200, body: body))
            }
            return failing ? .failure(URLError(.notConnectedToInternet)) : nil
        }
    }

    fileprivate func record(_ request: TransportRequest, _ response: TransportResponse) {
        guard request.path.hasPrefix("/v1/pull"), response.status == 200,
            let page = try? JSONDecoder().decode([String: JSONValue].self, from: response.body)
        else { return }
        lock.withLock { if recordingOn { pages.append(page) } }
    }

    struct Line: SyncTransport {
        let inner: URLSessionTransport
        let owner: PageScript

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            switch owner.answer(request) {
            case .success(let response): return response
            case .failure(let error): throw error
            case nil:
                let response = try await inner.send(request)
                owner.record(request, response)
                return response
            }
        }
    }
}
