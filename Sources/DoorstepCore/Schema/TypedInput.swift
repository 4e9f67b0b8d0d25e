/// Reads a value as a person types it (a CLI flag or argument, a prompt's answer, a review
/// decision, a dashboard form, a cell of an imported file) into the field's wire value, then checks
/// it with the field's ``FieldSpec/normalize(_:city:)``: one parser per field type, for every
/// place a person types, so that `2600元` means the same everywhere.
///
/// - Money is read in **yuan** unless a unit says otherwise: a suffix (`元`, `块`, `万`, `万元`,
///   `分`, `yuan`, `fen`), a prefix (`¥`, `￥`), or the entry point itself (a flag or a column
///   named for fen, such as `--income-fen` or `家庭月收入(分)`, passes ``MoneyUnit/fen``). A unit
///   typed with the value always wins over the entry point's. Thousands separators (`1,500`,
///   `1，500`), full-width digits (`２６００`) and up to two decimals of yuan are understood;
///   anything else (`1,50`, `2600.555`, `两千`, a negative amount, fen with decimals) is
///   refused with a message in both languages, never guessed at.
/// - Terms by wire name (any case), Chinese or English label, or their 1-based number in the list.
/// - Sets separated by commas (`,`, `，`), `、`, `;` or spaces.
/// - Yes/no as `是`/`否`, `有`/`无`, yes/no, y/n, true/false, 1/0.
/// - Dates as `2020-04-12`, `2020/4/12`, `2020.4.12` or `2020年4月12日`.
/// - Full-width forms of ASCII characters are read as ASCII for every type but text.
public enum TypedInput {
    /// The unit of a money amount typed without one.
    public enum MoneyUnit: String, Sendable, Hashable {
        /// Yuan (元): what people say; the default.
        case yuan
        /// Fen (分): only where the entry point names it (`--income-fen`, a `(分)` column).
        case fen
    }

    /// The wire value of what was typed for a field of a kind, checked by the field's rule.
    ///
    /// Empty text is "no value" (`null`, refused with `missingField` for a required field).
    public static func value(
        _ text: String, field: String, of kind: EntityKind, city: CityData, moneyUnit: MoneyUnit = .yuan
    ) throws(DoorstepError) -> JSONValue {
        if field == deletedFieldName, kind.isDeletable {
            return .bool(try boolean(text, field: field))
        }
        guard let spec = kind.field(field) else {
            throw DoorstepError(.unknownField, rule: "unknownField", ErrorDetails(field: String(field.prefix(64)), kind: kind.rawValue))
        }
        let trimmed = text.trimmedWhitespace
        if trimmed.isEmpty { return try spec.normalize(.null, city: city) }
        let raw: JSONValue
        switch spec.type {
        case .money:
            raw = .int(try money(trimmed, field: field, of: kind, unit: moneyUnit))
        case .integer:
            guard let number = Int64(asciiForms(trimmed).trimmedWhitespace) else {
                throw DoorstepError(.invalidValue, rule: "wholeNumber", ErrorDetails(field: field, kind: kind.rawValue))
            }
            raw = .int(number)
        case .boolean:
            raw = .bool(try boolean(trimmed, field: field, of: kind))
        case .term:
            raw = .string(term(trimmed, field: field, of: kind))
        case .termSet:
            let parts = asciiForms(trimmed).split { ",;、 ".contains($0) }.map(String.init)
            raw = .array(parts.map { .string(term($0, field: field, of: kind)) })
        case .date:
            raw = .string(date(trimmed))
        case .district:
            raw = .string(district(trimmed, city: city))
        case .nationalID, .phone, .entityReference, .sha256:
            raw = .string(asciiForms(trimmed).trimmedWhitespace)
        case .text, .instant:
            raw = .string(trimmed)
        }
        return try spec.normalize(raw, city: city)
    }

    // MARK: Money

