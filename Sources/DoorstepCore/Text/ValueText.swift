public import Foundation

/// How a field's value reads to people, in either language: terms by their labels, money in
/// yuan, districts by name, instants in the city's time zone, national ID numbers masked unless
/// revealed. One definition for the CLI, the office dashboard and the field app.
public struct ValueText: Sendable {
    /// How an amount of money is written.
    public enum MoneyStyle: Sendable {
        /// `1200.50 元` / `1,200.50 yuan`: in a sentence or a terminal.
        case words
        /// `¥1,200.50`: in a table of figures.
        case symbol
    }

    public let language: Language
    public let city: CityData
    public var moneyStyle: MoneyStyle
    /// What stands for no value (`-` in a terminal, `—` on a page).
    public var none: String
    /// Whether national ID numbers are shown whole (else `150602********123X`).
    public var revealNationalIDs: Bool
    /// Whether a district shows its code beside its name (`东胜区 150602`).
    public var districtCodes: Bool

    public init(
        language: Language, city: CityData = .ordos, moneyStyle: MoneyStyle = .words, none: String = "-",
        revealNationalIDs: Bool = false, districtCodes: Bool = false
    ) {
        self.language = language
        self.city = city
        self.moneyStyle = moneyStyle
        self.none = none
        self.revealNationalIDs = revealNationalIDs
        self.districtCodes = districtCodes
    }

    /// A field's value for people.
    public func text(_ value: JSONValue, field: String, kind: EntityKind) -> String {
        if value.isNull { return none }
        if field == deletedFieldName, let flag = value.boolValue { return Texts.text(flag ? "value.deleted" : "value.restored", language) }
        switch kind.field(field)?.type {
        case .money?:
            return value.intValue.map(money) ?? plain(value)
        case .boolean?:
            return value.boolValue.map(yesNo) ?? plain(value)
        case .term?:
            return value.stringValue.map { term($0, field: field, kind: kind) } ?? plain(value)
        case .termSet?:
            let items = value.arrayValue?.compactMap(\.stringValue) ?? []
            if items.isEmpty { return none }
            return items.map { term($0, field: field, kind: kind) }.joined(separator: Texts.text("list.separator", language))
        case .nationalID?:
            guard let text = value.stringValue else { return plain(value) }
            return revealNationalIDs ? text : ((try? NationalID(text).masked) ?? text)
        case .district?:
            return district(value.stringValue)
        case .instant?:
            return time(value.stringValue)
        default:
            return plain(value)
        }
    }

    /// A term's label, or the wire name when the field has no labels.
    public func term(_ wire: String, field: String, kind: EntityKind) -> String {
        TypedInput.terms(of: field, kind: kind)?.first { $0.wire == wire }?.label(language) ?? wire
    }

    /// Fen as yuan, in ``moneyStyle``.
    public func money(_ fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let magnitude = fen.magnitude
        let cents = magnitude % 100
        let fraction = "\(cents < 10 ? "0" : "")\(cents)"
        let yuan = String(magnitude / 100)
        switch moneyStyle {
        case .symbol:
            return "\(sign)¥\(Self.grouped(yuan)).\(fraction)"
        case .words:
            return language == .chinese ? "\(sign)\(yuan).\(fraction) 元" : "\(sign)\(Self.grouped(yuan)).\(fraction) yuan"
        }
    }

    /// Digits in groups of three: `1,234,567`.
    static func grouped(_ digits: String) -> String {
        var grouped = ""
        for (index, digit) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return String(grouped.reversed())
    }

    /// A district by its name (with its code when ``districtCodes``); the bare code when unknown.
    public func district(_ code: String?) -> String {
        guard let code, !code.isEmpty else { return none }
        guard let district = city.district(code) else { return code }
        return districtCodes ? "\(district.name.text(language)) \(code)" : district.name.text(language)
    }

    /// `是`/`否`, yes/no.
    public func yesNo(_ flag: Bool) -> String { Texts.text(flag ? "value.yes" : "value.no", language) }

    /// An instant as `2020-04-12 10:30` in the city's time zone.
    public func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ number: Int?) -> String { (number ?? 0) < 10 ? "0\(number ?? 0)" : "\(number ?? 0)" }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute))"
    }

    /// An RFC 3339 text as `2020-04-12 10:30` in the city's time zone (the text itself when it does not parse).
    public func time(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return none }
        return Instant.parse(text).map(time) ?? text
    }

    /// The wall-clock time a write was made.
    public func time(_ write: WriteID) -> String {
        time(Date(timeIntervalSince1970: Double(write.hlc.wallMillis) / 1000))
    }

    /// A value with no field type to go by.
    public func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: none
        case .bool(let flag): yesNo(flag)
        case .int(let number): String(number)
        case .string(let text): text
        case .array(let items): items.map(plain).joined(separator: Texts.text("list.separator", language))
        case .object: Texts.text("value.structured", language)
        }
    }
}
