import DoorstepCore
import DoorstepTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DoorstepImport
@testable import DoorstepServer
@testable import DoorstepStorage

/// Issue 7, hostile input: a seeded mutation fuzzer of the push-batch (JSON) and CSV decoders,
/// first on the decoders alone (many cases), then through the HTTP routes against a real SQLite
/// file (fewer): never a crash, never a 5xx, only the documented errors.
///
/// The bundle decoder's fuzzer is `Tests/DoorstepBundleTests/BundleFuzzTests.swift`; the same
/// variable, `DOORSTEP_FUZZ_CASES` (default 2000), lengthens all of them by hand.
struct DecoderFuzzTests {
    static var cases: Int { Executables.setting("DOORSTEP_FUZZ_CASES", ci: 2_000) }
    static var routeCases: Int { max(50, cases / 8) }

    // MARK: Push batches

    /// The golden push batch of `protocol/examples/`, its device replaced by `device`.
    static func batchTemplate(device: DeviceID) throws -> [UInt8] {
        let url = Executables.packageRoot.appendingPathComponent("protocol/examples/push-batch.json")
        var batch = try JSONDecoder().decode(PushBatch.self, from: try Data(contentsOf: url))
        batch.device = device
        for index in batch.mutations.indices { batch.mutations[index].device = device }
        return Array(try WireCoding.encode(batch))
    }

    @Test func mutatedPushBatches_decodeOrFailCleanly() async throws {
        let template = try Self.batchTemplate(device: DeviceID.random())
        let original = try JSONDecoder().decode(PushBatch.self, from: Data(template))
        let engine = MergeEngine(city: .ordos)
        var generator = SeededGenerator(seed: 0xBA7C4)
        var decoded = 0, refused = 0
        for index in 0..<Self.cases {
            if index % 200 == 0 { await Task.yield() }  // CPU-bound: let the suites beside it run
            let bytes = Fuzz.mutateJSON(template, using: &generator)
            let batch: PushBatch
            do {
                batch = try JSONDecoder().decode(PushBatch.self, from: Data(bytes))
            } catch is DecodingError {
                refused += 1
                continue
            } catch let error as DoorstepError {
                // The wire types' own parsers (ids, stamps) refuse with a DoorstepError.
                #expect([.invalidValue, .malformedInput].contains(error.code), "case \(index): \(error)")
                refused += 1
                continue
            }
            decoded += 1
            // What decodes goes through the shared validation: it either passes or is refused with a code.
            // (Its errors are typed: a DoorstepError with a code, never a trap.)
            for mutation in batch.mutations {
                _ = try? MutationValidator.validate(mutation.op, kind: mutation.kind, fields: mutation.fields, city: engine.city)
            }
            // Re-encoding what decoded gives something that decodes to the same batch.
            #expect(try JSONDecoder().decode(PushBatch.self, from: try WireCoding.encode(batch)) == batch, "case \(index)")
        }
        #expect(decoded > 0 && refused > 0, "decoded \(decoded), refused \(refused)")
        #expect(original.mutations.count == 5)
    }

    @Test func mutatedPushBatches_throughTheRoute_neverA5xx() async throws {
        let server = InProcessServer()
        try await server.test { caller in
            let device = try await caller.enroll(district: "150602", role: .visitor)
            let template = try Self.batchTemplate(device: device.id)
            var generator = SeededGenerator(seed: 0xF022)
            var statuses: [Int: Int] = [:]
            for index in 0..<Self.routeCases {
                let bytes = Fuzz.mutateJSON(template, using: &generator)
                let response = try await caller.call(.post, "/v1/push", token: device.token, body: Data(bytes))
                statuses[response.status.code, default: 0] += 1
                #expect(response.status.code < 500, "case \(index): \(response.status) \(response.text.prefix(300))")
                if response.status != .ok {
                    #expect(response.errorCode != nil, "case \(index): an error answer without the error body: \(response.text.prefix(200))")
                }
            }
            // The unmutated batch still applies afterwards: the server is not wedged.
            let clean = try await caller.call(.post, "/v1/push", token: device.token, body: Data(template))
            #expect(clean.status.code < 500)
            print("DecoderFuzzTests: \(Self.routeCases) mutated push batches through POST /v1/push: statuses \(statuses.sorted { $0.key < $1.key })")
        }
    }

