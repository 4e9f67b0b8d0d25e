import Foundation

// The push side's documents: field writes, mutations, batches, results, receipts.

extension FieldWrite: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a field write")
        self.init(
            field: try members.required("field", in: "a field write").text("a field name"),
            value: try members.required("value", in: "a field write"),
            base: try members.required("base", in: "a field write").writeIDs("a field write's base"))
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("base", first: true)
        writer.array(base) { $0.string($1.description) }
        writer.key("field")
        writer.string(field)
        writer.key("value")
        writer.value(value)
        writer.endObject()
    }
}

extension Mutation: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a mutation")
        let opText = try members.required("op", in: "a mutation").text("a mutation's op")
        guard let op = MutationOperation(rawValue: opText) else { throw DoorstepError(.malformedInput, "unknown operation \"\(opText.prefix(40))\"") }
        let kindText = try members.required("kind", in: "a mutation").text("a mutation's kind")
        guard let kind = EntityKind(rawValue: kindText) else { throw DoorstepError(.malformedInput, "unknown entity kind \"\(kindText.prefix(40))\"") }
        guard let schema = Int(exactly: try members.required("schema", in: "a mutation").wholeNumber("a mutation's schema")) else {
            throw DoorstepError(.malformedInput, "a mutation's schema is out of range")
        }
        let fields = try members.optional("fields")?.list(of: FieldWrite.self, "a mutation's fields") ?? []
        self.init(
            device: try DeviceID(try members.required("device", in: "a mutation").text("a mutation's device")),
            seq: try members.required("seq", in: "a mutation").wholeNumber("a mutation's seq"),
            hlc: try HLC(try members.required("hlc", in: "a mutation").text("a mutation's hlc")),
            schema: schema, op: op, kind: kind,
            entity: try EntityID(try members.required("entity", in: "a mutation").text("a mutation's entity")),
            household: try EntityID(try members.required("household", in: "a mutation").text("a mutation's household")),
            fields: fields,
            covers: try members.optional("covers")?.writeIDs("a mutation's covers") ?? [],
            other: try members.optional("other").map { value throws(DoorstepError) in try EntityID(try value.text("a mutation's other")) })
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        if !covers.isEmpty {
            writer.key("covers", first: true)
            writer.array(covers) { $0.string($1.description) }
            writer.key("device")
        } else {
            writer.key("device", first: true)
        }
        writer.string(device.rawValue)
        writer.key("entity")
        writer.string(entity.description)
        writer.key("fields")
        writer.array(fields) { $1.write(to: &$0) }
        writer.key("hlc")
        writer.string(hlc.description)
        writer.key("household")
        writer.string(household.description)
        writer.key("kind")
        writer.string(kind.rawValue)
        writer.key("op")
        writer.string(op.rawValue)
        if let other {
            writer.key("other")
            writer.string(other.description)
        }
        writer.key("schema")
        writer.int(Int64(schema))
        writer.key("seq")
        writer.int(seq)
        writer.endObject()
    }
}

extension PushBatch: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a batch")
        let version = try members.protocolVersion(in: "a batch")
        let mutations = try members.required("mutations", in: "a batch").list(of: Mutation.self, "a batch's mutations")
        let lost = try members.optional("lost").map { value throws(DoorstepError) in try SeqRange(json: value) }
        let acknowledged = try members.optional("acknowledgedThrough").map { value throws(DoorstepError) in
            try value.wholeNumber("a batch's acknowledgedThrough")
        }
        self.init(
            protocolVersion: version, device: try DeviceID(try members.required("device", in: "a batch").text("a batch's device")), mutations: mutations,
            lost: lost, acknowledgedThrough: acknowledged)
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        var first = true
        if let acknowledgedThrough {
            writer.key("acknowledgedThrough", first: true)
            writer.int(acknowledgedThrough)
            first = false
        }
        writer.key("device", first: first)
        writer.string(device.rawValue)
        if let lost {
            writer.key("lost")
            lost.write(to: &writer)
        }
        writer.key("mutations")
        writer.array(mutations) { $1.write(to: &$0) }
        writer.key("protocolVersion")
        writer.int(Int64(protocolVersion))
        writer.endObject()
    }
}

extension SeqRange: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a range of seqs")
        self.init(
            from: try members.required("from", in: "a range of seqs").wholeNumber("a range's from"),
            through: try members.required("through", in: "a range of seqs").wholeNumber("a range's through"))
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("from", first: true)
        writer.int(from)
        writer.key("through")
        writer.int(through)
        writer.endObject()
    }
}

