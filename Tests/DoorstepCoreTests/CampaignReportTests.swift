import Foundation
import Testing

@testable import DoorstepCore

/// Builds hand-made household aggregates and status histories for report tests.
private final class ReportWorld {
    private var tick: Int64 = 0
    let writer = device("report-test")
    var households: [HouseholdAggregate] = []
    var history: [StatusChange] = []

    static func millis(_ text: String) -> Int64 {
        Int64((Instant.parse(text)?.timeIntervalSince1970 ?? 0) * 1000)
    }

    func write(at text: String = "2020-03-01T09:00:00+08:00") -> WriteID {
        tick += 1
        return WriteID(hlc: HLC(wallMillis: Self.millis(text), logical: UInt16(tick)), device: writer)
    }

    func state(_ kind: EntityKind, household: EntityID, fields: [String: JSONValue], created: String = "2020-03-01T09:00:00+08:00") -> EntityState {
        let id = kind == .household ? household : EntityID.random()
        let write = write(at: created)
        var state = EntityState(kind: kind, id: id, household: household, created: write)
        for (name, value) in fields { state.fields[name, default: Register()].apply(write, value: value, base: []) }
        return state
    }

    /// A household whose status history is `changes` (instant, status), the first being its creation.
    @discardableResult
    func household(
        _ n: Int, district: String = "150602", level: String = "national", cause: String = "illness", income: Int64 = 500_000,
        status: String, changes: [(String, HouseholdStatus)], created: String? = nil, aliases: Int = 0
    ) -> EntityID {
        let id = EntityID.random()
        let fields: [String: JSONValue] = [
            "headName": "王某某", "nationalId": .string(Fixtures.nationalID(n, region: district)), "district": .string(district),
            "fileLevel": .string(level), "primaryCause": .string(cause), "monthlyIncomeFen": .int(income), "status": .string(status),
        ]
        let household = state(.household, household: id, fields: fields, created: created ?? changes.first?.0 ?? "2020-03-01T09:00:00+08:00")
        var previous: HouseholdStatus?
        for (at, to) in changes {
            history.append(StatusChange(household: id, at: at, from: previous, to: to))
            previous = to
        }
        households.append(HouseholdAggregate(household: household, aliases: (0..<aliases).map { _ in EntityID.random() }))
        return id
    }

    func add(_ kind: EntityKind, to household: EntityID, _ fields: [String: JSONValue], deleted: Bool = false) {
        guard let index = households.firstIndex(where: { $0.household.id == household }) else { return }
        var child = state(kind, household: household, fields: fields)
        if deleted {
            child.fields[deletedFieldName, default: Register()].apply(
                write(at: "2020-06-01T09:00:00+08:00"), value: true, base: [], covers: child.allFieldHeads)
        }
        households[index].entities.append(child)
    }

    func visit(_ household: EntityID, at: String, mode: String = "atHome", conclusion: String = "eligible") {
        add(.visit, to: household, ["visitedAt": .string(at), "visitor": "走访员甲", "mode": .string(mode), "conclusion": .string(conclusion)])
    }

    func assistance(_ household: EntityID, status: String, due: String, deleted: Bool = false) {
        add(
            .assistance, to: household,
            [
                "category": "employment", "measure": "岗位推荐", "leadDepartment": "humanResources",
                "dueDate": .string(due), "status": .string(status),
            ], deleted: deleted)
    }

