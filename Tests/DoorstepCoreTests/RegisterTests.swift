import Foundation
import Testing

@testable import DoorstepCore

/// A write id for tests: stamp `(wall, logical)` by device `dev`.
func wid(_ wall: Int64, _ logical: UInt16 = 0, _ dev: String = "dev-a") -> WriteID {
    WriteID(hlc: HLC(wallMillis: wall, logical: logical), device: device(dev))
}

@Suite struct RegisterTests {
    // MARK: Single writes

    @Test func empty_noHeadsAndNullValue() {
        let register = Register()
        #expect(register.isEmpty)
        #expect(register.heads.isEmpty)
        #expect(register.shown == nil)
        #expect(register.value == .null)
        #expect(register.distinctValues.isEmpty)
        #expect(!register.isConflicted)
        #expect(register.headIDs.isEmpty)
    }

    @Test func apply_firstWrite_singleHead() {
        var register = Register()
        register.apply(wid(1), value: "Zhang San", base: [])
        #expect(register.headIDs == [wid(1)])
        #expect(register.value == "Zhang San")
        #expect(!register.isEmpty)
        #expect(!register.isConflicted)
    }

    @Test func apply_baseNamesHead_replacesIt() {
        var register = Register()
        register.apply(wid(1), value: "old", base: [])
        register.apply(wid(2, 0, "dev-b"), value: "new", base: [wid(1)])
        #expect(register.headIDs == [wid(2, 0, "dev-b")])
        #expect(register.value == "new")
        #expect(register.superseded == [wid(1)])
        #expect(!register.isConflicted)
    }

    @Test func apply_baseNamesOnlySomeHeads_keepsTheOthers() {
        var register = Register()
        register.apply(wid(1, 0, "dev-a"), value: "a", base: [])
        register.apply(wid(1, 0, "dev-b"), value: "b", base: [])
        register.apply(wid(2, 0, "dev-c"), value: "c", base: [wid(1, 0, "dev-a")])
        #expect(register.headIDs == [wid(1, 0, "dev-b"), wid(2, 0, "dev-c")])
        #expect(register.isConflicted)
    }

    @Test func apply_concurrentWrites_severalHeadsSortedAndLatestShown() {
        var register = Register()
        register.apply(wid(1), value: 100, base: [])
        // Two visitors edit offline from the same base.
        register.apply(wid(5, 0, "dev-b"), value: 200, base: [wid(1)])
        register.apply(wid(3, 0, "dev-c"), value: 300, base: [wid(1)])
        #expect(register.headIDs == [wid(3, 0, "dev-c"), wid(5, 0, "dev-b")])
        #expect(register.isConflicted)
        #expect(register.shown?.write == wid(5, 0, "dev-b"))
        #expect(register.value == 200)
        #expect(register.distinctValues == [200, 300])  // latest first
    }

    @Test func apply_concurrentEqualValues_notAConflict() {
        var register = Register()
        register.apply(wid(1), value: "filed", base: [])
        register.apply(wid(2, 0, "dev-b"), value: "closed", base: [wid(1)])
        register.apply(wid(2, 0, "dev-c"), value: "closed", base: [wid(1)])
        #expect(register.heads.count == 2)
        #expect(register.distinctValues == ["closed"])
        #expect(!register.isConflicted)
        #expect(register.value == "closed")
    }

    @Test func apply_resolvingWriteNamesAllHeads_conflictGone() {
        var register = Register()
        register.apply(wid(2, 0, "dev-b"), value: "x", base: [])
        register.apply(wid(2, 0, "dev-c"), value: "y", base: [])
        #expect(register.isConflicted)
        register.apply(wid(3, 0, "office"), value: "y", base: register.headIDs)
        #expect(register.headIDs == [wid(3, 0, "office")])
        #expect(!register.isConflicted)
    }

