import DoorstepCore
import Foundation

/// The office tally: the counters and lists of the campaign reports, and the households list,
/// kept from the change feed the way a device keeps its replica. Every change to a household
/// numbers it in the feed (`changes`); a refresh counts each household changed after its cursor
/// again (``CampaignReport/tally(_:history:city:)``), replaces the household's old part by the
/// new one in the counters, and moves its cursor. A report then reads counters, never households.
///
/// Both backends run the same steps: ``fingerprint(_:)`` to know whether the kept rows were
/// counted under the same rules and city data (else count everything again), ``Chunk`` for
/// which households a step counts, ``Plan`` for what it writes.
enum OfficeTally {
    /// The version of the tally's rules: raise it when a tally is counted differently, and every
    /// server counts its households again at its next refresh.
    static let rulesVersion = 1
    /// Households counted in one write transaction (short, so that pushes wait little).
    static let chunk = 200
    /// The `meta` keys of the tally: the fingerprint its rows were counted under, and its cursor.
    static let fingerprintKey = "tally.fingerprint"
    static let cursorKey = "tally.seq"
    /// The fingerprint under which the tally last reached the feed's end: while it differs from
    /// `tally.fingerprint`, a count of every household is under way and the rows are partial.
    static let completeKey = "tally.complete"

    /// What the kept rows depend on besides the households: the rules' version, the districts
    /// (time zones, minimum-living standards) and the campaigns (their windows), as a stable hash.
    static func fingerprint(_ city: CityData) -> String {
        struct Basis: Encodable {
            var rules: Int
            var districts: [District]
            var campaigns: [Campaign]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(Basis(rules: rulesVersion, districts: city.districts, campaigns: city.campaigns))) ?? Data()
        // FNV-1a, 64 bits: stable across processes (Swift's Hasher is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\(rulesVersion)-" + String(hash, radix: 16)
    }

    /// Which households a chunk of the feed asks to count, given where each is now.
    struct Chunk {
        /// Survivors to count again.
        var survivors: [EntityID] = []
        /// Households that are aliases now, or gone: their part leaves the tally.
        var dropped: [EntityID] = []

        /// `changed`: the households of the feed's rows; `canonical`: each one's survivor (absent
        /// when the household is unknown). An alias's survivor is counted too (its aliases changed).
        init(changed: [EntityID], canonical: [EntityID: EntityID]) {
            var counted = Set<EntityID>()
            var droppedSet = Set<EntityID>()
            for id in changed {
                guard let survivor = canonical[id] else {
                    if droppedSet.insert(id).inserted { dropped.append(id) }
                    continue
                }
                if survivor != id, droppedSet.insert(id).inserted { dropped.append(id) }
                if counted.insert(survivor).inserted { survivors.append(survivor) }
            }
        }
    }

    /// A list row: which list, whose, and how the household reads in it.
    struct ListRow {
        var listing: HouseholdTally.Listing
        var household: EntityID
        var reference: CampaignReport.HouseholdRef
    }

    /// What a chunk writes: counter changes, list rows to remove and to write, and each
    /// household's kept tally (`nil`: delete it).
    struct Plan {
        var counters: [HouseholdTally.Counter: Int] = [:]
        var unlisted: [(listing: HouseholdTally.Listing, household: EntityID)] = []
        var listed: [ListRow] = []
        var tallies: [(household: EntityID, tally: HouseholdTally?)] = []

        /// The plan that replaces each household's `old` tally by its `new` one.
        init(old: [EntityID: HouseholdTally], new: [(EntityID, HouseholdTally?)]) {
            for (id, tally) in new {
                let before = old[id]
                for (counter, change) in HouseholdTally.delta(from: before, to: tally) { counters[counter, default: 0] += change }
                let kept = tally?.listings ?? []
                for listing in (before?.listings ?? []).subtracting(kept) { unlisted.append((listing, id)) }
                if let tally {
                    // Written again even when listed before: its status or name may have changed.
                    for listing in kept.sorted(by: { ($0.scope, $0.list.rawValue) < ($1.scope, $1.list.rawValue) }) {
                        listed.append(ListRow(listing: listing, household: id, reference: tally.reference))
                    }
                }
                if before != tally { tallies.append((id, tally)) }
            }
            counters = counters.filter { $0.value != 0 }
        }

        /// The counter changes in a stable order (rows are written in key order).
        var orderedCounters: [(HouseholdTally.Counter, Int)] {
            counters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    /// The review queue's duplicates of each district: the duplicate links not undone are the
    /// aliases of the district's survivors, which the tally counts as "twice" (no second count).
    static func countDuplicates(_ tallies: inout ReportTallies) {
        for (code, counts) in tallies.counts {
            if let twice = counts[CampaignReport.tallyTwiceKey], twice != 0 { tallies.pendingReview[code, default: ReviewCounts()].duplicates = twice }
        }
    }

    /// How many households match a list query, when its page already tells: a first page with
    /// room left holds them all. `nil`: count them.
    static func knownTotal(_ query: HouseholdsQuery, page count: Int) -> Int? {
        query.offset == 0 && query.after == nil && count < query.limit ? count : nil
    }

    /// How a search text matches a household in the list: the head's name contains it, or the
    /// national ID ends with it (case-insensitive). The `LIKE` patterns both backends use, with
    /// `\` as the escape character.
    static func searchPatterns(_ search: String) -> (name: String, nationalId: String)? {
        let needle = search.trimmingCharacters(in: .whitespaces).uppercased()
        guard !needle.isEmpty else { return nil }
        let escaped = needle.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return ("%" + escaped + "%", "%" + escaped)
    }
}
