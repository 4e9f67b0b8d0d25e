import Foundation

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
