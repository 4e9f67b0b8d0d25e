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
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return EntityID(uuid)
    }

    public var description: String { uuid.uuidString.lowercased() }
    public var wireText: String { description }

    public static func < (lhs: EntityID, rhs: EntityID) -> Bool { lhs.description < rhs.description }
}
