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
        guard try openArray() else { return }
        repeat { try item(&self) } while try afterItem()
    }

    /// `[`: whether an item follows (`false`: the array was empty, its `]` read too).
    mutating func openArray() throws(DoorstepError) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x5B else { throw fail("expected an array") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x5D {
            index += 1
            return false
        }
        return true
    }

    /// `,` or `]` after an item: whether another item follows.
    mutating func afterItem() throws(DoorstepError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end") }
        if bytes[index] == 0x2C {
            index += 1
            return true
        }
        guard bytes[index] == 0x5D else { throw fail("expected , or ]") }
        index += 1
        return false
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

/// Reads the items of a JSON array one at a time, as ``FastJSON/parse(_:)-(Data)`` reads them, so
/// that a large upload is never held as one tree of values.
public struct JSONArrayReader: Sendable {
    private let bytes: [UInt8]
    private var index = 0
    private var started = false
    private var finished = false
    private let wholeNumbersInAnyForm: Bool

    /// A reader of `text`, which must hold one JSON array (a UTF-8 byte-order mark before it is
    /// skipped). With `wholeNumbersInAnyForm`, `2600.0` and `1e3` are read as the whole numbers
    /// they are (files written by programs), as Foundation's decoder reads them.
    public init(_ text: String, wholeNumbersInAnyForm: Bool = false) {
        bytes = Array(text.utf8)
        self.wholeNumbersInAnyForm = wholeNumbersInAnyForm
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    /// The next item, or `nil` after the last. Throws `malformedInput` for anything but an array
    /// of JSON values (a fraction, bad UTF-8, text after the array).
    public mutating func next() throws(DoorstepError) -> JSONValue? {
        guard !finished else { return nil }
        let start = index
        let first = !started
        let lenient = wholeNumbersInAnyForm
        let result: Result<(JSONValue?, Int), DoorstepError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            parser.index = start
            parser.wholeNumbersInAnyForm = lenient
            return Result { () throws(DoorstepError) -> (JSONValue?, Int) in
                if first, try !parser.openArray() {
                    try Self.end(&parser)
                    return (nil, parser.index)
                }
                parser.depth = 1
                let item = try parser.value()
                guard try parser.afterItem() else {
                    try Self.end(&parser)
                    return (item, -1)
                }
                return (item, parser.index)
            }
        }
        started = true
        do {
            let (item, next) = try result.get()
            if item == nil || next < 0 { finished = true }
            index = max(next, 0)
            return item
        } catch {
            finished = true
            throw error
        }
    }

    /// Only white space may follow the array.
    private static func end(_ parser: inout JSONParser) throws(DoorstepError) {
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.fail("unexpected text after the document") }
    }
}
