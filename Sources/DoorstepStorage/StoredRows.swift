import DoorstepCore
import Foundation

// The stored-row formats both backends write and read (the `state` and `register` columns, JSON
// columns in the canonical wire form), and the helpers both use to read them.

/// An entity's row as stored since SQLite schema v11 and PostgreSQL v10: its wire text (what a
/// pull sends, as it is) and beside it only what the wire leaves out, the superseded ids of its
/// registers, `nil` when no register has any (the usual case). The state is not stored a second
/// time: it is read from the two.
struct StoredEntityRow: Sendable {
    /// The entity as a pull sends it (`FastJSON.text(state)`).
    var wire: String
    /// Each register's superseded ids that are not empty, by field, as JSON; `nil` when none.
    var superseded: String?

    init(wire: String, superseded: String?) {
        self.wire = wire
        self.superseded = superseded
    }

    init(_ state: EntityState) throws {
        wire = FastJSON.text(state)
        var ids: [String: [WriteID]] = [:]
        for (name, register) in state.fields where !register.superseded.isEmpty { ids[name] = register.superseded.sorted() }
        superseded = ids.isEmpty ? nil : try StoredJSON.encode(ids)
    }

    /// The state the two columns hold.
    var state: EntityState {
        get throws {
            var state = try FastJSON.decode(EntityState.self, from: wire)
            guard let superseded else { return state }
            for (name, ids) in try StoredJSON.decode([String: [WriteID]].self, superseded) {
                state.fields[name] = Register(heads: state.fields[name]?.heads ?? [], superseded: Set(ids))
            }
            return state
        }
    }

    /// The row for a state stored before v11 (its `state` column: `StoredEntity`'s JSON).
    init(formerState text: String) throws {
        try self.init(try StoredJSON.decode(StoredEntity.self, text).state)
    }
}

/// An entity as stored until SQLite schema v11 and PostgreSQL v10 (the `state` column): its state
/// with each register's superseded ids. Read by the migration that replaced it.
struct StoredEntity: Codable {
    var kind: EntityKind
    var id: EntityID
    var household: EntityID
    var created: WriteID
    var fields: [String: StoredRegister]

    init(_ state: EntityState) {
        kind = state.kind
        id = state.id
        household = state.household
        created = state.created
        fields = state.fields.mapValues(StoredRegister.init)
    }

    var state: EntityState {
        EntityState(kind: kind, id: id, household: household, created: created, fields: fields.mapValues(\.register))
    }
}

/// A register as stored: heads and the ids that bases have named.
struct StoredRegister: Codable {
    var heads: [Head]
    var superseded: [WriteID]

    init(_ register: Register) {
        heads = register.heads
        superseded = register.superseded.sorted()
    }

    init(heads: [Head], superseded: [WriteID]) {
        self.heads = heads
        self.superseded = superseded
    }

    var register: Register { Register(heads: heads, superseded: Set(superseded)) }
}

/// JSON text in database columns, in the canonical wire form.
enum StoredJSON {
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try WireCoding.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try WireCoding.decode(type, from: Data(text.utf8))
    }
}

extension StoredEntity: JSONValueDecodable, JSONTextEncodable {
    init(json: JSONValue) throws(DoorstepError) {
        guard case .object(let members) = json, case .string(let kindText)? = members["kind"], let kind = EntityKind(rawValue: kindText),
            case .string(let id)? = members["id"], case .string(let household)? = members["household"],
            case .string(let created)? = members["created"], case .object(let fields)? = members["fields"]
        else { throw DoorstepError(.malformedInput, "a stored entity lacks its kind, ids, creation or fields") }
        self.kind = kind
        self.id = try EntityID(id)
        self.household = try EntityID(household)
        self.created = try WriteID(created)
        var registers: [String: StoredRegister] = [:]
        for (name, register) in fields {
            guard case .object(let parts) = register, case .array(let heads)? = parts["heads"], case .array(let superseded)? = parts["superseded"] else {
                throw DoorstepError(.malformedInput, "a stored register lacks its heads or superseded writes")
            }
            var ids: [WriteID] = []
            for item in superseded {
                guard case .string(let text) = item else { throw DoorstepError(.malformedInput, "a superseded write is not a string") }
                ids.append(try WriteID(text))
            }
            var list: [Head] = []
            for head in heads { list.append(try Head(json: head)) }
            registers[name] = StoredRegister(heads: list, superseded: ids)
        }
        self.fields = registers
    }

    func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("created", first: true)
        writer.string(created.description)
        writer.key("fields")
        writer.beginObject()
        for (position, name) in fields.keys.sorted(by: JSONTextWriter.keyOrder).enumerated() {
            if position > 0 { writer.comma() }
            writer.string(name)
            writer.colon()
            let register = fields[name]
            writer.beginObject()
            writer.key("heads", first: true)
            writer.array(register?.heads ?? []) { $1.write(to: &$0) }
            writer.key("superseded")
            writer.array(register?.superseded ?? []) { $0.string($1.description) }
            writer.endObject()
        }
        writer.endObject()
        writer.key("household")
        writer.string(household.description)
        writer.key("id")
        writer.string(id.description)
        writer.key("kind")
        writer.string(kind.rawValue)
        writer.endObject()
    }

}