    func member(_ household: EntityID, deleted: Bool = false) {
        add(.member, to: household, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"], deleted: deleted)
    }

    var devices: [ReportDevice] {
        [
            ReportDevice(id: device("laptop-a"), name: "A", district: "150602", lastSyncAt: "2020-08-19T10:00:00Z", clockFlagged: false),
            ReportDevice(id: device("laptop-b"), name: "B", district: "150602", lastSyncAt: nil, clockFlagged: true),
            ReportDevice(id: device("laptop-c"), name: "C", district: "150603", lastSyncAt: "2020-08-18T10:00:00Z", clockFlagged: false),
            ReportDevice(id: device("city-cli"), name: "city", district: nil, lastSyncAt: nil, clockFlagged: false),
        ]
    }

    let review: [String: ReviewCounts] = [
        "150602": ReviewCounts(conflicts: 2, duplicates: 1, rejections: 3),
        "150603": ReviewCounts(rejections: 1),
    ]

    func report(today: String = "2020-08-20", districts: [String]? = nil) throws -> CampaignReport {
        let campaign = try #require(CityData.ordos.campaign("2020"))
        return CampaignReport.make(
            city: .ordos, campaign: campaign, today: date(today), districts: districts,
            households: households, statusHistory: history, devices: devices, pendingReview: review)
    }
}

/// The world every test below reads: eight households in Dongsheng (150602), one in Kangbashi (150603).
/// The campaign starts 2020-04-02 (Asia/Shanghai); identification runs to 2020-05-31.
private func makeWorld() -> (ReportWorld, [String: EntityID]) {
    let w = ReportWorld()
    var ids: [String: EntityID] = [:]
    // H1: filed before the start, out of hardship now; visited at home in the stage.
    ids["H1"] = w.household(
        1, income: 300_000, status: "outOfHardship",
        changes: [("2020-03-01T09:00:00+08:00", .candidate), ("2020-03-10T09:00:00+08:00", .filed), ("2020-08-15T09:00:00+08:00", .outOfHardship)])
    // H2: filed before the start, safety net now; an online visit in the stage and an at-home one the day after it ends (local time).
    ids["H2"] = w.household(
        2, cause: "disability", income: 100_000, status: "safetyNet",
        changes: [("2020-03-01T09:00:00+08:00", .filed), ("2020-08-16T09:00:00+08:00", .safetyNet)])
    // H3: filed, at-home visit in the last local hour of the stage, latest visit says not eligible: wrong; one duplicate link.
    ids["H3"] = w.household(3, income: 0, status: "filed", changes: [("2020-03-01T09:00:00+08:00", .filed)], aliases: 1)
    // H4: created during the stage as candidate, regional level, never visited: missed.
    ids["H4"] = w.household(
        4, level: "regional", cause: "unemployment", income: 200_000, status: "candidate",
        changes: [("2020-05-01T09:00:00+08:00", .candidate)])
    // H5: closed before the start and still closed: outside coverage, causes and the income count.
    ids["H5"] = w.household(
        5, income: 0, status: "closed",
        changes: [("2020-01-01T09:00:00+08:00", .candidate), ("2020-02-01T09:00:00+08:00", .closed)])
    // H6: candidate at the start (not on record), filed during the stage; at-home visit in the stage's first local minute.
    ids["H6"] = w.household(
        6, cause: "lowIncome", income: 162_000, status: "filed",
        changes: [("2020-03-20T09:00:00+08:00", .candidate), ("2020-04-20T09:00:00+08:00", .filed)])
    // H7: created after the stage.
    ids["H7"] = w.household(7, cause: "epidemic", income: 80_999, status: "candidate", changes: [("2020-07-01T09:00:00+08:00", .candidate)])
    // H8: no recorded history: filed since its creation stamp (before the start); never visited.
    ids["H8"] = w.household(8, status: "filed", changes: [], created: "2020-03-01T09:00:00+08:00")
    // H9 in Kangbashi: filed before the start, out of hardship now, visited.
    ids["H9"] = w.household(
        9, district: "150603", cause: "disaster", income: 1_000_000, status: "outOfHardship",
        changes: [("2020-03-01T09:00:00+08:00", .filed), ("2020-08-10T09:00:00+08:00", .outOfHardship)])
    let id = { (name: String) in ids[name] ?? EntityID.random() }

    w.visit(id("H1"), at: "2020-04-12T10:30:00+08:00")
    w.member(id("H1"))
    w.member(id("H1"), deleted: true)
    w.assistance(id("H1"), status: "done", due: "2020-06-30")
    w.assistance(id("H1"), status: "planned", due: "2020-06-30")
    w.assistance(id("H1"), status: "planned", due: "2020-06-01", deleted: true)

    w.visit(id("H2"), at: "2020-04-15T10:30:00+08:00", mode: "online")
    w.visit(id("H2"), at: "2020-06-01T00:30:00+08:00", conclusion: "notEligible")
    w.member(id("H2"))
    w.assistance(id("H2"), status: "inProgress", due: "2020-08-20")
    w.assistance(id("H2"), status: "cancelled", due: "2020-06-01")

    w.visit(id("H3"), at: "2020-04-01T10:00:00+08:00")
    w.visit(id("H3"), at: "2020-05-31T23:30:00+08:00")
    w.visit(id("H3"), at: "2020-07-01T10:00:00+08:00", conclusion: "notEligible")
    w.assistance(id("H3"), status: "done", due: "2020-07-31")

    w.visit(id("H6"), at: "2020-04-02T00:10:00+08:00", conclusion: "notEligible")
    w.visit(id("H6"), at: "2020-04-25T10:00:00+08:00", mode: "online")
    w.member(id("H6"))

    w.visit(id("H9"), at: "2020-04-10T10:00:00+08:00")
    return (w, ids)
}

@Suite struct CampaignReportTests {
    @Test func filesByStatus_nowAndAtTheCampaignStart() throws {
        let (world, _) = makeWorld()
        let section = try #require(try world.report().section("150602"))
        #expect(section.households == 8)
        let now = section.filesByStatus.now
        #expect([now.candidate, now.filed, now.outOfHardship, now.safetyNet, now.closed] as [Int] == [2, 3, 1, 1, 1])
        let start = section.filesByStatus.atStart
        #expect([start.candidate, start.filed, start.outOfHardship, start.safetyNet, start.closed] as [Int] == [1, 4, 0, 0, 1])
        #expect(section.filesByStatus.createdSinceStart == 2)
    }

