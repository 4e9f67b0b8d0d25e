import Foundation
import Testing

@testable import DoorstepCore

/// A JSON array read an item at a time (an import file) against the whole document read at once:
/// the same items, and a refusal wherever the whole document is refused.
@Suite struct JSONArrayReaderTests {
    @Test func jsonArrayItems_readAsTheWholeDocumentReads() {
        var g = SeededGenerator(seed: 1605)
        let tails = ["", " ", "\n", " x", ",", "]", ",]", "1", "[", "{}", "\"", "1.5", "tru"]
        for _ in 0..<3_000 {
            let items = (0..<Int.random(in: 0...4, using: &g)).map { _ in FastJSONTests.value(&g) }
            var text = FastJSON.text(JSONValue.array(items))
            if Bool.random(using: &g) { text = " \n" + text.replacingOccurrences(of: ",", with: " , ") }
            if Int.random(in: 0..<3, using: &g) == 0 {
                let cut = Int.random(in: 0...text.utf8.count, using: &g)
                text = String(decoding: Array(text.utf8.prefix(cut)), as: UTF8.self) + tails[Int.random(in: 0..<tails.count, using: &g)]
            }
            let whole = Result { () throws(DoorstepError) -> JSONValue in try FastJSON.parse(text) }
            var reader = JSONArrayReader(text)
            let read = Result { () throws(DoorstepError) -> [JSONValue] in
                var values: [JSONValue] = []
                while let value = try reader.next() { values.append(value) }
                return values
            }
            switch (whole, read) {
            case (.success(.array(let a)), .success(let b)): #expect(a == b, "\(text.debugDescription)")
            case (.success(let other), .failure): #expect(other.arrayValue == nil, "\(text.debugDescription)")
            case (.failure, .failure): break
            default: Issue.record("\(text.debugDescription): \(whole) against \(read)")
            }
            // After the end or a refusal, the reader gives nothing more.
            #expect((try? reader.next()) == nil)
        }
    }

    /// Files written by programs carry `2600.0` or `1e3`: read as the whole numbers they are, as
    /// Foundation's decoder reads them, and a number that is not whole refused as it refuses it.
    @Test(arguments: ["2600.0", "1e3", "1E+3", "-0.0", "1.5e1", "0.25e2", "120000.000", "-7.0", "2600.5", "1e-1", "0.1", "1e19", "1.", ".5", "1e"])
    func wholeNumbersInAnyForm_readAsFoundationReadsThem(number: String) throws {
        let text = "[\(number)]"
        var reader = JSONArrayReader(text, wholeNumbersInAnyForm: true)
        let read = Result { () throws(DoorstepError) -> JSONValue? in try reader.next() }
        let foundation = Result { try JSONDecoder().decode([Int64].self, from: Data(text.utf8)) }
        switch (read, foundation) {
        case (.success(let value), .success(let numbers)): #expect(value == .int(numbers[0]), "\(number)")
        case (.failure, .failure): break
        default: Issue.record("\(number): \(read) against Foundation's \(foundation)")
        }
        // The wire stays strict.
        var strict = JSONArrayReader(text)
        if number.contains(where: { ".eE".contains($0) }) { #expect(throws: DoorstepError.self) { try strict.next() } }
    }
}
