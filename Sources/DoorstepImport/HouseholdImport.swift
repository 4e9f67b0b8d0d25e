public import DoorstepCore
public import DoorstepStorage
import Foundation
import Synchronization

/// Turns the rows of a household file (CSV or JSON) into validated household creations.
///
/// Every value goes through ``FieldSpec/normalize(_:city:)`` against the server's city data,
/// the district must lie in the importer's scope, and a national ID may appear only once in
/// a file. The merge engine checks each creation again when it is applied.
public struct HouseholdImport: Sendable {
    /// The city whose districts are valid.
    public var city: CityData
    /// Who imports: a district office imports its own district only.
    public var scope: Principal

    public init(city: CityData, scope: Principal) {
        self.city = city
        self.scope = scope
    }

    /// The rows that passed every check, and the problems of the others.
    public struct Result: Sendable {
        /// The rows to create, in file order.
        public var rows: [ImportedHousehold] = []
        /// Every problem, sorted by line.
        public var issues: [ImportIssue] = []
    }

    /// The Chinese header names accepted besides the wire names.
    public static let chineseHeaders: [String: String] = [
        "户主姓名": "headName", "身份证号": "nationalId", "身份证号码": "nationalId", "电话": "phone", "联系电话": "phone",
        "住址": "address", "家庭住址": "address", "旗区": "district", "工作单位": "employer", "基层工会": "employerUnion",
        "档案级别": "fileLevel", "主要致困原因": "primaryCause", "其他致困原因": "otherCauses", "困难程度": "difficulty",
        "技能水平": "skillLevel", "家庭月收入": "monthlyIncomeFen", "家庭月收入(元)": "monthlyIncomeFen",
        "家庭月收入(分)": "monthlyIncomeFen", "受疫情影响": "epidemicAffected", "状态": "status",
        "备注": "notes",
    ]

    /// The household field a column header or JSON key names, if any: a wire name (any letter case)
    /// or a Chinese alias (full-width parentheses, spaces and a required-marker `*` are ignored).
    public static func fieldName(forHeader header: String) -> String? {
        column(forHeader: header)?.field
    }

    /// The field a header names and the unit of its bare amounts: money columns are in yuan, as
    /// people write them, unless the header names fen (`家庭月收入(分)`, or the wire name
    /// `monthlyIncomeFen` of files written by programs). An amount that carries its unit
    /// (`2600元`, `260000分`) is read in that unit whatever the header.
    static func column(forHeader header: String) -> (field: String, unit: TypedInput.MoneyUnit)? {
        let key = String(TypedInput.asciiForms(header).unicodeScalars.filter { !$0.properties.isWhitespace })
            .trimmingCharacters(in: CharacterSet(charactersIn: "*"))
        if let name = chineseHeaders[key] { return (name, key.hasSuffix("(分)") ? .fen : .yuan) }
        guard let name = EntityKind.household.fields.first(where: { $0.name.lowercased() == key.lowercased() })?.name else { return nil }
        return (name, name.hasSuffix("Fen") ? .fen : .yuan)
    }

    // MARK: CSV

    /// Validates the records of a CSV file; the first record is the header.
    ///
    /// Throws `malformedInput` for a file without a header, `missingField` for a header that names no
    /// household column at all. Other problems of the header (a missing
    /// required column, an unknown or repeated one) are issues on the header's line; a missing
    /// required column makes every row invalid, so no row is checked then.
    public func validate(csv records: [CSVReader.Record]) throws(DoorstepError) -> Result {
        guard let header = records.first(where: { !$0.isBlank }) else { throw Checker.emptyFile }
        var checker = try Checker(self, header: header)
        var result = Result()
        for record in records where record.line > header.line && !record.isBlank {
            if let row = checker.row(record) { result.rows.append(row) }
        }
        result.issues = checker.sortedIssues
        return result
    }

    /// A row of a file: its line (or entry number) and the value given for each field.
    struct Row {
        var line: Int
        var values: [String: Cell]
    }