    @Test func shown_sameStamp_deviceIdBreaksTie() {
        var register = Register()
        register.apply(wid(7, 3, "dev-b"), value: "b", base: [])
        register.apply(wid(7, 3, "dev-a"), value: "a", base: [])
        register.apply(wid(7, 2, "dev-z"), value: "z", base: [])
        #expect(register.shown?.write == wid(7, 3, "dev-b"))
        #expect(register.value == "b")
        #expect(register.headIDs == [wid(7, 2, "dev-z"), wid(7, 3, "dev-a"), wid(7, 3, "dev-b")])
    }

    @Test func shown_laterLogical_winsOverDevice() {
        var register = Register()
        register.apply(wid(7, 4, "aaa"), value: "later", base: [])
        register.apply(wid(7, 3, "zzz"), value: "earlier", base: [])
        #expect(register.value == "later")
    }

    @Test func apply_sameWriteTwice_changesNothing() {
        var register = Register()
        register.apply(wid(1), value: "a", base: [])
        register.apply(wid(2, 0, "dev-b"), value: "b", base: [wid(1)])
        let once = register
        register.apply(wid(2, 0, "dev-b"), value: "b", base: [wid(1)])
        register.apply(wid(1), value: "a", base: [])
        #expect(register == once)
    }

    @Test func apply_supersededWriteArrivesLate_neverBecomesHead() {
        var register = Register()
        register.apply(wid(2, 0, "dev-b"), value: "new", base: [wid(1)])
        register.apply(wid(1), value: "old", base: [])
        #expect(register.headIDs == [wid(2, 0, "dev-b")])
        #expect(register.value == "new")
    }

    @Test func apply_baseNamingItself_ignored() {
        var register = Register()
        register.apply(wid(1), value: "a", base: [wid(1)])
        #expect(register.headIDs == [wid(1)])
        #expect(register.superseded.isEmpty)
    }

    @Test func apply_deletionCovers_keptOnHead() {
        var register = Register()
        register.apply(wid(1), value: false, base: [])
        register.apply(wid(2), value: true, base: [wid(1)], covers: [wid(1), wid(1, 5, "dev-b")])
        #expect(register.shown?.covers == [wid(1), wid(1, 5, "dev-b")])
        #expect(register.value == true)
    }

    @Test func initHeads_sortedByWriteID() {
        let register = Register(heads: [
            Head(write: wid(9), value: "c"),
            Head(write: wid(1, 0, "dev-z"), value: "a"),
            Head(write: wid(1, 1, "dev-a"), value: "b"),
        ])
        #expect(register.headIDs == [wid(1, 0, "dev-z"), wid(1, 1, "dev-a"), wid(9)])
        #expect(register.value == "c")
        #expect(register.distinctValues == ["c", "b", "a"])
    }

