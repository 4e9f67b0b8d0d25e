/// Who is writing: the device, its role and its district (`protocol/README.md` §11).
public struct Principal: Hashable, Sendable {
    public var device: DeviceID
    public var role: Role
    /// The district the credential is bound to; `nil` only for the city role.
    public var district: String?

    public init(device: DeviceID, role: Role, district: String?) {
        self.device = device
        self.role = role
        self.district = district
    }

    /// Whether the principal may see and write households of a district.
    public func covers(district code: String) -> Bool {
        role == .city || district == code
    }
}

/// What the server knows of one device's stream of mutations.
public struct DeviceProgress: Hashable, Sendable, Codable {
    /// The highest contiguous seq held (0 before the first mutation).
    public var highestSeq: Int64
    /// The latest stamp used for the device's writes.
    public var lastStamp: HLC
    /// Whether the device has sent a stamp too far ahead of the server.
    public var clockSkewFlagged: Bool

    public init(highestSeq: Int64 = 0, lastStamp: HLC = .zero, clockSkewFlagged: Bool = false) {
        self.highestSeq = highestSeq
        self.lastStamp = lastStamp
        self.clockSkewFlagged = clockSkewFlagged
    }
}

/// One field changed by an applied mutation, for the audit history.
public struct FieldChange: Hashable, Sendable, Codable {
    public var field: String
    /// The shown value before the write.
    public var old: JSONValue
    /// The value written.
    public var new: JSONValue
    /// The base the write named, after the server's substitutions.
    public var base: [WriteID]
    /// Whether the write settled a conflict: the field's heads held different values before it,
    /// and its base named them all (§6.3: an office's decision, or a visitor's correction at the door).
    public var settled: Bool

    public init(field: String, old: JSONValue, new: JSONValue, base: [WriteID], settled: Bool = false) {
        self.field = field
        self.old = old
        self.new = new
        self.base = base
        self.settled = settled
    }
}

/// The storage seam under ``MergeEngine``: the lookups and writes the merge rules need.
///
/// The engine calls it inside one transaction per batch; an implementation answers from
/// memory (tests), SQLite or PostgreSQL. It holds no rules: every decision is the engine's.
public protocol MergeStore {
    /// The device's progress (zero for a device never seen).
    func progress(of device: DeviceID) throws -> DeviceProgress
    func setProgress(_ progress: DeviceProgress, of device: DeviceID) throws
    /// Records seqs of a device as lost: acknowledged once, lost by a restore, no longer held by the device (1.7, §8).
    func recordLost(_ seqs: SeqRange, of device: DeviceID) throws

    /// The mutation stored under `(device, seq)`, as it was received, with the answer it got.
    func loggedMutation(device: DeviceID, seq: Int64) throws -> LoggedMutation?

    /// The entity's own state (for a household, only the writes addressed to that id).
    func entity(_ id: EntityID) throws -> EntityState?
    /// Stores an entity's state; `changed` names the fields whose registers changed.
    func saveEntity(_ state: EntityState, changed: [String]) throws

    /// The survivor a household is linked into (itself when not linked); `nil` for an unknown household.
    func canonical(of household: EntityID) throws -> EntityID?
    func setCanonical(_ survivor: EntityID, of household: EntityID) throws
    /// The households whose survivor is `survivor` (including itself).
    func linkMembers(of survivor: EntityID) throws -> [EntityID]

    /// Every normalised national ID ever written to a household.
    func nationalIDs(of household: EntityID) throws -> [String]
    /// The households that have ever held a national ID.
    func households(withNationalID value: String) throws -> [EntityID]
    func addNationalID(_ value: String, to household: EntityID) throws

    /// The office's decisions on a pair of households (`linked` / `unlinked`), keyed by the sorted pair.
    func linkDecision(_ pair: HouseholdPair) throws -> Register?
    func saveLinkDecision(_ register: Register, for pair: HouseholdPair) throws

    /// The value a write put in a field, whether or not it is still a head.
    func writtenValue(_ write: WriteID, field: String) throws -> JSONValue?

    /// The base of a rejected write's field, which stands in for it in later bases.
    func rejectedBase(_ write: WriteID, field: String) throws -> [WriteID]?
    /// Whether the creation of this entity was rejected.
    func isRejectedCreation(_ entity: EntityID) throws -> Bool
    /// The stamp the server used instead of a device's own (a clamped clock).
    func replacementWrite(for original: WriteID) throws -> WriteID?

    /// Records an applied mutation: the mutation log, the audit history, the change feed.
    func recordApplied(_ mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID, changes: [FieldChange]) throws
    /// Records a rejected mutation in the mutation log and the rejection log, with the bases that stand in
    /// for its writes in later bases (by field).
    func recordRejected(_ mutation: Mutation, write: WriteID, result: MutationResult, substitutes: [String: [WriteID]]) throws
    /// Records that the server used `effective` for a device's `original` stamp.
    func recordReplacement(original: WriteID, effective: WriteID) throws
    /// Marks a household as changed, so pulls deliver it again.
    func touch(household: EntityID) throws
}

/// An unordered pair of households, stored with the smaller id first.
public struct HouseholdPair: Hashable, Sendable, Codable {
    public let first: EntityID
    public let second: EntityID

    public init(_ a: EntityID, _ b: EntityID) {
        (first, second) = a < b ? (a, b) : (b, a)
    }
}

/// A mutation as the server logged it, with the answer it got.
public struct LoggedMutation: Hashable, Sendable {
    public var mutation: Mutation
    public var result: MutationResult

    public init(mutation: Mutation, result: MutationResult) {
        self.mutation = mutation
        self.result = result
    }
}
