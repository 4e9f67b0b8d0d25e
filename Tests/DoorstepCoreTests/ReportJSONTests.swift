import Foundation
import Testing

@testable import DoorstepCore

/// Reports and roster comparisons write themselves (``FastJSON``): the same bytes as Foundation's
/// encoder, on seeded documents with every optional member present and absent.
@Suite struct ReportJSONTests {
    static func text(_ g: inout SeededGenerator) -> String { FastJSONTests.text(&g) }

    static func maybe<T>(_ g: inout SeededGenerator, _ make: (inout SeededGenerator) -> T) -> T? {
        Bool.random(using: &g) ? make(&g) : nil
    }

    static func count(_ g: inout SeededGenerator) -> Int { [0, 1, 7, 14_286, Int.random(in: 0...1_000_000, using: &g)][Int.random(in: 0..<5, using: &g)] }

    static func date(_ g: inout SeededGenerator) -> LocalDate {
        (try? LocalDate(year: Int.random(in: 2020...2030, using: &g), month: Int.random(in: 1...12, using: &g), day: Int.random(in: 1...28, using: &g)))
            ?? LocalDate(Date(timeIntervalSince1970: 0), in: TimeZone(secondsFromGMT: 0) ?? .current)
    }

    static func name(_ g: inout SeededGenerator) -> LocalizedName { LocalizedName(zh: text(&g), en: text(&g)) }

    static func ratio(_ g: inout SeededGenerator) -> CampaignReport.Ratio {
        CampaignReport.Ratio(Int.random(in: 0...50, using: &g), over: Int.random(in: 0...1, using: &g) == 0 ? 0 : Int.random(in: 1...100, using: &g))
    }

    static func ref(_ g: inout SeededGenerator) -> CampaignReport.HouseholdRef {
        CampaignReport.HouseholdRef(
            household: EntityID.random(using: &g), nationalId: text(&g),
            status: maybe(&g) { HouseholdStatus.allCases[Int.random(in: 0..<HouseholdStatus.allCases.count, using: &$0)] },
            headName: maybe(&g, text))
    }

    static func statusCounts(_ g: inout SeededGenerator) -> CampaignReport.StatusCounts {
        var counts = CampaignReport.StatusCounts()
        for status in HouseholdStatus.allCases { counts[status] = count(&g) }
        return counts
    }

    static func section(_ g: inout SeededGenerator) -> CampaignReport.Section {
        var section = CampaignReport.Section(
            district: maybe(&g, text), name: name(&g), minimumLivingStandardFen: maybe(&g) { Int64.random(in: -1...9_000_000, using: &$0) })
        section.households = count(&g)
        section.filesByStatus.now = statusCounts(&g)
        section.filesByStatus.atStart = statusCounts(&g)
        section.filesByStatus.createdSinceStart = count(&g)
        section.visitCoverage.rate = ratio(&g)
        section.visitCoverage.missed = (0..<Int.random(in: 0...4, using: &g)).map { _ in ref(&g) }
        section.exitRate = ratio(&g)
        section.resolvedRate = ratio(&g)
        section.assistance.done = count(&g)
        section.assistance.open = count(&g)
        section.assistance.overdue = count(&g)
        section.assistance.cancelled = count(&g)
        for cause in section.causes.keys { section.causes[cause] = count(&g) }
        if Bool.random(using: &g) { section.causes[text(&g)] = count(&g) }
        section.wrong = count(&g)
        section.wrongHouseholds = (0..<Int.random(in: 0...3, using: &g)).map { _ in ref(&g) }
        section.twice = count(&g)
        section.review = ReviewCounts(conflicts: count(&g), duplicates: count(&g), rejections: count(&g))
        section.belowMinimumLiving = count(&g)
        section.devices = (0..<Int.random(in: 0...3, using: &g)).map { _ in
            ReportDevice(
                id: DeviceID(unchecked: EntityID.random(using: &g).description), name: text(&g), district: maybe(&g, text),
                lastSyncAt: maybe(&g, text), clockFlagged: Bool.random(using: &g), revokedAt: maybe(&g, text))
        }
        section.clockFlaggedDevices = count(&g)
        section.weeks = maybe(&g) { g in
            (0..<Int.random(in: 0...3, using: &g)).map { _ in
                CampaignReport.Weekly(week: date(&g), visits: count(&g), outOfHardship: count(&g), safetyNet: count(&g))
            }
        }
        return section
    }

