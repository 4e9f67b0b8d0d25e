import DoorstepCore
import Foundation
import Testing

@testable import DoorstepStorage

/// The pull page's scan of the change feed (`PullScan`), one rule for both backends, checked on
/// its own: which households a page delivers, which it reports removed, its cursor and `hasMore`.
struct PullScanTests {
    static let here = "150602", there = "150603"
    static let office = Principal(device: DeviceID(unchecked: "d1"), role: .office, district: here)
    static let city = Principal(device: DeviceID(unchecked: "d2"), role: .city, district: nil)

    let a = EntityID.random(), b = EntityID.random(), alias = EntityID.random(), elsewhere = EntityID.random()
    let unplaced = EntityID.random(), noDistrict = EntityID.random()

    var placed: [String: PullScan.Placement] {
        [
            a.description: .init(canonical: a.description, district: Self.here),
            b.description: .init(canonical: b.description, district: Self.here),
            alias.description: .init(canonical: a.description, district: Self.here),
            elsewhere.description: .init(canonical: elsewhere.description, district: Self.there),
            noDistrict.description: .init(canonical: noDistrict.description, district: nil),
        ]
    }

    @Test func aPage_deliversEachSurvivorOnce_inFeedOrder_andReportsTheRestRemoved() throws {
        let changed: [(seq: Int64, household: String)] = [
            (3, b.description), (4, "not an id"), (5, a.description), (6, b.description), (7, alias.description),
            (8, elsewhere.description), (9, unplaced.description), (10, noDistrict.description),
        ]
        let scan = PullScan(changed, limit: 8, after: 2, placed: placed, for: Self.office)
        #expect(scan.households == [b, a], "survivors of the scope, each once, in the order of their first change")
        #expect(scan.next == 10 && !scan.hasMore)
        let page = try scan.page { _ in nil }
        #expect(Set(page.removed) == [a, b, alias, elsewhere, unplaced, noDistrict], "without state, they are reported removed too")
        #expect(page.removed == page.removed.sorted(), "removed ids are sorted")

        let delivered = try scan.page { id in
            id == a
                ? AggregateParts(
                    aliases: [alias], children: [],
                    household: .merged(
                        EntityState(
                            kind: .household, id: a, household: a,
                            created: WriteID(hlc: HLC(wallMillis: 1, logical: 0), device: DeviceID(unchecked: "d1"))))) : nil
        }
        #expect(Set(delivered.removed) == [b, alias, elsewhere, unplaced, noDistrict], "a delivered household is never also removed")
        #expect(delivered.next == 10)
    }

    @Test func theCity_seesEveryDistrict_butNeverAnAliasOrAnUnplacedHousehold() {
        let changed: [(seq: Int64, household: String)] = [(1, elsewhere.description), (2, alias.description), (3, noDistrict.description), (4, a.description)]
        let scan = PullScan(changed, limit: 10, after: 0, placed: placed, for: Self.city)
        #expect(scan.households == [elsewhere, a])
    }

    @Test func aFullPage_stopsAtItsLimit_andSaysThereIsMore() {
        let ids = (0..<4).map { _ in EntityID.random() }
        var places: [String: PullScan.Placement] = [:]
        for id in ids { places[id.description] = .init(canonical: id.description, district: Self.here) }
        let changed = ids.enumerated().map { (seq: Int64(20 + $0.offset), household: $0.element.description) }
        let scan = PullScan(changed, limit: 3, after: 19, placed: places, for: Self.office)
        #expect(scan.households == Array(ids.prefix(3)), "the row past the limit only says there is more")
        #expect(scan.next == 22 && scan.hasMore)

        let empty = PullScan([], limit: 3, after: 19, placed: [:], for: Self.office)
        #expect(empty.households.isEmpty && empty.next == 19 && !empty.hasMore, "an empty page keeps the cursor")
    }

    /// A household's parts with no children: enough for a page to write it.
    static func parts(_ id: EntityID) -> AggregateParts {
        AggregateParts(
            aliases: [], children: [],
            household: .merged(
                EntityState(kind: .household, id: id, household: id, created: WriteID(hlc: HLC(wallMillis: 1, logical: 0), device: DeviceID(unchecked: "d1")))))
    }

    /// §9, §15: a page stops after the household that reaches its byte cap, its cursor before the
    /// first step it did not take; a household larger than the cap comes alone. Every household
    /// and every removal reaches the device exactly once over the pages.
    @Test func aPage_stopsAtItsByteCap_andTheNextPageGoesOnFromThere() throws {
        let ids = (0..<4).map { _ in EntityID.random() }
        var places = placed
        for id in ids { places[id.description] = .init(canonical: id.description, district: Self.here) }
        let changed: [(seq: Int64, household: String)] = [
            (20, ids[0].description), (21, elsewhere.description), (22, ids[1].description), (23, ids[0].description),
            (24, ids[2].description), (25, ids[3].description),
        ]
        var cursor: Int64 = 19
        var delivered: [EntityID] = []
        var removed: [EntityID] = []
        var pages = 0
        while true {
            let rows = changed.filter { $0.seq > cursor }
            let page = try PullScan(rows, limit: 10, after: cursor, placed: places, for: Self.office).page(maxBytes: 1) { Self.parts($0) }
            pages += 1
            #expect(page.page.added <= 1, "one household passes a one-byte cap, and comes alone")
            delivered += try (WireCoding.decode(PullPage.self, from: Data(page.finished(serverClock: .zero, cursor: { String($0) })))).households.map(
                \.household.id)
            removed += page.removed
            #expect(page.next >= cursor)
            cursor = page.next
            if !page.hasMore { break }
        }
        // The first household changed again after the first cut (seq 23): a later page brings it
        // again, its state as it is then (§9: a page may repeat a household a cut separated).
        #expect(pages == 5)
        #expect(delivered == [ids[0], ids[1], ids[0], ids[2], ids[3]])
        #expect(removed == [elsewhere])
        #expect(cursor == 25)
    }

    /// A household linked into another is removed on the page that delivers its survivor, so the
    /// device never drops the alias's entries before it holds them under the survivor.
    @Test func aRemovedAlias_bringsItsSurvivorOnTheSamePage() throws {
        let changed: [(seq: Int64, household: String)] = [(30, alias.description), (31, b.description)]
        let scan = PullScan(changed, limit: 10, after: 29, placed: placed, for: Self.office)
        #expect(scan.households == [a, b])
        let page = try scan.page { Self.parts($0) }
        #expect(page.removed == [alias])
        #expect(
            PullScan.unplacedSurvivors([(1, alias.description)], limit: 10, placed: [alias.description: .init(canonical: a.description)]) == [a.description])
    }

    @Test func aCursorAheadOfTheFeed_isRefused() {
        #expect(throws: DoorstepError.self) { try ChangeFeed.check(cursor: 11, latest: 10) }
        #expect(throws: Never.self) { try ChangeFeed.check(cursor: 10, latest: 10) }
    }
}
