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

    /// A value as people read it: terms by their labels, money in yuan, instants in the city's time.
    static func value(_ value: JSONValue, field: String, kind: EntityKind, language: Language, city: CityData) -> String {
        switch value {
        case .null: return "—"
        case .bool(let flag):
            if field == deletedFieldName { return Texts.text(flag ? "value.deleted" : "value.restored", language) }
            return Texts.text(flag ? "value.yes" : "value.no", language)
        case .int(let number):
            if field.hasSuffix("Fen") { return money(number) }
            return String(number)
        case .string(let text):
            if let label = term(text, field: field, kind: kind, language: language) { return label }
            if kind.field(field)?.type == .district { return city.district(text)?.name.text(language) ?? text }
            if kind.field(field)?.type == .instant, let date = Instant.parse(text) { return time(date, city: city) }
            return text
        case .array(let items):
            return items.map { self.value($0, field: field, kind: kind, language: language, city: city) }.joined(
                separator: Texts.text("list.separator", language))
        case .object:
            return Texts.text("value.structured", language)
        }
    }

    /// Fen as yuan: `¥1,234.50`.
    static func money(_ fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let magnitude = fen.magnitude
        let yuan = String(magnitude / 100)
        var grouped = ""
        for (index, character) in yuan.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let cents = magnitude % 100
        return "\(sign)¥\(String(grouped.reversed())).\(cents < 10 ? "0" : "")\(cents)"
    }

    /// An instant as `2020-04-12 10:30` in the city's time zone.
    static func time(_ date: Date, city: CityData) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ number: Int?) -> String { String(format: "%02d", number ?? 0) }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute))"
    }

    /// An RFC 3339 text as `2020-04-12 10:30` in the city's time zone (the text itself when it does not parse).
    static func time(_ text: String?, city: CityData) -> String {
        guard let text else { return "—" }
        return Instant.parse(text).map { time($0, city: city) } ?? text
    }

    /// A rate as a percentage with one decimal: `62.5%`; `—` without a denominator.
    static func percent(_ ratio: CampaignReport.Ratio) -> String {
        guard let perMille = ratio.perMille else { return "—" }
        return "\(perMille / 10).\(perMille % 10)%"
    }

    private static func term(_ text: String, field: String, kind: EntityKind, language: Language) -> String? {
        func label<T: DomainTerm>(_ type: T.Type) -> String? { T(rawValue: text)?.label(language) }
        switch (kind, field) {
        case (.household, "status"), (.visit, "proposedStatus"): return label(HouseholdStatus.self)
        case (.household, "primaryCause"), (.household, "otherCauses"): return label(HardshipCause.self)
        case (.household, "difficulty"): return label(DifficultyDegree.self)
        case (.household, "skillLevel"): return label(SkillLevel.self)
        case (.household, "fileLevel"): return label(FileLevel.self)
        case (.member, "relation"): return label(MemberRelation.self)
        case (.member, "health"): return label(HealthCondition.self)
        case (.member, "employment"): return label(EmploymentSituation.self)
        case (.liaison, "level"): return label(LiaisonLevel.self)
        case (.problem, "category"), (.assistance, "category"): return label(AssistanceCategory.self)
        case (.problem, "status"): return label(ProblemStatus.self)
        case (.assistance, "status"): return label(AssistanceStatus.self)
        case (.assistance, "leadDepartment"): return label(LeadDepartment.self)
        case (.visit, "mode"): return label(VisitMode.self)
        case (.visit, "conclusion"): return label(VisitConclusion.self)
        case (.visit, "verified"): return label(VerifiedFact.self)
        default: return nil
        }
    }
}