    static func report(_ g: inout SeededGenerator) -> CampaignReport {
        var summary = CampaignReport.CampaignSummary(Campaign(id: text(&g), name: name(&g), stages: []))
        summary.start = maybe(&g, date)
        summary.end = maybe(&g, date)
        let stage = maybe(&g) { g in
            CampaignReport.StageToday(
                CampaignStage(
                    stage: CampaignStageKind.allCases[Int.random(in: 0..<CampaignStageKind.allCases.count, using: &g)], name: name(&g),
                    start: date(&g), end: date(&g)),
                today: date(&g))
        }
        return CampaignReport(
            campaign: summary, today: date(&g), stage: stage, districts: (0..<Int.random(in: 0...3, using: &g)).map { _ in section(&g) },
            total: section(&g))
    }

    static func roster(_ g: inout SeededGenerator) -> RosterReport {
        RosterReport(
            inRosterNotOnFile: (0..<Int.random(in: 0...3, using: &g)).map { _ in
                RosterPerson(
                    line: count(&g), nationalIdMasked: text(&g), name: text(&g), allowanceFen: maybe(&g) { Int64.random(in: -5...900_000, using: &$0) },
                    district: maybe(&g, text))
            },
            onFileNotInRoster: (0..<Int.random(in: 0...3, using: &g)).map { _ in
                RosterMissingHousehold(
                    household: EntityID.random(using: &g), nationalIdMasked: text(&g),
                    status: maybe(&g) { HouseholdStatus.allCases[Int.random(in: 0..<HouseholdStatus.allCases.count, using: &$0)] },
                    district: text(&g), headName: maybe(&g, text))
            },
            disagreements: (0..<Int.random(in: 0...3, using: &g)).map { _ in
                RosterDisagreement(
                    household: EntityID.random(using: &g), nationalIdMasked: text(&g), field: text(&g), onFile: FastJSONTests.value(&g),
                    inRoster: FastJSONTests.value(&g), line: count(&g))
            },
            rosterRows: count(&g),
            invalidRows: (0..<Int.random(in: 0...3, using: &g)).map { _ in RosterInvalidRow(line: count(&g), message: text(&g)) },
            rowsOutsideScope: count(&g))
    }

    @Test func campaignReports_writeTheBytesFoundationWrites() throws {
        var g = SeededGenerator(seed: 21)
        for _ in 0..<300 {
            let report = Self.report(&g)
            let foundation = try WireCoding.encoder().encode(report)
            #expect(FastJSON.data(report) == foundation, "\(String(decoding: foundation, as: UTF8.self))")
            #expect(try WireCoding.encode(report) == foundation)
            // And the reader reads what was written.
            #expect(try WireCoding.decode(CampaignReport.self, from: FastJSON.data(report)) == report)
        }
    }

    @Test func rosterReports_writeTheBytesFoundationWrites() throws {
        var g = SeededGenerator(seed: 2112)
        for _ in 0..<300 {
            let report = Self.roster(&g)
            let foundation = try WireCoding.encoder().encode(report)
            #expect(FastJSON.data(report) == foundation, "\(String(decoding: foundation, as: UTF8.self))")
            #expect(try WireCoding.decode(RosterReport.self, from: FastJSON.data(report)) == report)
        }
    }

    @Test func aComputedReport_writesTheSameBytes() throws {
        // A report the rules made (sections summed, lists sorted), not only one assembled here.
        var g = SeededGenerator(seed: 7)
        var total = CampaignReport.Section(district: nil, name: LocalizedName(zh: "鄂尔多斯市", en: "Ordos"), minimumLivingStandardFen: nil)
        let districts = (0..<3).map { _ in Self.section(&g) }
        for district in districts { total.add(district) }
        var report = Self.report(&g)
        report.districts = districts
        report.total = total
        #expect(FastJSON.data(report) == (try WireCoding.encoder().encode(report)))
    }
}
