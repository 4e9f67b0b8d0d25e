import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// The visitor's worklist (issue 18): which households need the visitor and why, read from the
/// laptop alone, from facts kept beside each household; they always equal the facts recomputed
/// from the household's entries, whatever wrote them (a pull, a local write, a sync).
struct WorklistTests {
    /// 2020's campaign (the city data's): the measures stage runs from 2020-06-01.
    static func today() throws -> LocalDate { try LocalDate(year: 2020, month: 6, day: 15) }

    static func visit(_ day: Int, month: Int = 6, mode: String = "atHome", conclusion: String = "eligible") -> [String: JSONValue] {
        [
            "visitedAt": .string("2020-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)T10:30:00+08:00"), "visitor": "走访员甲",
            "mode": .string(mode), "conclusion": .string(conclusion),
        ]
    }

    static func item(due: String, status: String = "planned") -> [String: JSONValue] {
        ["category": "employment", "measure": "推荐就业", "leadDepartment": "humanResources", "dueDate": .string(due), "status": .string(status)]
    }

    @Test func eachReason_asOfADay_withItsCount_andASearchOverEveryHousehold() async throws {
        try await LiveServer.run { server in
            let laptop = try await server.enrolledClient()
            let colleague = try await server.enrolledClient()
            let today = try Self.today()
            let unvisited = try await laptop.fileHousehold(Facts.household(101))
            let visitedBeforeTheStage = try await laptop.fileHousehold(Facts.household(102))
            try await laptop.recordVisit(to: visitedBeforeTheStage, Self.visit(10, month: 5))
            let verified = try await laptop.fileHousehold(Facts.household(103))
            try await laptop.recordVisit(to: verified, Self.visit(5))
            let followUp = try await laptop.fileHousehold(Facts.household(104))
            try await laptop.recordVisit(to: followUp, Self.visit(6, conclusion: "needsFollowUp"))
            let byPhone = try await laptop.fileHousehold(Facts.household(105))
            try await laptop.recordVisit(to: byPhone, Self.visit(7, mode: "online"))
            let dueSoon = try await laptop.fileHousehold(Facts.household(106))
            try await laptop.recordVisit(to: dueSoon, Self.visit(8))
            try await laptop.addEntry(.assistance, to: dueSoon, Self.item(due: "2020-06-20"))
            try await laptop.addEntry(.assistance, to: dueSoon, Self.item(due: "2020-06-01", status: "done"))
            let overdue = try await laptop.fileHousehold(Facts.household(107))
            try await laptop.recordVisit(to: overdue, Self.visit(9))
            let overdueItem = try await laptop.addEntry(.assistance, to: overdue, Self.item(due: "2020-05-01", status: "inProgress"))
            let later = try await laptop.fileHousehold(Facts.household(108))
            try await laptop.recordVisit(to: later, Self.visit(9))
            try await laptop.addEntry(.assistance, to: later, Self.item(due: "2020-07-30"))

            let list = try await laptop.worklist(today: today)
            func reasons(_ id: EntityID) -> [WorkReason]? { list.items.first { $0.household.id == id }?.reasons }
            #expect(reasons(unvisited) == [.notVerified])
            #expect(reasons(visitedBeforeTheStage) == [.notVerified], "a home visit before the stage does not count")
            #expect(reasons(verified) == nil && reasons(later) == nil)
            #expect(reasons(followUp) == [.followUp])
            #expect(reasons(byPhone) == [.notVerified], "a visit online is no home visit")
            #expect(reasons(dueSoon) == [.assistanceDue] && reasons(overdue) == [.assistanceDue])
            #expect(list.items.first { $0.household.id == dueSoon }?.nextDue == (try LocalDate("2020-06-20")), "the done item does not count")
            #expect(list.counts == [.notVerified: 3, .followUp: 1, .assistanceDue: 2, .attention: 0])
            #expect(list.matching == 6)
            #expect(list.items.first?.reasons == [.assistanceDue] && list.items.first?.household.id == overdue, "the most pressing first")

            // The item is done: off the list. A conflict with a colleague: on it.
            try await laptop.editEntry(overdueItem, in: overdue, set: ["status": "done"])
            try await laptop.sync()
            try await colleague.sync()
            try await colleague.editHousehold(verified, set: ["address": "东胜区 北园街 1 号"])
            try await laptop.editHousehold(verified, set: ["address": "东胜区 南园街 2 号"])
            try await colleague.sync()
            try await laptop.sync()
            let after = try await laptop.worklist(today: today)
            #expect(after.items.first { $0.household.id == overdue } == nil)
            #expect(after.items.first?.household.id == verified && after.items.first?.reasons == [.attention])
            #expect(after.counts[.attention] == 1 && after.counts[.assistanceDue] == 1)

            let digits = String(Facts.nationalID(103).suffix(4))
            let search = try await laptop.worklist(WorklistQuery(text: digits, needsVisitorOnly: false), today: today)
            #expect(search.items.map(\.household.id) == [verified])
            let byReason = try await laptop.worklist(WorklistQuery(reason: .followUp), today: today)
            #expect(byReason.items.map(\.household.id) == [followUp] && byReason.matching == 1)
            let paged = try await laptop.worklist(WorklistQuery(limit: 2, offset: 2), today: today)
            #expect(paged.items.count == 2 && paged.matching == after.matching)
        }
    }

