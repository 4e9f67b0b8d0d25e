public import DoorstepCore
import Foundation

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
        "技能水平": "skillLevel", "家庭月收入(分)": "monthlyIncomeFen", "受疫情影响": "epidemicAffected", "状态": "status",
        "备注": "notes",
    ]

    /// The household field a column header or JSON key names, if any: a wire name (any letter case)
    /// or a Chinese alias (full-width parentheses, spaces and a required-marker `*` are ignored).
    public static func fieldName(forHeader header: String) -> String? {
        let key = String(header.unicodeScalars.filter { !$0.properties.isWhitespace })
            .replacingOccurrences(of: "（", with: "(").replacingOccurrences(of: "）", with: ")")
            .trimmingCharacters(in: CharacterSet(charactersIn: "*＊"))
        if let name = chineseHeaders[key] { return name }
        return EntityKind.household.fields.first { $0.name.lowercased() == key.lowercased() }?.name
    }

    // MARK: CSV

    /// Validates the records of a CSV file; the first record is the header.
    ///
    /// Throws `malformedInput` for a file without a header. Problems of the header (a missing
    /// required column, an unknown or repeated one) are issues on the header's line; a missing
    /// required column makes every row invalid, so no row is checked then.
    public func validate(csv records: [CSVReader.Record]) throws(DoorstepError) -> Result {
        guard let header = records.first(where: { !$0.isBlank }) else {
            throw DoorstepError(.malformedInput, "the file is empty; it needs a header row and one row per household")
        }
        var result = Result()
        var columns: [Int: String] = [:]
        for (index, title) in header.fields.enumerated() {
            let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let name = Self.fieldName(forHeader: trimmed) else {
                result.issues.append(ImportIssue(line: header.line, field: String(trimmed.prefix(64)), code: .unknownField,
                                                 message: "column \(index + 1) \"\(trimmed.prefix(64))\" is not a household field; rename or delete it"))
                continue
            }
            if columns.values.contains(name) {
                result.issues.append(ImportIssue(line: header.line, field: name, code: .invalidValue,
                                                 message: "column \(index + 1) names \(name) again; keep one column per field"))
                continue
            }
            columns[index] = name
        }
        let present = Set(columns.values)
        let missing = EntityKind.household.fields.filter { $0.required && $0.name != "status" && !present.contains($0.name) }
        for spec in missing {
            let alias = Self.chineseHeaders.first { $0.value == spec.name }?.key ?? spec.name
            result.issues.append(ImportIssue(line: header.line, field: spec.name, code: .missingField,
                                             message: "the file has no \(spec.name) column (\(alias)); every row needs it"))
        }
        if !missing.isEmpty { return result }
        var rows: [(line: Int, values: [String: JSONValue])] = []
        for record in records where record.line > header.line && !record.isBlank {
            var values: [String: JSONValue] = [:]
            for (index, cell) in record.fields.enumerated() {
                guard let name = columns[index], let spec = EntityKind.household.field(name) else { continue }
                values[name] = Self.value(ofCell: cell, for: spec)
            }
            if record.fields.count > header.fields.count,
                record.fields[header.fields.count...].contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                result.issues.append(ImportIssue(line: record.line, field: nil, code: .invalidValue,
                                                 message: "the row has \(record.fields.count) cells but the header only \(header.fields.count) columns"))
            }
            rows.append((record.line, values))
        }
        check(rows, into: &result)
        return result
    }

    /// The JSON value of a CSV cell for a field: numbers for money, Booleans, term sets split
    /// on `;` or `、`, and Chinese or English labels of terms turned into wire names.
    /// Text that does not convert is passed on as it is, so that `normalize` names the problem.
    public static func value(ofCell cell: String, for spec: FieldSpec) -> JSONValue {
        let text = cell.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return .null }
        switch spec.type {
        case .money, .integer:
            var digits = text
            if let dot = digits.firstIndex(of: "."), digits[digits.index(after: dot)...].allSatisfy({ $0 == "0" }) {
                digits = String(digits[..<dot])
            }
            if let number = Int64(digits) { return .int(number) }
            return .string(text)
        case .boolean:
            return boolean(text).map(JSONValue.bool) ?? .string(text)
        case .term:
            return .string(term(text, field: spec.name))
        case .termSet:
            let parts = text.split(whereSeparator: { ";；、,，".contains($0) })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return .array(parts.map { .string(term($0, field: spec.name)) })
        default:
            return .string(cell)
        }
    }

    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "是", "1", "yes", "y", "t": true
        case "false", "否", "0", "no", "n", "f": false
        default: nil
        }
    }

    /// Wire names by label, per term field.
    static let termLabels: [String: [String: String]] = [
        "fileLevel": labels(FileLevel.self), "primaryCause": labels(HardshipCause.self), "otherCauses": labels(HardshipCause.self),
        "difficulty": labels(DifficultyDegree.self), "skillLevel": labels(SkillLevel.self), "status": labels(HouseholdStatus.self),
    ]

    static func labels<T: DomainTerm>(_ type: T.Type) -> [String: String] {
        var map: [String: String] = [:]
        for term in T.allCases {
            map[term.rawValue.lowercased()] = term.rawValue
            map[term.englishLabel.lowercased()] = term.rawValue
            map[term.chineseLabel] = term.rawValue
        }
        return map
    }

    static func term(_ text: String, field: String) -> String {
        termLabels[field]?[text] ?? termLabels[field]?[text.lowercased()] ?? text
    }

    // MARK: JSON

    /// Validates a JSON array of objects keyed by wire names or Chinese aliases.
    ///
    /// Throws `malformedInput` when the body is not a JSON array. String values of money,
    /// Boolean and term fields are read as CSV cells are.
    public func validate(json text: String) throws(DoorstepError) -> Result {
        let entries = try WireCoding.decode([JSONValue].self, from: Data(text.utf8))
        guard entries.count < CSVReader.maxRecords else {
            throw DoorstepError(.payloadTooLarge, "a file holds at most \(CSVReader.maxRecords - 1) households")
        }
        var result = Result()
        var rows: [(line: Int, values: [String: JSONValue])] = []
        for (index, entry) in entries.enumerated() {
            let line = index + 1
            guard case .object(let object) = entry else {
                result.issues.append(ImportIssue(line: line, field: nil, code: .malformedInput, message: "entry \(line) is a \(entry.typeName), not an object"))
                continue
            }
            var values: [String: JSONValue] = [:]
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                guard let name = Self.fieldName(forHeader: key), let spec = EntityKind.household.field(name) else {
                    result.issues.append(ImportIssue(line: line, field: String(key.prefix(64)), code: .unknownField,
                                                     message: "\"\(key.prefix(64))\" is not a household field"))
                    continue
                }
                if values[name] != nil {
                    result.issues.append(ImportIssue(line: line, field: name, code: .invalidValue, message: "\(name) is given twice (by its wire name and its alias)"))
                }
                values[name] = Self.value(ofJSON: value, for: spec)
            }
            rows.append((line, values))
        }
        check(rows, into: &result)
        return result
    }

    static func value(ofJSON value: JSONValue, for spec: FieldSpec) -> JSONValue {
        switch (spec.type, value) {
        case (.money, .string(let text)), (.integer, .string(let text)), (.boolean, .string(let text)),
             (.term, .string(let text)), (.termSet, .string(let text)):
            return Self.value(ofCell: text, for: spec)
        case (.termSet, .array(let items)):
            return .array(items.map { item in item.stringValue.map { .string(term($0.trimmingCharacters(in: .whitespaces), field: spec.name)) } ?? item })
        default:
            return value
        }
    }

    // MARK: Checks

    /// Normalises every field of every row, checks the scope, and finds national IDs given twice.
    func check(_ rows: [(line: Int, values: [String: JSONValue])], into result: inout Result) {
        var valid: [ImportedHousehold] = []
        for row in rows {
            var writes: [FieldWrite] = []
            var failed = false
            for spec in EntityKind.household.fields {
                var raw = row.values[spec.name] ?? .null
                if spec.name == "status", raw.isNull || raw.stringValue?.trimmingCharacters(in: .whitespaces).isEmpty == true {
                    raw = .string(HouseholdStatus.filed.rawValue)
                }
                do {
                    let value = try spec.normalize(raw, city: city)
                    if !value.isNull { writes.append(FieldWrite(field: spec.name, value: value)) }
                } catch {
                    result.issues.append(ImportIssue(line: row.line, field: spec.name, code: error.code, message: error.message))
                    failed = true
                }
            }
            if let district = writes.first(where: { $0.field == "district" })?.value.stringValue, !scope.covers(district: district) {
                result.issues.append(ImportIssue(
                    line: row.line, field: "district", code: .outOfScope,
                    message: "the household is in district \(district); an office imports its own district (\(scope.district ?? "-")) only"
                ))
                failed = true
            }
            guard !failed, let nationalID = writes.first(where: { $0.field == "nationalId" })?.value.stringValue else { continue }
            valid.append(ImportedHousehold(line: row.line, nationalId: nationalID, fields: writes))
        }
        let lines = Dictionary(grouping: valid, by: \.nationalId).mapValues { $0.map(\.line) }
        for row in valid {
            guard let others = lines[row.nationalId], others.count > 1 else {
                result.rows.append(row)
                continue
            }
            let list = others.map(String.init).joined(separator: ", ")
            result.issues.append(ImportIssue(line: row.line, field: "nationalId", code: .duplicateInFile,
                                             message: "the same national ID number is on lines \(list); a household is filed once"))
        }
        // A row with any problem (an unknown key, surplus cells) is not imported.
        let troubled = Set(result.issues.map(\.line))
        result.rows.removeAll { troubled.contains($0.line) }
        result.issues.sort { ($0.line, $0.field ?? "") < ($1.line, $1.field ?? "") }
    }
}
