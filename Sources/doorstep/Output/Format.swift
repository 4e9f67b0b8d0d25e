import DoorstepCore
import Foundation

/// How values look to people: money in yuan, terms by label, IDs masked, times in the city's zone.
struct Format: Sendable {
    let language: Language
    let city: CityData

    /// The text of `key` in the table of texts, in this format's language.
    func t(_ key: String, _ values: [String: String] = [:]) -> String { Texts.text(key, language, values) }

    /// How the CLI writes values: DoorstepCore's ``ValueText`` (money as `1200.50 元`, no value as
    /// `-`, districts with their codes).
    func text(reveal: Bool = false) -> ValueText {
        ValueText(language: language, city: city, moneyStyle: .words, none: "-", revealNationalIDs: reveal, districtCodes: true)
    }

    /// Fen as yuan: `1200.50 元` / `1,200.50 yuan`.
    func money(_ fen: Int64) -> String { text().money(fen) }

    /// A district as `东胜区 150602` / `Dongsheng 150602`; the bare code when unknown.
    func district(_ code: String?) -> String { text().district(code) }

    func status(_ status: HouseholdStatus?) -> String {
        status?.label(language) ?? "-"
    }

    func yesNo(_ value: Bool) -> String { text().yesNo(value) }

    /// The first 8 characters of an id: enough to tell households apart, and accepted as input.
    static func short(_ id: EntityID) -> String { String(id.description.prefix(8)) }
    static func short(_ id: DeviceID) -> String { String(id.rawValue.prefix(8)) }

    /// An RFC 3339 instant as `2020-04-12 10:30` in the city's time zone; the text itself if it does not parse.
    func time(_ instant: String?) -> String { text().time(instant) }

    func time(_ date: Date) -> String { text().time(date) }

    /// The wall-clock time of a write.
    func time(_ write: WriteID) -> String { text().time(write) }

    /// A rate as a percentage with one decimal (`85.0%`), `-` when nothing is counted.
    static func percent(_ perMille: Int?) -> String {
        guard let perMille else { return "-" }
        return "\(perMille / 10).\(perMille % 10)%"
    }

    /// A field's value for people.
    func value(_ value: JSONValue, field: String, kind: EntityKind, reveal: Bool = false) -> String {
        text(reveal: reveal).text(value, field: field, kind: kind)
    }

    /// A term's label, or the wire name when the field has no labels.
    func label(_ wire: String, field: String, kind: EntityKind) -> String {
        text().term(wire, field: field, kind: kind)
    }

    /// A value with no field to go by.
    func describe(_ value: JSONValue) -> String { text().plain(value) }
}
