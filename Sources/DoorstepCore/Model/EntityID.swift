public import Foundation

/// The id of an entity: a UUID made by the client that created it, written in lower case.
public struct EntityID: Hashable, Comparable, Sendable, CustomStringConvertible, WireStringCodable {
    public let uuid: UUID

    public init(_ uuid: UUID) { self.uuid = uuid }

    /// Parses a UUID in either case; throws `invalidValue` otherwise.
    public init(_ text: String) throws(DoorstepError) {
        guard let uuid = UUID(uuidString: text) else {
            throw DoorstepError(.invalidValue, "\"\(text.prefix(40))\" is not a UUID")
        }
        self.uuid = uuid
    }

    /// A new random id.
    public static func random() -> EntityID { EntityID(UUID()) }

    /// A new id drawn from a seeded generator, for deterministic tests and samples.
    public static func random(using generator: inout some RandomNumberGenerator) -> EntityID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return EntityID(uuid)
    }

    /// The lower-case text form, e.g. `7f1c1d9e-2a53-4c86-9d0b-0a1f1e6c5a01` (formatted by hand:
    /// ids are written into every row and document).
    public var description: String {
        withUnsafeBytes(of: uuid.uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var out = 0
                for (position, byte) in raw.enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        buffer[out] = 0x2D
                        out += 1
                    }
                    let high = byte >> 4, low = byte & 0xF
                    buffer[out] = high < 10 ? 0x30 + high : 0x61 + high - 10
                    buffer[out + 1] = low < 10 ? 0x30 + low : 0x61 + low - 10
                    out += 2
                }
                return out
            }
        }
    }
    public var wireText: String { description }

    public static func < (lhs: EntityID, rhs: EntityID) -> Bool { lhs.description < rhs.description }
}
