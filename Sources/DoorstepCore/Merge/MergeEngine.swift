/// The merge rules of `protocol/README.md` §6 and §8, applied to batches over a ``MergeStore``.
///
/// Client and server both use it: the server over its database, tests over
/// ``MemoryMergeStore``. It decides every outcome; the store only reads and writes.
public struct MergeEngine: Sendable {
    /// The city's districts, for validating district codes.
    public var city: CityData
    /// How far ahead of the server a stamp may be.
    public var skew: ClockSkewPolicy
    /// The most mutations one batch may hold.
    public var maxBatchSize: Int

    /// The default limit on mutations per batch.
    public static let defaultMaxBatchSize = 1000

    public init(city: CityData = .ordos, skew: ClockSkewPolicy = ClockSkewPolicy(), maxBatchSize: Int = MergeEngine.defaultMaxBatchSize) {
        self.city = city
        self.skew = skew
        self.maxBatchSize = maxBatchSize
    }

    /// Applies a batch from one device and answers with a receipt.
    ///
    /// Throws a ``DoorstepError`` when the batch is refused as a whole (`invalidBatch`,
    /// `unsupportedProtocolVersion`, `unsupportedSchema`, `missingPredecessor`, `seqReuse`); nothing
    /// has been written then. Errors of the store are rethrown as they are: the caller's
    /// transaction must roll back.
    public func apply(_ batch: PushBatch, from principal: Principal, store: some MergeStore, clock: inout HybridLogicalClock) throws -> PushReceipt {
        try checkShape(of: batch, from: principal)
        var progress = try store.progress(of: batch.device)
        if let lost = batch.lost {
            // Work a restored server lost and the device no longer holds (1.7, §8): recorded as a
            // gap, what the server already holds untouched (a batch sent again changes nothing).
            guard lost.from <= progress.highestSeq + 1 else { throw Self.missingPredecessor(held: progress.highestSeq, first: lost.from) }
            if lost.through > progress.highestSeq {
                try store.recordLost(SeqRange(from: progress.highestSeq + 1, through: lost.through), of: batch.device)
                progress.highestSeq = lost.through
                try store.setProgress(progress, of: batch.device)
            }
        }
        var results: [MutationResult] = []
        var fresh: [Mutation] = []
        for mutation in batch.mutations {
            if mutation.seq <= progress.highestSeq {
                guard let logged = try store.loggedMutation(device: mutation.device, seq: mutation.seq), logged.mutation == mutation else {
                    throw DoorstepError(.seqReuse, "seq \(mutation.seq) of this device was already used for a different mutation; a device never reuses a seq")
                }
                var repeated = logged.result
                if repeated.outcome != .rejected { repeated.outcome = .alreadyApplied }
                results.append(repeated)
            } else {
                fresh.append(mutation)
            }
        }
        if let first = fresh.first, first.seq != progress.highestSeq + 1 {
            throw Self.missingPredecessor(held: progress.highestSeq, first: first.seq)
        }
        var skewed = false
        for mutation in fresh {
            let clamped = skew.clamp(mutation.hlc, serverMillis: clock.physicalNow)
            var stamp = clamped.stamp
            if stamp <= progress.lastStamp { stamp = progress.lastStamp.successor }
            let write = WriteID(hlc: stamp, device: mutation.device)
            if stamp != mutation.hlc { try store.recordReplacement(original: mutation.writeID, effective: write) }
            if clamped.clamped {
                skewed = true
                progress.clockSkewFlagged = true
            }
            progress.lastStamp = stamp
            clock.absorb(stamp)
            var result = try applyOne(mutation, write: write, principal: principal, store: store)
            if stamp != mutation.hlc { result.stamp = stamp }
            results.append(result)
            progress.highestSeq = mutation.seq
            try store.setProgress(progress, of: batch.device)
        }
        return PushReceipt(
            device: batch.device,
            highestContiguousSeq: progress.highestSeq,
            serverClock: clock.tick(),
            results: results,
            clockSkew: skewed
        )
    }

    /// The refusal of a batch that starts after a seq the server lacks: send again from `held + 1`.
    public static func missingPredecessor(held: Int64, first: Int64) -> DoorstepError {
        DoorstepError(
            .missingPredecessor,
            "the server holds this device's mutations up to seq \(held); the batch starts at \(first); send from \(held + 1)",
            zh: Texts.text("error.rule.resumeFrom", .chinese, ["held": String(held), "resumeFrom": String(held + 1)]),
            details: ErrorDetails(rule: "resumeFrom", resumeFrom: held + 1)
        )
    }

