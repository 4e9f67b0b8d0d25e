public import DoorstepCore
import Foundation

/// What office reports need from storage.
public protocol ReportStorage: Sendable {
    /// Everything a campaign report is computed from, for one district (every district for `nil`),
    /// read in one consistent snapshot: the merged survivor households with their entities, the
    /// status history of those households, the devices, and what waits for review per district.
    ///
    /// Reads every household: the full recomputation the kept tally is checked against.
    func reportInputs(district: String?, engine: MergeEngine) async throws -> ReportInputs

    /// Brings the office tally up to the change feed: counts again each household changed since
    /// the last refresh (every household when `city`'s districts or campaigns differ from those the
    /// tally was counted under), at most `limit` households. Answers how many it counted and
    /// whether the tally is now current.
    func refreshTally(city: CityData, engine: MergeEngine, limit: Int) async throws -> (counted: Int, current: Bool)

    /// The kept counters and lists of one district (every district for `nil`) for one campaign,
    /// with the devices and review counts as they stand, as of the last refresh. Each list names
    /// at most `listLimit` households per district (every one for `nil`), in id order.
    func reportTallies(district: String?, campaign: String, listLimit: Int?) async throws -> ReportTallies

    /// The kept week-by-week counters (visits, exits, safety net) of one district, or summed over
    /// every district for `nil`, by key.
    func weeklyTallies(district: String?) async throws -> [String: Int]

    /// One page of the households list kept by the tally, and how many households match.
    func householdsPage(_ query: HouseholdsQuery) async throws -> HouseholdsPage
}

/// Which households a list page shows: a district, a status, a search text, a page.
public struct HouseholdsQuery: Hashable, Sendable {
    /// The district (every district for `nil`).
    public var district: String?
    /// Only households with this status, if given.
    public var status: HouseholdStatus?
    /// The head's name contains it, or the national ID ends with it (case-insensitive); empty for all.
    public var search: String
    /// Households skipped before the page (in the list's order: district, head's name, id).
    public var offset: Int
    /// Households on the page.
    public var limit: Int
    /// Only households after this one in the list's order (a page after the last one read: a
    /// reader going through the whole list misses none and repeats none while it changes, but
    /// for a household whose place in the order changes meanwhile, e.g. renamed).
    public var after: ShownHousehold?
    /// Whether the page says how many households match (a second scan when the page is full).
    public var counted: Bool

    public init(
        district: String? = nil, status: HouseholdStatus? = nil, search: String = "", offset: Int = 0, limit: Int = 50,
        after: ShownHousehold? = nil, counted: Bool = true
    ) {
        self.district = district
        self.status = status
        self.search = search
        self.offset = max(0, offset)
        self.limit = max(0, limit)
        self.after = after
        self.counted = counted
    }
}

/// A page of the households list.
public struct HouseholdsPage: Hashable, Sendable {
    /// The households of the page, in the list's order.
    public var households: [ShownHousehold]
    /// How many households match the query, on every page (0 when the query did not ask).
    public var total: Int
    /// Whether the list was a whole count when read (`false` while every household is counted
    /// again after the city data or the campaigns changed: the caller reads every household).
    public var complete: Bool

    public init(households: [ShownHousehold], total: Int, complete: Bool = true) {
        self.households = households
        self.total = total
        self.complete = complete
    }
}

extension HouseholdsQuery {
    /// The page this query asks for, chosen from every household read (what a page answers
    /// while the tally is counted again from the start): the same filter, order and page as the
    /// tally's list.
    public func select(from households: [ShownHousehold]) -> HouseholdsPage {
        let needle = search.trimmingCharacters(in: .whitespaces).uppercased()
        func order(_ household: ShownHousehold) -> (String, String, String) { (household.district, household.headName ?? "", household.id.description) }
        let matching = households.filter { household in
            !household.district.isEmpty && (district == nil || household.district == district) && (status == nil || household.status == status)
                && (needle.isEmpty || (household.headName ?? "").uppercased().contains(needle) || (household.nationalId ?? "").hasSuffix(needle))
                && (after.map { order(household) > order($0) } ?? true)
        }
        .sorted { order($0) < order($1) }
        return HouseholdsPage(households: Array(matching.dropFirst(offset).prefix(limit)), total: counted ? matching.count : 0)
    }
}
