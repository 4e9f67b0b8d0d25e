extension EntityState {
    /// What a write must carry to settle a field: `value` over every current head.
    ///
    /// For the tombstone, `true` confirms the deletion (covering every head the entity has
    /// now) and `false` restores the entity; for any other field it is an update whose base
    /// names every head, so no head stays beside it.
    public func settling(_ field: String, with value: JSONValue) -> (op: MutationOperation, fields: [FieldWrite], covers: [WriteID]) {
        let base = heads(field).map(\.write)
        if field == deletedFieldName, value == .bool(true) {
            return (.delete, [FieldWrite(field: field, value: value, base: base)], allFieldHeads)
        }
        return (.update, [FieldWrite(field: field, value: value, base: base)], [])
    }

    /// The content of a deletion as the writer sees the entity now.
    public var deletion: (fields: [FieldWrite], covers: [WriteID]) {
        ([FieldWrite(field: deletedFieldName, value: true, base: heads(deletedFieldName).map(\.write))], allFieldHeads)
    }
}