    /// A value as a file gives it: text as a person typed it (a CSV cell, a JSON string), read by
    /// DoorstepCore's `TypedInput` like every typed value, or a JSON value of the wire's own type.
    enum Cell {
        case typed(String, TypedInput.MoneyUnit)
        case wire(JSONValue)
    }

    // MARK: JSON

    /// Validates a JSON array of objects keyed by wire names or Chinese aliases.
    ///
    /// Throws `malformedInput` when the body is not a JSON array of objects. String values of money,
    /// Boolean and term fields are read as CSV cells are.
    public func validate(json text: String) throws(DoorstepError) -> Result {
        let file = ImportFile(json: text, importer: self)
        var result = Result()
        while let row = try file.next() { result.rows.append(row) }
        result.issues = file.issues
        return result
    }

    /// A JSON value as a cell: strings and numbers are typed text (`"2600元"`, `"是"`, a label, an
    /// amount in its key's unit); Booleans and arrays of the wire's own type are taken as they are,
    /// and an array of labels is read label by label.
    static func cell(ofJSON value: JSONValue, unit: TypedInput.MoneyUnit) -> Cell {
        switch value {
        case .string(let text): return .typed(text, unit)
        // A number is read in its key's unit: yuan under 家庭月收入, fen under monthlyIncomeFen.
        case .int(let number): return .typed(String(number), unit)
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
            return .typed(items.compactMap(\.stringValue).joined(separator: ","), unit)
        default: return .wire(value)
        }
    }

    // MARK: Checks

    /// The checks of a file's rows, a row at a time: every field normalised, the scope, and national
    /// IDs given twice. It keeps the problems found and, for each national ID, the line and the
    /// fields' hash of the row imported for it, never the rows themselves.
    struct Checker: Sendable {
        let importer: HouseholdImport
        /// A CSV file's columns by position, and their money units (empty for JSON).
        var columns: [Int: String] = [:]
        var units: [String: TypedInput.MoneyUnit] = [:]
        /// The header's number of cells (CSV), to find rows with more.
        var headerCells: Int?
        /// False when the header lacks a required column: then no row is checked.
        var usable = true
        /// Every problem so far.
        var issues: [ImportIssue] = []
        /// For each national ID imported, the line of its row and the hash of its set of fields
        /// (to say whether a later row repeats it or differs).
        var first: [String: (line: Int, fields: Int)] = [:]

        static var emptyFile: DoorstepError {
            DoorstepError(.malformedInput, "the file is empty; it needs a header row and one row per household")
        }

        /// A JSON file's checker.
        init(_ importer: HouseholdImport) { self.importer = importer }

        /// A CSV file's checker, from its header row (see ``HouseholdImport/validate(csv:)``).
        init(_ importer: HouseholdImport, header: CSVReader.Record) throws(DoorstepError) {
            self.importer = importer
            headerCells = header.fields.count
            for (index, title) in header.fields.enumerated() {
                let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty { continue }
                guard let (name, unit) = HouseholdImport.column(forHeader: trimmed) else {
                    issues.append(
                        ImportIssue(
                            line: header.line, field: String(trimmed.prefix(64)), code: .unknownField,
                            message: "column \(index + 1) \"\(trimmed.prefix(64))\" is not a household field; rename or delete it"))
                    continue
                }
                if columns.values.contains(name) {
                    issues.append(
                        ImportIssue(
                            line: header.line, field: name, code: .invalidValue,
                            message: "column \(index + 1) names \(name) again; keep one column per field"))
                    continue
                }
                columns[index] = name
                units[name] = unit
            }
            let present = Set(columns.values)
            // A header that names no household column at all is no import file (a wrong file, or
            // another format sent as CSV): refused as a whole, as an empty one is.
            guard !present.isEmpty else {
                throw DoorstepError(
                    .missingField, "the first row names none of the household columns (户主姓名, 身份证号, …): is this the right file?",
                    zh: "第一行没有任何困难家庭档案的列名（户主姓名、身份证号……），请核对是否选错了文件")
            }
            let missing = EntityKind.household.fields.filter { $0.required && $0.name != "status" && !present.contains($0.name) }
            for spec in missing {
                let alias = HouseholdImport.chineseHeaders.first { $0.value == spec.name }?.key ?? spec.name
                issues.append(
                    ImportIssue(
                        line: header.line, field: spec.name, code: .missingField,
                        message: "the file has no \(spec.name) column (\(alias)); every row needs it"))
            }
            usable = missing.isEmpty
        }