    /// Refuses a batch whose shape breaks §8 (another device's, seqs not consecutive, too many, a version or
    /// schema not served): what a relay checks before it holds a batch for the city (§19).
    public func checkShape(of batch: PushBatch, from principal: Principal) throws(DoorstepError) {
        guard ProtocolVersion.served.contains(batch.protocolVersion) else {
            throw DoorstepError(
                .unsupportedProtocolVersion,
                "protocol version \(batch.protocolVersion) is not served; this server serves \(ProtocolVersion.served.lowerBound) to \(ProtocolVersion.served.upperBound)"
            )
        }
        guard batch.device == principal.device else {
            throw DoorstepError(.invalidBatch, "the batch names device \(batch.device), but the credential belongs to device \(principal.device)")
        }
        guard batch.mutations.count <= maxBatchSize else {
            throw DoorstepError(.invalidBatch, "a batch holds at most \(maxBatchSize) mutations; this one has \(batch.mutations.count)")
        }
        if let lost = batch.lost {
            guard lost.from >= 1, lost.through >= lost.from, lost.through < Mutation.maxSeq else {
                throw DoorstepError(.invalidBatch, "lost seqs run from a seq of at least 1 to one not before it")
            }
            if let first = batch.mutations.first, first.seq != lost.through + 1 {
                throw DoorstepError(.invalidBatch, "the mutations of a batch that declares seqs lost start right after them, at \(lost.through + 1)")
            }
        }
        var previous: Int64?
        for mutation in batch.mutations {
            guard mutation.device == batch.device else {
                throw DoorstepError(.invalidBatch, "mutation \(mutation.seq) names another device than its batch")
            }
            guard (1...Mutation.maxSeq).contains(mutation.seq) else {
                throw DoorstepError(.invalidBatch, "seqs run from 1 to \(Mutation.maxSeq)")
            }
            if let previous, mutation.seq - previous != 1 {
                throw DoorstepError(.invalidBatch, "the seqs of a batch must be consecutive; \(mutation.seq) follows \(previous)")
            }
            guard mutation.fields.count <= Mutation.maxFields,
                mutation.fields.allSatisfy({ $0.base.count <= Mutation.maxBase && $0.field.utf8.count <= 64 }),
                mutation.covers.count <= Mutation.maxCovers
            else {
                throw DoorstepError(
                    .invalidBatch,
                    "mutation \(mutation.seq) is too large: at most \(Mutation.maxFields) fields, \(Mutation.maxBase) ids in a base, \(Mutation.maxCovers) covered heads"
                )
            }
            guard Mutation.supportedSchemas.contains(mutation.schema) else {
                throw DoorstepError(
                    .unsupportedSchema,
                    "schema version \(mutation.schema) is not served; this server reads \(Mutation.supportedSchemas.lowerBound) to \(Mutation.supportedSchemas.upperBound)"
                )
            }
            previous = mutation.seq
        }
    }

    /// Applies one mutation, or records its rejection. Store errors are rethrown.
    private func applyOne(_ mutation: Mutation, write: WriteID, principal: Principal, store: some MergeStore) throws -> MutationResult {
        let plan: Plan
        do {
            plan = try self.plan(mutation, principal: principal, store: store, writtenAt: write.hlc.wallMillis)
        } catch let error as DoorstepError where error.code != .internalError {
            // What stands in for this write in later bases: its own base, for the fields it could have written.
            var substitutes: [String: [WriteID]] = [:]
            for field in mutation.fields where substitutes[field.field] == nil && Self.isWritable(field.field, of: mutation.kind) {
                substitutes[field.field] = try resolve(base: field.base, field: field.field, store: store).filter { $0 != write && $0 != mutation.writeID }
            }
            let result = MutationResult.rejected(mutation.seq, error)
            try store.recordRejected(mutation, write: write, result: result, substitutes: substitutes)
            return result
        }
        return try commit(plan, mutation: mutation, write: write, store: store)
    }

    /// Whether a field name can hold a write of this kind (a real field, the tombstone, a link state).
    static func isWritable(_ field: String, of kind: EntityKind) -> Bool {
        kind.field(field) != nil || field == deletedFieldName || (kind == .household && field == "state") || (kind == .visit && field == voidedFieldName)
    }

    /// What a mutation will do, decided before anything is written.
    private struct Plan {
        var canonical: EntityID?
        var writes: [FieldWrite]
        var covers: [WriteID]
        var existing: EntityState?
        var view: EntityState?
    }

