public import DoorstepCore

/// A pull page written as JSON text, household by household, into one buffer that becomes the
/// response: the same bytes as encoding the ``PullPage`` (keys in `WireCoding`'s sorted order,
/// so the members after `households` are written once the page is complete). Both backends
/// write their pages with it, and a relay its own (§19.3).
public struct EncodedPullPage: Sendable {
    /// The households' JSON texts, comma-separated, as they are added.
    private var households = JSONTextWriter()
    public private(set) var added = 0

    /// An empty page.
    public init() {}

    /// The bytes of the households added so far (the page's size but for a few hundred bytes).
    var byteCount: Int { households.bytes.count }

    /// Appends a household already written as JSON (a ``HouseholdAggregate`` as `WireCoding` encodes it).
    public mutating func add(json: [UInt8]) {
        if added > 0 { households.comma() }
        households.rawJSON(bytes: json)
        added += 1
    }

    /// Appends a household.
    mutating func add(_ parts: AggregateParts) throws {
        if added > 0 { households.comma() }
        parts.write(to: &households)
        added += 1
    }

    /// The page's bytes: the households and the members around them.
    public func finished(hasMore: Bool, next: String, removed: [EntityID], serverClock: HLC, remaining: Int? = nil) -> [UInt8] {
        var writer = JSONTextWriter()
        writer.beginObject()
        writer.key("hasMore", first: true)
        writer.value(.bool(hasMore))
        writer.key("households")
        writer.beginArray()
        writer.rawJSON(bytes: households.bytes)
        writer.endArray()
        writer.key("nextCursor")
        writer.string(next)
        writer.key("protocolVersion")
        writer.int(Int64(ProtocolVersion.current))
        if let remaining {
            writer.key("remaining")
            writer.int(Int64(remaining))
        }
        writer.key("removed")
        writer.array(removed) { $0.string($1.description) }
        writer.key("serverClock")
        writer.string(serverClock.description)
        writer.endObject()
        return writer.bytes
    }
}

/// A household as a pull delivers it, as read from its rows: written as JSON, it is the same
/// bytes as encoding the ``HouseholdAggregate`` (each stored wire text placed as it is).
struct AggregateParts: Sendable {
    /// An entity's row: its wire text (`StoredEntityRow.wire`).
    struct Stored: Sendable {
        var wire: String

        func write(to writer: inout JSONTextWriter) {
            writer.rawJSON(wire)
        }
    }

    enum Household: Sendable {
        case stored(Stored)
        case merged(EntityState)
    }

    var aliases: [EntityID]
    var children: [Stored]
    var household: Household

    func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("aliases", first: true)
        writer.array(aliases) { $0.string($1.description) }
        writer.key("entities")
        writer.beginArray()
        for (index, child) in children.enumerated() {
            if index > 0 { writer.comma() }
            child.write(to: &writer)
        }
        writer.endArray()
        writer.key("household")
        switch household {
        case .stored(let stored): stored.write(to: &writer)
        case .merged(let state): state.write(to: &writer)
        }
        writer.endObject()
    }
}
