import DoorstepCore
import Foundation

/// How values look to people: money in yuan, terms by label, IDs masked, times in the city's zone.
struct Format: Sendable {
    let language: Language
    let city: CityData

    /// The text of `key` in the table of texts, in this format's language.
    func t(_ key: String, _ values: [String: String] = [:]) -> String { Texts.text(key, language, values) }

    /// Fen as yuan: `1200.50 元` / `1,200.50 yuan`.
    func money(_ fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let magnitude = fen.magnitude
        let yuan = String(magnitude / 100)
        let cents = String(format: "%02d", Int(magnitude % 100))
        if language == .chinese { return "\(sign)\(yuan).\(cents) 元" }
        var grouped = ""
        for (index, digit) in yuan.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return "\(sign)\(String(grouped.reversed())).\(cents) yuan"
    }

    /// A district as `东胜区 150602` / `Dongsheng 150602`; the bare code when unknown.
    func district(_ code: String?) -> String {
        guard let code, !code.isEmpty else { return "-" }
        guard let district = city.district(code) else { return code }
        return "\(district.name.text(language)) \(code)"
    }

    func status(_ status: HouseholdStatus?) -> String {
        status?.label(language) ?? "-"
    }

    func yesNo(_ value: Bool) -> String { value ? t("cli.format.yes") : t("cli.format.no") }

    /// The first 8 characters of an id: enough to tell households apart, and accepted as input.
    static func short(_ id: EntityID) -> String { String(id.description.prefix(8)) }
    static func short(_ id: DeviceID) -> String { String(id.rawValue.prefix(8)) }

    /// An RFC 3339 instant as `2020-04-12 10:30` in the city's time zone; the text itself if it does not parse.
    func time(_ instant: String?) -> String {
        guard let instant, !instant.isEmpty else { return "-" }
        guard let date = Instant.parse(instant) else { return instant }
        return time(date)
    }

    func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// The wall-clock time of a write.
    func time(_ write: WriteID) -> String {
        time(Date(timeIntervalSince1970: Double(write.hlc.wallMillis) / 1000))
    }

    /// A rate as a percentage with one decimal (`85.0%`), `-` when nothing is counted.
    static func percent(_ perMille: Int?) -> String {
        guard let perMille else { return "-" }
        return "\(perMille / 10).\(perMille % 10)%"
    }

    /// A field's value for people.
    func value(_ value: JSONValue, field: String, kind: EntityKind, reveal: Bool = false) -> String {
        if value.isNull { return "-" }
        let spec = kind.field(field)
        switch spec?.type {
        case .money?:
            return value.intValue.map(money) ?? describe(value)
        case .boolean?:
            return value.boolValue.map(yesNo) ?? describe(value)
        case .term?:
            return label(value.stringValue ?? describe(value), field: field, kind: kind)
        case .termSet?:
            let items = value.arrayValue?.compactMap(\.stringValue) ?? []
            if items.isEmpty { return "-" }
            return items.map { label($0, field: field, kind: kind) }.joined(separator: t("list.separator"))
        case .nationalID?:
            guard let text = value.stringValue else { return describe(value) }
            return reveal ? text : ((try? NationalID(text).masked) ?? text)
        case .district?:
            return district(value.stringValue)
        case .instant?:
            return time(value.stringValue)
        default:
            if field == "_deleted", let flag = value.boolValue { return yesNo(flag) }
            return describe(value)
        }
    }

    /// A term's label, or the wire name when the field has no labels.
    func label(_ wire: String, field: String, kind: EntityKind) -> String {
        Strings.terms(of: field, kind: kind)?.first { $0.wire == wire }?.label(language) ?? wire
    }

    func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "-"
        case .bool(let flag): yesNo(flag)
        case .int(let number): String(number)
        case .string(let text): text
        case .array(let items): items.map(describe).joined(separator: ", ")
        case .object: (try? String(decoding: WireCoding.encode(value), as: UTF8.self)) ?? "{…}"
        }
    }
}
