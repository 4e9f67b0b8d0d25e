/// What a mutation does.
public enum MutationOperation: String, Codable, Hashable, Sendable {
    /// Creates an entity: every field written with an empty base.
    case create
    /// Writes some fields, each replacing the values its base names.
    case update
    /// Deletes a child entity (a tombstone), naming every head the deleter saw in `covers`.
    case delete
    /// An office's decision on a duplicate link between `entity` and `other`: `state` is `linked` or `unlinked`.
    case linkDecision
}

/// One field written by a mutation.
public struct FieldWrite: Codable, Hashable, Sendable {
    /// The field's wire name.
    public var field: String
    /// The new value (`null` clears an optional field).
    public var value: JSONValue
    /// The write ids of the field's current values as the writer saw them; empty on creation.
    public var base: [WriteID]

    public init(field: String, value: JSONValue, base: [WriteID] = []) {
        self.field = field
        self.value = value
        self.base = base
    }
}

/// The one operation format of the protocol (`protocol/README.md` §5): pushed over HTTP and carried in bundles.
public struct Mutation: Codable, Hashable, Sendable {
    /// The device that made the mutation; with `seq`, the idempotency key.
    public var device: DeviceID
    /// The device's sequence number: 1, 2, 3 … without gaps.
    public var seq: Int64
    /// The hybrid-logical-clock stamp; with `device`, the id of every write this mutation makes.
    public var hlc: HLC
    /// The schema version the mutation was written against.
    public var schema: Int
    public var op: MutationOperation
    public var kind: EntityKind
    /// The entity written (client-made id).
    public var entity: EntityID
    /// The household the entity belongs to (for a household, its own id).
    public var household: EntityID
    /// The fields written (create, update; for delete the `_deleted` tombstone; for linkDecision `state`).
    public var fields: [FieldWrite]
    /// For a delete: every head of every field the deleter saw.
    public var covers: [WriteID]
    /// For a link decision: the other household of the pair.
    public var other: EntityID?

    public init(
        device: DeviceID, seq: Int64, hlc: HLC, schema: Int = Mutation.currentSchema, op: MutationOperation,
        kind: EntityKind, entity: EntityID, household: EntityID, fields: [FieldWrite],
        covers: [WriteID] = [], other: EntityID? = nil
    ) {
        self.device = device
        self.seq = seq
        self.hlc = hlc
        self.schema = schema
        self.op = op
        self.kind = kind
        self.entity = entity
        self.household = household
        self.fields = fields
        self.covers = covers
        self.other = other
    }

    /// The schema version this build writes.
    public static let currentSchema = 1
    /// The largest seq a device may use.
    public static let maxSeq: Int64 = 1 << 53
    /// The most fields one mutation may write.
    public static let maxFields = 64
    /// The most write ids one field's base may name.
    public static let maxBase = 256
    /// The most heads a deletion may cover.
    public static let maxCovers = 4096

    /// The schema versions this build reads.
    public static let supportedSchemas: ClosedRange<Int> = 1...1

    /// The id of the writes this mutation makes.
    public var writeID: WriteID { WriteID(hlc: hlc, device: device) }

    enum CodingKeys: String, CodingKey {
        case device, seq, hlc, schema, op, kind, entity, household, fields, covers, other
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        device = try container.decode(DeviceID.self, forKey: .device)
        seq = try container.decode(Int64.self, forKey: .seq)
        hlc = try container.decode(HLC.self, forKey: .hlc)
        schema = try container.decode(Int.self, forKey: .schema)
        op = try container.decode(MutationOperation.self, forKey: .op)
        kind = try container.decode(EntityKind.self, forKey: .kind)
        entity = try container.decode(EntityID.self, forKey: .entity)
        household = try container.decode(EntityID.self, forKey: .household)
        fields = try container.decodeIfPresent([FieldWrite].self, forKey: .fields) ?? []
        covers = try container.decodeIfPresent([WriteID].self, forKey: .covers) ?? []
        other = try container.decodeIfPresent(EntityID.self, forKey: .other)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(device, forKey: .device)
        try container.encode(seq, forKey: .seq)
        try container.encode(hlc, forKey: .hlc)
        try container.encode(schema, forKey: .schema)
        try container.encode(op, forKey: .op)
        try container.encode(kind, forKey: .kind)
        try container.encode(entity, forKey: .entity)
        try container.encode(household, forKey: .household)
        try container.encode(fields, forKey: .fields)
        if !covers.isEmpty { try container.encode(covers, forKey: .covers) }
        try container.encodeIfPresent(other, forKey: .other)
    }
}
