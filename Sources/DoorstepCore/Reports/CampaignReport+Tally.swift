import Foundation

/// A household's part in every campaign report, as the server keeps it: counts that add up to a
/// district's section, so that a report reads a few hundred counters instead of every household.
///
/// Made by ``CampaignReport/tally(_:history:city:)`` with the same rules as the report itself
/// (``CampaignReport/Section``'s count of one household), so a report summed from tallies equals
/// one computed from every household (checked by the server's tests on both backends).
public struct HouseholdTally: Codable, Hashable, Sendable {
    /// The household (a merged survivor).
    public var household: EntityID
    /// Its shown district (`""` when it has none); counted only under a district the city knows.
    public var district: String
    /// Its shown national ID, normalised (for search and the roster comparison).
    public var nationalId: String?
    /// Its national ID as lists show it (`150602********123X`).
    public var maskedNationalId: String
    /// The head of household's shown name.
    public var headName: String?
    /// The shown status.
    public var status: HouseholdStatus?
    /// Counts by scope, non-zero only: `""` holds what every campaign shares (files now,
    /// assistance, causes, week by week), a campaign's id what depends on its window.
    public var counts: [String: [String: Int]]
    /// The campaigns whose identification stage missed it (漏).
    public var missedIn: [String]
    /// Whether it is a wrong file (错).
    public var wrong: Bool

    public init(
        household: EntityID, district: String, nationalId: String?, maskedNationalId: String, headName: String?,
        status: HouseholdStatus?, counts: [String: [String: Int]], missedIn: [String], wrong: Bool
    ) {
        self.household = household
        self.district = district
        self.nationalId = nationalId
        self.maskedNationalId = maskedNationalId
        self.headName = headName
        self.status = status
        self.counts = counts
        self.missedIn = missedIn
        self.wrong = wrong
    }

    /// How it reads in a report's lists.
    public var reference: CampaignReport.HouseholdRef {
        CampaignReport.HouseholdRef(household: household, nationalId: maskedNationalId, status: status, headName: headName)
    }

    /// One counter a tally adds to: a district's key in a scope (`""` or a campaign id).
    public struct Counter: Hashable, Sendable, Comparable {
        public var district: String
        public var scope: String
        public var key: String

        public init(district: String, scope: String, key: String) {
            self.district = district
            self.scope = scope
            self.key = key
        }

        public static func < (lhs: Counter, rhs: Counter) -> Bool {
            (lhs.district, lhs.scope, lhs.key) < (rhs.district, rhs.scope, rhs.key)
        }
    }

    /// A list a tally names its household in: missed in a campaign, or wrong (scope `""`).
    public struct Listing: Hashable, Sendable {
        public var district: String
        public var scope: String
        public var list: CampaignReport.TallyList

        public init(district: String, scope: String, list: CampaignReport.TallyList) {
            self.district = district
            self.scope = scope
            self.list = list
        }
    }

    /// Every counter with its count (none when the household is counted in no district).
    public var counters: [Counter: Int] {
        var result: [Counter: Int] = [:]
        for (scope, keys) in counts {
            for (key, value) in keys where value != 0 { result[Counter(district: district, scope: scope, key: key)] = value }
        }
        return result
    }

    /// The lists it is named in.
    public var listings: Set<Listing> {
        guard !district.isEmpty else { return [] }
        var result = Set(missedIn.map { Listing(district: district, scope: $0, list: .missed) })
        if wrong { result.insert(Listing(district: district, scope: "", list: .wrong)) }
        return result
    }

    /// What replacing `old` by `new` adds to each counter (zero changes left out); either may be
    /// `nil` (a household appearing, or leaving the reports as an alias).
    public static func delta(from old: HouseholdTally?, to new: HouseholdTally?) -> [Counter: Int] {
        var result = new?.counters ?? [:]
        for (counter, value) in old?.counters ?? [:] { result[counter, default: 0] -= value }
        return result.filter { $0.value != 0 }
    }
}

extension CampaignReport {
    /// The lists a report names households in.
    public enum TallyList: String, Codable, Hashable, Sendable, CaseIterable {
        /// Not visited at home in the identification stage (漏).
        case missed
        /// Still filed though the latest visit found them not eligible (错).
        case wrong
    }

