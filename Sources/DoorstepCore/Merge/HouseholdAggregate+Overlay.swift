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
        let write = mutation.writeID
        func applyFields(_ state: inout EntityState) {
            for field in mutation.fields {
                let covers = field.field == deletedFieldName && field.value == .bool(true) ? mutation.covers : []
                state.fields[field.field, default: Register()].apply(write, value: field.value, base: field.base, covers: covers)
            }
        }
        switch (mutation.kind, mutation.op) {
        case (_, .linkDecision):
            return
        case (.household, _):
            guard mutation.entity == household.id || aliases.contains(mutation.entity) else { return }
            applyFields(&household)
        case (_, .create):
            guard !entities.contains(where: { $0.id == mutation.entity }) else { return }
            var state = EntityState(kind: mutation.kind, id: mutation.entity, household: mutation.household, created: write)
            applyFields(&state)
            entities.append(state)
        default:
            guard let index = entities.firstIndex(where: { $0.id == mutation.entity }) else { return }
            applyFields(&entities[index])
        }
    }

    /// The household ids this aggregate answers to: the survivor and its aliases.
    public var ids: [EntityID] { [household.id] + aliases }
}
