import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// The year's campaign as data stored by the city (`/v1/admin/campaigns`), not an edited file:
/// a campaign that starts tomorrow is reported from tomorrow on, on both backends.
@Suite struct CampaignTests {
    /// 2026-12-04 12:00 UTC (20:00 in Ordos): no campaign of the shipped data is under way.
    static let today: Int64 = 1_796_385_600_000

    /// A campaign of three stages: identification from `dates[0]` to `dates[1]`, measures to `dates[3]`, exit to `dates[5]`.
    static func campaign(_ id: String, _ dates: [String]) throws -> Campaign {
        let kinds: [CampaignStageKind] = [.identification, .measures, .exit]
        let stages = try kinds.enumerated().map { index, kind in
            CampaignStage(
                stage: kind, name: LocalizedName(zh: kind.chineseLabel, en: kind.englishLabel), start: try LocalDate(dates[2 * index]),
                end: try LocalDate(dates[2 * index + 1]))
        }
        return Campaign(id: id, name: LocalizedName(zh: "\(id)年城镇困难职工解困脱困", en: "\(id) hardship relief"), stages: stages)
    }

    @Test func theCityStoresACampaign_reportsUseItFromItsFirstDay_officesReadButCannotChangeIt() async throws {
        let server = TestServer(clock: Self.today)
        try await server.test { session in
            let before = try await session.call(.get, "/v1/reports", token: session.adminToken).json(CampaignReport.self)
            #expect(before.campaign.id == "2020", "without a stored campaign the latest of the data is reported")

            // Starts tomorrow (2026-12-05 in Ordos).
            let next = try Self.campaign("2027", ["2026-12-05", "2027-02-28", "2027-03-01", "2027-06-30", "2027-07-01", "2027-09-30"])
            let stored = try await session.call(.put, "/v1/admin/campaigns/2027", token: session.adminToken, json: next)
            #expect(stored.status == .ok, "\(stored.text)")
            #expect(try stored.json(Campaign.self) == next)

            let office = try await session.enroll(district: "150627", role: .office)
            let listed = try await session.call(.get, "/v1/admin/campaigns", token: office.token).json(CampaignList.self)
            #expect(listed.campaigns.map(\.id).contains("2027") && listed.campaigns.last?.id == "2027", "by first day")
            let refused = try await session.call(.put, "/v1/admin/campaigns/2027", token: office.token, json: next)
            #expect(refused.status == .forbidden && refused.errorCode == "forbiddenForRole")
            let visitor = try await session.enroll(district: "150627", role: .visitor)
            #expect(try await session.call(.get, "/v1/admin/campaigns", token: visitor.token).status == .forbidden)

            // Today the new campaign has not begun: it is the first to come only if none started;
            // 2020 started long ago, so it is still the one reported. Tomorrow it is 2027's.
            let today = try await session.call(.get, "/v1/reports?district=150627", token: office.token).json(CampaignReport.self)
            #expect(today.campaign.id == "2020")
            server.clock.advance(86_400_000)
            let tomorrow = try await session.call(.get, "/v1/reports?district=150627", token: office.token).json(CampaignReport.self)
            #expect(tomorrow.campaign.id == "2027" && tomorrow.stage?.stage == .identification, "\(tomorrow.campaign)")

            // Replaced under the same id; then removed, and the data's campaign is back.
            var renamed = next
            renamed.name = LocalizedName(zh: "2027年解困脱困（修订）", en: "2027 relief (revised)")
            #expect(try await session.call(.put, "/v1/admin/campaigns/2027", token: session.adminToken, json: renamed).status == .ok)
            let again = try await session.call(.get, "/v1/reports", token: session.adminToken).json(CampaignReport.self)
            #expect(again.campaign.name == renamed.name)
            #expect(try await session.call(.delete, "/v1/admin/campaigns/2027", token: session.adminToken).status == .noContent)
            let gone = try await session.call(.delete, "/v1/admin/campaigns/2027", token: session.adminToken)
            #expect(gone.status == .notFound && gone.errorCode == "notFound")
            #expect(
                try await session.call(.delete, "/v1/admin/campaigns/2020", token: session.adminToken).status == .notFound,
                "the data's own campaign is not stored")
            let after = try await session.call(.get, "/v1/reports", token: session.adminToken).json(CampaignReport.self)
            #expect(after.campaign.id == "2020")
        }
    }

    @Test func aBadCampaignIsRefused_andChangesNothing() async throws {
        let server = TestServer(clock: Self.today)
        try await server.test { session in
            let good = try Self.campaign("2027", ["2027-03-01", "2027-04-30", "2027-05-01", "2027-07-31", "2027-08-01", "2027-09-30"])
            var overlapping = good
            overlapping.stages[1].start = try LocalDate("2027-04-15")
            var backwards = good
            backwards.stages[0].end = try LocalDate("2027-02-01")
            var unnamed = good
            unnamed.name = LocalizedName(zh: " ", en: "x")
            var twice = good
            twice.stages[2].stage = .measures
            for (label, campaign) in [("overlapping", overlapping), ("backwards", backwards), ("unnamed", unnamed), ("twice", twice)] {
                let answer = try await session.call(.put, "/v1/admin/campaigns/2027", token: session.adminToken, json: campaign)
                #expect(answer.status == .unprocessableContent && answer.errorCode == "invalidCityData", "\(label): \(answer.text)")
            }
            let otherID = try await session.call(.put, "/v1/admin/campaigns/2028", token: session.adminToken, json: good)
            #expect(otherID.status == .unprocessableContent && otherID.errorCode == "invalidValue")
            let garbage = try await session.call(.put, "/v1/admin/campaigns/2027", token: session.adminToken, body: Data("{\"id\": 1}".utf8))
            #expect(garbage.status == .badRequest)
            let listed = try await session.call(.get, "/v1/admin/campaigns", token: session.adminToken).json(CampaignList.self)
            #expect(!listed.campaigns.contains { $0.id == "2027" }, "nothing was stored")

            // One campaign runs at a time: a window overlapping another campaign's is refused.
            #expect(try await session.call(.put, "/v1/admin/campaigns/2027", token: session.adminToken, json: good).status == .ok)
            let clashing = try Self.campaign("2027b", ["2027-09-01", "2027-10-31", "2027-11-01", "2027-11-30", "2027-12-01", "2027-12-31"])
            let clash = try await session.call(.put, "/v1/admin/campaigns/2027b", token: session.adminToken, json: clashing)
            #expect(clash.status == .unprocessableContent && clash.errorCode == "invalidCityData", "\(clash.text)")
        }
    }

    @Test func anIdInChinese_isStoredAndRemovedByItsPath() async throws {
        let server = TestServer(clock: Self.today)
        try await server.test { session in
            let campaign = try Self.campaign("2027年", ["2027-03-01", "2027-04-30", "2027-05-01", "2027-07-31", "2027-08-01", "2027-09-30"])
            let path = "/v1/admin/campaigns/2027%E5%B9%B4"
            let stored = try await session.call(.put, path, token: session.adminToken, json: campaign)
            #expect(stored.status == .ok, "\(stored.text)")
            let listed = try await session.call(.get, "/v1/admin/campaigns", token: session.adminToken).json(CampaignList.self)
            #expect(listed.campaigns.contains { $0.id == "2027年" })
            let removed = try await session.call(.delete, path, token: session.adminToken)
            #expect(removed.status == .noContent, "\(removed.text)")
        }
    }

    @Test func storedCampaigns_surviveARestart() async throws {
        let server = TestServer(clock: Self.today)
        let next = try Self.campaign("2027", ["2027-03-01", "2027-04-30", "2027-05-01", "2027-07-31", "2027-08-01", "2027-09-30"])
        try await server.test { session in
            let stored = try await session.call(.put, "/v1/admin/campaigns/2027", token: session.adminToken, json: next)
            #expect(stored.status == .ok)
        }
        try await server.test { session in
            let listed = try await session.call(.get, "/v1/admin/campaigns", token: session.adminToken).json(CampaignList.self)
            #expect(listed.campaigns.first { $0.id == "2027" } == next)
        }
    }
}
