import Foundation
import PropertyBased
import Testing

@testable import DoorstepCore

@Suite struct HLCTests {
    // MARK: Values and string form

    @Test(arguments: [
        (HLC(wallMillis: 0, logical: 0), "0000000000000000"),
        (HLC(wallMillis: 1, logical: 1), "0000000000010001"),
        (HLC(wallMillis: 1_586_658_600_000, logical: 1), "01716c38e4400001"),
        (HLC(wallMillis: 0xABC, logical: 0xFFFF), "000000000abcffff"),
        (HLC(wallMillis: HLC.maxWallMillis, logical: .max), "ffffffffffffffff"),
    ])
    func description_sixteenLowerCaseHexDigits(_ stamp: HLC, _ text: String) throws {
        #expect(stamp.description == text)
        #expect(try HLC(text) == stamp)
    }

    @Test func init_wallOutOfRange_clamped() {
        #expect(HLC(wallMillis: -5, logical: 3) == HLC(wallMillis: 0, logical: 3))
        #expect(HLC(wallMillis: .max, logical: 0).wallMillis == HLC.maxWallMillis)
        #expect(HLC.zero.wallMillis == 0 && HLC.zero.logical == 0)
    }

    @Test(arguments: [
        "",
        "01716c38e440000",  // 15
        "01716c38e44000001",  // 17
        "01716C38E4400001",  // upper case
        "01716c38e440000g",
        "+171700ca7400001",
        "-171700ca7400001",
        " 171700ca7400001",
        "0x71700ca7400001",
        "０171700ca740000",  // full-width digit
    ])
    func parse_invalid_rejectedWithCode(_ text: String) {
        let error = expectError(.invalidValue) { _ = try HLC(text) }
        #expect(error?.message.contains("clock stamp") == true)
    }

    @Test func codable_asString() throws {
        let stamps = [HLC(wallMillis: 1_586_658_600_000, logical: 2)]
        let data = try JSONEncoder().encode(stamps)
        #expect(String(decoding: data, as: UTF8.self) == #"["01716c38e4400002"]"#)
        #expect(try JSONDecoder().decode([HLC].self, from: data) == stamps)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([HLC].self, from: Data(#"["xyz"]"#.utf8)) }
    }

    @Test func order_wallFirstThenLogical() {
        #expect(HLC(wallMillis: 1, logical: 9) < HLC(wallMillis: 2, logical: 0))
        #expect(HLC(wallMillis: 2, logical: 0) < HLC(wallMillis: 2, logical: 1))
        #expect(!(HLC(wallMillis: 2, logical: 1) < HLC(wallMillis: 2, logical: 1)))
        #expect(HLC.zero < HLC(wallMillis: 0, logical: 1))
    }

    @Test func successor_incrementsLogicalThenWall() {
        #expect(HLC(wallMillis: 5, logical: 0).successor == HLC(wallMillis: 5, logical: 1))
        #expect(HLC(wallMillis: 5, logical: 0xFFFE).successor == HLC(wallMillis: 5, logical: 0xFFFF))
        #expect(HLC(wallMillis: 5, logical: .max).successor == HLC(wallMillis: 6, logical: 0))
    }

    @Test func successor_atLargestStamp_saturatesInsteadOfWrapping() {
        let largest = HLC(wallMillis: HLC.maxWallMillis, logical: .max)
        #expect(largest.successor == largest)
        #expect(HLC(wallMillis: HLC.maxWallMillis, logical: 7).successor == HLC(wallMillis: HLC.maxWallMillis, logical: 8))
    }

    // MARK: Properties of the string form

    static let anyWall = Gen.int64(in: 0...HLC.maxWallMillis)
    static let anyLogical = Gen.uint16(in: 0...UInt16.max)
    static let nearWall = Gen.int64(in: 1_586_658_600_000...1_586_658_600_003)
    static let nearLogical = Gen.uint16(in: 0...3)

    static func checkStringOrder(_ a: HLC, _ b: HLC) throws {
        #expect(try HLC(a.description) == a)
        #expect(a.description.count == 16)
        #expect(a.description == a.description.lowercased())
        #expect((a < b) == (a.description < b.description), "\(a) vs \(b)")
        #expect((a == b) == (a.description == b.description))
    }

