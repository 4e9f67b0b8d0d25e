import DoorstepCore

/// A ``MergeStore`` over rows loaded ahead of time, for backends whose queries are asynchronous
/// (the merge engine's store calls are synchronous).
///
/// A lookup of a key that was not loaded is recorded in ``misses`` and answered as empty; the
/// run goes on, so one run finds many missing keys. A run counts only when it missed nothing:
/// otherwise the caller loads the missing keys as well and runs the batch again on a fresh
/// snapshot. A writer holds the lock of every key it loaded (``PostgresMergeLocks``) or runs
/// alone, so nothing it read changes between runs,
/// and the engine is deterministic, so the run that misses nothing is exactly what a direct
/// store would have done. Writes are kept in memory, for the caller to write back in the same
/// transaction.
final class SnapshotMergeStore: MergeStore {
    private(set) var loaded = Set<SnapshotKey>()
    /// Keys looked up but not loaded during this run.
    private(set) var misses = Set<SnapshotKey>()
    var progresses: [DeviceID: DeviceProgress] = [:]
    var logged: [DeviceID: [Int64: LoggedMutation]] = [:]
    var entities: [EntityID: EntityState] = [:]
    var canonicals: [EntityID: EntityID] = [:]
    var members: [EntityID: Set<EntityID>] = [:]
    var nationalIDsByHousehold: [EntityID: Set<String>] = [:]
    var householdsByNationalID: [String: Set<EntityID>] = [:]
    var linkDecisions: [HouseholdPair: Register] = [:]
    var writtenValues: [WriteID: [String: JSONValue]] = [:]
    var rejectedBases: [WriteID: [String: [WriteID]]] = [:]
    var rejectedCreations = Set<EntityID>()
    var replacements: [WriteID: WriteID] = [:]

    // What a run wrote, in order, for the write-back.
    private(set) var dirtyProgress = Set<DeviceID>()
    /// Seqs devices declared lost in this run.
    private(set) var lost: [(device: DeviceID, seqs: SeqRange)] = []
    private(set) var dirtyEntities = Set<EntityID>()
    private(set) var dirtyCanonicals = Set<EntityID>()
    private(set) var newNationalIDs: [(String, EntityID)] = []
    private(set) var dirtyLinkDecisions = Set<HouseholdPair>()
    private(set) var newReplacements: [(WriteID, WriteID)] = []
    /// A mutation applied in this run, with the fields it changed.
    typealias Applied = (mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID, changes: [FieldChange])
    private(set) var applied: [Applied] = []
    private(set) var rejected: [(mutation: Mutation, write: WriteID, result: MutationResult, substitutes: [String: [WriteID]])] = []
    /// The households touched, each at the place of its last touch.
    var touched: [EntityID] { lastTouch.sorted { $0.value < $1.value }.map(\.key) }
    private var lastTouch: [EntityID: Int] = [:]
    private var touches = 0

    /// A fresh store for another run: the rows loaded so far, none of this run's writes or misses.
    func reloaded() -> SnapshotMergeStore {
        let copy = SnapshotMergeStore()
        copy.loaded = loaded
        copy.progresses = progresses
        copy.logged = logged
        copy.entities = entities
        copy.canonicals = canonicals
        copy.members = members
        copy.nationalIDsByHousehold = nationalIDsByHousehold
        copy.householdsByNationalID = householdsByNationalID
        copy.linkDecisions = linkDecisions
        copy.writtenValues = writtenValues
        copy.rejectedBases = rejectedBases
        copy.rejectedCreations = rejectedCreations
        copy.replacements = replacements
        return copy
    }

    /// Marks keys as loaded (with whatever value was found, possibly none).
    func markLoaded(_ keys: some Sequence<SnapshotKey>) { loaded.formUnion(keys) }

    private func need(_ key: SnapshotKey) {
        if !loaded.contains(key) { misses.insert(key) }
    }

    func progress(of device: DeviceID) throws -> DeviceProgress {
        need(.progress(device))
        return progresses[device] ?? DeviceProgress()
    }

    func setProgress(_ progress: DeviceProgress, of device: DeviceID) throws {
        progresses[device] = progress
        dirtyProgress.insert(device)
    }

    func recordLost(_ seqs: SeqRange, of device: DeviceID) throws {
        lost.append((device, seqs))
    }

    func loggedMutation(device: DeviceID, seq: Int64) throws -> LoggedMutation? {
        if let entry = logged[device]?[seq] { return entry }
        need(.logged(device, seq))
        return nil
    }

