/// A value written on the wire as one string and read back through its validating initializer,
/// so a malformed value fails to decode with the validator's own message.
public protocol WireStringCodable: Codable {
    /// Parses and validates the wire text.
    init(_ text: String) throws(DoorstepError)
    /// The wire text.
    var wireText: String { get }
}

extension WireStringCodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wireText)
    }
}