    // MARK: CSV

    static let header = "户主姓名,身份证号,电话,住址,旗区,工作单位,基层工会,档案级别,主要致困原因,其他致困原因,困难程度,技能水平,家庭月收入（分）,受疫情影响,状态,备注"

    static func csvTemplate() -> [UInt8] {
        let rows = (0..<4).map { n in
            "王某\(n),\(Facts.nationalID(600 + n)),13912345678,\"东胜区 建设街 \(n) 号, 3 单元\",150602,某煤业公司,某工会,全国级,因病,失业、收入低,一般困难,无技能,120000,是,,\"备注 \"\"引号\"\"\""
        }
        return [0xEF, 0xBB, 0xBF] + Array(([header] + rows).joined(separator: "\r\n").utf8) + [13, 10]
    }

    @Test func mutatedCSVFiles_readOrFailCleanly() async throws {
        let template = Self.csvTemplate()
        let importer = HouseholdImport(city: .ordos, scope: Principal(device: DeviceID.random(), role: .city, district: nil))
        var generator = SeededGenerator(seed: 0xC5F)
        var read = 0, refused = 0, rowsWithIssues = 0
        for index in 0..<Self.cases {
            if index % 200 == 0 { await Task.yield() }
            let bytes = Fuzz.mutateCSV(template, using: &generator)
            let charset = [nil, "utf-8", "gb18030", "gbk"][Int.random(in: 0..<4, using: &generator)]
            do {
                let records = try CSVReader.read(Data(bytes), charset: charset)
                let result = try importer.validate(csv: records)
                read += 1
                rowsWithIssues += Set(result.issues.map(\.line)).count
                for issue in result.issues {
                    #expect(issue.line >= 1, "case \(index): an issue without its line")
                }
            } catch {
                #expect(
                    [.malformedInput, .payloadTooLarge, .missingField, .invalidValue, .unknownField, .duplicateInFile]
                        .contains(error.code), "case \(index): \(error)")
                refused += 1
            }
        }
        #expect(read > 0 && refused > 0, "read \(read), refused \(refused)")
    }

    @Test func mutatedCSVFiles_throughTheImportRoute_neverA5xx() async throws {
        let server = InProcessServer()
        try await server.test { caller in
            let office = try await caller.enroll(district: "150602", role: .office)
            let template = Self.csvTemplate()
            var generator = SeededGenerator(seed: 0x1A9)
            var statuses: [Int: Int] = [:]
            for index in 0..<Self.routeCases {
                let bytes = Fuzz.mutateCSV(template, using: &generator)
                let path = index % 3 == 0 ? "/v1/roster/compare" : "/v1/admin/import?check=true"
                let type = ["text/csv", "text/csv; charset=gb18030", "application/octet-stream"][index % 3]
                let response = try await caller.call(.post, path, token: office.token, body: Data(bytes), contentType: type)
                statuses[response.status.code, default: 0] += 1
                #expect(response.status.code < 500, "case \(index) \(path): \(response.status) \(response.text.prefix(300))")
            }
            print("DecoderFuzzTests: \(Self.routeCases) mutated CSV files through import and roster: statuses \(statuses.sorted { $0.key < $1.key })")
        }
    }
}

/// Seeded mutations that keep enough structure to get past the first byte of a parser.
enum Fuzz {
    static let jsonTokens: [String] = [
        "null", "true", "false", "0", "-1", "1e309", "9223372036854775808", "-9223372036854775809", "1.5", "\"\"", "[]", "{}",
        "\"\\u0000\"", "\"\\ud800\"", "\"x\"", "\"2020-02-30\"", "\"150602198507011230\"", "\"ffffffffffffffff\"",
        "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", "\"" + String(repeating: "长", count: 3000) + "\"", "{\"a\":1,\"a\":2}",
    ]

