import Foundation
import Testing

@testable import DoorstepCore

/// FastJSON against Foundation's coders: the same bytes out, the same values in, the same refusals.
@Suite struct FastJSONTests {
    static let pieces = ["王某某", "a", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "\u{7F}", "\u{2028}", "é", "😀", " ", "x y", "1", "东胜区 建设街"]

    static func text(_ g: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...4, using: &g)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &g)] }.joined()
    }

    static func value(_ g: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 1 ? 4 : 6), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .int([Int64.min, Int64.max, 0, -1, Int64.random(in: -1_000_000...1_000_000, using: &g)][Int.random(in: 0..<5, using: &g)])
        case 3: return .string(text(&g))
        case 4: return .array((0..<Int.random(in: 0...3, using: &g)).map { _ in value(&g, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...3, using: &g) { members[text(&g)] = value(&g, depth: depth + 1) }
            return .object(members)
        }
    }

    static func write(_ g: inout SeededGenerator) -> WriteID {
        WriteID(
            hlc: HLC(wallMillis: Int64.random(in: 0...HLC.maxWallMillis, using: &g), logical: UInt16.random(in: 0...UInt16.max, using: &g)),
            device: DeviceID(unchecked: EntityID.random(using: &g).description))
    }

    static func entity(_ g: inout SeededGenerator, kind: EntityKind, household: EntityID) -> EntityState {
        let id = kind == .household ? household : EntityID.random(using: &g)
        var state = EntityState(kind: kind, id: id, household: household, created: write(&g))
        let names = ["headName", "_deleted", "monthlyIncomeFen", "verified", "address", "notes", "aB", "ab", "Z"]
        for _ in 0..<Int.random(in: 0...6, using: &g) {
            let heads = (0..<Int.random(in: 1...3, using: &g)).map { _ in
                Head(write: write(&g), value: value(&g), covers: Bool.random(using: &g) ? [] : (0..<Int.random(in: 1...2, using: &g)).map { _ in write(&g) })
            }
            state.fields[names[Int.random(in: 0..<names.count, using: &g)]] = Register(heads: heads)
        }
        return state
    }

    static func aggregate(_ g: inout SeededGenerator) -> HouseholdAggregate {
        let id = EntityID.random(using: &g)
        let kinds: [EntityKind] = [.member, .visit, .liaison]
        return HouseholdAggregate(
            household: entity(&g, kind: .household, household: id),
            aliases: (0..<Int.random(in: 0...2, using: &g)).map { _ in EntityID.random(using: &g) },
            entities: (0..<Int.random(in: 0...5, using: &g)).map { _ in entity(&g, kind: kinds[Int.random(in: 0..<3, using: &g)], household: id) }
        )
    }

    @Test func pages_sameBytesAsWireCoding_andReadBackEqual() throws {
        var g = SeededGenerator(seed: 0xD00_5733)
        for round in 0..<300 {
            let page = PullPage(
                nextCursor: String(round), hasMore: Bool.random(using: &g), serverClock: HLC(wallMillis: Int64(round) * 977, logical: 3),
                households: (0..<Int.random(in: 0...3, using: &g)).map { _ in Self.aggregate(&g) },
                removed: (0..<Int.random(in: 0...2, using: &g)).map { _ in EntityID.random(using: &g) })
            let foundation = try WireCoding.encoder().encode(page)
            #expect(FastJSON.data(page) == foundation, "round \(round)")
            #expect(try FastJSON.decode(PullPage.self, from: foundation) == page)
            #expect(try JSONDecoder().decode(PullPage.self, from: FastJSON.data(page)) == page)
            for household in page.households {
                #expect(FastJSON.text(household) == String(decoding: try WireCoding.encoder().encode(household), as: UTF8.self))
            }
        }
    }

    @Test func batchesAndReceipts_sameBytesAsWireCoding_andReadBackEqual() throws {
        var g = SeededGenerator(seed: 0xBA7C4)
        let ops: [MutationOperation] = [.create, .update, .delete, .linkDecision]
        let codes: [DoorstepError.Code?] = [nil, .invalidValue, .outOfScope]
        for round in 0..<300 {
            let device = DeviceID(unchecked: EntityID.random(using: &g).description)
            let mutations = (0..<Int.random(in: 0...4, using: &g)).map { n in
                Mutation(
                    device: device, seq: Int64(round * 10 + n), hlc: Self.write(&g).hlc, op: ops[Int.random(in: 0..<4, using: &g)],
                    kind: [.household, .visit, .member][Int.random(in: 0..<3, using: &g)], entity: EntityID.random(using: &g),
                    household: EntityID.random(using: &g),
                    fields: (0..<Int.random(in: 0...3, using: &g)).map { _ in
                        FieldWrite(field: Self.text(&g), value: Self.value(&g), base: (0..<Int.random(in: 0...2, using: &g)).map { _ in Self.write(&g) })
                    },
                    covers: Bool.random(using: &g) ? [] : [Self.write(&g)], other: Bool.random(using: &g) ? nil : EntityID.random(using: &g))
            }
            // A batch declaring lost seqs, or what it had acknowledged (1.7), now and then: the same bytes from both writers.
            let first = mutations.first?.seq ?? 2
            let lost = first > 1 && Int.random(in: 0..<4, using: &g) == 0 ? SeqRange(from: Int64.random(in: 1..<first, using: &g), through: first - 1) : nil
            let acknowledged = Int.random(in: 0..<4, using: &g) == 0 ? Int64.random(in: 0..<1000, using: &g) : nil
            let batch = PushBatch(device: device, mutations: mutations, lost: lost, acknowledgedThrough: acknowledged)
            let batchData = try WireCoding.encoder().encode(batch)
            #expect(FastJSON.data(batch) == batchData, "round \(round)")
            #expect(try FastJSON.decode(PushBatch.self, from: batchData) == batch)
            let results = mutations.map { mutation in
                MutationResult(
                    seq: mutation.seq, outcome: [.applied, .alreadyApplied, .conflict, .rejected][Int.random(in: 0..<4, using: &g)],
                    code: codes[Int.random(in: 0..<3, using: &g)], reason: Bool.random(using: &g) ? nil : Self.text(&g),
                    reasonZh: Bool.random(using: &g) ? nil : "身份证号" + Self.text(&g),
                    stamp: Bool.random(using: &g) ? nil : Self.write(&g).hlc, conflictFields: Bool.random(using: &g) ? nil : [Self.text(&g)],
                    details: Bool.random(using: &g) ? nil : Self.details(&g), survivor: Bool.random(using: &g) ? nil : EntityID.random(using: &g))
            }
            let receipt = PushReceipt(
                device: device, highestContiguousSeq: Int64(round), serverClock: Self.write(&g).hlc, results: results, clockSkew: Bool.random(using: &g))
            let receiptData = try WireCoding.encoder().encode(receipt)
            #expect(FastJSON.data(receipt) == receiptData, "round \(round)")
            #expect(try FastJSON.decode(PushReceipt.self, from: receiptData) == receipt)
        }
    }

    /// Details with each key present or not, values of every kind a detail holds.
    static func details(_ g: inout SeededGenerator) -> ErrorDetails {
        func maybe<T>(_ make: (inout SeededGenerator) -> T) -> T? { Bool.random(using: &g) ? make(&g) : nil }
        return ErrorDetails(
            rule: maybe { text(&$0) }, field: maybe { text(&$0) }, kind: maybe { _ in "household" },
            limit: maybe { Int64.random(in: -5...100_000_000_000, using: &$0) }, minimum: maybe { Int64.random(in: 0...9, using: &$0) },
            allowed: maybe { g in (0..<Int.random(in: 0...3, using: &g)).map { _ in text(&g) } }, expected: maybe { text(&$0) },
            from: maybe { [text(&$0)] }, to: maybe { text(&$0) }, resumeFrom: maybe { Int64.random(in: 1...99, using: &$0) },
            retryAfterSeconds: maybe { Int64.random(in: 1...300, using: &$0) })
    }

    @Test func pulledPages_keepEachTextAsItArrived() throws {
        var g = SeededGenerator(seed: 0x9A6E)
        for round in 0..<100 {
            let page = PullPage(
                nextCursor: String(round), hasMore: false, serverClock: HLC(wallMillis: 5, logical: 0),
                households: (0..<Int.random(in: 0...3, using: &g)).map { _ in Self.aggregate(&g) }, removed: [])
            let compact = try FastJSON.decodePulledPage(try WireCoding.encoder().encode(page))
            #expect(compact.page == page)
            #expect(compact.entityTexts == page.households.map { $0.entities.map { FastJSON.text($0) } })
            #expect(compact.householdTexts == page.households.map { FastJSON.text($0.household) })
            // Another server's layout (white space): the same values; each text reads back as its value.
            let pretty = try FastJSON.decodePulledPage(try WireCoding.encode(page, pretty: true))
            #expect(pretty.page == page)
            for (household, texts) in zip(page.households, pretty.entityTexts) {
                #expect(try texts.map { try FastJSON.decode(EntityState.self, from: $0) } == household.entities)
            }
        }
        #expect(throws: DoorstepError.self) { try FastJSON.decodePulledPage(Data(#"{"households":[{"entities":[1]}]}"#.utf8)) }
    }

    @Test func values_readAsFoundationReadsThem() throws {
        var g = SeededGenerator(seed: 42)
        for _ in 0..<1_000 {
            let value = Self.value(&g)
            let data = try WireCoding.encoder().encode(value)
            #expect(try FastJSON.parse(data) == value)
            #expect(try FastJSON.parse(data) == (try JSONDecoder().decode(JSONValue.self, from: data)))
        }
        // White space, escapes Foundation does not write, and a surrogate pair.
        #expect(
            try FastJSON.parse(" { \"a\" : [ 1 , true , null ] , \"b\\/\" : \"\\u00e9\\ud83d\\ude00\" } ")
                == .object(["a": .array([.int(1), .bool(true), .null]), "b/": .string("é😀")]))
    }

    @Test(arguments: [
        "", " ", "{", "01", "-", "1.5", "9223372036854775808", "-9223372036854775809",
        "\"a", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "tru", "nul", "{\"a\" 1}", "[1 2]", "\"\u{1}\"", "{} {}", "{a:1}",
    ])
    func malformed_isRefused_likeFoundation(_ text: String) {
        #expect(throws: DoorstepError.self) { try FastJSON.parse(text) }
        #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) == nil, "Foundation refuses it too")
    }

    /// Foundation's decoder is lenient here (trailing commas, exponents, any depth); FastJSON holds to RFC 8259
    /// and refuses nesting deeper than 256, which no Doorstep document has.
    @Test(arguments: ["[1,]", "{\"a\":1,}", "1e3", String(repeating: "[", count: 300) + String(repeating: "]", count: 300)])
    func lenientInFoundation_isRefusedHere(_ text: String) {
        #expect(throws: DoorstepError.self) { try FastJSON.parse(text) }
    }

    @Test func invalidUTF8_isRefused() {
        #expect(throws: DoorstepError.self) { try FastJSON.parse(Data([0x22, 0xFF, 0x22])) }
    }

    @Test func documentsMissingKeysOrWithBadIds_areRefused() throws {
        var g = SeededGenerator(seed: 7)
        let good = try #require(try WireCoding.encoder().encode(Self.aggregate(&g)).jsonObject())
        for key in ["household", "aliases", "entities"] {
            var broken = good
            broken.removeValue(forKey: key)
            let data = try JSONSerialization.data(withJSONObject: broken)
            #expect(throws: DoorstepError.self) { try FastJSON.decode(HouseholdAggregate.self, from: data) }
            #expect((try? JSONDecoder().decode(HouseholdAggregate.self, from: data)) == nil)
        }
        var badID = good
        badID["aliases"] = ["not-a-uuid"]
        let data = try JSONSerialization.data(withJSONObject: badID)
        #expect(throws: DoorstepError.self) { try FastJSON.decode(HouseholdAggregate.self, from: data) }
    }

    @Test func ids_formatInLowerCase() throws {
        let id = try EntityID("7F1C1D9E-2A53-4C86-9D0B-0A1F1E6C5A01")
        #expect(id.description == "7f1c1d9e-2a53-4c86-9d0b-0a1f1e6c5a01")
        var g = SeededGenerator(seed: 99)
        for _ in 0..<200 {
            let random = EntityID.random(using: &g)
            #expect(random.description == random.uuid.uuidString.lowercased())
        }
    }
}

