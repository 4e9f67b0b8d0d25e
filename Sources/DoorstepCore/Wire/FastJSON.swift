public import Foundation

/// Reading and writing of Doorstep's own JSON documents (entity states, household aggregates,
/// pull pages) without `Codable`'s per-value machinery.
///
/// The same documents `JSONEncoder`/`JSONDecoder` read and write, byte for byte on output (sorted
/// keys, slashes not escaped) and with the same strictness on input (whole numbers only, every
/// required key present, ids and stamps validated); the tests compare both on seeded documents.
/// Storage and sync spend most of their time in JSON, so the hot paths use this.
public enum FastJSON {
    /// The deepest nesting accepted (hostile input must not exhaust the stack).
    static let maxDepth = 256

    /// Parses a JSON document into a ``JSONValue``; anything else (a fraction, bad UTF-8, trailing
    /// bytes) is `malformedInput`.
    public static func parse(_ data: Data) throws(DoorstepError) -> JSONValue {
        let result: Result<JSONValue, DoorstepError> = data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return Result { () throws(DoorstepError) -> JSONValue in try parser.document() }
        }
        return try result.get()
    }

    /// Parses a JSON text into a ``JSONValue``.
    public static func parse(_ text: String) throws(DoorstepError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, DoorstepError> = text.withUTF8 { bytes in
            var parser = JSONParser(bytes: bytes)
            return Result { () throws(DoorstepError) -> JSONValue in try parser.document() }
        }
        return try result.get()
    }

    /// Decodes a document of a type that reads itself from a ``JSONValue``.
    public static func decode<T: JSONValueDecodable>(_ type: T.Type, from data: Data) throws(DoorstepError) -> T {
        try T(json: try parse(data))
    }

    /// Decodes a JSON text of a type that reads itself from a ``JSONValue``.
    public static func decode<T: JSONValueDecodable>(_ type: T.Type, from text: String) throws(DoorstepError) -> T {
        try T(json: try parse(text))
    }

    /// The JSON text of a value that writes itself, as `WireCoding` would encode it.
    public static func text(_ value: some JSONTextEncodable) -> String {
        var writer = JSONTextWriter()
        value.write(to: &writer)
        return writer.text
    }

    /// The JSON bytes of a value that writes itself, as `WireCoding` would encode it.
    public static func data(_ value: some JSONTextEncodable) -> Data {
        var writer = JSONTextWriter()
        value.write(to: &writer)
        return Data(writer.bytes)
    }
}

/// A pull page with the JSON text of each household and entry as it arrived, so that a device
/// stores the texts instead of encoding the values again.
public struct PulledPage: Sendable {
    /// The page, read and checked.
    public var page: PullPage
    /// For each household of the page: its household state's text.
    public var householdTexts: [String]
    /// For each household of the page: its entries' texts, in the order of ``HouseholdAggregate/entities``.
    public var entityTexts: [[String]]
}

extension FastJSON {
    /// Reads a pull page, keeping the text of each household state and entry (see ``PulledPage``).
    public static func decodePulledPage(_ data: Data) throws(DoorstepError) -> PulledPage {
        let result: Result<PulledPage, DoorstepError> = data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return Result { () throws(DoorstepError) -> PulledPage in try parser.pulledPage() }
        }
        return try result.get()
    }
}

