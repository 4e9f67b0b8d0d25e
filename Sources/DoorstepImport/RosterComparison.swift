public import DoorstepCore
public import DoorstepStorage
public import Foundation

/// One valid row of a civil-affairs roster (民政低保名单).
public struct RosterRow: Hashable, Sendable {
    /// The line in the roster file.
    public var line: Int
    /// The normalised national ID number.
    public var nationalId: String
    /// The name as the roster writes it.
    public var name: String
    /// The monthly allowance in fen; `nil` when the cell is empty.
    public var allowanceFen: Int64?
    /// The district code, when the roster has a district column.
    public var district: String?
}

/// Reads a civil-affairs roster and compares it with the household file (数据比对).
public enum RosterComparison {
    /// A parsed roster: its valid rows, the unreadable ones, and the number of data rows.
    public struct Roster: Sendable {
        /// The readable rows, one per national ID.
        public private(set) var rows: [RosterRow] = []
        /// Each row's index in ``rows`` by national ID.
        private(set) var byNationalId: [String: Int] = [:]
        /// The unreadable rows.
        public var invalid: [RosterInvalidRow] = []
        /// All data rows.
        public var count = 0

        /// An empty roster.
        public init() {}

        /// Adds a readable row; a national ID already on a row is refused with that row.
        public mutating func append(_ row: RosterRow) -> RosterRow? {
            if let earlier = byNationalId[row.nationalId] { return rows[earlier] }
            byNationalId[row.nationalId] = rows.count
            rows.append(row)
            return nil
        }

        /// The index in ``rows`` of a national ID's row.
        func index(nationalId: String) -> Int? { byNationalId[nationalId] }
    }

    enum Column: Hashable { case nationalId, name, allowance, district }

    static func column(_ header: String) -> (Column, fen: Bool)? {
        let key = String(header.unicodeScalars.filter { !$0.properties.isWhitespace }).lowercased()
            .trimmingCharacters(in: CharacterSet(charactersIn: "*＊"))
        switch key {
        case "身份证号", "身份证号码", "公民身份号码", "nationalid", "national_id": return (.nationalId, false)
        case "姓名", "户主姓名", "name", "headname": return (.name, false)
        case "旗区", "旗县区", "district": return (.district, false)
        default:
            guard key.hasPrefix("低保金") || key.hasPrefix("allowance") || key.hasPrefix("月低保金") else { return nil }
            return (.allowance, key.contains("分") || key.hasSuffix("fen"))
        }
    }

    /// Reads a roster file's bytes (UTF-8 or GB18030, as ``CSVReader/decode(_:charset:)``).
    public static func read(_ data: Data, charset: String? = nil, city: CityData) throws(DoorstepError) -> Roster {
        try parse(try CSVReader.decode(data, charset: charset), city: city)
    }

    /// Reads the roster's records one at a time (the first that is not blank is the header), so
    /// that a long roster is held as its readable rows, never as records all at once.
    ///
    /// Throws `malformedInput` for an empty file or a quoted field that never closes,
    /// `payloadTooLarge` past ``CSVReader/maxRecords``, and `missingField` when a national ID,
    /// name or allowance column is missing; other columns are ignored.
    public static func parse(_ text: String, city: CityData) throws(DoorstepError) -> Roster {
        var records = CSVReader.Records(text)
        var first: CSVReader.Record?
        while let record = try records.next() {
            if !record.isBlank {
                first = record
                break
            }
        }
        guard let header = first else {
            throw DoorstepError(.malformedInput, "the roster is empty; it needs a header row (身份证号, 姓名, 低保金)")
        }
        var columns: [Column: Int] = [:]
        var inFen = false
        for (index, title) in header.fields.enumerated() {
            guard let (column, fen) = column(title), columns[column] == nil else { continue }
            columns[column] = index
            if column == .allowance { inFen = fen }
        }
        for (column, label) in [(Column.nationalId, "身份证号/nationalId"), (.name, "姓名/name"), (.allowance, "低保金/allowance")] where columns[column] == nil {
            throw DoorstepError(.missingField, "the roster has no \(label) column")
        }
        var roster = Roster()
        while let record = try records.next() {
            guard !record.isBlank else { continue }
            roster.count += 1
            func cell(_ column: Column) -> String {
                guard let index = columns[column], index < record.fields.count else { return "" }
                return record.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            do throws(DoorstepError) {
                let id = try NationalID(cell(.nationalId)).value
                let name = cell(.name)
                guard !name.isEmpty else { throw DoorstepError(.missingField, "the name is empty") }
                let allowance = try amount(cell(.allowance), inFen: inFen)
                var district: String?
                let districtText = cell(.district)
                if !districtText.isEmpty {
                    guard let found = city.districts.first(where: { [$0.code, $0.name.zh, $0.name.en.lowercased()].contains(districtText.lowercased()) }) else {
                        throw DoorstepError(.unknownDistrict, "district \"\(districtText.prefix(40))\" is not one of this city's districts")
                    }
                    district = found.code
                }
                if let earlier = roster.append(RosterRow(line: record.line, nationalId: id, name: name, allowanceFen: allowance, district: district)) {
                    throw DoorstepError(.duplicateInFile, "the same national ID number is already on line \(earlier.line)")
                }
            } catch {
                roster.invalid.append(RosterInvalidRow(line: record.line, message: error.message))
            }
        }
        return roster
    }

    /// An allowance in fen from yuan with at most two decimals (`350`, `350.5`, `¥1,234.56`, `350元`),
    /// or from whole fen; `nil` for an empty cell.
    static func amount(_ text: String, inFen: Bool) throws(DoorstepError) -> Int64? {
        var cleaned = text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "，", with: "")
        for mark in ["¥", "￥", "元", "分"] { cleaned = cleaned.replacingOccurrences(of: mark, with: "") }
        cleaned = cleaned.trimmingCharacters(in: .whitespaces)
        if cleaned.isEmpty { return nil }
        let parts = cleaned.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? ""
        let decimals = parts.count == 2 ? String(parts[1]) : ""
        let valid =
            parts.count <= 2 && (1...9).contains(whole.count) && whole.allSatisfy(isDigit)
            && decimals.allSatisfy(isDigit) && decimals.count <= (inFen ? 0 : 2) && (parts.count == 1 || !decimals.isEmpty)
        guard valid, let number = Int64(whole) else {
            throw DoorstepError(
                .invalidValue,
                inFen
                    ? "the allowance must be a whole number of fen"
                    : "the allowance must be an amount in yuan with at most two decimals, such as 350 or 350.50")
        }
        if inFen { return number }
        let cents = Int64(decimals.padding(toLength: 2, withPad: "0", startingAt: 0)) ?? 0
        return number * 100 + cents
    }