private extension Data {
    func jsonObject() throws -> [String: Any]? { try JSONSerialization.jsonObject(with: self) as? [String: Any] }
}

/// The hand-written trim against Foundation's, on seeded strings of white space and text.
@Suite struct TrimTests {
    @Test func trimmedWhitespace_matchesFoundation() {
        var g = SeededGenerator(seed: 0x7417)
        let pieces = [
            " ", "\t", "\n", "\r\n", "\u{85}", "\u{A0}", "\u{3000}", "\u{2028}", "\u{200B}", "\u{FEFF}", "\u{180E}", "\u{200C}", "\u{200D}", "\u{2060}",
            "\u{1680}", "\u{202F}", "\u{205F}", "a", "王", "b c", "\u{1}", "😀",
        ]
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 0...6, using: &g)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &g)] }.joined()
            #expect(text.trimmedWhitespace == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
        }
    }
}

/// Keys FastJSON orders like Foundation beyond ASCII, and pages with repeated keys refused.
@Suite struct FastJSONEdgeTests {
    @Test func nonASCIIKeys_sortedByTheirBytes_asFoundationDoes() throws {
        let value = JSONValue.object(["é": 1, "e\u{301}x": 2, "f": 3, "ä": 4, "z": 5, "Z": 6, "\u{1F600}": 7, "\u{FF21}": 8])
        #expect(FastJSON.data(value) == (try WireCoding.encoder().encode(value)))
    }

    @Test func pulledPage_withARepeatedKey_isRefused() {
        let page = #"{"hasMore":false,"households":[],"households":[],"nextCursor":"1","protocolVersion":1,"removed":[],"serverClock":"0000000000050000"}"#
        #expect(throws: DoorstepError.self) { try FastJSON.decodePulledPage(Data(page.utf8)) }
    }
}
