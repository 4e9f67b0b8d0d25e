import DoorstepCore
import DoorstepWeb
import Foundation

/// One input of a form, built from the field catalog: what the template `field` renders.
struct FormField: Sendable {
    struct Option: Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    /// The control's name in the form (the field's name, with a prefix where a form holds several kinds).
    var name: String
    var label: String
    var required: Bool
    /// The text the control shows.
    var value: String
    var inputType = "text"
    var inputMode: String?
    var maxLength: Int?
    var placeholder: String?
    var hint: String?
    /// For a file control: the types it offers to choose (`accept`); it takes several files.
    var accept: String?
    var options: [Option] = []
    var isSelect = false
    var isChoices = false
    var isTextArea = false
    var isInput = true
    /// What is wrong with what was typed, in the page's language.
    var problem: String?
    /// Who changed the value last, and when.
    var changedBy: String?
    /// On a form over a stored value: the text the control showed and the heads it showed
    /// (hidden fields sent back with the form, so that only what the visitor changed is written,
    /// on what they saw).
    var was: String?
    var base: String?
    /// Its heads hold different values: the form offers to keep the shown one (which settles it).
    var conflicted = false
}

/// The forms of the field app, from DoorstepCore's field catalog: which fields a form shows, the
/// control for each type, what the control shows of a value, and reading what was typed back
/// with the one parser people's input goes through (``TypedInput``), every problem at once.
struct FormFields {
    let language: Language
    let city: CityData

    /// Money without a unit, as a visitor types it again: `2600` or `2600.50` (yuan).
    static func yuanText(_ fen: Int64) -> String {
        let cents = fen.magnitude % 100
        return (fen < 0 ? "-" : "") + String(fen.magnitude / 100) + (cents == 0 ? "" : "." + (cents < 10 ? "0" : "") + String(cents))
    }

    /// What a control shows of a value.
    func text(_ value: JSONValue, spec: FieldSpec) -> String {
        switch (spec.type, value) {
        case (_, .null): return ""
        case (.money, .int(let fen)): return Self.yuanText(fen)
        case (.boolean, .bool(let flag)): return flag ? "true" : "false"
        case (.instant, .string(let text)):
            // A datetime-local control: `2020-04-12T10:30` in the city's time.
            guard let date = Instant.parse(text) else { return text }
            let local = Instant.format(date, in: zone)
            return String(local.prefix(16))
        case (.termSet, .array(let items)): return items.compactMap(\.stringValue).joined(separator: ",")
        case (_, .string(let text)): return text
        case (_, .int(let number)): return String(number)
        default: return ValueText(language: language, city: city).plain(value)
        }
    }

    var zone: TimeZone { TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current }

    /// The control for a field, showing `value` (or what was typed), with its problem. With
    /// `current` (a form over a stored entity), the value is its shown one, sent back with its heads.
    func field(
        _ spec: FieldSpec, of kind: EntityKind, name: String? = nil, value: JSONValue = .null, current: EntityState? = nil, typed: [String]? = nil,
        problem: String? = nil, changedBy: String? = nil, districts: [String]? = nil
    ) -> FormField {
        let stored = current.map { $0[spec.name] } ?? value
        let shown = typed?.first ?? text(stored, spec: spec)
        var field = FormField(
            name: name ?? spec.name, label: kind.label(ofField: spec.name, language), required: spec.required, value: shown, problem: problem,
            changedBy: changedBy)
        if let current {
            field.was = text(stored, spec: spec)
            field.base = current.heads(spec.name).map(\.write.description).joined(separator: " ")
            field.conflicted = current.fields[spec.name]?.isConflicted == true
        }
        func hint(_ key: String) -> String { Texts.text("app.hint.\(key)", language) }
        switch spec.type {
        case .text(let maxLength):
            field.maxLength = maxLength
            if maxLength > 200 {
                field.isTextArea = true
                field.isInput = false
            }
        case .money:
            field.inputMode = "decimal"
            field.hint = hint("money")
        case .integer:
            field.inputMode = "numeric"
        case .boolean:
            field.isSelect = true
            field.isInput = false
            field.options = [("", "—"), ("true", Texts.text("value.yes", language)), ("false", Texts.text("value.no", language))].map {
                FormField.Option(value: $0.0, label: $0.1, selected: $0.0 == shown)
            }
        case .term:
            field.isSelect = true
            field.isInput = false
            let terms = TypedInput.terms(of: spec.name, kind: kind) ?? []
            field.options =
                [FormField.Option(value: "", label: "—", selected: shown.isEmpty)]
                + terms.map { FormField.Option(value: $0.wire, label: $0.label(language), selected: $0.wire == shown) }
        case .termSet:
            field.isChoices = true
            field.isInput = false
            let chosen = Set(typed ?? text(stored, spec: spec).split(separator: ",").map(String.init))
            field.options = (TypedInput.terms(of: spec.name, kind: kind) ?? []).map {
                FormField.Option(value: $0.wire, label: $0.label(language), selected: chosen.contains($0.wire))
            }
        case .date:
            field.inputType = "date"
            field.hint = hint("date")
        case .instant:
            field.inputType = "datetime-local"
        case .nationalID:
            field.maxLength = 18
            field.hint = hint("nationalId")
        case .phone:
            field.inputType = "tel"
            field.inputMode = "tel"
        case .district:
            field.isSelect = true
            field.isInput = false
            let codes = districts ?? city.districts.map(\.code)
            field.options = city.districts.filter { codes.contains($0.code) }.map {
                FormField.Option(value: $0.code, label: $0.name.text(language), selected: $0.code == shown)
            }
        case .entityReference, .sha256:
            // Written by the app itself (an attachment's), never typed: shown as read.
            field.maxLength = 64
        }
        return field
    }