    /// Counter keys of a tally (see ``HouseholdTally/counts``).
    enum TallyKey {
        static let households = "households"
        static func now(_ status: HouseholdStatus) -> String { "now." + status.rawValue }
        static func atStart(_ status: HouseholdStatus) -> String { "start." + status.rawValue }
        static let created = "created"
        static let coverageVisited = "coverage.visited"
        static let coverageCounted = "coverage.counted"
        static let exitNumerator = "exit.out"
        static let exitDenominator = "exit.onRecord"
        static let resolvedNumerator = "resolved.out"
        static let done = "assistance.done"
        static let open = "assistance.open"
        static let cancelled = "assistance.cancelled"
        static let duePrefix = "due."
        static func cause(_ cause: String) -> String { "cause." + cause }
        static let below = "belowMinimumLiving"
        static let wrong = "wrong"
        static let twice = "twice"
        static let visitsPrefix = "week.visits."
        static let exitsPrefix = "week.outOfHardship."
        static let safetyNetPrefix = "week.safetyNet."
    }

    /// A household's tally: its one-household section under every campaign of `city`, as counters.
    ///
    /// `aggregate` is a merged survivor; `history` its status changes (those of its aliases
    /// included), in the order they were recorded.
    public static func tally(_ aggregate: HouseholdAggregate, history: [StatusChange], city: CityData) -> HouseholdTally {
        let household = aggregate.household
        let status = household["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
        let code = household["district"].stringValue ?? ""
        var result = HouseholdTally(
            household: household.id, district: code, nationalId: household["nationalId"].stringValue.map(NationalID.normalize),
            maskedNationalId: maskNationalID(household["nationalId"]), headName: household["headName"].stringValue, status: status,
            counts: [:], missedIn: [], wrong: false)
        guard let district = city.districts.first(where: { $0.code == code }) else { return result }
        // `today` far in the past: nothing is overdue in a tally; overdue items are counted from their due dates.
        let never = (try? LocalDate(year: 1, month: 1, day: 1)) ?? LocalDate(Date(timeIntervalSince1970: 0), in: .gmt)
        func section(_ campaign: Campaign) -> Section {
            var section = Section(district: code, name: district.name, minimumLivingStandardFen: district.minimumLivingStandardFen)
            section.count(aggregate, history: history, context: DistrictContext(district: district, city: city, campaign: campaign, today: never))
            return section
        }

        // What no campaign's window changes, counted once.
        let free = Campaign(id: "", name: LocalizedName(zh: "", en: ""), stages: [])
        let shared = section(free)
        var counts: [String: Int] = [TallyKey.households: shared.households]
        for status in HouseholdStatus.allCases { counts[TallyKey.now(status)] = shared.filesByStatus.now[status] }
        counts[TallyKey.done] = shared.assistance.done
        counts[TallyKey.open] = shared.assistance.open
        counts[TallyKey.cancelled] = shared.assistance.cancelled
        let visible = aggregate.entities.filter(\.isVisible)
        for due in AssistanceItems(visible).dues { counts[TallyKey.duePrefix + due.description, default: 0] += 1 }
        for (cause, count) in shared.causes { counts[TallyKey.cause(cause)] = count }
        counts[TallyKey.below] = shared.belowMinimumLiving
        counts[TallyKey.wrong] = shared.wrong
        counts[TallyKey.twice] = shared.twice
        let zone = DistrictContext(district: district, city: city, campaign: free, today: never).timeZone
        for (key, count) in weekly(visible: visible, history: history, timeZone: zone) { counts[key, default: 0] += count }
        result.counts[""] = counts.filter { $0.value != 0 }
        result.wrong = shared.wrong > 0

        for campaign in city.campaigns {
            let part = section(campaign)
            var counts: [String: Int] = [:]
            for status in HouseholdStatus.allCases { counts[TallyKey.atStart(status)] = part.filesByStatus.atStart[status] }
            counts[TallyKey.created] = part.filesByStatus.createdSinceStart
            counts[TallyKey.coverageVisited] = part.visitCoverage.rate.numerator
            counts[TallyKey.coverageCounted] = part.visitCoverage.rate.denominator
            counts[TallyKey.exitNumerator] = part.exitRate.numerator
            counts[TallyKey.exitDenominator] = part.exitRate.denominator
            counts[TallyKey.resolvedNumerator] = part.resolvedRate.numerator
            let nonZero = counts.filter { $0.value != 0 }
            if !nonZero.isEmpty { result.counts[campaign.id] = nonZero }
            if !part.visitCoverage.missed.isEmpty { result.missedIn.append(campaign.id) }
        }
        return result
    }

    /// The week (its Monday, in the district's time zone) of each home visit (`atHome`, not
    /// voided), and of each move to out of hardship or the safety net.
    static func weekly(visible: [EntityState], history: [StatusChange], timeZone: TimeZone) -> [String: Int] {
        var counts: [String: Int] = [:]
        for visit in visible where visit.kind == .visit && !visit.isVoided && visit["mode"] == "atHome" {
            guard let at = visit["visitedAt"].stringValue.flatMap(Instant.parse) else { continue }
            counts[TallyKey.visitsPrefix + LocalDate(at, in: timeZone).weekStart.description, default: 0] += 1
        }
        for change in history {
            guard let from = change.from, from != change.to, let at = Instant.parse(change.at) else { continue }
            let week = LocalDate(at, in: timeZone).weekStart.description
            switch change.to {
            case .outOfHardship: counts[TallyKey.exitsPrefix + week, default: 0] += 1
            case .safetyNet: counts[TallyKey.safetyNetPrefix + week, default: 0] += 1
            default: break
            }
        }
        return counts
    }
}

/// What a report is made of when the server keeps tallies: the counters and lists of the
/// districts in scope (the campaign-free scope and the campaign's, merged: their keys differ),
/// with the devices and review counts read as they stand.
public struct ReportTallies: Sendable {
    /// Counters by district code, then key.
    public var counts: [String: [String: Int]]
    /// The households named in each list, by district code (at most the report's list limit each, in id order).
    public var lists: [String: [CampaignReport.TallyList: [CampaignReport.HouseholdRef]]]
    /// The enrolled devices in scope.
    public var devices: [ReportDevice]
    /// What waits for review, by district code.
    public var pendingReview: [String: ReviewCounts]
    /// Whether the counters were a whole count when read (`false` while every household is
    /// counted again after the city data or the campaigns changed: the caller computes in full).
    public var complete = true