    private func plan(_ mutation: Mutation, principal: Principal, store: some MergeStore, writtenAt: Int64) throws -> Plan {
        try checkOperation(mutation)
        let writes = try normalizedWrites(mutation, store: store)
        try MutationValidator.checkVisitTime(kind: mutation.kind, writes: writes, writtenAtMillis: writtenAt)
        let isNewHousehold = mutation.kind == .household && mutation.op == .create
        var canonical: EntityID?
        var view: EntityState?
        let district: String
        if isNewHousehold {
            // An id whose earlier creation was rejected may be created again (a fixed, resent creation).
            if try store.entity(mutation.entity) != nil {
                throw DoorstepError(.entityIdTaken, "household \(mutation.entity) already exists")
            }
            district = writes.first { $0.field == "district" }?.value.stringValue ?? ""
        } else {
            guard let survivor = try store.canonical(of: mutation.household) else {
                throw try missing(mutation.household, what: "household", store: store)
            }
            canonical = survivor
            view = try household(survivor, store: store)
            district = view?["district"].stringValue ?? ""
        }
        guard principal.covers(district: district) else {
            throw DoorstepError(
                .outOfScope, "the household is in district \(district), outside this device's district \(principal.district ?? "-")",
                zh: "这户现属旗区 \(district)，不在本设备的旗区 \(principal.district ?? "-") 范围内")
        }
        var existing: EntityState?
        if mutation.kind == .household {
            existing = isNewHousehold ? nil : try store.entity(mutation.entity)
        } else if mutation.op == .create {
            if try store.entity(mutation.entity) != nil {
                throw DoorstepError(.entityIdTaken, "entity \(mutation.entity) already exists")
            }
        } else {
            guard let found = try store.entity(mutation.entity) else {
                throw try missing(mutation.entity, what: mutation.kind.rawValue, store: store)
            }
            guard found.kind == mutation.kind, try store.canonical(of: found.household) == canonical else {
                throw DoorstepError(.invalidOperation, "entity \(mutation.entity) is not a \(mutation.kind.rawValue) of household \(mutation.household)")
            }
            existing = found
        }
        try Permissions.check(mutation.op, kind: mutation.kind, writes: writes, role: principal.role)
        if mutation.kind == .household, principal.role != .city, let value = writes.first(where: { $0.field == "nationalId" })?.value.stringValue {
            try checkLinkStaysInScope(value, household: mutation.entity, principal: principal, store: store)
        }
        if mutation.op == .update, let status = writes.first(where: { $0.field == "status" }), let view {
            try checkTransition(to: status, in: view, store: store)
        }
        if mutation.op == .linkDecision, let other = mutation.other {
            guard let otherSurvivor = try store.canonical(of: other) else {
                throw try missing(other, what: "household", store: store)
            }
            let otherDistrict = try household(otherSurvivor, store: store)?["district"].stringValue ?? ""
            guard principal.covers(district: otherDistrict) else {
                throw DoorstepError(.outOfScope, "household \(other) is outside this device's district", zh: "困难户 \(other) 不在本设备的旗区范围内")
            }
        }
        var covers: [WriteID] = []
        for id in mutation.covers { covers.append(try store.replacementWrite(for: id) ?? id) }
        return Plan(canonical: canonical, writes: writes, covers: covers, existing: existing, view: view)
    }

    /// A national ID already on file in another district would link this household into that one's
    /// file (and its district with it): a move between districts is the city's decision, so a
    /// district's writer may not make it through a duplicate.
    private func checkLinkStaysInScope(_ nationalID: String, household: EntityID, principal: Principal, store: some MergeStore) throws {
        for other in try store.households(withNationalID: nationalID) where other != household {
            guard let survivor = try store.canonical(of: other), let district = try self.household(survivor, store: store)?["district"].stringValue else {
                continue
            }
            if !principal.covers(district: district) {
                throw DoorstepError(
                    .outOfScope,
                    "a household with this national ID is on file in district \(district); moving it between districts is the city office's decision",
                    zh: "此身份证号的困难户已在旗区 \(district) 建档；在旗区之间移动由市总工会决定"
                )
            }
        }
    }

    private func missing(_ id: EntityID, what: String, store: some MergeStore) throws -> DoorstepError {
        if try store.isRejectedCreation(id) {
            return DoorstepError(.dependsOnRejected, "the creation of \(what) \(id) was rejected, so this change is rejected with it")
        }
        return DoorstepError(.unknownEntity, "\(what) \(id) is not known to the server")
    }