extension JSONParser {
    /// The text of the next value, and the value.
    mutating func valueWithText() throws(DoorstepError) -> (JSONValue, String) {
        skipWhitespace()
        let start = index
        let value = try self.value()
        return (value, String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    /// `{ key: value, ... }`, calling `member` at each key with the parser on the value.
    mutating func members(_ member: (inout JSONParser, String) throws(DoorstepError) -> Void) throws(DoorstepError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x7B else { throw fail("expected an object") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x7D {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == 0x22 else { throw fail("expected a key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == 0x3A else { throw fail("expected :") }
            index += 1
            try member(&self, key)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == 0x2C {
                index += 1
            } else if bytes[index] == 0x7D {
                index += 1
                return
            } else {
                throw fail("expected , or }")
            }
        }
    }

    /// `[ item, ... ]`, calling `item` with the parser on each.
    mutating func items(_ item: (inout JSONParser) throws(DoorstepError) -> Void) throws(DoorstepError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x5B else { throw fail("expected an array") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x5D {
            index += 1
            return
        }
        while true {
            try item(&self)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == 0x2C {
                index += 1
            } else if bytes[index] == 0x5D {
                index += 1
                return
            } else {
                throw fail("expected , or ]")
            }
        }
    }

    mutating func pulledPage() throws(DoorstepError) -> PulledPage {
        var members: [String: JSONValue] = [:]
        var households: [JSONValue] = []
        var householdTexts: [String] = []
        var entityTexts: [[String]] = []
        try self.members { (parser: inout JSONParser, key: String) throws(DoorstepError) in
            // A repeated key would pair texts with the wrong values: refused.
            guard members[key] == nil else { throw parser.fail("the key \"\(key.prefix(40))\" is repeated") }
            guard key == "households" else {
                members[key] = try parser.value()
                return
            }
            try parser.items { (parser: inout JSONParser) throws(DoorstepError) in
                var household: [String: JSONValue] = [:]
                var householdText = ""
                var texts: [String] = []
                try parser.members { (parser: inout JSONParser, key: String) throws(DoorstepError) in
                    guard household[key] == nil else { throw parser.fail("the key \"\(key.prefix(40))\" is repeated") }
                    switch key {
                    case "household":
                        let (value, text) = try parser.valueWithText()
                        household[key] = value
                        householdText = text
                    case "entities":
                        var entities: [JSONValue] = []
                        try parser.items { (parser: inout JSONParser) throws(DoorstepError) in
                            let (value, text) = try parser.valueWithText()
                            entities.append(value)
                            texts.append(text)
                        }
                        household[key] = .array(entities)
                    default:
                        household[key] = try parser.value()
                    }
                }
                households.append(.object(household))
                householdTexts.append(householdText)
                entityTexts.append(texts)
            }
            members[key] = .array(households)
        }
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected text after the document") }
        return PulledPage(page: try PullPage(json: .object(members)), householdTexts: householdTexts, entityTexts: entityTexts)
    }
}

/// A type that reads itself from a parsed JSON value (see ``FastJSON``).
public protocol JSONValueDecodable {
    init(json: JSONValue) throws(DoorstepError)
}

/// A type that writes its own JSON text (see ``FastJSON``).
public protocol JSONTextEncodable {
    func write(to writer: inout JSONTextWriter)
}

// MARK: Parser

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func fail(_ message: String) -> DoorstepError {
        DoorstepError(.malformedInput, "invalid JSON at byte \(index): \(message)")
    }

    mutating func document() throws(DoorstepError) -> JSONValue {
        let value = try self.value()
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected text after the document") }
        return value
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func value() throws(DoorstepError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end") }
        switch bytes[index] {
        case 0x22: return .string(try string())
        case 0x7B: return try object()
        case 0x5B: return try array()
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        case 0x2D, 0x30...0x39: return .int(try integer())
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(DoorstepError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end") }
        let expected = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw fail("unknown literal")
        }
        index += count
    }

    mutating func integer() throws(DoorstepError) -> Int64 {
        var negative = false
        if bytes[index] == 0x2D {
            negative = true
            index += 1
        }
        let start = index
        var magnitude: UInt64 = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - 0x30))
            guard !overflow1, !overflow2 else { throw fail("a number too large") }
            magnitude = sum
            index += 1
        }
        guard index > start else { throw fail("a sign without digits") }
        guard !(bytes[start] == 0x30 && index - start > 1) else { throw fail("a number with a leading zero") }
        if index < bytes.count, bytes[index] == 0x2E || bytes[index] == 0x65 || bytes[index] == 0x45 {
            throw fail("a number that is not whole")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw fail("a number too large") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail("a number too large") }
        return Int64(magnitude)
    }

    mutating func string() throws(DoorstepError) -> String {
        index += 1  // the opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let text = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return text
            }
            if byte == 0x5C { break }
            guard byte >= 0x20 else { throw fail("a control character in a string") }
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x22:
                index += 1
                guard let text = String(validating: buffer, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return text
            case 0x5C:
                index += 1
                guard index < bytes.count else { throw fail("unexpected end") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case 0x22, 0x5C, 0x2F: buffer.append(escaped)
                case 0x62: buffer.append(0x08)
                case 0x66: buffer.append(0x0C)
                case 0x6E: buffer.append(0x0A)
                case 0x72: buffer.append(0x0D)
                case 0x74: buffer.append(0x09)
                case 0x75:
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 6 <= bytes.count, bytes[index] == 0x5C, bytes[index + 1] == 0x75 else { throw fail("a lone surrogate") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("a lone surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("an invalid escape") }
                    buffer.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw fail("an invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw fail("a control character in a string") }
                buffer.append(byte)
                index += 1
            }
        }
        throw fail("an unterminated string")
    }

    mutating func hex4() throws(DoorstepError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("unexpected end") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            default: throw fail("an invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    // array() and object() walk their text themselves rather than through items(_:) and
    // members(_:): they read every document, and the closure version measured slower on first
    // sync here (16.4–16.9k against 17.3–20.3k records/s at 10,000 households, a noisy machine).
    mutating func array() throws(DoorstepError) -> JSONValue {
        index += 1
        depth += 1
        guard depth <= FastJSON.maxDepth else { throw fail("nested too deeply") }
        defer { depth -= 1 }
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x5D {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == 0x2C {
                index += 1
            } else if bytes[index] == 0x5D {
                index += 1
                return .array(items)
            } else {
                throw fail("expected , or ]")
            }
        }
    }

    mutating func object() throws(DoorstepError) -> JSONValue {
        index += 1
        depth += 1
        guard depth <= FastJSON.maxDepth else { throw fail("nested too deeply") }
        defer { depth -= 1 }
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x7D {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == 0x22 else { throw fail("expected a key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == 0x3A else { throw fail("expected :") }
            index += 1
            members[key] = try value()
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == 0x2C {
                index += 1
            } else if bytes[index] == 0x7D {
                index += 1
                return .object(members)
            } else {
                throw fail("expected , or }")
            }
        }
    }
}

// MARK: Writer

/// Writes JSON text as `WireCoding`'s encoder does: compact, keys sorted, slashes not escaped.
public struct JSONTextWriter: Sendable {
    /// The text so far, as UTF-8.
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(512) }

    /// The text so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always) mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    /// A string, escaped as Foundation escapes it.
    public mutating func string(_ value: String) {
        bytes.append(0x22)
        var value = value
        value.withUTF8 { utf8 in
            // Runs of bytes that need no escape are copied whole.
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte == 0x22 || byte == 0x5C || byte < 0x20 else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x08: bytes.append(0x5C); bytes.append(0x62)
                case 0x0C: bytes.append(0x5C); bytes.append(0x66)
                case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
                case 0x0D: bytes.append(0x5C); bytes.append(0x72)
                case 0x09: bytes.append(0x5C); bytes.append(0x74)
                default:
                    let hex: StaticString = "0123456789abcdef"
                    hex.withUTF8Buffer { digits in
                        bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
                    }
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(0x22)
    }

    /// A whole number.
    public mutating func int(_ value: Int64) {
        if value == 0 {
            bytes.append(0x30)
            return
        }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { bytes.append(0x2D) }
        withUnsafeBytes(of: &digits) { buffer in
            for position in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[position]) }
        }
    }

    /// Any JSON value (object keys sorted).
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag): bytes.append(contentsOf: flag ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .int(let number): int(number)
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(0x5B)
            for (position, item) in items.enumerated() {
                if position > 0 { bytes.append(0x2C) }
                self.value(item)
            }
            bytes.append(0x5D)
        case .object(let members):
            bytes.append(0x7B)
            for (position, key) in members.keys.sorted(by: JSONTextWriter.keyOrder).enumerated() {
                if position > 0 { bytes.append(0x2C) }
                string(key)
                bytes.append(0x3A)
                self.value(members[key] ?? .null)
            }
            bytes.append(0x7D)
        }
    }

    /// An array of values written by `element`.
    public mutating func array<S: Sequence>(_ items: S, _ element: (inout JSONTextWriter, S.Element) -> Void) {
        bytes.append(0x5B)
        var first = true
        for item in items {
            if !first { bytes.append(0x2C) }
            first = false
            element(&self, item)
        }
        bytes.append(0x5D)
    }

    /// The order of object keys: by their UTF-8 bytes, as Foundation's encoder sorts them.
    public static func keyOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// A value already written as JSON, placed as it is (the caller vouches for it).
    public mutating func rawJSON(_ text: String) { bytes.append(contentsOf: text.utf8) }
    /// Appends JSON text already written (by another writer), as it is.
    public mutating func rawJSON(bytes text: [UInt8]) { bytes.append(contentsOf: text) }

    /// `[`.
    public mutating func beginArray() { bytes.append(0x5B) }
    /// `]`.
    public mutating func endArray() { bytes.append(0x5D) }
    /// `{`.
    public mutating func beginObject() { bytes.append(0x7B) }
    /// `}`.
    public mutating func endObject() { bytes.append(0x7D) }
    /// `,` between members or items.
    public mutating func comma() { bytes.append(0x2C) }
    /// `:` after a key.
    public mutating func colon() { bytes.append(0x3A) }

    /// `"key":` (after a comma unless `first`); the caller writes keys in sorted order.
    public mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(0x2C) }
        bytes.append(0x22)
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(0x22)
        bytes.append(0x3A)
    }
}

// MARK: Reading helpers

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

// MARK: Conformances

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
        self.init(
            protocolVersion: try members.protocolVersion(in: "a pull page"),
            nextCursor: try members.required("nextCursor", in: "a pull page").text("a pull page's nextCursor"),
            hasMore: hasMore,
            serverClock: try HLC(try members.required("serverClock", in: "a pull page").text("a pull page's serverClock")),
            households: households, removed: removed)
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
        writer.key("removed")
        writer.array(removed) { $0.string($1.description) }
        writer.key("serverClock")
        writer.string(serverClock.description)
        writer.raw(0x7D)
    }
}

// MARK: Push

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
        self.init(protocolVersion: version, device: try DeviceID(try members.required("device", in: "a batch").text("a batch's device")), mutations: mutations)
    }

    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("device", first: true)
        writer.string(device.rawValue)
        writer.key("mutations")
        writer.array(mutations) { $1.write(to: &$0) }
        writer.key("protocolVersion")
        writer.int(Int64(protocolVersion))
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
