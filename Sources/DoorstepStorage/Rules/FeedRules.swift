import DoorstepCore

/// The change feed and the pull pages read from it (`protocol/README.md`, "Pull").
enum ChangeFeed {
    /// The districts whose devices must hear of a household's change, each given a new change
    /// sequence number, in this order: where it was (if it left) and where it is now.
    static func districts(was old: String?, now new: String?) -> [String] {
        Set([old, new].compactMap { $0 }).sorted()
    }

    /// The open conflicts of a household as the review queue files them: the merged household's
    /// own, then its entities' (given in id order).
    static func conflicts(household: EntityState, entities: [EntityState]) -> [ConflictRecord] {
        household.conflicts + entities.flatMap(\.conflicts)
    }

    /// `invalidCursor` for a cursor ahead of every change this server numbered.
    static func check(cursor: Int64, latest: Int64) throws {
        guard cursor <= latest else {
            throw DoorstepError(.invalidCursor, "the cursor is ahead of this server's changes (was the server restored from a backup?); pull from the start")
        }
    }
}

/// One pull page's scan of the change feed: which households it delivers and which it reports removed.
struct PullScan {
    /// The survivors still in the principal's scope, in the feed's order, each once.
    private(set) var households: [EntityID] = []
    /// Households that left the scope, are aliases now, or have no state.
    private var removed = Set<EntityID>()
    /// The cursor after this page.
    let next: Int64
    /// Whether the feed has more after this page.
    let hasMore: Bool

    /// Where a household is now: its survivor and its stored district.
    struct Placement {
        var canonical: String
        var district: String?
    }

    /// The survivors of the page's aliases that `placed` does not place yet: storage places them
    /// too (a second query), so that a page that removes an alias delivers its survivor.
    static func unplacedSurvivors(_ changed: [(seq: Int64, household: String)], limit: Int, placed: [String: Placement]) -> [String] {
        Array(Set(changed.prefix(limit).compactMap { placed[$0.household]?.canonical }.filter { placed[$0] == nil })).sorted()
    }

    /// The scan of `changed` (the feed's rows after the cursor, in order, at most `limit + 1`),
    /// given where each household is now (`placed`, with the survivors of aliases). A household
    /// that is an alias now is removed, and its survivor, if in scope, is delivered on the same page
    /// (§9: a device never holds an alias dropped without the survivor that holds its entries).
    init(_ changed: [(seq: Int64, household: String)], limit: Int, after cursor: Int64, placed: [String: Placement], for principal: Principal) {
        let page = changed.prefix(limit)
        var delivered = Set<EntityID>()
        func inScope(_ text: String) -> Bool {
            guard let place = placed[text], place.canonical == text, let district = place.district else { return false }
            return principal.covers(district: district)
        }
        for (_, text) in page {
            guard let id = try? EntityID(text) else { continue }
            guard inScope(text) else {
                removed.insert(id)
                if let survivor = placed[text]?.canonical, survivor != text, inScope(survivor), let survivorID = try? EntityID(survivor),
                    delivered.insert(survivorID).inserted
                {
                    households.append(survivorID)
                }
                continue
            }
            if delivered.insert(id).inserted { households.append(id) }
        }
        next = page.last?.seq ?? cursor
        hasMore = changed.count > limit
    }

    /// The page, each household written from its parts as storage read them (`parts`: `nil` when
    /// a household has no state; it is reported removed). Its server clock is added last
    /// (``ScannedPage/finished(serverClock:)``), once the pull is noted.
    func page(parts: (EntityID) throws -> AggregateParts?) throws -> ScannedPage {
        var page = EncodedPullPage(hasMore: hasMore)
        var removed = removed
        var delivered = Set<EntityID>()
        for id in households {
            if let household = try parts(id) {
                try page.add(household)
                delivered.insert(id)
            } else {
                removed.insert(id)
            }
        }
        return ScannedPage(page: page, removed: removed.subtracting(delivered).sorted(), next: next)
    }
}

/// A pull page written but for its server clock.
struct ScannedPage: Sendable {
    var page: EncodedPullPage
    var removed: [EntityID]
    var next: Int64

    /// The page's bytes, its next position written as `cursor` says.
    func finished(serverClock: HLC, cursor: (Int64) -> String) -> [UInt8] {
        page.finished(next: cursor(next), removed: removed, serverClock: serverClock)
    }
}