    @Test func visitCoverage_countsAtHomeVisitsInsideTheStageInTheDistrictsTimeZone() throws {
        let (world, ids) = makeWorld()
        let section = try #require(try world.report().section("150602"))
        // Due: H1, H2, H3, H4, H6, H8 (H5 closed throughout, H7 created later). Visited: H1, H3, H6.
        #expect(section.visitCoverage.rate == CampaignReport.Ratio(3, over: 6))
        #expect(section.visitCoverage.rate.perMille == 500)
        let missed = section.visitCoverage.missed
        #expect(Set(missed.map(\.household)) == Set(["H2", "H4", "H8"].compactMap { ids[$0] }))
        let h4 = try #require(missed.first { $0.household == ids["H4"] })
        #expect(h4.nationalId == (try NationalID(Fixtures.nationalID(4))).masked)
        #expect(h4.nationalId.contains("********"))
        #expect(h4.status == .candidate)
    }

    @Test func exitAndResolvedRates_overNationalFilesOnRecordAtTheStart() throws {
        let (world, _) = makeWorld()
        let report = try world.report()
        let dongsheng = try #require(report.section("150602"))
        // On record at the start: H1, H2, H3, H8 (H6 was a candidate, H4 regional and later).
        #expect(dongsheng.exitRate == CampaignReport.Ratio(1, over: 4))
        #expect(dongsheng.exitRate.perMille == 250)
        #expect(dongsheng.resolvedRate == CampaignReport.Ratio(2, over: 4))
        #expect(report.total.exitRate == CampaignReport.Ratio(2, over: 5))
        #expect(report.total.resolvedRate.perMille == 600)
    }

    @Test func assistance_doneOpenOverdue_deletedItemsNeverCount() throws {
        let (world, _) = makeWorld()
        let assistance = try #require(try world.report().section("150602")).assistance
        #expect(assistance.done == 2)
        #expect(assistance.open == 2)
        #expect(assistance.overdue == 1)
        #expect(assistance.cancelled == 1)
        // As of an earlier day, the item due 2020-06-30 is not overdue yet.
        #expect(try #require(try world.report(today: "2020-06-30").section("150602")).assistance.overdue == 0)
    }

    @Test func causesAndIncome_ofHouseholdsNotClosed() throws {
        let (world, _) = makeWorld()
        let section = try #require(try world.report().section("150602"))
        #expect(section.causes["illness"] == 3)
        #expect(section.causes["disability"] == 1)
        #expect(section.causes["unemployment"] == 1)
        #expect(section.causes["lowIncome"] == 1)
        #expect(section.causes["epidemic"] == 1)
        #expect(section.causes["disaster"] == 0)
        #expect(section.causes.count == HardshipCause.allCases.count)
        // Below 81000 fen per person: H2 (100000 over 2), H3 (0), H7 (80999 alone); H6 is exactly at it (162000 over 2).
        #expect(section.belowMinimumLiving == 3)
        #expect(section.minimumLivingStandardFen == 81_000)
    }

    @Test func wrongAndTwice() throws {
        let (world, ids) = makeWorld()
        let section = try #require(try world.report().section("150602"))
        #expect(section.wrong == 1)
        #expect(section.wrongHouseholds.map(\.household) == [ids["H3"]].compactMap { $0 })
        #expect(section.twice == 1)
    }