    @Test func stringForm_anyStamps_roundTripsAndSortsLikeStamps() async {
        await propertyCheck(count: 300, input: Self.anyWall, Self.anyLogical, Self.anyWall, Self.anyLogical) { w1, l1, w2, l2 in
            try Self.checkStringOrder(HLC(wallMillis: w1, logical: l1), HLC(wallMillis: w2, logical: l2))
        }
    }

    @Test func stringForm_closeStamps_roundTripsAndSortsLikeStamps() async {
        // Narrow ranges so that equal walls, equal stamps and logical ties happen often.
        await propertyCheck(count: 300, input: Self.nearWall, Self.nearLogical, Self.nearWall, Self.nearLogical) { w1, l1, w2, l2 in
            try Self.checkStringOrder(HLC(wallMillis: w1, logical: l1), HLC(wallMillis: w2, logical: l2))
        }
    }

    @Test func stringForm_seededList_sortedTextEqualsSortedStamps() {
        var rng = SeededGenerator(seed: 42)
        var stamps: [HLC] = []
        for _ in 0..<500 {
            let magnitude = Int64.random(in: 0...11, using: &rng)
            let wall = Int64.random(in: 0...((Int64(1) << (magnitude * 4)) - 1), using: &rng)
            stamps.append(HLC(wallMillis: wall, logical: UInt16.random(in: 0...UInt16.max, using: &rng)))
        }
        #expect(stamps.sorted().map(\.description) == stamps.map(\.description).sorted())
    }

    // MARK: The clock

    @Test func tick_physicalAdvancing_usesPhysicalTime() {
        let physical = ScriptedClock([1000, 1005, 2000])
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        #expect(clock.tick() == HLC(wallMillis: 1000, logical: 0))
        #expect(clock.tick() == HLC(wallMillis: 1005, logical: 0))
        #expect(clock.tick() == HLC(wallMillis: 2000, logical: 0))
        #expect(clock.last == HLC(wallMillis: 2000, logical: 0))
    }

    @Test func tick_physicalStandsStill_countsLogically() {
        let physical = ScriptedClock([1000])
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        #expect(clock.tick() == HLC(wallMillis: 1000, logical: 0))
        #expect(clock.tick() == HLC(wallMillis: 1000, logical: 1))
        #expect(clock.tick() == HLC(wallMillis: 1000, logical: 2))
    }

