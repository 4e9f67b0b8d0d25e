import DoorstepCore
import DoorstepImport
import DoorstepStorage
import Foundation
import Hummingbird

extension DoorstepAPI {
    /// Office reports.
    func addReportRoutes(to group: RouterGroup<DoorstepRequestContext>) {
        group.get("reports") { request, context in try await campaignReport(request, context) }
    }

    /// `GET /v1/reports?district=&campaign=&today=&lists=`: the campaign report (`docs/DOMAIN.md`, "What offices report").
    ///
    /// An office sees its own district (naming another answers `outOfScope`); the city sees every
    /// district, or the one it names. `campaign` defaults to the campaign whose window contains
    /// `today`, else the most recent to have started; `today` (`YYYY-MM-DD`) defaults to the server
    /// clock's date in the city's time zone, and lets a caller ask "as of" another day.
    /// Visitors' devices are refused (`forbiddenForRole`).
    func campaignReport(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let principal = caller.principal
        let query = request.uri.queryParameters
        let city = try await city()

        var district = try districtQuery(request)
        if principal.role != .city {
            guard let own = principal.district else {
                throw DoorstepError(.outOfScope, "this credential is bound to no district")
            }
            if let district, district != own {
                throw DoorstepError(.outOfScope, "an office sees the report of its own district only")
            }
            district = own
        }

        let today: LocalDate
        if let text = query.get("today") {
            guard !text.isEmpty else { throw DoorstepError(.invalidValue, "today is empty: leave it out for the city's today") }
            today = try LocalDate(text)
        } else {
            let zone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 0) ?? .current
            today = LocalDate(Date(timeIntervalSince1970: Double(configuration.clock()) / 1000), in: zone)
        }

        let campaign: Campaign
        if let id = query.get("campaign"), !id.isEmpty {
            guard let named = city.campaign(id) else {
                throw DoorstepError(.notFound, "no campaign \"\(id.prefix(40))\"; this city has: \(city.campaigns.map(\.id).joined(separator: ", "))")
            }
            campaign = named
        } else {
            guard let current = CampaignReport.defaultCampaign(in: city, on: today) else {
                throw DoorstepError(.notFound, "the city data has no campaign to report on")
            }
            campaign = current
        }

        // 1.6: lists cut to their first households (the counts stay whole).
        var lists: Int?
        if let text = query.get("lists"), !text.isEmpty {
            guard let number = Int(TypedInput.asciiForms(text).trimmingCharacters(in: .whitespaces)), number >= 0 else {
                throw DoorstepError(.invalidValue, "lists is a whole number of households from 0, not \"\(text.prefix(20))\"")
            }
            lists = number
        }
        let report = try await keptReport(city: city, campaign: campaign, today: today, district: district, lists: lists)
        return try JSONResponse.make(report)
    }

    /// The campaign report from the office tally, counted up to this call; computed from every
    /// household instead while the tally is counted again from the start (the city data or the
    /// campaigns changed a moment ago): the figures are the same, only slower.
    func keptReport(city: CityData, campaign: Campaign, today: LocalDate, district: String?, lists: Int?) async throws -> CampaignReport {
        for _ in 0..<2 {
            try await tally(city)
            let tallies = try await storage.reportTallies(district: district, campaign: campaign.id, listLimit: lists)
            if tallies.complete {
                return CampaignReport.make(
                    city: city, campaign: campaign, today: today, districts: district.map { [$0] }, tallies: tallies, listLimit: lists)
            }
        }
        var report = CampaignReport.make(
            city: city, campaign: campaign, today: today, districts: district.map { [$0] },
            inputs: try await storage.reportInputs(district: district, engine: engine))
        if let lists { report.limitLists(to: lists) }
        return report
    }

    /// A page of the households list from the office tally, counted up to this call; chosen from
    /// every household read while the tally is counted again from the start.
    func keptHouseholds(_ query: HouseholdsQuery) async throws -> HouseholdsPage {
        let city = try await city()
        for _ in 0..<2 {
            try await tally(city)
            let page = try await storage.householdsPage(query)
            if page.complete { return page }
        }
        return query.select(from: try await storage.householdSummaries(district: query.district, engine: engine))
    }

    /// Brings the office tally up to every change made before this call (`ReportStorage/refreshTally`):
    /// what a report, the overview or the households list then reads is exact.
    func tally(_ city: CityData) async throws {
        let (counted, _) = try await storage.refreshTally(city: city, engine: engine, limit: .max)
        if counted > 0 { metrics.tallied(counted) }
    }

    /// Has the tally counted in the background, a chunk of households per write transaction.
    func keepTally() {
        tallyKeeper.poke { [self] in
            let (counted, current) = try await storage.refreshTally(city: try await city(), engine: engine, limit: Self.tallyStep)
            if counted > 0 { metrics.tallied(counted) }
            return current
        }
    }

    /// Compares a roster with every household of a district (all for `nil`), read from the tally's
    /// households list a page at a time: the server holds the roster and the answer, not the city.
    func compare(_ roster: RosterComparison.Roster, district: String?) async throws -> RosterReport {
        var comparer = RosterComparison.Comparer(roster, district: district)
        var last: ShownHousehold?
        while true {
            let page = try await keptHouseholds(HouseholdsQuery(district: district, limit: Self.readingPage, after: last, counted: false))
            comparer.add(page.households)
            last = page.households.last
            if page.households.count < Self.readingPage { break }
        }
        return comparer.report()
    }

    /// Households read per page by what goes through the whole list (the roster comparison, the CSV export).
    static let readingPage = 2_000

    /// Households the background count takes per step.
    static let tallyStep = 200
}