    private func checkOperation(_ mutation: Mutation) throws(DoorstepError) {
        switch (mutation.kind, mutation.op) {
        case (.household, .delete):
            throw DoorstepError(.invalidOperation, "households are never deleted; close them by status")
        case (.visit, .update) where !mutation.fields.isEmpty && mutation.fields.allSatisfy({ $0.field == voidedFieldName }):
            break
        case (.visit, .update), (.visit, .delete):
            throw DoorstepError(
                .visitImmutable, "a home visit cannot be changed or deleted; record a new visit to correct it (an office may void a mistaken one)",
                zh: "走访记录不能修改或删除：如需更正，请新增一次走访（录错的走访可由旗区工会作废）")
        case (.household, _) where mutation.household != mutation.entity:
            throw DoorstepError(.invalidOperation, "a household mutation must name the household as its own household")
        case (_, .linkDecision) where mutation.kind != .household:
            throw DoorstepError(.invalidOperation, "link decisions are made between households")
        case (.household, .linkDecision):
            guard let other = mutation.other, other != mutation.entity else {
                throw DoorstepError(.invalidOperation, "a link decision names two different households")
            }
        case (_, .create):
            if mutation.fields.contains(where: { !$0.base.isEmpty }) {
                throw DoorstepError(.invalidOperation, "a creation writes every field with an empty base")
            }
        default:
            break
        }
        if mutation.op != .linkDecision && mutation.other != nil {
            throw DoorstepError(.invalidOperation, "only a link decision names another household")
        }
        if mutation.op != .delete && !mutation.covers.isEmpty {
            throw DoorstepError(.invalidOperation, "only a deletion names the heads it covers")
        }
    }

    /// Validates and normalises the written values; resolves each base through the server's substitutions.
    private func normalizedWrites(_ mutation: Mutation, store: some MergeStore) throws -> [FieldWrite] {
        try MutationValidator.validate(mutation.op, kind: mutation.kind, fields: mutation.fields, city: city).map { write in
            FieldWrite(field: write.field, value: write.value, base: try resolve(base: write.base, field: write.field, store: store))
        }
    }

    /// A base with clamped stamps replaced by the server's, and rejected writes replaced by their own bases.
    private func resolve(base: [WriteID], field: String, store: some MergeStore) throws -> [WriteID] {
        var result = Set<WriteID>()
        var visited = Set<WriteID>()
        var pending = base
        while let next = pending.popLast() {
            let id = try store.replacementWrite(for: next) ?? next
            guard visited.insert(id).inserted, visited.count <= 10_000 else { continue }
            if let substitute = try store.rejectedBase(id, field: field) {
                pending.append(contentsOf: substitute)
            } else {
                result.insert(id)
            }
        }
        return result.sorted()
    }

    /// Checks a status change against the writer's base, never against whatever arrived first.
    private func checkTransition(to write: FieldWrite, in view: EntityState, store: some MergeStore) throws {
        guard let next = write.value.stringValue.flatMap(HouseholdStatus.init(rawValue:)) else { return }
        var from: [HouseholdStatus] = []
        let heads = view.heads("status")
        for id in write.base {
            let value = try heads.first { $0.write == id }?.value ?? store.writtenValue(id, field: "status")
            if let status = value?.stringValue.flatMap(HouseholdStatus.init(rawValue:)) { from.append(status) }
        }
        try HouseholdStatus.checkChange(from: from, to: next)
    }