extension MutationResult: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a result")
        let outcomeText = try members.required("outcome", in: "a result").text("a result's outcome")
        guard let outcome = MutationOutcome(rawValue: outcomeText) else {
            throw DoorstepError(.malformedInput, "unknown outcome \"\(outcomeText.prefix(40))\"")
        }
        var fields: [String]?
        if let list = members.optional("conflictFields") {
            var names: [String] = []
            for item in try list.items("a result's conflictFields") { names.append(try item.text("a conflict field")) }
            fields = names
        }
        self.init(
            seq: try members.required("seq", in: "a result").wholeNumber("a result's seq"), outcome: outcome,
            code: try members.optional("code").map { value throws(DoorstepError) in DoorstepError.Code(try value.text("a result's code")) },
            reason: try members.optional("reason").map { value throws(DoorstepError) in try value.text("a result's reason") },
            reasonZh: try members.optional("reasonZh").map { value throws(DoorstepError) in try value.text("a result's reasonZh") },
            stamp: try members.optional("stamp").map { value throws(DoorstepError) in try HLC(try value.text("a result's stamp")) },
            conflictFields: fields,
            details: try members.optional("details").map { value throws(DoorstepError) in try ErrorDetails(json: value) },
            survivor: try members.optional("survivor").map { value throws(DoorstepError) in try EntityID(try value.text("a result's survivor")) })
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        var first = true
        if let code {
            writer.key("code", first: first)
            writer.string(code.rawValue)
            first = false
        }
        if let conflictFields {
            writer.key("conflictFields", first: first)
            writer.array(conflictFields) { $0.string($1) }
            first = false
        }
        if let details {
            writer.key("details", first: first)
            details.write(to: &writer)
            first = false
        }
        writer.key("outcome", first: first)
        writer.string(outcome.rawValue)
        if let reason {
            writer.key("reason")
            writer.string(reason)
        }
        if let reasonZh {
            writer.key("reasonZh")
            writer.string(reasonZh)
        }
        writer.key("seq")
        writer.int(seq)
        if let stamp {
            writer.key("stamp")
            writer.string(stamp.description)
        }
        if let survivor {
            writer.key("survivor")
            writer.string(survivor.description)
        }
        writer.endObject()
    }
}

extension ErrorDetails: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("an error's details")
        func text(_ key: String) throws(DoorstepError) -> String? {
            try members.optional(key).map { value throws(DoorstepError) in try value.text("a detail") }
        }
        func number(_ key: String) throws(DoorstepError) -> Int64? {
            try members.optional(key).map { value throws(DoorstepError) in try value.wholeNumber("a detail") }
        }
        func texts(_ key: String) throws(DoorstepError) -> [String]? {
            guard let list = members.optional(key) else { return nil }
            var items: [String] = []
            for item in try list.items("a detail") { items.append(try item.text("a detail")) }
            return items
        }
        self.init(
            rule: try text("rule"), field: try text("field"), kind: try text("kind"), limit: try number("limit"),
            minimum: try number("minimum"), allowed: try texts("allowed"), expected: try text("expected"), from: try texts("from"),
            to: try text("to"), resumeFrom: try number("resumeFrom"), retryAfterSeconds: try number("retryAfterSeconds"))
    }

    /// The details as an object, keys sorted, absent keys left out (as `WireCoding` writes them).
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        var first = true
        func text(_ key: StaticString, _ value: String?, _ writer: inout JSONTextWriter) {
            guard let value else { return }
            writer.key(key, first: first)
            writer.string(value)
            first = false
        }
        func number(_ key: StaticString, _ value: Int64?, _ writer: inout JSONTextWriter) {
            guard let value else { return }
            writer.key(key, first: first)
            writer.int(value)
            first = false
        }
        func texts(_ key: StaticString, _ value: [String]?, _ writer: inout JSONTextWriter) {
            guard let value else { return }
            writer.key(key, first: first)
            writer.array(value) { $0.string($1) }
            first = false
        }
        texts("allowed", allowed, &writer)
        text("expected", expected, &writer)
        text("field", field, &writer)
        texts("from", from, &writer)
        text("kind", kind, &writer)
        number("limit", limit, &writer)
        number("minimum", minimum, &writer)
        number("resumeFrom", resumeFrom, &writer)
        number("retryAfterSeconds", retryAfterSeconds, &writer)
        text("rule", rule, &writer)
        text("to", to, &writer)
        writer.endObject()
    }
}

extension PushReceipt: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) {
        let members = try json.members("a receipt")
        let version = try members.protocolVersion(in: "a receipt")
        let results = try members.required("results", in: "a receipt").list(of: MutationResult.self, "a receipt's results")
        self.init(
            protocolVersion: version, device: try DeviceID(try members.required("device", in: "a receipt").text("a receipt's device")),
            highestContiguousSeq: try members.required("highestContiguousSeq", in: "a receipt").wholeNumber("a receipt's highestContiguousSeq"),
            serverClock: try HLC(try members.required("serverClock", in: "a receipt").text("a receipt's serverClock")),
            results: results, clockSkew: try members.required("clockSkew", in: "a receipt").flag("a receipt's clockSkew"))
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("clockSkew", first: true)
        writer.value(.bool(clockSkew))
        writer.key("device")
        writer.string(device.rawValue)
        writer.key("highestContiguousSeq")
        writer.int(highestContiguousSeq)
        writer.key("protocolVersion")
        writer.int(Int64(protocolVersion))
        writer.key("results")
        writer.array(results) { $1.write(to: &$0) }
        writer.key("serverClock")
        writer.string(serverClock.description)
        writer.endObject()
    }
}

extension JSONValue: JSONValueDecodable, JSONTextEncodable {
    public init(json: JSONValue) throws(DoorstepError) { self = json }

    public func write(to writer: inout JSONTextWriter) { writer.value(self) }
}
