/// One current value of a field, with the write that put it there.
public struct Head: Hashable, Sendable, Codable {
    /// The write that set this value.
    public var write: WriteID
    /// The value.
    public var value: JSONValue
    /// For a deletion: the writes the deleter had seen (every field's heads). Empty otherwise.
    public var covers: [WriteID]

    public init(write: WriteID, value: JSONValue, covers: [WriteID] = []) {
        self.write = write
        self.value = value
        self.covers = covers
    }

    enum CodingKeys: String, CodingKey { case write, value, covers }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        write = try container.decode(WriteID.self, forKey: .write)
        value = try container.decodeIfPresent(JSONValue.self, forKey: .value) ?? .null
        covers = try container.decodeIfPresent([WriteID].self, forKey: .covers) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(write, forKey: .write)
        try container.encode(value, forKey: .value)
        if !covers.isEmpty { try container.encode(covers, forKey: .covers) }
    }
}

/// A multi-value register: the state of one field (`protocol/README.md` §6).
///
/// A write replaces the values its base names. The heads are the writes that no seen
/// write's base names. The register is a pure function of the set of writes it has
/// seen, whatever their order: `heads = writes − ⋃ bases`. One distinct value among the
/// heads means no conflict; several mean a conflict, shown as the latest head.
public struct Register: Hashable, Sendable {
    /// The current values, sorted by write id.
    public private(set) var heads: [Head]
    /// Every write id that some seen write's base has named (seen or not yet seen).
    public private(set) var superseded: Set<WriteID>

    /// An empty register (a field never written).
    public init() {
        heads = []
        superseded = []
    }

    /// A register with the given heads, as a device receives it in a pull.
    public init(heads: [Head]) {
        self.heads = heads.sorted { $0.write < $1.write }
        superseded = []
    }

    /// Applies one write. Applying the same write twice changes nothing.
    public mutating func apply(_ write: WriteID, value: JSONValue, base: some Sequence<WriteID>, covers: [WriteID] = []) {
        var named = false
        for id in base where id != write {
            superseded.insert(id)
            named = true
        }
        if named { heads.removeAll { superseded.contains($0.write) } }
        guard !superseded.contains(write), !heads.contains(where: { $0.write == write }) else { return }
        let index = heads.firstIndex { write < $0.write } ?? heads.endIndex
        heads.insert(Head(write: write, value: value, covers: covers), at: index)
    }

    /// Merges another register's writes into this one (the union of two replicas' knowledge).
    public mutating func merge(_ other: Register) {
        superseded.formUnion(other.superseded)
        var byWrite: [WriteID: Head] = [:]
        for head in heads + other.heads where !superseded.contains(head.write) {
            byWrite[head.write] = head
        }
        heads = byWrite.values.sorted { $0.write < $1.write }
    }

    /// Whether the field has ever been written.
    public var isEmpty: Bool { heads.isEmpty }

    /// The head shown to people: the latest by write id (stamp, then device).
    public var shown: Head? { heads.last }

    /// The shown value, or `null` for a field never written.
    public var value: JSONValue { shown?.value ?? .null }

    /// The distinct values among the heads, latest first.
    public var distinctValues: [JSONValue] {
        var seen: [JSONValue] = []
        for head in heads.reversed() where !seen.contains(head.value) { seen.append(head.value) }
        return seen
    }

    /// Whether the heads disagree: a conflict waiting for review.
    public var isConflicted: Bool { distinctValues.count > 1 }

    /// The ids of the heads: the base a writer names to replace every current value.
    public var headIDs: [WriteID] { heads.map(\.write) }
}

extension Register: Codable {
    /// On the wire a register is its heads; the superseded ids stay on the server.
    public init(from decoder: any Decoder) throws {
        self.init(heads: try decoder.singleValueContainer().decode([Head].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(heads)
    }
}

extension Register {
    /// Restores a register from storage: its heads and the ids its writes' bases named.
    public init(heads: [Head], superseded: Set<WriteID>) {
        self.heads = heads.filter { !superseded.contains($0.write) }.sorted { $0.write < $1.write }
        self.superseded = superseded
    }
}