        /// Every problem, sorted by line.
        var sortedIssues: [ImportIssue] { issues.sorted { ($0.line, $0.field ?? "") < ($1.line, $1.field ?? "") } }

        /// A CSV record after the header: the household to create, or `nil` (its problems noted).
        mutating func row(_ record: CSVReader.Record) -> ImportedHousehold? {
            guard usable else { return nil }
            let before = issues.count
            var values: [String: Cell] = [:]
            for (index, cell) in record.fields.enumerated() {
                guard let name = columns[index] else { continue }
                values[name] = .typed(cell, units[name] ?? .yuan)
            }
            if let headerCells, record.fields.count > headerCells,
                record.fields[headerCells...].contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
            {
                issues.append(
                    ImportIssue(
                        line: record.line, field: nil, code: .invalidValue,
                        message: "the row has \(record.fields.count) cells but the header only \(headerCells) columns"))
            }
            return check(Row(line: record.line, values: values), sound: issues.count == before)
        }

        /// A JSON array's entry (`line` counts from 1): the household to create, or `nil`.
        ///
        /// Throws `malformedInput` for an entry that is not an object: not a file of households.
        mutating func entry(_ entry: JSONValue, line: Int) throws(DoorstepError) -> ImportedHousehold? {
            guard case .object(let object) = entry else {
                // Not a file of households at all: refused as a whole, as a body that is no array is.
                throw DoorstepError(.malformedInput, "entry \(line) is a \(entry.typeName), not an object: an import is an array of households")
            }
            let before = issues.count
            var values: [String: Cell] = [:]
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                guard let (name, unit) = HouseholdImport.column(forHeader: key) else {
                    issues.append(
                        ImportIssue(
                            line: line, field: String(key.prefix(64)), code: .unknownField,
                            message: "\"\(key.prefix(64))\" is not a household field"))
                    continue
                }
                if values[name] != nil {
                    issues.append(
                        ImportIssue(line: line, field: name, code: .invalidValue, message: "\(name) is given twice (by its wire name and its alias)"))
                }
                values[name] = HouseholdImport.cell(ofJSON: value, unit: unit)
            }
            return check(Row(line: line, values: values), sound: issues.count == before)
        }

        /// Normalises every field of a row and checks its scope; a row with any problem (here, or an
        /// unknown key or surplus cells: not `sound`) is not imported. Of the sound rows that share a
        /// national ID, the first is imported and each later one is reported.
        mutating func check(_ row: Row, sound: Bool) -> ImportedHousehold? {
            var writes: [FieldWrite] = []
            var failed = !sound
            for spec in EntityKind.household.fields {
                var cell = row.values[spec.name] ?? .wire(.null)
                if spec.name == "status" {
                    switch cell {
                    case .wire(.null): cell = .wire(.string(HouseholdStatus.filed.rawValue))
                    case .typed(let text, _) where text.trimmingCharacters(in: .whitespaces).isEmpty:
                        cell = .wire(.string(HouseholdStatus.filed.rawValue))
                    default: break
                    }
                }
                do {
                    let value =
                        switch cell {
                        case .typed(let text, let unit):
                            try TypedInput.value(text, field: spec.name, of: .household, city: importer.city, moneyUnit: unit)
                        case .wire(let raw): try spec.normalize(raw, city: importer.city)
                        }
                    if !value.isNull { writes.append(FieldWrite(field: spec.name, value: value)) }
                } catch {
                    issues.append(ImportIssue(line: row.line, field: spec.name, error: error))
                    failed = true
                }
            }
            if let district = writes.first(where: { $0.field == "district" })?.value.stringValue, !importer.scope.covers(district: district) {
                issues.append(
                    ImportIssue(
                        line: row.line, field: "district", code: .outOfScope,
                        message:
                            "the household is in district \(district); an office imports its own district (\(importer.scope.district ?? "-")) only"
                    ))
                failed = true
            }
            guard !failed, let nationalID = writes.first(where: { $0.field == "nationalId" })?.value.stringValue else { return nil }
            // A set's hash does not depend on the order of its members; two different sets sharing
            // one (odds of 2⁻⁶⁴) would only word the report as a repeat.
            let fields = Set(writes).hashValue
            guard let kept = first[nationalID] else {
                first[nationalID] = (row.line, fields)
                return ImportedHousehold(line: row.line, nationalId: nationalID, fields: writes)
            }
            let same = kept.fields == fields
            issues.append(
                ImportIssue(
                    line: row.line, field: "nationalId", code: .duplicateInFile,
                    message: same
                        ? "this row repeats line \(kept.line), which is imported; a household is filed once"
                        : "line \(kept.line) has the same national ID number and is imported; this row differs from it and is not",
                    messageZh: same
                        ? "本行与第 \(kept.line) 行重复，已按第 \(kept.line) 行导入一次"
                        : "第 \(kept.line) 行的身份证号与本行相同，已导入第 \(kept.line) 行；本行内容不同，未导入，请核对"
                ))
            return nil
        }
    }
}

