import Foundation

// The reading helpers the conformances share: a value as members, items, text, ids.

extension JSONValue {
    func members(_ what: StaticString) throws(DoorstepError) -> [String: JSONValue] {
        guard case .object(let members) = self else { throw DoorstepError(.malformedInput, "\(what) is not an object") }
        return members
    }

    func items(_ what: StaticString) throws(DoorstepError) -> [JSONValue] {
        guard case .array(let items) = self else { throw DoorstepError(.malformedInput, "\(what) is not an array") }
        return items
    }

    /// An array of documents of one type.
    func list<T: JSONValueDecodable>(of type: T.Type, _ what: StaticString) throws(DoorstepError) -> [T] {
        var values: [T] = []
        for item in try items(what) { values.append(try T(json: item)) }
        return values
    }

    /// An array of entity ids.
    func entityIDs(_ what: StaticString) throws(DoorstepError) -> [EntityID] {
        var ids: [EntityID] = []
        for item in try items(what) { ids.append(try EntityID(try item.text(what))) }
        return ids
    }

    func text(_ what: StaticString) throws(DoorstepError) -> String {
        guard case .string(let text) = self else { throw DoorstepError(.malformedInput, "\(what) is not a string") }
        return text
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// The document's `protocolVersion`.
    func protocolVersion(in what: StaticString) throws(DoorstepError) -> Int {
        guard case .int(let number) = try required("protocolVersion", in: what), let version = Int(exactly: number) else {
            throw DoorstepError(.malformedInput, "\(what)'s protocolVersion is not a whole number in range")
        }
        return version
    }

    func required(_ key: String, in what: StaticString) throws(DoorstepError) -> JSONValue {
        guard let value = self[key] else { throw DoorstepError(.malformedInput, "\(what) has no \"\(key)\"") }
        return value
    }
}

extension JSONValue {
    func wholeNumber(_ what: StaticString) throws(DoorstepError) -> Int64 {
        guard case .int(let number) = self else { throw DoorstepError(.malformedInput, "\(what) is not a whole number") }
        return number
    }

    func flag(_ what: StaticString) throws(DoorstepError) -> Bool {
        guard case .bool(let flag) = self else { throw DoorstepError(.malformedInput, "\(what) is not true or false") }
        return flag
    }

    func writeIDs(_ what: StaticString) throws(DoorstepError) -> [WriteID] {
        var ids: [WriteID] = []
        for item in try items(what) { ids.append(try WriteID(try item.text(what))) }
        return ids
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// A key that may be absent or `null`.
    func optional(_ key: String) -> JSONValue? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }
}
