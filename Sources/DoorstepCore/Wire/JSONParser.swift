import Foundation

// The parser under `FastJSON`: bytes to `JSONValue`, strictly (whole numbers only, a bounded
// depth), keeping the text of a value where a caller asks for it.

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// Whether a whole number written with a fraction or an exponent (`2600.0`, `1e3`, as
    /// programs write numbers) is read as the whole number it is, as Foundation's decoder reads
    /// it; a number that is not whole is refused either way. Off for the wire (strict).
    var wholeNumbersInAnyForm = false

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
            guard wholeNumbersInAnyForm else { throw fail("a number that is not whole") }
            return try wholeNumber(negative: negative, integerDigits: start..<index)
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw fail("a number too large") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail("a number too large") }
        return Int64(magnitude)
    }

    /// The rest of a number after its integer digits (a fraction, an exponent), read as a whole
    /// number when it is one exactly (``wholeNumbersInAnyForm``).
    private mutating func wholeNumber(negative: Bool, integerDigits: Range<Int>) throws(DoorstepError) -> Int64 {
        var digits = Array(bytes[integerDigits])
        var exponent = 0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            let fractionStart = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                digits.append(bytes[index])
                index += 1
            }
            guard index > fractionStart else { throw fail("a decimal point without digits") }
            exponent -= index - fractionStart
        }
        if index < bytes.count, bytes[index] == 0x65 || bytes[index] == 0x45 {
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
                exponentNegative = bytes[index] == 0x2D
                index += 1
            }
            let exponentStart = index
            var value = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                value = min(value * 10 + Int(bytes[index] - 0x30), 10_000)
                index += 1
            }
            guard index > exponentStart else { throw fail("an exponent without digits") }
            exponent += exponentNegative ? -value : value
        }
        // Trailing zeros of the digits carry no fraction.
        while exponent < 0, digits.count > 1, digits.last == 0x30 {
            digits.removeLast()
            exponent += 1
        }
        while digits.count > 1, digits.first == 0x30 { digits.removeFirst() }
        if digits == [0x30] { return 0 }
        guard exponent >= 0 else { throw fail("a number that is not whole") }
        guard digits.count + exponent <= 19 else { throw fail("a number too large") }
        let text = (negative ? "-" : "") + String(decoding: digits, as: UTF8.self) + String(repeating: "0", count: exponent)
        guard let number = Int64(text) else { throw fail("a number too large") }
        return number
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
        depth += 1
        guard depth <= FastJSON.maxDepth else { throw fail("nested too deeply") }
        defer { depth -= 1 }
        var items: [JSONValue] = []
        try self.items { (parser: inout JSONParser) throws(DoorstepError) in items.append(try parser.value()) }
        return .array(items)
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