    /// The unit of bare amounts where a person named the field as they typed it: a wire name that
    /// ends in `Fen` (`monthlyIncomeFen`, as programs and the import's wire-name columns write it)
    /// names fen; a label (`家庭月收入`) names nothing, so yuan.
    public static func moneyUnit(namedBy typedField: String) -> MoneyUnit {
        typedField.trimmedWhitespace.hasSuffix("Fen") ? .fen : .yuan
    }

    /// An amount of money as fen, from text such as `2600`, `2600元`, `1,500.50`, `￥1,500`,
    /// `1.5万`, `260000分` or `２６００`; `unit` says what a bare number means.
    public static func money(_ text: String, field: String, of kind: EntityKind? = nil, unit: MoneyUnit = .yuan) throws(DoorstepError) -> Int64 {
        let name = kind.map { label(field, $0) } ?? field
        // White space may stand around the number and its unit (`2600 元`, `RMB 2600`), never inside
        // the digits (`3000 2600` is two numbers, not one).
        let ascii = asciiForms(text).trimmedWhitespace
        if ascii.contains(where: { $0.isWhitespace }) {
            let parts = ascii.split(whereSeparator: \.isWhitespace)
            if parts.filter({ $0.contains(where: \.isASCIIDigit) }).count > 1 { throw refusal(field, kind, name, ascii) }
        }
        var rest = Substring(String(ascii.unicodeScalars.filter { !$0.properties.isWhitespace }))
        let shown = String(rest)
        func refuse() -> DoorstepError { refusal(field, kind, name, shown) }
        var typedUnit: Scale?
        for prefix in ["¥", "￥", "RMB", "rmb", "CNY", "cny"] where rest.hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            typedUnit = .yuan
            break
        }
        if rest.hasPrefix("-") || rest.hasPrefix("−") {
            throw DoorstepError(.negativeAmount, rule: "negativeAmount", ErrorDetails(field: field, kind: kind?.rawValue))
        }
        if rest.hasPrefix("+") { rest = rest.dropFirst() }
        for (suffix, scale) in Self.suffixes where rest.hasSuffix(suffix) {
            if let typed = typedUnit, typed != scale { throw refuse() }
            rest = rest.dropLast(suffix.count)
            typedUnit = scale
            break
        }
        let scale = typedUnit ?? (unit == .fen ? .fen : .yuan)
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let wholeText = parts.first else { throw refuse() }
        let decimals = parts.count == 2 ? parts[1] : ""
        guard parts.count == 1 || (!decimals.isEmpty && decimals.allSatisfy(\.isASCIIDigit)) else { throw refuse() }
        guard let whole = grouped(wholeText) else { throw refuse() }
        guard decimals.count <= scale.decimals else {
            switch scale {
            case .fen:
                throw DoorstepError(.invalidValue, rule: "fenDecimals", ErrorDetails(field: field, kind: kind?.rawValue))
            default:
                throw DoorstepError(.invalidValue, rule: "yuanDecimals", ErrorDetails(field: field, kind: kind?.rawValue))
            }
        }
        let padded = decimals + String(repeating: "0", count: scale.decimals - decimals.count)
        guard whole.count + padded.count <= 15, let fen = Int64(whole + padded) else {
            throw DoorstepError(.invalidValue, rule: "tooLarge", ErrorDetails(field: field, kind: kind?.rawValue, limit: FieldSpec.maxFen))
        }
        return fen
    }

    /// The refusal of a text that is no amount. The text is repeated only when it is short and made
    /// of digits, separators and units (a name or an ID number in the wrong column is not echoed).
    private static func refusal(_ field: String, _ kind: EntityKind?, _ name: String, _ typed: String) -> DoorstepError {
        let echo =
            typed.count <= 24
            && typed.allSatisfy { $0.isASCIIDigit || ",.+-¥￥元块万分整钱".contains($0) || ($0.isASCII && $0.isLetter && "yuanfenrmbcnyYUANFENRMBCNY".contains($0)) }
        let quoted = echo ? "\"\(typed)\" " : ""
        let quotedZh = echo ? "的「\(typed)」" : "填写的内容"
        return DoorstepError(
            .invalidValue,
            "\(field): \(quoted)is not an amount; type yuan such as 2600, 2,600.50 or 2600元, or fen such as 260000分",
            zh: "「\(name)」\(quotedZh)不是金额：请填写元，如 2600、2,600.50 或 2600元；按分填写请加“分”，如 260000分",
            details: ErrorDetails(rule: "amount", field: field, kind: kind?.rawValue)
        )
    }

    /// What a typed unit makes of one: the number of decimals of it that are whole fen.
    private enum Scale: Hashable {
        case fen, yuan, tenThousandYuan
        var decimals: Int {
            switch self {
            case .fen: 0
            case .yuan: 2
            case .tenThousandYuan: 6
            }
        }
    }

    /// Unit suffixes, longest first so that `万元` is not read as `元`.
    private static let suffixes: [(String, Scale)] = [
        ("万元整", .tenThousandYuan), ("万元", .tenThousandYuan), ("万", .tenThousandYuan),
        ("元整", .yuan), ("元", .yuan), ("块钱", .yuan), ("块", .yuan), ("yuan", .yuan), ("YUAN", .yuan), ("Yuan", .yuan),
        ("分", .fen), ("fen", .fen), ("FEN", .fen), ("Fen", .fen),
    ]

    /// The digits of a whole number written plainly (`1500`) or in groups of three (`1,500`,
    /// `12,345,678`); `nil` for anything else (`1,50`, `,500`, `1,5000`).
    private static func grouped(_ text: Substring) -> String? {
        guard !text.isEmpty else { return nil }
        let groups = text.split(separator: ",", omittingEmptySubsequences: false)
        guard groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        if groups.count > 1 {
            guard groups[0].count <= 3, groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
        }
        return groups.joined()
    }

    // MARK: Other types

    /// Yes or no: `是`/`否`, `有`/`无`, `对`/`不`, yes/no, y/n, true/false, 1/0 (any case).
    public static func boolean(_ text: String, field: String, of kind: EntityKind? = nil) throws(DoorstepError) -> Bool {
        switch asciiForms(text).trimmedWhitespace.lowercased() {
        case "y", "yes", "true", "t", "1", "是", "有", "对": return true
        case "n", "no", "false", "f", "0", "否", "无", "没有", "不": return false
        default:
            throw DoorstepError(.invalidValue, rule: "boolean", ErrorDetails(field: field, kind: kind?.rawValue))
        }
    }

    /// A term's wire name from what was typed: the wire name (any case), a Chinese or English
    /// label, or its 1-based number in ``terms(of:kind:)``; the text itself when nothing matches,
    /// so that the field's rule names the problem.
    public static func term(_ text: String, field: String, of kind: EntityKind) -> String {
        let typed = text.trimmedWhitespace
        guard let terms = terms(of: field, kind: kind) else { return typed }
        let ascii = asciiForms(typed).lowercased()
        if let match = terms.first(where: { $0.wire.lowercased() == ascii || $0.chinese == typed || $0.english.lowercased() == ascii }) {
            return match.wire
        }
        if let number = Int(ascii), (1...terms.count).contains(number) { return terms[number - 1].wire }
        return typed
    }

    /// The terms a field takes, with their labels, in the order lists show them; `nil` for a
    /// field that is not a term.
    public static func terms(of field: String, kind: EntityKind) -> [TermLabel]? {
        switch (kind, field) {
        case (.household, "primaryCause"), (.household, "otherCauses"): TermLabel.all(HardshipCause.self)
        case (.household, "difficulty"): TermLabel.all(DifficultyDegree.self)
        case (.household, "skillLevel"): TermLabel.all(SkillLevel.self)
        case (.household, "fileLevel"): TermLabel.all(FileLevel.self)
        case (.household, "status"), (.visit, "proposedStatus"): TermLabel.all(HouseholdStatus.self)
        case (.member, "relation"): TermLabel.all(MemberRelation.self)
        case (.member, "health"): TermLabel.all(HealthCondition.self)
        case (.member, "employment"): TermLabel.all(EmploymentSituation.self)
        case (.liaison, "level"): TermLabel.all(LiaisonLevel.self)
        case (.problem, "category"), (.assistance, "category"): TermLabel.all(AssistanceCategory.self)
        case (.problem, "status"): TermLabel.all(ProblemStatus.self)
        case (.assistance, "leadDepartment"): TermLabel.all(LeadDepartment.self)
        case (.assistance, "status"): TermLabel.all(AssistanceStatus.self)
        case (.visit, "mode"): TermLabel.all(VisitMode.self)
        case (.visit, "verified"): TermLabel.all(VerifiedFact.self)
        case (.visit, "conclusion"): TermLabel.all(VisitConclusion.self)
        default: nil
        }
    }

    /// A district's code from its code (`150602`), its Chinese name (`东胜区`, or without the
    /// suffix, `东胜`) or its English name (any case); the text itself when none matches, so that
    /// the district rule names the problem.
    public static func district(_ text: String, city: CityData) -> String {
        let typed = asciiForms(text).trimmedWhitespace
        let lowered = typed.lowercased()
        let match = city.districts.first { district in
            district.code == typed || district.name.zh == typed || district.name.en.lowercased() == lowered
                || (typed.count >= 2 && district.name.zh.hasPrefix(typed) && district.name.zh.count - typed.count == 1)
        }
        return match?.code ?? typed
    }

    /// A district typed where one is asked for (a flag such as `--district`): its code, or
    /// `unknownDistrict` naming the city's districts.
    public static func requireDistrict(_ text: String, city: CityData) throws(DoorstepError) -> String {
        try city.requireDistrict(district(text, city: city)).code
    }

    /// A date as `YYYY-MM-DD` from `2020-04-12`, `2020/4/12`, `2020.4.12` or `2020年4月12日`; the
    /// text as it was when it is none of these, so that the date rule names the problem.
    public static func date(_ text: String) -> String {
        let ascii = asciiForms(text).trimmedWhitespace
        var parts: [Substring] = []
        if ascii.hasSuffix("日") || ascii.hasSuffix("号") {
            parts = ascii.dropLast().split(whereSeparator: { $0 == "年" || $0 == "月" })
        } else {
            for separator: Character in ["-", "/", "."] where ascii.contains(separator) {
                parts = ascii.split(separator: separator, omittingEmptySubsequences: false)
                break
            }
        }
        guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) })
        else { return ascii }
        func two(_ part: Substring) -> String { part.count == 1 ? "0" + part : String(part) }
        return "\(parts[0])-\(two(parts[1]))-\(two(parts[2]))"
    }

    /// The text with full-width forms (`２６００`, `，`, `．`, the ideographic space) as their ASCII
    /// characters; everything else unchanged.
    public static func asciiForms(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { (0xFF01...0xFF5E).contains($0.value) || $0.value == 0x3000 }) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                scalars.append(ascii)
            } else if scalar.value == 0x3000 {
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    private static func label(_ field: String, _ kind: EntityKind) -> String {
        FieldLabels.label(field, of: kind, .chinese) ?? field
    }
}

/// A term's wire name and its two labels, as lists and prompts show them.
public struct TermLabel: Hashable, Sendable {
    /// The wire name, e.g. `illness`.
    public var wire: String
    /// The Chinese label, e.g. 因病.
    public var chinese: String
    /// The English label.
    public var english: String

    /// The label in the given language.
    public func label(_ language: Language) -> String { language == .chinese ? chinese : english }

    /// Every case of a term type, in declaration order.
    public static func all<T: DomainTerm>(_ type: T.Type) -> [TermLabel] {
        T.allCases.map { TermLabel(wire: $0.rawValue, chinese: $0.chineseLabel, english: $0.englishLabel) }
    }
}