    @Test func tick_physicalGoesBackwards_staysMonotonic() {
        let physical = ScriptedClock([10_000, 10_000, 4_000, 9_999, 10_001, 3])
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        let stamps = (0..<6).map { _ in clock.tick() }
        #expect(
            stamps == [
                HLC(wallMillis: 10_000, logical: 0),
                HLC(wallMillis: 10_000, logical: 1),
                HLC(wallMillis: 10_000, logical: 2),  // the laptop's clock was set back 6 s
                HLC(wallMillis: 10_000, logical: 3),
                HLC(wallMillis: 10_001, logical: 0),  // physical time caught up
                HLC(wallMillis: 10_001, logical: 1),
            ])
    }

    @Test func tick_seededJitteryClock_strictlyIncreasingAndNeverBehindPhysical() {
        var rng = SeededGenerator(seed: 7)
        var readings: [Int64] = []
        var now: Int64 = 1_586_658_600_000
        for _ in 0..<2_000 {
            now += Int64.random(in: -50...60, using: &rng)  // drifts, jumps back, stalls
            readings.append(now)
        }
        let physical = ScriptedClock(readings)
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        var previous = HLC.zero
        for reading in readings {
            let stamp = clock.tick()
            #expect(previous < stamp)
            #expect(stamp.wallMillis >= reading)
            #expect(clock.last == stamp)
            previous = stamp
        }
    }

    @Test func tick_logicalOverflow_movesToNextMillisecond() {
        let physical = ScriptedClock([1000])
        var clock = HybridLogicalClock(last: HLC(wallMillis: 1000, logical: 0xFFFE), physicalMillis: physical.millis)
        #expect(clock.tick() == HLC(wallMillis: 1000, logical: 0xFFFF))
        #expect(clock.tick() == HLC(wallMillis: 1001, logical: 0))
        #expect(clock.tick() == HLC(wallMillis: 1001, logical: 1))
    }

    @Test func tick_afterRestartFromPersistedLast_continuesAfterIt() {
        // A device persisted its last stamp, then restarted with its clock set back.
        let persisted = HLC(wallMillis: 50_000, logical: 7)
        let physical = ScriptedClock([40_000, 60_000])
        var clock = HybridLogicalClock(last: persisted, physicalMillis: physical.millis)
        #expect(clock.last == persisted)
        #expect(clock.tick() == HLC(wallMillis: 50_000, logical: 8))
        #expect(clock.tick() == HLC(wallMillis: 60_000, logical: 0))
    }

    @Test func absorb_remoteAhead_laterTicksOrderAfterIt() {
        let physical = ScriptedClock([1000])
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        _ = clock.tick()
        let server = HLC(wallMillis: 5000, logical: 3)
        clock.absorb(server)
        #expect(clock.last == server)
        let next = clock.tick()
        #expect(next == HLC(wallMillis: 5000, logical: 4))
        #expect(server < next)
    }

    @Test func absorb_remoteBehind_changesNothing() {
        let physical = ScriptedClock([8000])
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        let mine = clock.tick()
        clock.absorb(HLC(wallMillis: 2000, logical: 99))
        clock.absorb(mine)
        #expect(clock.last == mine)
        #expect(clock.tick() == HLC(wallMillis: 8000, logical: 1))
    }

    @Test func physicalNow_readsInjectedClock() {
        let physical = ScriptedClock([123, 456])
        let clock = HybridLogicalClock(physicalMillis: physical.millis)
        #expect(clock.physicalNow == 123)
        #expect(clock.physicalNow == 456)
        #expect(clock.last == .zero)
    }

    @Test func systemMillis_isNow() {
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 1
        let reading = HybridLogicalClock.systemMillis()
        let after = Int64(Date().timeIntervalSince1970 * 1000) + 1
        #expect((before...after).contains(reading))
    }

    @Test func tick_physicalBeyondLargestWall_clampedAndStillIncreasing() {
        // A broken real-time clock can read past the largest wall time the stamp can hold.
        let physical = ScriptedClock([HLC.maxWallMillis + 10])
        var clock = HybridLogicalClock(physicalMillis: physical.millis)
        let first = clock.tick()
        #expect(first == HLC(wallMillis: HLC.maxWallMillis, logical: 0))
        let second = clock.tick()
        #expect(first < second)
    }

    // MARK: Clock skew

    static let server: Int64 = 1_586_658_600_000

    @Test(arguments: [
        (server - 86_400_000, false),  // a day behind: allowed (late, not ahead)
        (server, false),
        (server + 299_999, false),
        (server + 300_000, false),  // exactly the bound
        (server + 300_001, true),
        (server + 86_400_000 * 3650, true),  // a laptop set ten years ahead
    ])
    func clamp_defaultFiveMinutes(_ wall: Int64, _ clamped: Bool) {
        let policy = ClockSkewPolicy()
        #expect(policy.maxAheadMillis == 300_000)
        let stamp = HLC(wallMillis: wall, logical: 7)
        let result = policy.clamp(stamp, serverMillis: Self.server)
        #expect(result.clamped == clamped)
        if clamped {
            #expect(result.stamp == HLC(wallMillis: Self.server + 300_000, logical: 7))
        } else {
            #expect(result.stamp == stamp)
        }
    }

    @Test func clamp_customBound() {
        let policy = ClockSkewPolicy(maxAheadMillis: 1000)
        let result = policy.clamp(HLC(wallMillis: 5000, logical: 0), serverMillis: 3000)
        #expect(result.clamped)
        #expect(result.stamp == HLC(wallMillis: 4000, logical: 0))
        #expect(!policy.clamp(HLC(wallMillis: 4000, logical: 9), serverMillis: 3000).clamped)
    }

    @Test func clamp_zeroBound_nothingAheadOfServer() {
        let policy = ClockSkewPolicy(maxAheadMillis: 0)
        #expect(policy.clamp(HLC(wallMillis: 3001, logical: 0), serverMillis: 3000) == (HLC(wallMillis: 3000, logical: 0), true))
        #expect(policy.clamp(HLC(wallMillis: 3000, logical: 5), serverMillis: 3000) == (HLC(wallMillis: 3000, logical: 5), false))
    }

    @Test func clockSkewPolicy_codable() throws {
        let data = try JSONEncoder().encode(ClockSkewPolicy(maxAheadMillis: 60_000))
        #expect(String(decoding: data, as: UTF8.self) == #"{"maxAheadMillis":60000}"#)
        #expect(try JSONDecoder().decode(ClockSkewPolicy.self, from: data) == ClockSkewPolicy(maxAheadMillis: 60_000))
    }
}
