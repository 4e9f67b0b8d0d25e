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

    /// The question a page's estimate asks of the feed (§9, 1.3): the households of the
    /// principal's scope with a change after the page's next cursor, each once. `nil` for the
    /// city: every district, where a household that moved has a row in each (count distinct
    /// households); a district has one row per household (`UNIQUE (household, district)`), so
    /// its rows are counted. Backends count it in the page's own read, so it matches the page.
    static func remainingScope(of principal: Principal) -> String? {
        principal.role == .city ? nil : (principal.district ?? "")
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
    /// What one row of the feed asks of the page: deliver a household, or report one removed.
    enum Step: Hashable {
        case deliver(EntityID)
        case remove(EntityID)
    }

    /// The page's steps in feed order, each with the seq of the row that asked for it (a
    /// household is delivered once, where it first appears).
    private var steps: [(seq: Int64, step: Step)] = []
    /// The cursor after this page, if the page takes every step.
    let next: Int64
    /// Whether the feed has more after this page, if the page takes every step.
    let hasMore: Bool

    /// The survivors still in the principal's scope the page would deliver, in the feed's order, each once.
    var households: [EntityID] {
        steps.compactMap { if case .deliver(let id) = $0.step { id } else { nil } }
    }

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
        for (seq, text) in page {
            guard let id = try? EntityID(text) else { continue }
            guard inScope(text) else {
                steps.append((seq, .remove(id)))
                if let survivor = placed[text]?.canonical, survivor != text, inScope(survivor), let survivorID = try? EntityID(survivor),
                    delivered.insert(survivorID).inserted
                {
                    steps.append((seq, .deliver(survivorID)))
                }
                continue
            }
            if delivered.insert(id).inserted { steps.append((seq, .deliver(id))) }
        }
        next = page.last?.seq ?? cursor
        hasMore = changed.count > limit
    }

    /// The page, each household written from its parts as storage read them (`parts`: `nil` when
    /// a household has no state; it is reported removed). The page stops after the household
    /// that brings it to `maxBytes` or more (§9, §15: at least one household, so one larger than
    /// the cap comes alone); its cursor then stands before the first step it did not take, and it
    /// says there is more. Its server clock is added last (``ScannedPage/finished(serverClock:cursor:)``).
    func page(maxBytes: Int = .max, parts: (EntityID) throws -> AggregateParts?) throws -> ScannedPage {
        var builder = PageBuilder(self, maxBytes: maxBytes)
        while true {
            if let page = try builder.advance({ id in try parts(id).map { .parts($0) } ?? .absent }) { return page }
        }
    }

    /// A page written step by step from households storage reads in chunks: ``advance(_:)``
    /// stops at a household not read yet and goes on from there once it is, so no household is
    /// written twice however many chunks the page takes.
    struct PageBuilder {
        /// What storage holds of a household the page asks for.
        enum Read {
            /// Its parts, read.
            case parts(AggregateParts)
            /// No state: the page reports it removed.
            case absent
            /// Not read yet: ``advance(_:)`` returns `nil` and asks again after the next chunk.
            case notRead
        }

        private let scan: PullScan
        private let maxBytes: Int
        private var page = EncodedPullPage()
        private var removed = Set<EntityID>()
        private var delivered = Set<EntityID>()
        private var index = 0

        init(_ scan: PullScan, maxBytes: Int) {
            self.scan = scan
            self.maxBytes = max(1, maxBytes)
        }

        /// The bytes of the households written so far.
        var byteCount: Int { page.byteCount }
        /// The households delivered so far.
        var deliveredCount: Int { delivered.count }

        /// Takes the steps it can; the finished page, or `nil` when a household is not read yet.
        mutating func advance(_ read: (EntityID) throws -> Read) throws -> ScannedPage? {
            let steps = scan.steps
            while index < steps.count {
                let step = steps[index].step
                switch step {
                case .remove(let id):
                    removed.insert(id)
                case .deliver(let id):
                    switch try read(id) {
                    case .parts(let household):
                        try page.add(household)
                        delivered.insert(id)
                    case .absent:
                        removed.insert(id)
                    case .notRead:
                        return nil
                    }
                }
                index += 1
                if case .deliver = step, page.byteCount >= maxBytes, index < steps.count {
                    let cut = steps[index].seq - 1
                    return ScannedPage(page: page, removed: removed.subtracting(delivered).sorted(), next: cut, hasMore: true)
                }
            }
            return ScannedPage(page: page, removed: removed.subtracting(delivered).sorted(), next: scan.next, hasMore: scan.hasMore)
        }
    }
}

/// A pull page written but for its server clock.
struct ScannedPage: Sendable {
    var page: EncodedPullPage
    var removed: [EntityID]
    var next: Int64
    var hasMore: Bool
    /// Households of the scope with a change after `next`, when the pull asked (1.3).
    var remaining: Int?

    init(page: EncodedPullPage, removed: [EntityID], next: Int64, hasMore: Bool) {
        self.page = page
        self.removed = removed
        self.next = next
        self.hasMore = hasMore
    }

    /// The page's bytes, its next position written as `cursor` says.
    func finished(serverClock: HLC, cursor: (Int64) -> String) -> [UInt8] {
        page.finished(hasMore: hasMore, next: cursor(next), removed: removed, serverClock: serverClock, remaining: remaining)
    }
}