    func entity(_ id: EntityID) throws -> EntityState? {
        if let state = entities[id] { return state }
        need(.entity(id))
        return nil
    }

    func saveEntity(_ state: EntityState, changed: [String]) throws {
        entities[state.id] = state
        loaded.insert(.entity(state.id))
        dirtyEntities.insert(state.id)
    }

    func canonical(of household: EntityID) throws -> EntityID? {
        if let survivor = canonicals[household] { return survivor }
        need(.canonical(household))
        return nil
    }

    func setCanonical(_ survivor: EntityID, of household: EntityID) throws {
        if let old = canonicals[household] { members[old]?.remove(household) }
        canonicals[household] = survivor
        loaded.insert(.canonical(household))
        members[survivor, default: []].insert(household)
        dirtyCanonicals.insert(household)
    }

    func linkMembers(of survivor: EntityID) throws -> [EntityID] {
        need(.members(survivor))
        return (members[survivor] ?? []).sorted()
    }

    func nationalIDs(of household: EntityID) throws -> [String] {
        need(.nationalIDs(household))
        return (nationalIDsByHousehold[household] ?? []).sorted()
    }

    func households(withNationalID value: String) throws -> [EntityID] {
        need(.households(value))
        return (householdsByNationalID[value] ?? []).sorted()
    }

    func addNationalID(_ value: String, to household: EntityID) throws {
        guard nationalIDsByHousehold[household]?.contains(value) != true else { return }
        nationalIDsByHousehold[household, default: []].insert(value)
        householdsByNationalID[value, default: []].insert(household)
        newNationalIDs.append((value, household))
    }

    func linkDecision(_ pair: HouseholdPair) throws -> Register? {
        if let register = linkDecisions[pair] { return register }
        need(.linkDecision(pair))
        return nil
    }

    func saveLinkDecision(_ register: Register, for pair: HouseholdPair) throws {
        linkDecisions[pair] = register
        loaded.insert(.linkDecision(pair))
        dirtyLinkDecisions.insert(pair)
    }

    func writtenValue(_ write: WriteID, field: String) throws -> JSONValue? {
        if let value = writtenValues[write]?[field] { return value }
        need(.writtenValue(write, field))
        return nil
    }

    func rejectedBase(_ write: WriteID, field: String) throws -> [WriteID]? {
        if let base = rejectedBases[write]?[field] { return base }
        need(.rejectedBase(write, field))
        return nil
    }

    func isRejectedCreation(_ entity: EntityID) throws -> Bool {
        if rejectedCreations.contains(entity) { return true }
        need(.rejectedCreation(entity))
        return false
    }

    func replacementWrite(for original: WriteID) throws -> WriteID? {
        if let effective = replacements[original] { return effective }
        need(.replacement(original))
        return nil
    }

    func recordApplied(_ mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID, changes: [FieldChange]) throws {
        logged[mutation.device, default: [:]][mutation.seq] = LoggedMutation(mutation: mutation, result: result)
        for change in changes { writtenValues[write, default: [:]][change.field] = change.new }
        applied.append((mutation, write, result, household, changes))
    }

    func recordRejected(_ mutation: Mutation, write: WriteID, result: MutationResult, substitutes: [String: [WriteID]]) throws {
        logged[mutation.device, default: [:]][mutation.seq] = LoggedMutation(mutation: mutation, result: result)
        rejectedBases[write] = substitutes
        if mutation.writeID != write { rejectedBases[mutation.writeID] = substitutes }
        if mutation.op == .create { rejectedCreations.insert(mutation.entity) }
        rejected.append((mutation, write, result, substitutes))
    }

    func recordReplacement(original: WriteID, effective: WriteID) throws {
        replacements[original] = effective
        newReplacements.append((original, effective))
    }

    /// Notes a household changed. The write-back numbers them in the order of their last touch, as
    /// the SQLite storage does by numbering every touch: the change feeds list households alike.
    func touch(household: EntityID) throws {
        touches += 1
        lastTouch[household] = touches
    }
}

/// A key the merge engine may look up, so a snapshot knows what it holds.
enum SnapshotKey: Hashable, Sendable {
    case progress(DeviceID)
    case logged(DeviceID, Int64)
    case entity(EntityID)
    case canonical(EntityID)
    case members(EntityID)
    case nationalIDs(EntityID)
    case households(String)
    case linkDecision(HouseholdPair)
    case writtenValue(WriteID, String)
    case rejectedBase(WriteID, String)
    case rejectedCreation(EntityID)
    case replacement(WriteID)
}
