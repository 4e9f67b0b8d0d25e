import DoorstepCore
import Foundation

/// Reads what a person typed (a flag, a prompt answer, `--set field=value`) as a field's value,
/// then checks it with the field's `FieldSpec.normalize`, the same rule the server applies.
///
/// Terms are taken by wire name, by label (Chinese or English) or by their number in the list
/// the prompt shows; sets are comma-separated; money is fen, or yuan where the unit says so;
/// Booleans are yes/no, 是/否, true/false. An empty answer is "no value" (`null`).
enum FieldInput {
    enum MoneyUnit { case fen, yuan }

    static func parse(_ text: String, field: String, kind: EntityKind, city: CityData, money unit: MoneyUnit = .fen) throws(DoorstepError) -> JSONValue {
        guard let spec = kind.field(field) else {
            throw DoorstepError(.unknownField, "a \(kind.rawValue) has no field \(field)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return try spec.normalize(.null, city: city) }
        let raw: JSONValue
        switch spec.type {
        case .money:
            raw = .int(try amount(trimmed, field: field, unit: unit))
        case .integer:
            guard let number = Int64(trimmed) else {
                throw DoorstepError(.invalidValue, "\(field) must be a whole number")
            }
            raw = .int(number)
        case .boolean:
            raw = .bool(try boolean(trimmed, field: field))
        case .term:
            raw = .string(term(trimmed, field: field, kind: kind))
        case .termSet:
            let parts = trimmed.split { ",，、;；".contains($0) || $0 == " " }.map(String.init)
            raw = .array(parts.map { .string(term($0, field: field, kind: kind)) })
        default:
            raw = .string(trimmed)
        }
        return try spec.normalize(raw, city: city)
    }

    /// A term's wire name from what was typed: the wire name (any case), a label, or its 1-based number.
    static func term(_ text: String, field: String, kind: EntityKind) -> String {
        guard let terms = Strings.terms(of: field, kind: kind) else { return text }
        let lowered = text.lowercased()
        if let match = terms.first(where: { $0.wire.lowercased() == lowered || $0.chinese == text || $0.english.lowercased() == lowered }) {
            return match.wire
        }
        if let number = Int(text), terms.indices.contains(number - 1) { return terms[number - 1].wire }
        return text
    }

    static func boolean(_ text: String, field: String) throws(DoorstepError) -> Bool {
        switch text.lowercased() {
        case "y", "yes", "true", "1", "是", "有": return true
        case "n", "no", "false", "0", "否", "无": return false
        default: throw DoorstepError(.invalidValue, "\(field) must be yes or no")
        }
    }

    /// Whole fen, or yuan with up to two decimals (`1200`, `1,200.5`, `1200.50元`), as fen; no floating point.
    static func amount(_ text: String, field: String, unit: MoneyUnit) throws(DoorstepError) -> Int64 {
        var cleaned = text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "，", with: "")
        for suffix in ["元", "yuan", "fen", "分"] where cleaned.hasSuffix(suffix) { cleaned = String(cleaned.dropLast(suffix.count)) }
        cleaned = cleaned.trimmingCharacters(in: .whitespaces)
        let negative = cleaned.hasPrefix("-")
        if negative { cleaned.removeFirst() }
        let parts = cleaned.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? ""
        guard !whole.isEmpty, whole.count <= 15, whole.allSatisfy(\.isPlainDigit), let units = Int64(whole) else {
            throw DoorstepError(.invalidValue, unit == .yuan ? "\(field) must be an amount in yuan, such as 1200 or 1200.50" : "\(field) must be a whole number of fen")
        }
        var fen: Int64
        switch (unit, parts.count) {
        case (.fen, 1):
            fen = units
        case (.yuan, 1):
            fen = units * 100
        case (.yuan, 2) where (1...2).contains(parts[1].count) && parts[1].allSatisfy(\.isPlainDigit):
            let decimals = String(parts[1]).padding(toLength: 2, withPad: "0", startingAt: 0)
            fen = units * 100 + (Int64(decimals) ?? 0)
        default:
            throw DoorstepError(.invalidValue, unit == .yuan ? "\(field) must be an amount in yuan with at most two decimals" : "\(field) must be a whole number of fen")
        }
        if negative { fen = -fen }
        return fen
    }

    /// `field=value` pairs as typed after `--set`.
    static func assignment(_ text: String) throws(DoorstepError) -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw DoorstepError(.invalidValue, "--set takes field=value, such as --set phone=13912345678")
        }
        return (String(text[..<equals]).trimmingCharacters(in: .whitespaces), String(text[text.index(after: equals)...]))
    }
}

extension Character {
    var isPlainDigit: Bool { ("0"..."9").contains(self) }
}