    public init(
        counts: [String: [String: Int]] = [:], lists: [String: [CampaignReport.TallyList: [CampaignReport.HouseholdRef]]] = [:],
        devices: [ReportDevice] = [], pendingReview: [String: ReviewCounts] = [:]
    ) {
        self.counts = counts
        self.lists = lists
        self.devices = devices
        self.pendingReview = pendingReview
    }
}

extension CampaignReport {
    /// The report summed from kept tallies: the same value as
    /// ``make(city:campaign:today:districts:inputs:)`` over every household, when `listLimit` is
    /// `nil`; with a limit, each list names its first households by id (the counts stay whole).
    public static func make(
        city: CityData, campaign: Campaign, today: LocalDate, districts scope: [String]? = nil, tallies: ReportTallies,
        listLimit: Int? = nil
    ) -> CampaignReport {
        var report = assemble(
            city: city, campaign: campaign, today: today, districts: scope, devices: tallies.devices, pendingReview: tallies.pendingReview
        ) { district in
            var section = Section(district, counts: tallies.counts[district.code] ?? [:], lists: tallies.lists[district.code] ?? [:], today: today)
            section.weeks = weeks(of: campaign, counts: tallies.counts[district.code] ?? [:])
            return section
        }
        if let listLimit { report.limitLists(to: listLimit) }
        return report
    }

    /// Cuts each section's lists to their first `limit` households (the counts stay whole), as
    /// `GET /v1/reports?lists=` answers (1.6); a client does it itself for an older server.
    public mutating func limitLists(to limit: Int) {
        let limit = max(0, limit)
        for index in districts.indices {
            districts[index].visitCoverage.missed = Array(districts[index].visitCoverage.missed.prefix(limit))
            districts[index].wrongHouseholds = Array(districts[index].wrongHouseholds.prefix(limit))
        }
        total.visitCoverage.missed = Array(total.visitCoverage.missed.prefix(limit))
        total.wrongHouseholds = Array(total.wrongHouseholds.prefix(limit))
    }

