import DoorstepCore
import Foundation
import Testing

@testable import DoorstepImport

/// The import file's CSV reader, a record at a time, against reading the whole text: the same
/// records, the same lines, the same refusals, on seeded texts.
@Suite struct ImportReadingTests {
    /// The whole-text reader of the CSV rules (as `CSVReader.parse` read before it read a record
    /// at a time), kept here as the reference.
    static func reference(_ text: String) -> Result<[CSVReader.Record], DoorstepError> {
        let scalars = Array((text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text).unicodeScalars)
        var tabs = 0
        var commas = 0
        for scalar in scalars {
            if scalar == "\n" || scalar == "\r" { break }
            if scalar == "\t" { tabs += 1 }
            if scalar == "," { commas += 1 }
        }
        let separator: Unicode.Scalar = tabs > 0 && commas == 0 ? "\t" : ","
        var records: [CSVReader.Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var index = 0
        var quoted = false
        var quoteLine = 1
        var fieldStarted = false
        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            fieldStarted = false
        }
        func endRecord() {
            endField()
            records.append(CSVReader.Record(line: recordLine, fields: fields))
            fields = []
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if quoted {
                if scalar == "\"" {
                    if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if scalar == "\n" || (scalar == "\r" && !(index + 1 < scalars.count && scalars[index + 1] == "\n")) { line += 1 }
                    field.append(scalar)
                }
            } else if scalar == "\"" && !fieldStarted {
                quoted = true
                fieldStarted = true
                quoteLine = line
            } else if scalar == separator {
                endField()
            } else if scalar == "\r" || scalar == "\n" {
                if scalar == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" { index += 1 }
                endRecord()
                line += 1
                recordLine = line
            } else {
                field.append(scalar)
                fieldStarted = true
            }
            index += 1
        }
        if quoted {
            return .failure(DoorstepError(.malformedInput, "line \(quoteLine): a quoted field is never closed (a \" is missing)"))
        }
        if fieldStarted || !field.isEmpty || !fields.isEmpty { endRecord() }
        return .success(records)
    }

    static let pieces = ["a", "王某", ",", ",", "\t", "\"", "\"\"", "\r", "\n", "\r\n", " ", "2600元", "1,500", "\u{FEFF}", "é", "😀"]

    @Test func csvRecords_readAsTheWholeTextReads() {
        var g = SeededGenerator(seed: 1604)
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 0...30, using: &g)).map { _ in Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &g)] }.joined()
            let expected = Self.reference(text)
            let actual = Result { () throws(DoorstepError) -> [CSVReader.Record] in try CSVReader.parse(text) }
            switch (expected, actual) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(text.debugDescription)")
            case (.failure(let a), .failure(let b)): #expect(a.code == b.code && a.message == b.message, "\(text.debugDescription)")
            default: Issue.record("\(text.debugDescription): \(expected) against \(actual)")
            }
        }
    }

    @Test func csvRecords_refuseMoreThanAFileHolds() throws {
        let text = "a\n" + String(repeating: "1\n", count: CSVReader.maxRecords)
        #expect(throws: DoorstepError.self) { try CSVReader.parse(text) }
        #expect(try CSVReader.parse("a\n" + String(repeating: "1\n", count: CSVReader.maxRecords - 1)).count == CSVReader.maxRecords)
    }
}