    /// A campaign the city stores at the server reaches the laptop at its next sync (protocol
    /// 1.2, `GET /v1/campaigns`): the worklist counts home visits of its stage under way. From a
    /// server without the route (before 1.2) the sync still succeeds and the laptop keeps its list.
    @Test func aCampaignStoredAtTheServer_setsTheStage_afterTheNextSync_andAnOlderServerChangesNothing() async throws {
        try await LiveServer.run { server in
            let older = OlderServerLine()
            let laptop = try await server.enrolledClient(transport: { older.make($0) })
            let household = try await laptop.fileHousehold(Facts.household(150))
            try await laptop.recordVisit(to: household, Self.visit(10, month: 4).merging(["visitedAt": "2021-04-10T10:30:00+08:00"]) { $1 })
            let today = try LocalDate(year: 2021, month: 5, day: 20)
            #expect(try await laptop.worklist(today: today).items.isEmpty, "by the city data alone, 2020's campaign: the visit counts")
            let stages = [
                CampaignStage(
                    stage: .identification, name: LocalizedName(zh: "精准识别", en: "identification"), start: try LocalDate("2021-03-01"),
                    end: try LocalDate("2021-04-30")),
                CampaignStage(
                    stage: .measures, name: LocalizedName(zh: "精准施策", en: "measures"), start: try LocalDate("2021-05-01"), end: try LocalDate("2021-06-30")),
            ]
            _ = try await server.admin.saveCampaign(Campaign(id: "2021", name: LocalizedName(zh: "2021年解困脱困", en: "2021 relief"), stages: stages))
            older.campaignsMissing = true
            try await laptop.sync()
            #expect(try await laptop.worklist(today: today).items.isEmpty, "an older server: the laptop keeps what it knew")
            older.campaignsMissing = false
            try await laptop.sync()
            let list = try await laptop.worklist(today: today)
            #expect(list.items.map(\.household.id) == [household] && list.items.first?.reasons == [.notVerified], "the visit was before the measures stage")
            #expect(list.stageStart == "2021-04-30T16:00:00Z", "00:00 of 2021-05-01 in Ordos")
        }
    }

    /// The facts kept beside each household equal the facts recomputed from its entries, after
    /// a seeded mix of local writes and syncs on two laptops.
    @Test func keptFacts_equalRecomputedFacts_afterAnyMixOfWritesAndSyncs() async throws {
        try await LiveServer.run { server in
            let a = try await server.enrolledClient()
            let b = try await server.enrolledClient()
            var random = SeededGenerator(seed: 18)
            var households: [EntityID] = []
            for n in 0..<6 { households.append(try await a.fileHousehold(Facts.household(200 + n))) }
            try await a.sync()
            try await b.sync()
            let today = try Self.today()
            for step in 0..<60 {
                let laptop = Bool.random(using: &random) ? a : b
                let household = households[Int.random(in: 0..<households.count, using: &random)]
                switch Int.random(in: 0..<6, using: &random) {
                case 0:
                    let conclusion = ["eligible", "needsFollowUp", "notEligible"][Int.random(in: 0..<3, using: &random)]
                    let mode = ["atHome", "online"][Int.random(in: 0..<2, using: &random)]
                    try await laptop.recordVisit(to: household, Self.visit(1 + step % 28, month: 5 + step % 2, mode: mode, conclusion: conclusion))
                case 1:
                    let due = "2020-06-\(10 + Int.random(in: 0..<20, using: &random))"
                    try await laptop.addEntry(.assistance, to: household, Self.item(due: due))
                case 2:
                    if let item = try await laptop.household(household)?.entities.first(where: { $0.kind == .assistance && $0.isVisible }) {
                        try await laptop.editEntry(item.id, in: household, set: ["status": Bool.random(using: &random) ? "done" : "inProgress"])
                    }
                case 3:
                    if let item = try await laptop.household(household)?.entities.first(where: { $0.kind == .assistance && $0.isVisible }) {
                        try await laptop.removeEntry(item.id, in: household)
                    }
                case 4:
                    // A visit corrected after the fact (the library allows it; the field app does not offer it).
                    if let visit = try await laptop.household(household)?.entities.first(where: { $0.kind == .visit && $0.isVisible }) {
                        let conclusion = ["eligible", "needsFollowUp"][Int.random(in: 0..<2, using: &random)]
                        try await laptop.editEntry(visit.id, in: household, set: ["conclusion": .string(conclusion), "mode": "online"])
                    }
                default:
                    try await laptop.sync()
                }
                for laptop in [a, b] {
                    let list = try await laptop.worklist(WorklistQuery(needsVisitorOnly: false, limit: 1000), today: today)
                    let stageStart = WorkReason.stageStart(city: .ordos, today: today)
                    for item in list.items {
                        let view = try #require(try await laptop.household(item.household.id))
                        let facts = HouseholdWorkFacts(view)
                        let expected = facts.reasons(today: today, stageStart: stageStart, status: item.household.status, waiting: false)
                        #expect(item.nextDue == facts.nextDue && item.lastHomeVisitAt == facts.lastHomeVisitAt, "step \(step)")
                        #expect(item.reasons.filter { $0 != .attention }.sorted { $0.rawValue < $1.rawValue } == expected.sorted { $0.rawValue < $1.rawValue })
                    }
                }
            }
        }
    }
}

/// A line to a server without `GET /v1/campaigns` (before protocol 1.2) while `campaignsMissing`.
final class OlderServerLine: @unchecked Sendable {
    private let lock = NSLock()
    private var missing = false

    var campaignsMissing: Bool {
        get { lock.withLock { missing } }
        set { lock.withLock { missing = newValue } }
    }

    func make(_ url: URL) -> any SyncTransport { Line(inner: URLSessionTransport(baseURL: url), owner: self) }

    struct Line: SyncTransport {
        let inner: URLSessionTransport
        let owner: OlderServerLine

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            if owner.campaignsMissing, request.path.hasPrefix("/v1/campaigns") {
                return TransportResponse(status: 404, body: Data(#"{"error":{"code":"notFound","message":"no route GET /v1/campaigns"}}"#.utf8))
            }
            return try await inner.send(request)
        }
    }
}
