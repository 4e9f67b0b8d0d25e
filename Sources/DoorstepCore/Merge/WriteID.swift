import Foundation

/// The identity of one write: its clock stamp and the device that made it.
///
/// Write ids order totally: by stamp, then by device id. The string form is
/// `<16 hex digits>@<device id>`, e.g. `0171386f6c000001@3f2a…`.
public struct WriteID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let hlc: HLC
    public let device: DeviceID

    public init(hlc: HLC, device: DeviceID) {
        self.hlc = hlc
        self.device = device
    }

    /// Parses `<stamp>@<device>`; throws `invalidValue` otherwise.
    public init(_ text: String) throws(DoorstepError) {
        guard let at = text.firstIndex(of: "@") else {
            throw DoorstepError(.invalidValue, "\"\(text.prefix(60))\" is not a write id (<stamp>@<device>)")
        }
        hlc = try HLC(String(text[..<at]))
        device = try DeviceID(String(text[text.index(after: at)...]))
    }

    public var description: String { hlc.description + "@" + device.rawValue }

    public static func < (lhs: WriteID, rhs: WriteID) -> Bool {
        lhs.hlc != rhs.hlc ? lhs.hlc < rhs.hlc : lhs.device < rhs.device
    }
}

extension WriteID: WireStringCodable {
    public var wireText: String { description }
}

/// A device's id: a lower-case UUID string, chosen by the device (or the server for itself).
public struct DeviceID: Hashable, Comparable, Sendable, CustomStringConvertible, WireStringCodable {
    public let rawValue: String

    /// Validates a device id: 1 to 64 characters of `[a-z0-9-]`.
    public init(_ text: String) throws(DoorstepError) {
        guard (1...64).contains(text.utf8.count),
            text.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
        else {
            throw DoorstepError(.invalidValue, "\"\(text.prefix(70))\" is not a device id (1 to 64 characters of a-z, 0-9 and -)")
        }
        rawValue = text
    }

    /// A new random device id.
    public static func random() -> DeviceID {
        DeviceID(unchecked: UUID().uuidString.lowercased())
    }

    /// A device id from text known to be valid (a literal of our own code).
    package init(unchecked: String) { rawValue = unchecked }

    public var description: String { rawValue }
    public var wireText: String { rawValue }

    public static func < (lhs: DeviceID, rhs: DeviceID) -> Bool { lhs.rawValue < rhs.rawValue }
}