    /// Home visits, and households out of hardship or into the safety net, week by week (weeks
    /// start on Monday, in each district's time zone), summed from kept counters.
    public struct Weekly: Codable, Hashable, Sendable {
        /// The week's Monday.
        public var week: LocalDate
        /// Home visits (`atHome`) dated in the week, voided ones not counted.
        public var visits: Int
        /// Moves of a household's status to `outOfHardship` from another status in the week.
        public var outOfHardship: Int
        /// Moves of a household's status to `safetyNet` from another status in the week.
        public var safetyNet: Int

        public init(week: LocalDate, visits: Int = 0, outOfHardship: Int = 0, safetyNet: Int = 0) {
            self.week = week
            self.visits = visits
            self.outOfHardship = outOfHardship
            self.safetyNet = safetyNet
        }
    }

    /// The campaign's weeks, from its first day's week to its last day's, each with its counts
    /// (quiet weeks included), from week-by-week counters; none for a campaign without stages.
    static func weeks(of campaign: Campaign, counts: [String: Int]) -> [Weekly] {
        guard let first = campaign.start, let last = campaign.end else { return [] }
        var weeks: [Weekly] = []
        var week = first.weekStart
        // A campaign is months long; a window of decades is cut at about twenty years of weeks.
        while week <= last, weeks.count < 1_000 {
            let day = week.description
            weeks.append(
                Weekly(
                    week: week, visits: counts[TallyKey.visitsPrefix + day] ?? 0, outOfHardship: counts[TallyKey.exitsPrefix + day] ?? 0,
                    safetyNet: counts[TallyKey.safetyNetPrefix + day] ?? 0))
            week = week.adding(days: 7)
        }
        return weeks
    }
}

extension CampaignReport.Section {
    /// A district's section from its counters and lists; `today` picks the overdue items.
    init(_ district: District, counts: [String: Int], lists: [CampaignReport.TallyList: [CampaignReport.HouseholdRef]], today: LocalDate) {
        typealias Key = CampaignReport.TallyKey
        self.init(district: district.code, name: district.name, minimumLivingStandardFen: district.minimumLivingStandardFen)
        func count(_ key: String) -> Int { counts[key] ?? 0 }
        households = count(Key.households)
        for status in HouseholdStatus.allCases {
            filesByStatus.now[status] = count(Key.now(status))
            filesByStatus.atStart[status] = count(Key.atStart(status))
        }
        filesByStatus.createdSinceStart = count(Key.created)
        visitCoverage.rate = CampaignReport.Ratio(count(Key.coverageVisited), over: count(Key.coverageCounted))
        visitCoverage.missed = lists[.missed] ?? []
        exitRate = CampaignReport.Ratio(count(Key.exitNumerator), over: count(Key.exitDenominator))
        resolvedRate = CampaignReport.Ratio(count(Key.resolvedNumerator), over: count(Key.exitDenominator))
        assistance.done = count(Key.done)
        assistance.open = count(Key.open)
        assistance.cancelled = count(Key.cancelled)
        for (key, value) in counts where key.hasPrefix(Key.duePrefix) {
            if let due = try? LocalDate(String(key.dropFirst(Key.duePrefix.count))), due < today { assistance.overdue += value }
        }
        for cause in HardshipCause.wireNames { causes[cause] = count(Key.cause(cause)) }
        belowMinimumLiving = count(Key.below)
        wrong = count(Key.wrong)
        wrongHouseholds = lists[.wrong] ?? []
        twice = count(Key.twice)
    }
}

extension LocalDate {
    /// The Monday of this date's week.
    public var weekStart: LocalDate {
        adding(days: -(((dayNumber + 3) % 7 + 7) % 7))
    }
}

extension CampaignReport {
    /// The counter of duplicate links (aliases) of a district's survivors: the review queue's duplicates too.
    public static var tallyTwiceKey: String { TallyKey.twice }
}