    /// Reads the fields `specs` of `kind` from a form (names prefixed with `prefix`): each typed
    /// text through ``TypedInput``, the problems by control name. With `current`, only the fields
    /// whose value differs from it are returned (an unchanged field is not written again: that
    /// would settle a conflict nobody looked at), except those named in `settle`.
    func read(
        _ specs: [FieldSpec], of kind: EntityKind, from form: WebForm, prefix: String = "", current: EntityState? = nil
    ) -> Reading {
        var reading = Reading()
        for spec in specs {
            let name = prefix + spec.name
            let typed: String
            if case .termSet = spec.type {
                typed = form.values(name).filter { !$0.isEmpty }.joined(separator: ",")
            } else {
                guard let text = form[name] else { continue }
                typed = text
            }
            let keep = form["settle." + name] == "1"
            // A form over a stored value says what it showed: unchanged, nothing is written (a
            // sync meanwhile may have brought another value: it is not written over); changed,
            // the write is based on the heads it showed, so a change made meanwhile stands beside it.
            if let was = form["was." + name] {
                if Self.sameText(typed, was, spec: spec) && !keep { continue }
                let base = (form["base." + name] ?? "").split(separator: " ").compactMap { try? WriteID(String($0)) }
                reading.bases[spec.name] = base
            }
            // Left empty on a new entry: no value (``missing(_:of:in:prefix:)`` says which are required).
            if current == nil && typed.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do {
                var value = try TypedInput.value(instantText(typed, spec: spec), field: spec.name, of: kind, city: city)
                if case .termSet = spec.type, value == .null { value = .array([]) }
                if form["was." + name] == nil {
                    if let current {
                        if Self.same(value, current[spec.name]) && !keep { continue }
                    } else if value == .null {
                        continue
                    }
                }
                reading.values[spec.name] = value
            } catch {
                reading.bases[spec.name] = nil
                reading.problems[name] = error.explained(language)
            }
        }
        return reading
    }

    /// What a form said: the values to write, the heads each was written on (where the form
    /// showed them), and the problems by control name.
    struct Reading {
        var values: [String: JSONValue] = [:]
        var bases: [String: [WriteID]] = [:]
        var problems: [String: String] = [:]
    }

    /// Whether a control's text is what it showed (a set in any order; an instant in any form).
    static func sameText(_ typed: String, _ was: String, spec: FieldSpec) -> Bool {
        let a = typed.trimmingCharacters(in: .whitespaces), b = was.trimmingCharacters(in: .whitespaces)
        if case .termSet = spec.type {
            return Set(a.split(separator: ",").map(String.init)) == Set(b.split(separator: ",").map(String.init))
        }
        return a == b
    }

    /// The problems of the required fields among `specs` that `values` lacks (and that have no
    /// problem already), keyed by control name: what a new entry must still be given.
    func missing(
        _ specs: [FieldSpec], of kind: EntityKind, in values: [String: JSONValue], prefix: String = "", problems: [String: String]
    )
        -> [String: String]
    {
        var missing: [String: String] = [:]
        for spec in specs where spec.required && values[spec.name] == nil && problems[prefix + spec.name] == nil {
            missing[prefix + spec.name] = DoorstepError(.missingField, rule: "required", ErrorDetails(field: spec.name, kind: kind.rawValue))
                .explained(language)
        }
        return missing
    }

    /// Whether two values say the same to a person: equal, or both empty (no value, an empty
    /// set, empty text), so that a control left empty writes nothing over no value.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func empty(_ value: JSONValue) -> Bool { value == .null || value == .array([]) || value == .string("") }
        if let x = a.stringValue.flatMap(Instant.parse), let y = b.stringValue.flatMap(Instant.parse) { return x == y }
        return a == b || (empty(a) && empty(b))
    }

    /// A datetime-local control's `2020-04-12T10:30` as an instant in the city's time zone; other text as typed.
    func instantText(_ typed: String, spec: FieldSpec) -> String {
        guard case .instant = spec.type else { return typed }
        let trimmed = typed.trimmingCharacters(in: .whitespaces)
        guard trimmed.count == 16, trimmed.dropFirst(10).first == "T" else { return typed }
        let seconds = zone.secondsFromGMT()
        let sign = seconds < 0 ? "-" : "+"
        let hours = abs(seconds) / 3600, minutes = abs(seconds) / 60 % 60
        return trimmed + ":00" + sign + (hours < 10 ? "0" : "") + String(hours) + ":" + (minutes < 10 ? "0" : "") + String(minutes)
    }
}