    @Test func head_codable_valueAndCoversOptional() throws {
        let head = try JSONDecoder().decode(Head.self, from: Data(#"{"write":"0000000000010000@dev-a"}"#.utf8))
        #expect(head == Head(write: wid(1), value: .null, covers: []))
        let encoded = String(decoding: try JSONEncoder().encode(Head(write: wid(1), value: 5)), as: UTF8.self)
        #expect(!encoded.contains("covers"))
        let round = Head(write: wid(1), value: "x", covers: [wid(0, 1)])
        #expect(try JSONDecoder().decode(Head.self, from: JSONEncoder().encode(round)) == round)
    }

    // MARK: Properties over seeded random write sets

    struct Write: CustomStringConvertible {
        var id: WriteID
        var value: JSONValue
        var base: [WriteID]
        var description: String { "\(id) = \(value) base \(base)" }
    }

    /// One to five writes; each write's base is a random subset of earlier writes (sometimes
    /// also a write that is never delivered), and its stamp is later than its base's.
    static func randomWrites(seed: UInt64) -> [Write] {
        var rng = SeededGenerator(seed: seed)
        let devices = ["dev-a", "dev-b", "dev-c"]
        let values: [JSONValue] = ["x", "y", 1, .null]
        var writes: [Write] = []
        let count = Int.random(in: 1...5, using: &rng)
        while writes.count < count {
            var base = writes.filter { _ in Bool.random(using: &rng) }.map(\.id)
            if Int.random(in: 0..<5, using: &rng) == 0 { base.append(wid(1, 0, "never-delivered")) }
            let floor = base.map(\.hlc.wallMillis).max() ?? 0
            let id = wid(
                floor + Int64.random(in: 1...2, using: &rng),
                UInt16.random(in: 0...1, using: &rng),
                devices.randomElement(using: &rng)!
            )
            guard !writes.contains(where: { $0.id == id }) else { continue }
            writes.append(Write(id: id, value: values.randomElement(using: &rng)!, base: base.shuffled(using: &rng)))
        }
        return writes
    }

    /// The register's definition: heads are the writes that no write's base names.
    static func expectedHeads(_ writes: [Write]) -> [Head] {
        let named = Set(writes.flatMap { write in write.base.filter { $0 != write.id } })
        return writes.filter { !named.contains($0.id) }
            .sorted { $0.id < $1.id }
            .map { Head(write: $0.id, value: $0.value) }
    }

    static func applying(_ writes: some Sequence<Write>, to start: Register = Register()) -> Register {
        var register = start
        for write in writes { register.apply(write.id, value: write.value, base: write.base) }
        return register
    }

    static let seeds: [UInt64] = Array(1...300)

    @Test func apply_everyPermutation_sameHeads() {
        var permutationsChecked = 0
        for seed in Self.seeds {
            let writes = Self.randomWrites(seed: seed)
            let expected = Self.expectedHeads(writes)
            let reference = Self.applying(writes)
            #expect(reference.heads == expected, "seed \(seed): \(writes)")
            for order in permutations(writes) {
                let register = Self.applying(order)
                #expect(register.heads == reference.heads, "seed \(seed), order \(order.map(\.id))")
                #expect(register.superseded == reference.superseded, "seed \(seed)")
                #expect(register.value == reference.value)
                permutationsChecked += 1
            }
        }
        #expect(permutationsChecked > 3_000)  // the generator really made several-write sets
    }

    @Test func apply_everyPermutationTwice_sameHeads() {
        // Redelivery (a replayed batch) in any order changes nothing.
        for seed in Self.seeds.prefix(100) {
            let writes = Self.randomWrites(seed: seed)
            let reference = Self.applying(writes)
            var rng = SeededGenerator(seed: seed &* 31)
            let doubled = (writes + writes).shuffled(using: &rng)
            #expect(Self.applying(doubled).heads == reference.heads, "seed \(seed)")
        }
    }

    @Test func merge_twoReplicas_equalsApplyingTheUnion() {
        for seed in Self.seeds {
            let writes = Self.randomWrites(seed: seed)
            var rng = SeededGenerator(seed: seed &+ 1_000_000)
            var left: [Write] = []
            var right: [Write] = []
            for write in writes {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: left.append(write)
                case 1: right.append(write)
                default:
                    left.append(write)
                    right.append(write)
                }
            }
            let a = Self.applying(left.shuffled(using: &rng))
            let b = Self.applying(right.shuffled(using: &rng))
            let union = Self.applying(writes)

            var ab = a
            ab.merge(b)
            var ba = b
            ba.merge(a)
            #expect(ab.heads == union.heads, "seed \(seed)")
            #expect(ab.superseded == union.superseded, "seed \(seed)")
            #expect(ba.heads == union.heads, "seed \(seed)")
            #expect(ab == ba)

            var aa = a
            aa.merge(a)
            #expect(aa == a, "merge is idempotent, seed \(seed)")

            // Merging and then applying more writes equals applying everything.
            var later = ab
            for write in writes { later.apply(write.id, value: write.value, base: write.base) }
            #expect(later.heads == union.heads)
        }
    }

    @Test func merge_empty_isIdentity() {
        var register = Register()
        register.apply(wid(1), value: "a", base: [])
        var merged = register
        merged.merge(Register())
        #expect(merged == register)
        var fromEmpty = Register()
        fromEmpty.merge(register)
        #expect(fromEmpty == register)
    }

    @Test func merge_otherSupersedesMyHead_headRemoved() {
        var mine = Register()
        mine.apply(wid(1), value: "old", base: [])
        var theirs = Register()
        theirs.apply(wid(2, 0, "dev-b"), value: "new", base: [wid(1)])
        mine.merge(theirs)
        #expect(mine.headIDs == [wid(2, 0, "dev-b")])
        #expect(mine.value == "new")
    }
}

@Suite struct WriteIDTests {
    @Test func description_stampAtDevice_roundTrips() throws {
        let id = wid(1_586_658_600_000, 1, "3f2a0c1e-0000-4000-8000-00000000abcd")
        #expect(id.description == "01716c38e4400001@3f2a0c1e-0000-4000-8000-00000000abcd")
        #expect(try WriteID(id.description) == id)
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["01716c38e4400001@3f2a0c1e-0000-4000-8000-00000000abcd"]"#)
        #expect(try JSONDecoder().decode([WriteID].self, from: data) == [id])
    }