    @Test func reviewDevicesAndStage() throws {
        let (world, _) = makeWorld()
        let report = try world.report()
        let section = try #require(report.section("150602"))
        #expect(section.review == ReviewCounts(conflicts: 2, duplicates: 1, rejections: 3))
        #expect(section.devices.map(\.id.rawValue) == ["laptop-a", "laptop-b"])
        #expect(section.clockFlaggedDevices == 1)
        #expect(section.devices.first?.lastSyncAt == "2020-08-19T10:00:00Z")
        #expect(report.total.review == ReviewCounts(conflicts: 2, duplicates: 1, rejections: 4))
        #expect(report.total.devices.count == 4)
        let stage = try #require(report.stage)
        #expect(stage.stage == .exit)
        #expect(stage.daysLeft == 41)
        #expect(try world.report(today: "2020-05-31").stage?.daysLeft == 0)
        #expect(try world.report(today: "2020-10-01").stage == nil)
    }

    @Test func total_sumsTheDistricts_andOneDistrictScopeLeavesTheOthersOut() throws {
        let (world, _) = makeWorld()
        let report = try world.report()
        #expect(report.districts.count == CityData.ordos.districts.count)
        #expect(report.total.households == 9)
        #expect(report.total.visitCoverage.rate == CampaignReport.Ratio(4, over: 7))
        #expect(report.total.filesByStatus.now.outOfHardship == 2)
        #expect(report.total.district == nil)
        #expect(report.total.name == CityData.ordos.city.name)

        let scoped = try world.report(districts: ["150603"])
        #expect(scoped.districts.map(\.district) == ["150603"])
        #expect(scoped.total.households == 1)
        #expect(scoped.total.review == ReviewCounts(rejections: 1))
        #expect(scoped.total.devices.map(\.id.rawValue) == ["laptop-c"])
    }

    @Test func householdsAreCountedOnce() throws {
        let (world, _) = makeWorld()
        world.households.append(world.households[0])
        #expect(try world.report().total.households == 9)
    }

    @Test func ratio_roundsHalfUpAndHasNoRateOverZero() {
        #expect(CampaignReport.Ratio(2, over: 3).perMille == 667)
        #expect(CampaignReport.Ratio(1, over: 8).perMille == 125)
        #expect(CampaignReport.Ratio(0, over: 0).perMille == nil)
        #expect((CampaignReport.Ratio(1, over: 2) + CampaignReport.Ratio(0, over: 2)).perMille == 250)
    }

    @Test func defaultCampaign_containingTodayElseLatestStarted() throws {
        var city = CityData.ordos
        let base = try #require(city.campaign("2020"))
        let next = Campaign(
            id: "2021", name: base.name,
            stages: base.stages.map { stage in
                var moved = stage
                moved.start = date("2021" + stage.start.description.dropFirst(4))
                moved.end = date("2021" + stage.end.description.dropFirst(4))
                return moved
            })
        city.campaigns.append(next)
        #expect(CampaignReport.defaultCampaign(in: city, on: date("2020-05-01"))?.id == "2020")
        #expect(CampaignReport.defaultCampaign(in: city, on: date("2020-12-01"))?.id == "2020")
        #expect(CampaignReport.defaultCampaign(in: city, on: date("2022-01-01"))?.id == "2021")
        #expect(CampaignReport.defaultCampaign(in: city, on: date("2019-01-01"))?.id == "2020")
    }

    @Test func json_hasTheDocumentedShape() throws {
        let (world, _) = makeWorld()
        let data = try WireCoding.encode(try world.report())
        let json = try JSONDecoder().decode(JSONValue.self, from: data)
        guard case .object(let top) = json, case .object(let total)? = top["total"], case .object(let coverage)? = total["visitCoverage"] else {
            Issue.record("the report is not a JSON object")
            return
        }
        #expect(Set(top.keys) == ["campaign", "today", "stage", "districts", "total"])
        #expect(top["today"] == "2020-08-20")
        #expect(
            Set(total.keys).isSuperset(of: [
                "households", "filesByStatus", "visitCoverage", "exitRate", "resolvedRate", "assistance",
                "causes", "wrong", "wrongHouseholds", "twice", "review", "belowMinimumLiving", "devices",
                "clockFlaggedDevices",
            ]))
        #expect(Set(coverage.keys) == ["rate", "missed"])
        #expect(try JSONDecoder().decode(CampaignReport.self, from: data) == (try world.report()))
    }
}
