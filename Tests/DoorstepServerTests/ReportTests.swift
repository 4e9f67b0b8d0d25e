import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

private let day: Int64 = 86_400_000
/// 2020-04-04T11:33:20Z, two days into the 2020 campaign's identification stage.
private let campaignClock: Int64 = 1_586_000_000_000

/// What the report scenario leaves behind: the households by name.
private struct Scenario: Sendable {
    var ids: [String: EntityID]
    func id(_ name: String) -> EntityID { ids[name] ?? EntityID(UUID()) }
}

/// Builds a Dongsheng (150602) world through the API: three households filed before the campaign
/// starts (2020-04-02), one identified during the stage plus a duplicate of it, visits, an assistance
/// item, a conflict, a rejection, and the office's status decisions in August.
private func buildScenario(_ session: Session, _ server: TestServer) async throws -> Scenario {
    // The test clock starts on 2020-04-04; go back to 2020-03-31, before the campaign.
    server.clock.advance(-4 * day)
    let visitor = try await session.enroll(district: "150602", role: .visitor)
    let second = try await session.enroll(district: "150602", role: .visitor)
    let factory = MutationFactory(device: visitor.id, clock: server.clock)
    let secondFactory = MutationFactory(device: second.id, clock: server.clock)
    var ids: [String: EntityID] = [:]
    for (index, name) in ["H1", "H2", "H3"].enumerated() {
        let id = EntityID.random()
        ids[name] = id
        _ = try await session.pushOK(
            visitor, [factory.make(.create, .household, entity: id, fields: Sample.household(nationalID: Sample.nationalID(index + 1)))])
        let filed = try await session.call(.post, "/v1/households/\(id)/status", token: session.adminToken, json: ["to": "filed"])
        #expect(filed.status == .ok, "filing answered \(filed.status): \(filed.text)")
    }
    let h1 = ids["H1"] ?? EntityID.random(), h2 = ids["H2"] ?? EntityID.random(), h3 = ids["H3"] ?? EntityID.random()

    // 2020-04-12, inside the identification stage.
    server.clock.advance(12 * day)
    let h4 = EntityID.random(), duplicate = EntityID.random()
    ids["H4"] = h4
    ids["H4dup"] = duplicate
    var online = Sample.visit(day: 12)
    online[2] = FieldWrite(field: "mode", value: "online")
    var notEligible = Sample.visit(day: 12)
    notEligible[0] = FieldWrite(field: "visitedAt", value: "2020-04-12T11:30:00+08:00")
    notEligible[3] = FieldWrite(field: "conclusion", value: "notEligible")
    let creation = factory.make(.create, .household, entity: h4, fields: Sample.household(nationalID: Sample.nationalID(4)))
    let receipt = try await session.pushOK(
        visitor,
        [
            creation,
            factory.make(.create, .visit, entity: EntityID.random(), household: h1, fields: Sample.visit(day: 12)),
            factory.make(.create, .visit, entity: EntityID.random(), household: h2, fields: online),
            factory.make(.create, .visit, entity: EntityID.random(), household: h3, fields: Sample.visit(day: 12)),
            factory.make(.create, .visit, entity: EntityID.random(), household: h3, fields: notEligible),
            factory.make(
                .create, .member, entity: EntityID.random(), household: h1,
                fields: [
                    FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "spouse"),
                    FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "unemployed"),
                ]),
            factory.make(
                .create, .assistance, entity: EntityID.random(), household: h1,
                fields: [
                    FieldWrite(field: "category", value: "employment"), FieldWrite(field: "measure", value: "岗位推荐"),
                    FieldWrite(field: "leadDepartment", value: "humanResources"), FieldWrite(field: "dueDate", value: "2020-05-01"),
                    FieldWrite(field: "status", value: "planned"),
                ]),
            // A visitor may not change a status: rejected, logged for review.
            factory.make(.update, .household, entity: h2, fields: [FieldWrite(field: "status", value: "closed", base: [])]),
        ])
    #expect(receipt.results.last?.outcome == .rejected)
    // The same person filed twice, by the second laptop, a second later: a duplicate link, H4 survives.
    server.clock.advance(1000)
    _ = try await session.pushOK(
        second, [secondFactory.make(.create, .household, entity: duplicate, fields: Sample.household(nationalID: Sample.nationalID(4)))])
    // Both laptops change H4's address from the same base: a conflict waiting for review.
    let base = [creation.writeID]
    _ = try await session.pushOK(
        visitor, [factory.make(.update, .household, entity: h4, fields: [FieldWrite(field: "address", value: "东胜区 林荫路 3 号", base: base)])])
    _ = try await session.pushOK(
        second, [secondFactory.make(.update, .household, entity: h4, fields: [FieldWrite(field: "address", value: "东胜区 林荫路 5 号", base: base)])])

    // August: the office's exit decisions.
    server.clock.advance(120 * day)
    for (id, to) in [(h1, "outOfHardship"), (h2, "safetyNet")] {
        let decided = try await session.call(.post, "/v1/households/\(id)/status", token: session.adminToken, json: ["to": to])
        #expect(decided.status == .ok, "decision answered \(decided.status): \(decided.text)")
    }
    return Scenario(ids: ids)
}

