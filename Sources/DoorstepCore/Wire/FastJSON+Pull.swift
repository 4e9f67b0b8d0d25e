import Foundation

// The pull side's documents: heads, entity states, household aggregates, pages.

extension Head: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a head")
        let write = try WriteID(try members.required("write", in: "a head").text("a head's write"))
        let covers = try members.optional("covers")?.writeIDs("a head's covers") ?? []
        self.init(write: write, value: members["value"] ?? .null, covers: covers)
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.raw(0x7B)
        if !covers.isEmpty {
            writer.key("covers", first: true)
            writer.array(covers) { $0.string($1.description) }
            writer.key("value")
        } else {
            writer.key("value", first: true)
        }
        writer.value(value)
        writer.key("write")
        writer.string(write.description)
        writer.raw(0x7D)
    }
}

extension EntityState: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("an entity")
        let kindText = try members.required("kind", in: "an entity").text("an entity's kind")
        guard let kind = EntityKind(rawValue: kindText) else { throw DoorstepError(.malformedInput, "unknown entity kind \"\(kindText.prefix(40))\"") }
        let id = try EntityID(try members.required("id", in: "an entity").text("an entity's id"))
        let household = try EntityID(try members.required("household", in: "an entity").text("an entity's household"))
        let created = try WriteID(try members.required("created", in: "an entity").text("an entity's creation"))
        var fields: [String: Register] = [:]
        for (name, heads) in try members.required("fields", in: "an entity").members("an entity's fields") {
            fields[name] = Register(heads: try heads.list(of: Head.self, "a register"))
        }
        self.init(kind: kind, id: id, household: household, created: created, fields: fields)
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.raw(0x7B)
        writer.key("created", first: true)
        writer.string(created.description)
        writer.key("fields")
        writer.raw(0x7B)
        for (position, name) in fields.keys.sorted(by: JSONTextWriter.keyOrder).enumerated() {
            if position > 0 { writer.raw(0x2C) }
            writer.string(name)
            writer.raw(0x3A)
            writer.array(fields[name]?.heads ?? []) { $1.write(to: &$0) }
        }
        writer.raw(0x7D)
        writer.key("household")
        writer.string(household.description)
        writer.key("id")
        writer.string(id.description)
        writer.key("kind")
        writer.string(kind.rawValue)
        writer.raw(0x7D)
    }
}

extension HouseholdAggregate: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a household aggregate")
        let household = try EntityState(json: try members.required("household", in: "a household aggregate"))
        self.init(
            household: household, aliases: try members.required("aliases", in: "a household aggregate").entityIDs("aliases"),
            entities: try members.required("entities", in: "a household aggregate").list(of: EntityState.self, "entities"))
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.raw(0x7B)
        writer.key("aliases", first: true)
        writer.array(aliases) { $0.string($1.description) }
        writer.key("entities")
        writer.array(entities) { $1.write(to: &$0) }
        writer.key("household")
        household.write(to: &writer)
        writer.raw(0x7D)
    }
}

extension PullPage: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a pull page")
        guard case .bool(let hasMore) = try members.required("hasMore", in: "a pull page") else {
            throw DoorstepError(.malformedInput, "a pull page's hasMore is not true or false")
        }
        let households = try members.required("households", in: "a pull page").list(of: HouseholdAggregate.self, "households")
        let removed = try members.required("removed", in: "a pull page").entityIDs("removed households")
        var remaining: Int?
        if let value = members["remaining"], value != .null {
            guard case .int(let count) = value, count >= 0 else {
                throw DoorstepError(.malformedInput, "a pull page's remaining is not a whole number of at least 0")
            }
            remaining = Int(count)
        }
        self.init(
            protocolVersion: try members.protocolVersion(in: "a pull page"),
            nextCursor: try members.required("nextCursor", in: "a pull page").text("a pull page's nextCursor"),
            hasMore: hasMore,
            serverClock: try HLC(try members.required("serverClock", in: "a pull page").text("a pull page's serverClock")),
            households: households, removed: removed, remaining: remaining)
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.raw(0x7B)
        writer.key("hasMore", first: true)
        writer.value(.bool(hasMore))
        writer.key("households")
        writer.array(households) { $1.write(to: &$0) }
        writer.key("nextCursor")
        writer.string(nextCursor)
        writer.key("protocolVersion")
        writer.int(Int64(protocolVersion))
        if let remaining {
            writer.key("remaining")
            writer.int(Int64(remaining))
        }
        writer.key("removed")
        writer.array(removed) { $0.string($1.description) }
        writer.key("serverClock")
        writer.string(serverClock.description)
        writer.raw(0x7D)
    }
}
