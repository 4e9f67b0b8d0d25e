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

    @Test func aCursorAheadOfTheFeed_isRefused() {
        #expect(throws: DoorstepError.self) { try ChangeFeed.check(cursor: 11, latest: 10) }
        #expect(throws: Never.self) { try ChangeFeed.check(cursor: 10, latest: 10) }
    }
}
