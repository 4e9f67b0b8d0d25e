import DoorstepCore
import Foundation

/// How the dashboard names fields and shows values, in both languages.
enum DashboardLabels {
    /// A field's label for people (DoorstepCore's `FieldLabels`, shared with the CLI).
    static func field(_ name: String, kind: EntityKind, _ language: Language) -> String {
        kind.label(ofField: name, language)
    }

    /// An entity kind's label (DoorstepCore's, shared with the CLI).
    static func kind(_ kind: EntityKind, _ language: Language) -> String {
        kind.label(language)
    }

    /// How the dashboard writes values: DoorstepCore's ``ValueText``, money as `¥1,234.50`, no value
    /// as `—`, national ID numbers whole (offices work with them).
    static func text(_ language: Language, city: CityData) -> ValueText {
        ValueText(language: language, city: city, moneyStyle: .symbol, none: "—", revealNationalIDs: true)
    }

    /// A value as people read it: terms by their labels, money in yuan, instants in the city's time.
    static func value(_ value: JSONValue, field: String, kind: EntityKind, language: Language, city: CityData) -> String {
        text(language, city: city).text(value, field: field, kind: kind)
    }

    /// Fen as yuan: `¥1,234.50`.
    static func money(_ fen: Int64) -> String {
        text(.chinese, city: .ordos).money(fen)
    }

    /// An instant as `2020-04-12 10:30` in the city's time zone.
    static func time(_ date: Date, city: CityData) -> String {
        text(.chinese, city: city).time(date)
    }

    /// An RFC 3339 text as `2020-04-12 10:30` in the city's time zone (the text itself when it does not parse).
    static func time(_ text: String?, city: CityData) -> String {
        self.text(.chinese, city: city).time(text)
    }

    /// A rate as a percentage with one decimal: `62.5%`; `—` without a denominator.
    static func percent(_ ratio: CampaignReport.Ratio) -> String {
        guard let perMille = ratio.perMille else { return "—" }
        return "\(perMille / 10).\(perMille % 10)%"
    }
}
