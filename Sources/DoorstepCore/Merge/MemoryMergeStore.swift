/// A ``MergeStore`` in memory: the reference store for tests, merge vectors and simulations.
///
/// Not thread-safe: use it from one task. It keeps the same records the server keeps
/// (mutation log, rejection log, audit history, change feed), so tests can inspect them.
public final class MemoryMergeStore: MergeStore {
    public private(set) var entities: [EntityID: EntityState] = [:]
    public private(set) var progressByDevice: [DeviceID: DeviceProgress] = [:]
    public private(set) var log: [DeviceID: [Int64: LoggedMutation]] = [:]
    public private(set) var canonicalByHousehold: [EntityID: EntityID] = [:]
    public private(set) var nationalIDsByHousehold: [EntityID: Set<String>] = [:]
    public private(set) var householdsByNationalID: [String: Set<EntityID>] = [:]
    public private(set) var linkDecisions: [HouseholdPair: Register] = [:]
    public private(set) var writtenValues: [WriteID: [String: JSONValue]] = [:]
    public private(set) var rejectedBases: [WriteID: [String: [WriteID]]] = [:]
    public private(set) var rejectedCreations: Set<EntityID> = []
    public private(set) var replacements: [WriteID: WriteID] = [:]
    /// The rejection log, in arrival order.
    public private(set) var rejections: [LoggedMutation] = []
    /// The audit history, in arrival order.
    public private(set) var audit: [(mutation: Mutation, write: WriteID, household: EntityID, changes: [FieldChange])] = []
    /// The change feed: the sequence number at which each household last changed.
    public private(set) var changeSeq: [EntityID: Int64] = [:]
    public private(set) var lastChangeSeq: Int64 = 0
    /// The seqs each device declared lost (1.7), in the order declared.
    public private(set) var lost: [DeviceID: [SeqRange]] = [:]

    public init() {}

    public func progress(of device: DeviceID) -> DeviceProgress { progressByDevice[device] ?? DeviceProgress() }
    public func setProgress(_ progress: DeviceProgress, of device: DeviceID) { progressByDevice[device] = progress }
    public func recordLost(_ seqs: SeqRange, of device: DeviceID) { lost[device, default: []].append(seqs) }
    public func loggedMutation(device: DeviceID, seq: Int64) -> LoggedMutation? { log[device]?[seq] }
    public func entity(_ id: EntityID) -> EntityState? { entities[id] }

    public func saveEntity(_ state: EntityState, changed: [String]) {
        entities[state.id] = state
    }

    public func canonical(of household: EntityID) -> EntityID? { canonicalByHousehold[household] }
    public func setCanonical(_ survivor: EntityID, of household: EntityID) { canonicalByHousehold[household] = survivor }

    public func linkMembers(of survivor: EntityID) -> [EntityID] {
        canonicalByHousehold.filter { $0.value == survivor }.map(\.key).sorted()
    }

    public func nationalIDs(of household: EntityID) -> [String] { (nationalIDsByHousehold[household] ?? []).sorted() }
    public func households(withNationalID value: String) -> [EntityID] { (householdsByNationalID[value] ?? []).sorted() }

    public func addNationalID(_ value: String, to household: EntityID) {
        nationalIDsByHousehold[household, default: []].insert(value)
        householdsByNationalID[value, default: []].insert(household)
    }

    public func linkDecision(_ pair: HouseholdPair) -> Register? { linkDecisions[pair] }
    public func saveLinkDecision(_ register: Register, for pair: HouseholdPair) { linkDecisions[pair] = register }
    public func writtenValue(_ write: WriteID, field: String) -> JSONValue? { writtenValues[write]?[field] }
    public func rejectedBase(_ write: WriteID, field: String) -> [WriteID]? { rejectedBases[write]?[field] }
    public func isRejectedCreation(_ entity: EntityID) -> Bool { rejectedCreations.contains(entity) }
    public func replacementWrite(for original: WriteID) -> WriteID? { replacements[original] }
    public func recordReplacement(original: WriteID, effective: WriteID) { replacements[original] = effective }

    public func recordApplied(_ mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID, changes: [FieldChange]) {
        log[mutation.device, default: [:]][mutation.seq] = LoggedMutation(mutation: mutation, result: result)
        for change in changes { writtenValues[write, default: [:]][change.field] = change.new }
        audit.append((mutation, write, household, changes))
    }

    public func recordRejected(_ mutation: Mutation, write: WriteID, result: MutationResult, substitutes: [String: [WriteID]]) {
        let logged = LoggedMutation(mutation: mutation, result: result)
        log[mutation.device, default: [:]][mutation.seq] = logged
        rejections.append(logged)
        rejectedBases[write] = substitutes
        if mutation.writeID != write { rejectedBases[mutation.writeID] = substitutes }
        if mutation.op == .create { rejectedCreations.insert(mutation.entity) }
    }

    public func touch(household: EntityID) {
        lastChangeSeq += 1
        changeSeq[household] = lastChangeSeq
    }

    /// Every entity that belongs to a household or to a household linked into it.
    public func children(of survivor: EntityID) -> [EntityState] {
        let members = Set(linkMembers(of: survivor)).union([survivor])
        return entities.values
            .filter { $0.kind.isChild && members.contains($0.household) }
            .sorted { $0.id < $1.id }
    }

    /// The whole household as a pull delivers it.
    public func aggregate(_ survivor: EntityID, engine: MergeEngine) throws -> HouseholdAggregate? {
        guard let household = try engine.household(survivor, store: self) else { return nil }
        return HouseholdAggregate(
            household: household,
            aliases: linkMembers(of: survivor).filter { $0 != survivor },
            entities: children(of: survivor)
        )
    }

    /// One page of changes after `cursor` for a principal: households in scope whole, the rest as removals.
    public func pull(after cursor: Int64, limit: Int, for principal: Principal, engine: MergeEngine, clock: inout HybridLogicalClock) throws -> PullPage {
        let changed = changeSeq.filter { $0.value > cursor }.sorted { $0.value < $1.value }
        let page = changed.prefix(limit)
        var households: [HouseholdAggregate] = []
        var removed = Set<EntityID>()
        var delivered = Set<EntityID>()
        for (id, _) in page {
            guard let survivor = canonical(of: id) else { continue }
            if survivor != id { removed.insert(id) }
            guard !delivered.contains(survivor), !removed.contains(survivor) else { continue }
            guard let aggregate = try aggregate(survivor, engine: engine) else { continue }
            if let district = aggregate.household["district"].stringValue, principal.covers(district: district) {
                households.append(aggregate)
                delivered.insert(survivor)
            } else {
                removed.insert(survivor)
            }
        }
        let next = page.last?.value ?? cursor
        return PullPage(
            nextCursor: String(next),
            hasMore: changed.count > page.count,
            serverClock: clock.tick(),
            households: households,
            removed: removed.subtracting(delivered).sorted()
        )
    }
}