@Suite struct ReportTests {
    @Test func cityReport_hasEveryFigureOfTheScenario() async throws {
        let server = TestServer(clock: campaignClock)
        try await server.test { session in
            let scenario = try await buildScenario(session, server)
            let response = try await session.call(.get, "/v1/reports?today=2020-08-20", token: session.adminToken)
            #expect(response.status == .ok, "report answered \(response.status): \(response.text)")
            let report = try response.json(CampaignReport.self)
            #expect(report.campaign.id == "2020")
            #expect(report.stage?.stage == .exit)
            #expect(report.stage?.daysLeft == 41)
            #expect(report.districts.count == CityData.ordos.districts.count)
            let section = try #require(report.section("150602"))
            #expect(section.households == 4)
            let now = section.filesByStatus.now
            #expect([now.candidate, now.filed, now.outOfHardship, now.safetyNet, now.closed] as [Int] == [1, 1, 1, 1, 0])
            #expect(section.filesByStatus.atStart.filed == 3)
            #expect(section.filesByStatus.atStart.total == 3)
            #expect(section.filesByStatus.createdSinceStart == 1)
            // Due: H1–H4; at home in the stage: H1 and H3 (H2 was verified online only).
            #expect(section.visitCoverage.rate == CampaignReport.Ratio(2, over: 4))
            #expect(Set(section.visitCoverage.missed.map(\.household)) == [scenario.id("H2"), scenario.id("H4")])
            #expect(section.visitCoverage.missed.allSatisfy { $0.nationalId.contains("********") && $0.headName?.isEmpty == false })
            #expect(section.exitRate == CampaignReport.Ratio(1, over: 3))
            #expect(section.resolvedRate == CampaignReport.Ratio(2, over: 3))
            #expect(section.resolvedRate.perMille == 667)
            #expect(section.assistance.open == 1)
            #expect(section.assistance.overdue == 1)
            #expect(section.assistance.done == 0)
            #expect(section.causes["illness"] == 4)
            #expect(section.wrongHouseholds.map(\.household) == [scenario.id("H3")])
            #expect(section.wrong == 1)
            #expect(section.twice == 1)
            #expect(section.review == ReviewCounts(conflicts: 1, duplicates: 1, rejections: 1))
            // H1: 120000 fen over two people is below 81000; the others live alone on 120000.
            #expect(section.belowMinimumLiving == 1)
            #expect(section.devices.count == 2)
            #expect(section.devices.allSatisfy { $0.lastSyncAt != nil && !$0.clockFlagged })
            #expect(report.total.households == 4)
            #expect(report.total.exitRate == section.exitRate)
            #expect(try #require(report.section("150603")).households == 0)

            // As of a day in the stage, the stage is identification; the figures are today's data.
            let earlier = try await session.call(.get, "/v1/reports?today=2020-05-01&district=150602", token: session.adminToken)
            let asOf = try earlier.json(CampaignReport.self)
            #expect(asOf.stage?.stage == .identification)
            #expect(asOf.stage?.daysLeft == 30)
            #expect(asOf.districts.map(\.district) == ["150602"])
            #expect(asOf.section("150602")?.assistance.overdue == 0)
        }
    }

    @Test func office_seesItsOwnDistrictOnly() async throws {
        let server = TestServer(clock: campaignClock)
        try await server.test { session in
            _ = try await buildScenario(session, server)
            let office = try await session.enroll(district: "150602", role: .office)
            let own = try await session.call(.get, "/v1/reports?today=2020-08-20", token: office.token)
            #expect(own.status == .ok, "report answered \(own.status): \(own.text)")
            let report = try own.json(CampaignReport.self)
            #expect(report.districts.map(\.district) == ["150602"])
            #expect(report.total.households == 4)
            #expect(report.total.devices.count == 3)
            let named = try await session.call(.get, "/v1/reports?district=150602", token: office.token)
            #expect(named.status == .ok)

            let other = try await session.call(.get, "/v1/reports?district=150603", token: office.token)
            #expect(other.status == .forbidden)
            #expect(other.errorCode == "outOfScope")
            let kangbashi = try await session.enroll(district: "150603", role: .office)
            let theirs = try await session.call(.get, "/v1/reports?district=150602", token: kangbashi.token)
            #expect(theirs.status == .forbidden)
            #expect(theirs.errorCode == "outOfScope")
            let empty = try await session.call(.get, "/v1/reports", token: kangbashi.token).json(CampaignReport.self)
            #expect(empty.total.households == 0)
        }
    }

    @Test func visitor_isRefused_andBadParametersAreClearErrors() async throws {
        let server = TestServer(clock: campaignClock)
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let refused = try await session.call(.get, "/v1/reports", token: visitor.token)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "forbiddenForRole")
            let anonymous = try await session.call(.get, "/v1/reports", token: nil)
            #expect(anonymous.status == .unauthorized)

            let campaign = try await session.call(.get, "/v1/reports?campaign=1999", token: session.adminToken)
            #expect(campaign.status == .notFound)
            let today = try await session.call(.get, "/v1/reports?today=2020-13-01", token: session.adminToken)
            #expect(today.errorCode == "invalidValue")
            let district = try await session.call(.get, "/v1/reports?district=999999", token: session.adminToken)
            #expect(district.errorCode == "unknownDistrict")
        }
    }

    @Test func today_defaultsToTheServerClocksDateInTheCitysTimeZone() async throws {
        let server = TestServer(clock: campaignClock)
        try await server.test { session in
            // 2020-04-04T11:33:20Z is 19:33 in Asia/Shanghai; move to 17:00Z, which is already the 5th there.
            server.clock.advance((17 * 3600 - (11 * 3600 + 33 * 60 + 20)) * 1000)
            let report = try await session.call(.get, "/v1/reports", token: session.adminToken).json(CampaignReport.self)
            #expect(report.today == (try LocalDate("2020-04-05")))
            #expect(report.campaign.id == "2020")
            #expect(report.stage?.stage == .identification)
        }
    }
}