    private func commit(_ plan: Plan, mutation: Mutation, write: WriteID, store: some MergeStore) throws -> MutationResult {
        var changes: [FieldChange] = []
        var conflictFields: [String] = []
        var touched: Set<EntityID> = []
        let household: EntityID
        switch mutation.op {
        case .linkDecision:
            guard let other = mutation.other, let state = plan.writes.first else {
                throw DoorstepError(.internalError, "link decision without its pair")
            }
            let pair = HouseholdPair(mutation.entity, other)
            var register = try store.linkDecision(pair) ?? Register()
            let old = register.value
            register.apply(write, value: state.value, base: state.base)
            try store.saveLinkDecision(register, for: pair)
            changes.append(FieldChange(field: "link:\(other)", old: old, new: state.value, base: state.base))
            if register.isConflicted { conflictFields.append("link") }
            touched.formUnion(try relink(from: mutation.entity, store: store))
            touched.formUnion(try relink(from: other, store: store))
            household = try store.canonical(of: mutation.entity) ?? mutation.entity
        case .create, .update, .delete:
            var state = plan.existing ?? EntityState(kind: mutation.kind, id: mutation.entity, household: mutation.household, created: write)
            let before = mutation.kind == .household ? plan.view : plan.existing
            for field in plan.writes {
                // A write whose base names every head of a conflicted field settles the conflict.
                let heads = Set(before?.fields[field.field]?.heads.map(\.write) ?? [])
                let settled = before?.fields[field.field]?.isConflicted == true && heads.isSubset(of: field.base)
                changes.append(FieldChange(field: field.field, old: before?[field.field] ?? .null, new: field.value, base: field.base, settled: settled))
                state.fields[field.field, default: Register()].apply(
                    write, value: field.value, base: field.base, covers: field.field == deletedFieldName && field.value == .bool(true) ? plan.covers : []
                )
            }
            try store.saveEntity(state, changed: plan.writes.map(\.field))
            if mutation.kind == .household {
                if mutation.op == .create { try store.setCanonical(mutation.entity, of: mutation.entity) }
                if let nationalID = plan.writes.first(where: { $0.field == "nationalId" })?.value.stringValue {
                    try store.addNationalID(nationalID, to: mutation.entity)
                    touched.formUnion(try relink(from: mutation.entity, store: store))
                }
                household = try store.canonical(of: mutation.entity) ?? mutation.entity
                let merged = try self.household(household, store: store) ?? state
                conflictFields = plan.writes.map(\.field).filter { merged.fields[$0]?.isConflicted == true }
            } else {
                household = plan.canonical ?? mutation.household
                conflictFields = plan.writes.map(\.field).filter { state.fields[$0]?.isConflicted == true }
                if !state.editsUncoveredByDeletion.isEmpty && !conflictFields.contains(deletedFieldName) {
                    conflictFields.append(deletedFieldName)
                }
            }
        }
        touched.insert(household)
        for id in touched.sorted() { try store.touch(household: id) }
        // A household's national ID or a link decision can link it with others: the receipt names
        // the group's survivor then, so the device learns of the link before it pulls (§7).
        var survivor: EntityID?
        if mutation.kind == .household, mutation.op == .linkDecision || plan.writes.contains(where: { $0.field == "nationalId" }),
            try store.linkMembers(of: household).count > 1
        {
            survivor = household
        }
        let result = MutationResult(
            seq: mutation.seq,
            outcome: conflictFields.isEmpty ? .applied : .conflict,
            conflictFields: conflictFields.isEmpty ? nil : conflictFields.sorted(),
            survivor: survivor
        )
        try store.recordApplied(mutation, write: write, result: result, household: household, changes: changes)
        return result
    }

    /// Recomputes the link component around a household: every household that ever held one of
    /// its national IDs, less the pairs an office unlinked. The survivor is the earliest created
    /// (then the smallest device id, then the smallest id). Returns the households whose survivor changed.
    @discardableResult
    public func relink(from start: EntityID, store: some MergeStore) throws -> Set<EntityID> {
        var component: Set<EntityID> = [start]
        var queue = [start]
        while let current = queue.popLast() {
            for value in try store.nationalIDs(of: current) {
                for other in try store.households(withNationalID: value) where !component.contains(other) {
                    if try store.linkDecision(HouseholdPair(current, other))?.value == "unlinked" { continue }
                    component.insert(other)
                    queue.append(other)
                }
            }
        }
        var survivor: (id: EntityID, created: WriteID)?
        for member in component {
            guard let state = try store.entity(member) else { continue }
            if let current = survivor, (current.created, current.id) <= (state.created, member) { continue }
            survivor = (member, state.created)
        }
        guard let survivor else { return [] }
        var changed: Set<EntityID> = []
        for member in component {
            let old = try store.canonical(of: member)
            if old != survivor.id {
                try store.setCanonical(survivor.id, of: member)
                changed.insert(member)
                if let old { changed.insert(old) }
            }
        }
        if !changed.isEmpty { changed.insert(survivor.id) }
        return changed
    }

    /// The merged state of a household as offices and devices see it: the survivor's own writes and
    /// those of every household linked into it. `nil` for an unknown household.
    public func household(_ survivor: EntityID, store: some MergeStore) throws -> EntityState? {
        guard var state = try store.entity(survivor) else { return nil }
        for member in try store.linkMembers(of: survivor) where member != survivor {
            if let other = try store.entity(member) { state.merge(other) }
        }
        state.id = survivor
        state.household = survivor
        return state
    }
}