    /// One to four edits: byte flips, insertions, deletions, truncation, and JSON-aware swaps of a value for another token.
    static func mutateJSON(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let choice = Int.random(in: 0..<10, using: &generator)
            if choice < 4, let (start, end) = valueSpan(in: bytes, using: &generator) {
                let token = jsonTokens[Int.random(in: 0..<jsonTokens.count, using: &generator)]
                bytes.replaceSubrange(start..<end, with: Array(token.utf8))
            } else if choice < 5, let (start, end) = valueSpan(in: bytes, using: &generator) {
                // Duplicate a value in place (an array grows, an object gains a repeated member).
                let copy = Array(bytes[start..<end])
                bytes.insert(contentsOf: copy + [UInt8(ascii: ",")], at: start)
            } else {
                bytes = mutateBytes(bytes, using: &generator)
            }
        }
        return bytes
    }

    /// One to four edits aimed at CSV: quotes, separators, line breaks, byte-order marks, GB18030 and invalid UTF-8.
    static func mutateCSV(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        let pieces: [[UInt8]] = [
            [34], [44], [9], [13], [10], [13, 10], [34, 34], [0xEF, 0xBB, 0xBF], [0xFF, 0xFE], [0xC3],
            [0xB6, 0xAB], [0x81, 0x30, 0x81, 0x30], [0xED, 0xA0, 0x80], [0], Array(String(repeating: ",", count: 40).utf8),
            Array("\"unterminated".utf8), Array(String(repeating: "\r\n", count: 30).utf8),
        ]
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &generator)
            if Int.random(in: 0..<2, using: &generator) == 0 {
                bytes.insert(contentsOf: pieces[Int.random(in: 0..<pieces.count, using: &generator)], at: position)
            } else {
                bytes = mutateBytes(bytes, using: &generator)
            }
        }
        return bytes
    }

    /// Flips, random insertions, deletions, truncation, overwrites with special bytes.
    static func mutateBytes(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let special: [UInt8] = [0, 0xFF, 0x7F, 0x80, 34, 123, 125, 91, 93, 44, 58, 48, 57, 45, 92]
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0 where !bytes.isEmpty:
            bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
        case 1:
            bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: position)
        case 2 where !bytes.isEmpty:
            bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...16, using: &generator)))
        case 3:
            bytes = Array(bytes.prefix(position))
        case 4 where !bytes.isEmpty:
            bytes[position] = special[Int.random(in: 0..<special.count, using: &generator)]
        default:
            if !bytes.isEmpty { bytes[position] = UInt8.random(in: 0...255, using: &generator) }
        }
        return bytes
    }

    /// The byte range of a random JSON value after a `:` (a scalar or a whole bracketed value).
    static func valueSpan(in bytes: [UInt8], using generator: inout SeededGenerator) -> (Int, Int)? {
        let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
        guard !colons.isEmpty else { return nil }
        var start = colons[Int.random(in: 0..<colons.count, using: &generator)] + 1
        while start < bytes.count, bytes[start] == 32 || bytes[start] == 10 { start += 1 }
        guard start < bytes.count else { return nil }
        var end = start
        switch bytes[start] {
        case UInt8(ascii: "\""):
            end += 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
            end = min(bytes.count, end + 1)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            var depth = 0
            var inString = false
            while end < bytes.count {
                let byte = bytes[end]
                if inString {
                    if byte == UInt8(ascii: "\\") { end += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    depth += 1
                } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                    depth -= 1
                    if depth == 0 { end += 1; break }
                }
                end += 1
            }
        default:
            while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 10].contains(bytes[end]) { end += 1 }
        }
        return end > start ? (start, min(end, bytes.count)) : nil
    }
}
