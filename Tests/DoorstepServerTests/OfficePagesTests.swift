import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// The office's pages when a district holds many households: the households list a page at a
/// time, the overview's lists cut with a note, the campaign's weeks as a chart and a CSV, and
/// the report's `lists` (protocol 1.6).
@Suite struct OfficePagesTests {
    init() { DashboardSettings.passwordCost = 4 }

    /// `count` candidates in Dongsheng (150602), the first seven visited at home on 5 to 11 April
    /// 2020 (the 2020 campaign's identification stage), pushed by one visitor in batches of 100.
    static func seed(_ session: Session, _ server: TestServer, count: Int) async throws -> [EntityID] {
        let visitor = try await session.enroll(district: "150602", role: .visitor)
        let factory = MutationFactory(device: visitor.id, clock: server.clock)
        var ids: [EntityID] = []
        var batch: [Mutation] = []
        for n in 0..<count {
            let id = EntityID.random()
            ids.append(id)
            batch.append(factory.make(.create, .household, entity: id, fields: Sample.household(nationalID: Sample.nationalID(n))))
            if n < 7 { batch.append(factory.make(.create, .visit, entity: EntityID.random(), household: id, fields: Sample.visit(day: 5 + n))) }
            if batch.count >= 100 {
                _ = try await session.pushOK(visitor, batch)
                batch = []
            }
        }
        if !batch.isEmpty { _ = try await session.pushOK(visitor, batch) }
        return ids
    }

    static func signedIn(_ session: Session) async throws -> Browser {
        let created = try await session.call(
            .post, "/v1/admin/users", token: session.adminToken,
            json: ["name": "city", "password": DashboardTests.password, "role": "city"] as [String: String])
        #expect(created.status == .created, "\(created.text)")
        let browser = Browser(session)
        #expect(try await browser.signIn("city", DashboardTests.password).status == .seeOther)
        return browser
    }

    /// The households a list page links to, in order.
    static func listed(_ html: String) -> [String] {
        html.components(separatedBy: "href=\"/dashboard/households/").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    @Test func theHouseholdsList_comesAPageAtATime_andAnyPageNumberAsTyped() async throws {
        try await TestServer().test { session in
            let server = session.server
            let ids = try await Self.seed(session, server, count: 120)
            let browser = try await Self.signedIn(session)
            let first = try await browser.get("/dashboard/households")
            #expect(first.status == .ok)
            #expect(Self.listed(first.text).count == 50)
            #expect(Browser.figure("pageOf", in: first.text) == "第 1 / 3 页，共 120 户")
            #expect(first.text.contains("rel=\"next\"") && !first.text.contains("rel=\"prev\""))

            let last = try await browser.get("/dashboard/households?page=3")
            #expect(Self.listed(last.text).count == 20 && last.text.contains("rel=\"prev\"") && !last.text.contains("rel=\"next\""))
            // Every household once across the pages, in the list's order (same name: by id).
            let second = try await browser.get("/dashboard/households?page=2")
            let all = Self.listed(first.text) + Self.listed(second.text) + Self.listed(last.text)
            #expect(all == ids.map(\.description).sorted())
            // A page number typed in full-width digits; past the end; not a number.
            #expect(Self.listed(try await browser.get("/dashboard/households?page=%EF%BC%93").text) == Self.listed(last.text))
            #expect(Browser.figure("pageOf", in: try await browser.get("/dashboard/households?page=99").text) == "第 3 / 3 页，共 120 户")
            #expect(Browser.figure("pageOf", in: try await browser.get("/dashboard/households?page=abc").text) == "第 1 / 3 页，共 120 户")
            for huge in ["9223372036854775807", "184467440737095516", "-5", "99999999999999999999"] {
                let page = try await browser.get("/dashboard/households?page=\(huge)")
                #expect(page.status == .ok && Browser.figure("pageOf", in: page.text) != nil, "page=\(huge)")
            }

            // A search by the last digits of a national ID finds the one household, on one page.
            let suffix = String(Sample.nationalID(5).suffix(5))
            let found = try await browser.get("/dashboard/households?q=\(suffix)")
            #expect(Self.listed(found.text) == [ids[5].description])
            #expect(Browser.figure("pageOf", in: found.text) == "第 1 / 1 页，共 1 户")
            // The export has every household, not a page.
            let csv = try await browser.get("/dashboard/export/households")
            #expect(csv.status == .ok && csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 121)
        }
    }

    @Test func theOverview_cutsLongLists_andDrawsTheCampaignWeekByWeek() async throws {
        try await TestServer().test { session in
            let server = session.server
            _ = try await Self.seed(session, server, count: 60)
            let browser = try await Self.signedIn(session)
            let overview = try await browser.get("/dashboard")
            #expect(overview.status == .ok)
            #expect(Browser.figure("missed", in: overview.text) == "53")
            // The missed table shows the first 50 and says how many there are; the export has all.
            let missedTable = try #require(Browser.between(overview.text, "id=\"table-missed\"", "</section>"))
            #expect(missedTable.components(separatedBy: "href=\"/dashboard/households/").count - 1 == 50)
            #expect(missedTable.contains("显示前 50 户，共 53 户"))
            let missed = try await browser.get("/dashboard/export/missed")
            #expect(missed.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 54)

            // The weeks: an SVG without a script, the stage windows, a bar group per week of the campaign.
            let chart = try #require(Browser.between(overview.text, "data-chart=\"weeks\"", "</svg>"))
            #expect(chart.contains("data-week=\"2020-03-30\"") && chart.contains("data-week=\"2020-09-28\""))
            #expect(chart.contains("摸底") || chart.contains("识别"))
            #expect(!overview.text.contains("<script"))
            let weeks = try await browser.get("/dashboard/export/weeks")
            #expect(weeks.status == .ok)
            // 5 April (a Sunday) is in the week of 30 March; 6 to 11 April in the next.
            #expect(weeks.text.contains("2020-03-30,1,0,0") && weeks.text.contains("2020-04-06,6,0,0"), "\(weeks.text.prefix(300))")
        }
    }

    @Test func theReport_cutsItsListsWhenAsked_andRefusesALimitThatIsNotANumber() async throws {
        try await TestServer().test { session in
            let server = session.server
            _ = try await Self.seed(session, server, count: 12)
            let whole = try await session.call(.get, "/v1/reports", token: session.adminToken).json(CampaignReport.self)
            #expect(whole.total.visitCoverage.missed.count == 5 && whole.total.visitCoverage.missedCount == 5)
            #expect(whole.total.weeks?.first?.week.description == "2020-03-30" && whole.total.weeks?.first?.visits == 1)
            #expect((whole.total.weeks ?? []).reduce(0) { $0 + $1.visits } == 7)
            let cut = try await session.call(.get, "/v1/reports?lists=2", token: session.adminToken).json(CampaignReport.self)
            #expect(cut.total.visitCoverage.missed == Array(whole.total.visitCoverage.missed.prefix(2)))
            #expect(cut.total.visitCoverage.rate == whole.total.visitCoverage.rate && cut.total.weeks == whole.total.weeks)
            for bad in ["-1", "two", "1.5"] {
                let refused = try await session.call(.get, "/v1/reports?lists=\(bad)", token: session.adminToken)
                #expect(refused.status == .unprocessableContent && refused.text.contains("invalidValue"), "lists=\(bad): \(refused.text)")
            }
        }
    }
}
