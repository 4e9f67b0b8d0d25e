/// A decision an office makes through the server, stamped by the server's clock.
public enum OfficeDecision: Sendable, Hashable {
    /// Keep the shown value of a conflicted field (rewrite it over every head).
    case confirm(entity: EntityID, field: String)
    /// Replace every head of a field with another value (one of the heads, or a typed one).
    case overturn(entity: EntityID, field: String, value: JSONValue)
    /// Separate two households linked as duplicates.
    case unlink(survivor: EntityID, alias: EntityID)
    /// Change a household's status (the status table applies from its current status).
    case setStatus(household: EntityID, to: HouseholdStatus)
    /// Apply a change held from a revoked device's bundle, as the office's own: a creation as the
    /// device wrote it (same id), an edit or a deletion over whatever the fields hold now.
    case acceptHeld(Mutation)
    /// Void a mistaken home visit with a reason (it stays in the history; reports ignore it), or
    /// restore it with `nil`.
    case voidVisit(EntityID, reason: String?)
}

/// Turns an office's decision into the mutation the server stamps and applies: pure merge logic
/// over a ``MergeStore`` (the state the decision is made against), beside `EntityState+Resolution`.
public struct DecisionBuilder<Store: MergeStore> {
    let store: Store
    let engine: MergeEngine

    /// A builder reading the current state from `store` through `engine`'s merge rules.
    public init(store: Store, engine: MergeEngine) {
        self.store = store
        self.engine = engine
    }

    /// The mutation that carries `decision`, stamped with the server's device, next seq and clock.
    public func mutation(for decision: OfficeDecision, device: DeviceID, seq: Int64, hlc: HLC) throws -> Mutation {
        switch decision {
        case .confirm(let entity, let field):
            let state = try target(entity)
            let shown = state.heads(field).last?.value ?? .null
            return make(state, state.settling(field, with: field == deletedFieldName ? .bool(true) : shown), device, seq, hlc)
        case .overturn(let entity, let field, let value):
            let state = try target(entity)
            return make(state, state.settling(field, with: field == deletedFieldName ? .bool(false) : value), device, seq, hlc)
        case .setStatus(let household, let status):
            let state = try target(household)
            guard state.kind == .household else { throw DoorstepError(.notFound, "no household \(household)") }
            return make(state, state.settling("status", with: .string(status.rawValue)), device, seq, hlc)
        case .voidVisit(let visit, let reason):
            guard let state = try store.entity(visit), state.kind == .visit else {
                throw DoorstepError(.notFound, "no visit \(visit)", zh: "没有这次走访")
            }
            return make(state, state.settling(voidedFieldName, with: reason.map(JSONValue.string) ?? .null), device, seq, hlc)
        case .acceptHeld(let held):
            switch held.op {
            case .create:
                return Mutation(
                    device: device, seq: seq, hlc: hlc, op: .create, kind: held.kind, entity: held.entity, household: held.household,
                    fields: held.fields.map { FieldWrite(field: $0.field, value: $0.value) })
            case .update:
                let state = try heldTarget(held)
                let fields = held.fields.map { write in
                    FieldWrite(field: write.field, value: write.value, base: state.heads(write.field).map(\.write))
                }
                return Mutation(
                    device: device, seq: seq, hlc: hlc, op: .update, kind: state.kind, entity: state.id,
                    household: state.kind == .household ? state.id : state.household, fields: fields)
            case .delete:
                let state = try heldTarget(held)
                return make(state, state.settling(deletedFieldName, with: .bool(true)), device, seq, hlc)
            case .linkDecision:
                throw DoorstepError(
                    .invalidOperation, "a link decision is the office's own; it is not accepted from a device",
                    zh: "重复关联的决定由旗区工会作出，不能从设备接受")
            }
        case .unlink(let survivor, let alias):
            guard try store.canonical(of: alias) == store.canonical(of: survivor), try store.canonical(of: alias) != nil else {
                throw DoorstepError(.notFound, "households \(survivor) and \(alias) are not linked")
            }
            let base = try store.linkDecision(HouseholdPair(survivor, alias))?.headIDs ?? []
            return Mutation(
                device: device, seq: seq, hlc: hlc, op: .linkDecision, kind: .household, entity: alias, household: alias,
                fields: [FieldWrite(field: "state", value: "unlinked", base: base)], other: survivor)
        }
    }

    /// The entity a held change edits: `unknownEntity` when the server does not hold it (its creation
    /// was not accepted yet), so that an office is told to accept that first.
    private func heldTarget(_ held: Mutation) throws -> EntityState {
        do {
            return try target(held.entity)
        } catch let error as DoorstepError where error.code == .notFound {
            throw DoorstepError(
                .unknownEntity, "the server does not hold \(held.kind.rawValue) \(held.entity): accept the change that creates it first",
                zh: "服务器上还没有这条记录：请先采纳新建它的那条修改")
        }
    }

    private func target(_ id: EntityID) throws -> EntityState {
        if let survivor = try store.canonical(of: id), let household = try engine.household(survivor, store: store) {
            return household
        }
        guard let state = try store.entity(id), state.kind != .household else {
            throw DoorstepError(.notFound, "no household or entry \(id)")
        }
        return state
    }

    private func make(
        _ state: EntityState, _ content: (op: MutationOperation, fields: [FieldWrite], covers: [WriteID]),
        _ device: DeviceID, _ seq: Int64, _ hlc: HLC
    ) -> Mutation {
        Mutation(
            device: device, seq: seq, hlc: hlc, op: content.op, kind: state.kind, entity: state.id,
            household: state.kind == .household ? state.id : state.household, fields: content.fields, covers: content.covers)
    }
}