/// An import file read and checked a row at a time while storage writes its rows
/// (``ImportRows``): the server holds the file's text, the national IDs seen and the problems
/// found, never the file's rows all at once.
public final class ImportFile: ImportRows {
    private enum Source: Sendable {
        case csv(CSVReader.Records)
        case json(JSONArrayReader, entries: Int)
        case none
    }

    private struct State: Sendable {
        var source: Source
        var checker: HouseholdImport.Checker
    }

    private let state: Mutex<State>

    /// A CSV file (decoded text); its header is read at once.
    ///
    /// Throws `malformedInput` for a file without a header, `missingField` for a header that names
    /// no household column (see ``HouseholdImport/validate(csv:)``).
    public init(csv text: String, importer: HouseholdImport) throws(DoorstepError) {
        var records = CSVReader.Records(text)
        var header: CSVReader.Record?
        while let record = try records.next() {
            if !record.isBlank {
                header = record
                break
            }
        }
        guard let header else { throw HouseholdImport.Checker.emptyFile }
        state = Mutex(State(source: .csv(records), checker: try HouseholdImport.Checker(importer, header: header)))
    }

    /// A JSON array of households (see ``HouseholdImport/validate(json:)``); a body that is no
    /// array of objects throws from ``next()``.
    public init(json text: String, importer: HouseholdImport) {
        state = Mutex(State(source: .json(JSONArrayReader(text, wholeNumbersInAnyForm: true), entries: 0), checker: HouseholdImport.Checker(importer)))
    }

    /// The next sound row in file order, `nil` after the last; the problems of the rows passed
    /// over are kept (``issues``).
    ///
    /// Throws for a file that is not an import file after all: a quoted field never closed, more
    /// than `CSVReader.maxRecords` rows, malformed JSON or an entry that is no object.
    public func next() throws(DoorstepError) -> ImportedHousehold? {
        try state.withLock { (state: inout State) throws(DoorstepError) -> ImportedHousehold? in
            while true {
                switch state.source {
                case .none:
                    return nil
                case .csv(var records):
                    state.source = .none
                    guard let record = try records.next() else { return nil }
                    state.source = .csv(records)
                    if record.isBlank { continue }
                    if let row = state.checker.row(record) { return row }
                case .json(var reader, let entries):
                    state.source = .none
                    guard let entry = try reader.next() else { return nil }
                    guard entries + 1 < CSVReader.maxRecords else {
                        throw DoorstepError(.payloadTooLarge, "a file holds at most \(CSVReader.maxRecords - 1) households")
                    }
                    state.source = .json(reader, entries: entries + 1)
                    if let row = try state.checker.entry(entry, line: entries + 1) { return row }
                }
            }
        }
    }

    public var allSound: Bool { state.withLock { $0.checker.issues.isEmpty } }

    /// Every problem found so far, sorted by line.
    public var issues: [ImportIssue] { state.withLock { $0.checker.sortedIssues } }
}