    @Test(arguments: [
        "01716c38e4400001",  // no device
        "01716c38e4400001@",  // empty device
        "@dev-a",  // no stamp
        "01716C38E4400001@dev-a",  // upper-case stamp
        "01716c38e4400001@Dev-A",  // upper-case device
        "01716c38e4400001@dev@a",
        "01716c38e4400001@dev a",
        "01716c38e4400001@dev_a",
        "",
    ])
    func parse_invalid_rejectedWithCode(_ text: String) {
        expectError(.invalidValue) { _ = try WriteID(text) }
    }

    @Test func order_stampFirstThenDevice() {
        #expect(wid(1, 0, "zzz") < wid(2, 0, "aaa"))
        #expect(wid(2, 0, "zzz") < wid(2, 1, "aaa"))
        #expect(wid(2, 1, "aaa") < wid(2, 1, "aab"))
        #expect(!(wid(2, 1, "aaa") < wid(2, 1, "aaa")))
        let shuffled = [wid(3, 0, "b"), wid(1, 0, "c"), wid(3, 0, "a"), wid(1, 1, "a")]
        #expect(shuffled.sorted() == [wid(1, 0, "c"), wid(1, 1, "a"), wid(3, 0, "a"), wid(3, 0, "b")])
    }

    @Test(arguments: ["a", "0", "-", "dev-1", String(repeating: "a", count: 64), "3f2a0c1e-0000-4000-8000-00000000abcd"])
    func deviceID_valid_accepted(_ text: String) throws {
        #expect(try DeviceID(text).rawValue == text)
    }

    @Test(arguments: ["", String(repeating: "a", count: 65), "A", "dev_1", "dev 1", "dev.1", "dév", "dev/1"])
    func deviceID_invalid_rejectedWithCode(_ text: String) {
        let error = expectError(.invalidValue) { _ = try DeviceID(text) }
        #expect(error?.message.contains("device id") == true)
    }

    @Test func deviceID_random_isValidLowerCaseUUID() throws {
        let a = DeviceID.random()
        let b = DeviceID.random()
        #expect(a != b)
        #expect(a.rawValue.count == 36)
        #expect(try DeviceID(a.rawValue) == a)
        #expect(a.rawValue == a.rawValue.lowercased())
    }

    @Test func deviceID_codable_validates() throws {
        #expect(try JSONDecoder().decode([DeviceID].self, from: Data(#"["dev-a"]"#.utf8)) == [device("dev-a")])
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([DeviceID].self, from: Data(#"["DEV"]"#.utf8)) }
    }
}
