import Foundation

/// Validation of what a mutation writes, in itself (no state): the same on the device, before
/// anything is saved, and on the server.
public enum MutationValidator {
    /// Checks each written field exists, normalises each value by its ``FieldSpec``, and checks
    /// the operation's shape (a creation has every required field; a deletion writes only the
    /// tombstone; a link decision only its state). Returns the writes with normalised values.
    public static func validate(_ op: MutationOperation, kind: EntityKind, fields: [FieldWrite], city: CityData) throws(DoorstepError) -> [FieldWrite] {
        var seen = Set<String>()
        var writes: [FieldWrite] = []
        for write in fields {
            guard seen.insert(write.field).inserted else {
                throw DoorstepError(.invalidOperation, rule: "writtenTwice", ErrorDetails(field: String(write.field.prefix(64)), kind: kind.rawValue))
            }
            let value: JSONValue
            switch op {
            case .delete:
                guard write.field == deletedFieldName, write.value == .bool(true) else {
                    throw DoorstepError(.invalidOperation, rule: "deletionShape")
                }
                value = write.value
            case .linkDecision:
                guard write.field == "state", write.value == "linked" || write.value == "unlinked" else {
                    throw DoorstepError(.invalidOperation, rule: "linkDecisionShape")
                }
                value = write.value
            case .create, .update:
                if write.field == voidedFieldName, op == .update, kind == .visit {
                    value = try Self.voidReason(write.value)
                } else if write.field == deletedFieldName, op == .update, kind.isDeletable {
                    guard write.value == .bool(false) else {
                        throw DoorstepError(.invalidOperation, rule: "restoreOnly")
                    }
                    value = write.value
                } else {
                    guard let spec = kind.field(write.field) else {
                        throw DoorstepError(.unknownField, rule: "unknownField", ErrorDetails(field: String(write.field.prefix(64)), kind: kind.rawValue))
                    }
                    value = try spec.normalize(write.value, city: city)
                }
            }
            writes.append(FieldWrite(field: write.field, value: value, base: write.base))
        }
        switch op {
        case .create:
            for spec in kind.fields where spec.required && !seen.contains(spec.name) {
                throw DoorstepError(.missingField, rule: "required", ErrorDetails(field: spec.name, kind: kind.rawValue))
            }
        case .update, .delete, .linkDecision:
            if writes.isEmpty { throw DoorstepError(.invalidOperation, rule: "writesNothing") }
        }
        return writes
    }

    /// A void's reason: text of 1 to 200 characters (trimmed), or `null` to restore the visit.
    static func voidReason(_ value: JSONValue) throws(DoorstepError) -> JSONValue {
        if value.isNull { return .null }
        guard let text = value.stringValue?.trimmedWhitespace, (1...200).contains(text.count),
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw DoorstepError(
                .invalidValue, rule: "voidReason", ErrorDetails(field: voidedFieldName, kind: EntityKind.visit.rawValue, limit: 200, minimum: 1))
        }
        return .string(text)
    }

    /// How far a visit's time may lie after its writer's clock: the protocol's clock tolerance
    /// (section 4), the bound past which a server clamps a stamp (``ClockSkewPolicy``).
    public static let visitTimeToleranceMillis: Int64 = ClockSkewPolicy().maxAheadMillis

    /// Refuses a visit dated after the moment it was written (its writer's clock, `writtenAtMillis`)
    /// by more than ``visitTimeToleranceMillis``: a visit records what happened, and a date months
    /// ahead would become the household's latest visit and hide later ones from the reports.
    /// The same check on the device before saving and on the server when applying.
    public static func checkVisitTime(kind: EntityKind, writes: [FieldWrite], writtenAtMillis: Int64) throws(DoorstepError) {
        guard kind == .visit, let text = writes.first(where: { $0.field == "visitedAt" })?.value.stringValue,
            let visited = Instant.parse(text)
        else { return }
        let visitedMillis = Int64((visited.timeIntervalSince1970 * 1000).rounded(.down))
        guard visitedMillis > writtenAtMillis + visitTimeToleranceMillis else { return }
        throw DoorstepError(
            .invalidValue,
            "visitedAt \(text) is after the time the visit was recorded; a visit is recorded after it happened (check the date and the laptop's clock)",
            zh: "走访时间 \(text) 晚于记录时间：走访应在发生后记录，请核对日期和本机时钟",
            details: ErrorDetails(rule: "visitAfterRecording", field: "visitedAt", kind: EntityKind.visit.rawValue)
        )
    }
}
