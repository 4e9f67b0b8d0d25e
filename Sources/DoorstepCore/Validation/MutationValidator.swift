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
                throw DoorstepError(.invalidOperation, "field \(write.field) is written twice in one mutation")
            }
            let value: JSONValue
            switch op {
            case .delete:
                guard write.field == deletedFieldName, write.value == .bool(true) else {
                    throw DoorstepError(.invalidOperation, "a deletion writes only \(deletedFieldName) = true")
                }
                value = write.value
            case .linkDecision:
                guard write.field == "state", write.value == "linked" || write.value == "unlinked" else {
                    throw DoorstepError(.invalidOperation, "a link decision writes only state = linked or unlinked")
                }
                value = write.value
            case .create, .update:
                if write.field == deletedFieldName, op == .update, kind.isDeletable {
                    guard write.value == .bool(false) else {
                        throw DoorstepError(.invalidOperation, "delete with the delete operation; an update may only restore (\(deletedFieldName) = false)")
                    }
                    value = write.value
                } else {
                    guard let spec = kind.field(write.field) else {
                        throw DoorstepError(.unknownField, "a \(kind.rawValue) has no field \"\(write.field.prefix(64))\"")
                    }
                    value = try spec.normalize(write.value, city: city)
                }
            }
            writes.append(FieldWrite(field: write.field, value: value, base: write.base))
        }
        switch op {
        case .create:
            for spec in kind.fields where spec.required && !seen.contains(spec.name) {
                throw DoorstepError(.missingField, "\(spec.name) is required to create a \(kind.rawValue)")
            }
        case .update, .delete, .linkDecision:
            if writes.isEmpty { throw DoorstepError(.invalidOperation, "the mutation writes nothing") }
        }
        return writes
    }
}
