/// The state of one entity: a register per field (`protocol/README.md` §6), as pulled by devices.
public struct EntityState: Codable, Hashable, Sendable {
    public var kind: EntityKind
    public var id: EntityID
    /// The household the entity belongs to, as created (for a household, its own id).
    public var household: EntityID
    /// The write that created the entity; for households, the survivor rule's creation stamp.
    public var created: WriteID
    /// The registers by field name (the tombstone of a deleted child is `_deleted`).
    public var fields: [String: Register]

    public init(kind: EntityKind, id: EntityID, household: EntityID, created: WriteID, fields: [String: Register] = [:]) {
        self.kind = kind
        self.id = id
        self.household = household
        self.created = created
        self.fields = fields
    }

    /// The shown value of a field (`null` when never written).
    public subscript(field: String) -> JSONValue { fields[field]?.value ?? .null }

    /// Whether this is a home visit an office voided (its shown `_voided` holds a reason):
    /// it stays in lists and the history, marked, and reports ignore it.
    public var isVoided: Bool { kind == .visit && self[voidedFieldName].stringValue != nil }

    /// The heads of a field, empty when never written.
    public func heads(_ field: String) -> [Head] { fields[field]?.heads ?? [] }

    /// Every head of every field except the tombstone: what a deleter must name in `covers`.
    public var allFieldHeads: [WriteID] {
        Set(fields.filter { $0.key != deletedFieldName }.values.flatMap(\.headIDs)).sorted()
    }

    /// Whether the shown tombstone says deleted.
    public var isDeleted: Bool { self[deletedFieldName] == .bool(true) }

    /// Heads written concurrently with the shown deletion (not covered by it): a delete-versus-edit conflict.
    public var editsUncoveredByDeletion: [Head] {
        guard isDeleted else { return [] }
        let covered = Set(heads(deletedFieldName).filter { $0.value == .bool(true) }.flatMap(\.covers))
        return fields.filter { $0.key != deletedFieldName }.values
            .flatMap(\.heads)
            .filter { !covered.contains($0.write) }
            .sorted { $0.write < $1.write }
    }

    /// Whether the entity should be listed: not deleted, or deleted while someone else edited it.
    public var isVisible: Bool { !isDeleted || !editsUncoveredByDeletion.isEmpty }

    /// The open conflicts of this entity: one per field whose heads disagree, and one for a
    /// deletion that raced an edit.
    public var conflicts: [ConflictRecord] {
        var records: [ConflictRecord] = []
        for name in fields.keys.sorted() {
            guard let register = fields[name], register.isConflicted else { continue }
            records.append(ConflictRecord(entity: id, kind: kind, household: household, field: name, reason: .concurrentValues, heads: register.heads))
        }
        let uncovered = editsUncoveredByDeletion
        if !uncovered.isEmpty {
            let deletions = heads(deletedFieldName).filter { $0.value == .bool(true) }
            records.removeAll { $0.field == deletedFieldName }
            records.append(
                ConflictRecord(entity: id, kind: kind, household: household, field: deletedFieldName, reason: .deleteVersusEdit, heads: deletions + uncovered))
        }
        return records
    }

    /// How many records ``conflicts`` holds, without building them.
    public var conflictCount: Int {
        var count = 0
        for (name, register) in fields where register.isConflicted && name != deletedFieldName { count += 1 }
        if !editsUncoveredByDeletion.isEmpty { return count + 1 }
        return count + (fields[deletedFieldName]?.isConflicted == true ? 1 : 0)
    }

    /// Folds another state of the same entity (another original household of a link) into this one.
    public mutating func merge(_ other: EntityState) {
        for (name, register) in other.fields {
            fields[name, default: Register()].merge(register)
        }
        if other.created < created { created = other.created }
    }
}

/// One open conflict: an entity's field whose heads disagree, kept with every head and writer.
public struct ConflictRecord: Codable, Hashable, Sendable {
    /// Why the record exists.
    public enum Reason: String, Codable, Hashable, Sendable {
        /// Heads with different values.
        case concurrentValues
        /// A deletion that did not see an edit made at the same time.
        case deleteVersusEdit
    }

    public var entity: EntityID
    public var kind: EntityKind
    public var household: EntityID
    public var field: String
    public var reason: Reason
    /// Every head involved (for a delete conflict: the deletions, then the edits they did not see).
    public var heads: [Head]

    public init(entity: EntityID, kind: EntityKind, household: EntityID, field: String, reason: Reason, heads: [Head]) {
        self.entity = entity
        self.kind = kind
        self.household = household
        self.field = field
        self.reason = reason
        self.heads = heads
    }

    /// The head shown while the conflict is open: the latest by write id.
    public var shown: Head? { heads.max { $0.write < $1.write } }
}