    static func isDigit(_ character: Character) -> Bool { character.isASCII && character.isNumber }

    /// Compares the roster with the households of the scope (`district`, or every district for `nil`).
    public static func compare(_ roster: Roster, households: [ShownHousehold], district: String?) -> RosterReport {
        var comparer = Comparer(roster, district: district)
        comparer.add(households)
        return comparer.report()
    }

    /// The comparison fed a page of households at a time (the server reads them in pages): what it
    /// holds is the roster and what the answer lists, never every household.
    public struct Comparer: Sendable {
        static let onFileStatuses: Set<HouseholdStatus> = [.filed, .safetyNet, .candidate]
        let roster: Roster
        let district: String?
        /// Whether each roster row matched a household (by index in the roster's rows).
        var matched: [Bool]
        /// The households compared so far: one read twice (pages read while the list changes) counts once.
        var seen = Set<EntityID>()
        var disagreements: [RosterDisagreement] = []
        var notInRoster: [RosterMissingHousehold] = []
        var unread: [RosterMissingHousehold] = []

        /// A comparison of `roster` with the households of `district` (every district for `nil`).
        public init(_ roster: Roster, district: String?) {
            self.roster = roster
            self.district = district
            matched = Array(repeating: false, count: roster.rows.count)
        }

        /// Compares the next households (in the order the answer lists unread ones: the households list's).
        public mutating func add(_ households: some Sequence<ShownHousehold>) {
            for household in households where district == nil || household.district == district {
                guard seen.insert(household.id).inserted else { continue }
                let onFile = household.status.map(Self.onFileStatuses.contains) == true
                guard let id = household.nationalId else {
                    if onFile { unread.append(missing(household, masked: "")) }
                    continue
                }
                guard let index = roster.index(nationalId: id) else {
                    if onFile { notInRoster.append(missing(household, masked: mask(id))) }
                    continue
                }
                matched[index] = true
                let row = roster.rows[index]
                let masked = mask(id)
                if let name = household.headName, comparable(name) != comparable(row.name) {
                    disagreements.append(
                        RosterDisagreement(
                            household: household.id, nationalIdMasked: masked, field: "headName",
                            onFile: .string(name), inRoster: .string(row.name), line: row.line))
                }
                if let status = household.status, status == .outOfHardship || status == .closed, let allowance = row.allowanceFen, allowance > 0 {
                    disagreements.append(
                        RosterDisagreement(
                            household: household.id, nationalIdMasked: masked, field: "status",
                            onFile: .string(status.rawValue), inRoster: .int(allowance), line: row.line))
                }
            }
        }

        func missing(_ household: ShownHousehold, masked: String) -> RosterMissingHousehold {
            RosterMissingHousehold(
                household: household.id, nationalIdMasked: masked, status: household.status, district: household.district, headName: household.headName)
        }

        /// The answer, once every household of the scope was added.
        public func report() -> RosterReport {
            var notOnFile: [RosterPerson] = []
            var outside = 0
            for (index, row) in roster.rows.enumerated() where !matched[index] {
                if let district, let rowDistrict = row.district, rowDistrict != district {
                    outside += 1
                } else {
                    notOnFile.append(
                        RosterPerson(
                            line: row.line, nationalIdMasked: mask(row.nationalId), name: row.name, allowanceFen: row.allowanceFen, district: row.district))
                }
            }
            return RosterReport(
                inRosterNotOnFile: notOnFile,
                onFileNotInRoster: notInRoster.sorted { ($0.district, $0.household) < ($1.district, $1.household) } + unread,
                disagreements: disagreements.sorted { ($0.line, $0.household, $0.field) < ($1.line, $1.household, $1.field) },
                rosterRows: roster.count,
                invalidRows: roster.invalid,
                rowsOutsideScope: outside
            )
        }
    }

    /// A national ID as lists show it: `150602********123X`, never whole.
    package static func mask(_ value: String) -> String {
        if let id = try? NationalID(value) { return id.masked }
        let characters = Array(value)
        guard characters.count > 10 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(6)) + String(repeating: "*", count: characters.count - 10) + String(characters.suffix(4))
    }

    /// A name as compared: no white space, one kind of middle dot (阿拉坦·其其格 is written with several).
    static func comparable(_ name: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in name.unicodeScalars where !scalar.properties.isWhitespace {
            result.append(["•", "・", "．", ".", "‧", "∙", "⋅", "･"].contains(scalar) ? "·" : scalar)
        }
        return String(result)
    }
}
