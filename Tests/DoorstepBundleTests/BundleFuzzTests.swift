import Crypto
import DoorstepCore
import Foundation
import Testing

@testable import DoorstepBundle

/// Hostile input: every changed byte, every cut, and seeded random mutations are refused
/// with `bundleInvalid`, never a crash and never a different bundle.
struct BundleFuzzTests {
    let fixture = BundleFixture()

    /// The number of fuzz cases; `DOORSTEP_FUZZ_CASES` raises it for a long run by hand.
    static var fuzzCases: Int {
        ProcessInfo.processInfo.environment["DOORSTEP_FUZZ_CASES"].flatMap(Int.init) ?? 2_000
    }

    @Test func anySingleChangedByte_isRefused() throws {
        let data = try fixture.seal()
        var generator = SeededGenerator(seed: 0xB0D1E)
        let headerLength = 43
        var positions = Array(0..<headerLength)
        positions += (0..<300).map { _ in Int.random(in: headerLength..<data.count, using: &generator) }
        positions.append(data.count - 1)
        for position in positions {
            var changed = data
            changed[changed.startIndex + position] ^= UInt8.random(in: 1...255, using: &generator)
            expectInvalid(nil, "byte \(position) of \(data.count) changed") { try fixture.open(changed) }
        }
    }

    @Test func truncatedAtAnyLength_isRefused() throws {
        let data = try fixture.seal()
        var generator = SeededGenerator(seed: 7)
        var lengths = Set(0...64)
        lengths.formUnion((data.count - 40)..<data.count)
        for _ in 0..<150 { lengths.insert(Int.random(in: 0..<data.count, using: &generator)) }
        for length in lengths.sorted() {
            expectInvalid(nil, "cut at \(length) of \(data.count)") { try fixture.open(data.prefix(length)) }
        }
        // Bytes appended after the tag are a change too.
        expectInvalid("encrypted to another server, or changed or cut short") { try fixture.open(data + Data([0])) }
    }

    @Test func seededMutationsOfTheFile_areRefusedOrOpenUnchanged() throws {
        let data = try fixture.seal()
        let original = try fixture.open(data)
        var generator = SeededGenerator(seed: 20200420)
        var refused = 0
        for index in 0..<Self.fuzzCases {
            let mutated = Self.mutate(Array(data), using: &generator)
            do {
                let opened = try fixture.open(Data(mutated))
                #expect(opened == original, "case \(index) opened as a different bundle")
            } catch let error as DoorstepError {
                #expect(error.code == .bundleInvalid, "case \(index): \(error)")
                refused += 1
            }
        }
        #expect(refused > Self.fuzzCases * 9 / 10)
    }

    /// The same below the encryption: the envelope's JSON, re-encrypted, so that the
    /// envelope, manifest and batch decoders and the agreement checks see hostile bytes.
    @Test func seededMutationsOfTheDecryptedEnvelope_areRefusedOrOpenUnchanged() throws {
        let plaintext = try WireCoding.encode(try fixture.envelope(of: try fixture.seal()))
        let original = try fixture.open(try BundleWriter.encrypt(plaintext, to: fixture.serverKey.publicKey))
        var generator = SeededGenerator(seed: 99)
        for index in 0..<(Self.fuzzCases / 2) {
            let mutated = Self.mutate(Array(plaintext), using: &generator)
            let file = try BundleWriter.encrypt(Data(mutated), to: fixture.serverKey.publicKey)
            do {
                // A mutation the JSON ignores (white space, an escape) may still open: then it must be the same bundle.
                #expect(try fixture.open(file) == original, "case \(index) opened as a different bundle")
            } catch let error as DoorstepError {
                #expect(error.code == .bundleInvalid, "case \(index): \(error)")
            }
        }
    }

    /// One to four random edits: flips, insertions, deletions, overwrites with special bytes, truncation.
    static func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let special: [UInt8] = [
            0, 0xFF, 0x7F, 0x80, UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","),
            UInt8(ascii: "0"), UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "\\"),
        ]
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<6, using: &generator) {
            case 0 where !bytes.isEmpty:
                bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            case 1:
                let count = Int.random(in: 1...8, using: &generator)
                bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: position)
            case 2 where !bytes.isEmpty:
                let count = min(Int.random(in: 1...16, using: &generator), bytes.count - position)
                bytes.removeSubrange(position..<(position + count))
            case 3:
                bytes = Array(bytes.prefix(position))
            case 4 where !bytes.isEmpty:
                bytes[position] = special[Int.random(in: 0..<special.count, using: &generator)]
            default:
                if !bytes.isEmpty { bytes[position] = UInt8.random(in: 0...255, using: &generator) }
            }
        }
        return bytes
    }
}
