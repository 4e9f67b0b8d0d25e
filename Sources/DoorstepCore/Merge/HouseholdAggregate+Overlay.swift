extension HouseholdAggregate {
    /// The aggregate as a device shows it: the pulled state with the device's own unsent
    /// mutations applied on top, by the same register rules the server uses.
    ///
    /// Rejections are the server's to decide; a mutation that does not fit (an entity the
    /// aggregate lacks) is skipped here and answered by the server at push.
    public func applying(_ mutations: some Sequence<Mutation>) -> HouseholdAggregate {
        var result = self
        for mutation in mutations { result.apply(mutation) }
        return result
    }

    /// Applies one local mutation to the aggregate.
    public mutating func apply(_ mutation: Mutation) {
        switch (mutation.kind, mutation.op) {
        case (_, .linkDecision):
            return
        case (.household, _):
            guard mutation.entity == household.id || aliases.contains(mutation.entity) else { return }
            household.applyFields(of: mutation)
        default:
            let index = entities.firstIndex { $0.id == mutation.entity }
            guard let state = EntityState.applyingEntry(mutation, to: index.map { entities[$0] }) else { return }
            if let index { entities[index] = state } else { entities.append(state) }
        }
    }

    /// The household ids this aggregate answers to: the survivor and its aliases.
    public var ids: [EntityID] { [household.id] + aliases }
}

extension EntityState {
    /// Writes a mutation's fields into the registers (a deletion's tombstone with what it covers).
    public mutating func applyFields(of mutation: Mutation) {
        let write = mutation.writeID
        for field in mutation.fields {
            let covers = field.field == deletedFieldName && field.value == .bool(true) ? mutation.covers : []
            fields[field.field, default: Register()].apply(write, value: field.value, base: field.base, covers: covers)
        }
    }

    /// What a mutation of an entry (not the household) makes of it, as ``HouseholdAggregate/apply(_:)``
    /// does: `existing` is the entry as shown (`nil`: not there). A creation of an entry already
    /// there, or a change of one not there, changes nothing (`existing` is returned).
    public static func applyingEntry(_ mutation: Mutation, to existing: EntityState?) -> EntityState? {
        switch mutation.op {
        case .linkDecision:
            return existing
        case .create:
            guard existing == nil else { return existing }
            var state = EntityState(kind: mutation.kind, id: mutation.entity, household: mutation.household, created: mutation.writeID)
            state.applyFields(of: mutation)
            return state
        case .update, .delete:
            guard var state = existing else { return nil }
            state.applyFields(of: mutation)
            return state
        }
    }

}
