public import Foundation

/// The manifest of a bundle file: which batches it carries and the SHA-256 of each.
///
/// A bundle is `manifest + batches`, signed with the device's Ed25519 key and encrypted
/// to the server's HPKE public key (`protocol/README.md`, "Bundles"). Hashing, signing and
/// encryption live in the client and server; this is the shared, Codable shape.
public struct BundleManifest: Codable, Hashable, Sendable {
    /// Always `doorstep-bundle`.
    public var format: String
    public var version: Int
    public var protocolVersion: Int
    public var device: DeviceID
    /// When the bundle was made (RFC 3339).
    public var createdAt: String
    /// The id of the server key the bundle is encrypted to.
    public var serverKeyID: String
    public var batches: [Entry]
    /// The attachments' files the bundle carries after its envelope (version 2, protocol 1.4);
    /// `nil` in a version 1 bundle, which carries none.
    public var files: [FileEntry]?

    /// One batch of the bundle.
    public struct Entry: Codable, Hashable, Sendable {
        public var firstSeq: Int64
        public var lastSeq: Int64
        /// The number of bytes of the batch's JSON.
        public var size: Int
        /// Lower-case hex SHA-256 of the batch's JSON bytes.
        public var sha256: String

        public init(firstSeq: Int64, lastSeq: Int64, size: Int, sha256: String) {
            self.firstSeq = firstSeq
            self.lastSeq = lastSeq
            self.size = size
            self.sha256 = sha256
        }
    }

    /// One attachment's file of the bundle (version 2).
    public struct FileEntry: Codable, Hashable, Sendable {
        /// Lower-case hex SHA-256 of the file's bytes: the file's name (§17).
        public var sha256: String
        /// The number of bytes of the file.
        public var size: Int64

        public init(sha256: String, size: Int64) {
            self.sha256 = sha256
            self.size = size
        }
    }

    public static let formatName = "doorstep-bundle"
    /// The manifest version of a bundle without files; it is also the file-format version.
    public static let currentVersion = 1
    /// The manifest (and file-format) version of a bundle that carries files (protocol 1.4).
    public static let filesVersion = 2
    /// The manifest (and file-format) version of a compressed bundle, with or without files (protocol 1.5).
    public static let compressedVersion = 3

    /// A manifest; with `files` (even none) it is version 2, else version 1.
    public init(
        device: DeviceID, createdAt: String, serverKeyID: String, batches: [Entry], files: [FileEntry]? = nil,
        protocolVersion: Int = ProtocolVersion.current
    ) {
        self.format = BundleManifest.formatName
        self.version = files == nil ? BundleManifest.currentVersion : BundleManifest.filesVersion
        self.protocolVersion = protocolVersion
        self.device = device
        self.createdAt = createdAt
        self.serverKeyID = serverKeyID
        self.batches = batches
        self.files = files
    }
}

/// The JSON coding every wire type uses: sorted keys, so that the same value always encodes to the same bytes.
public enum WireCoding {
    /// An encoder with sorted keys and no escaped slashes.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Encodes a value in the canonical form (types that write themselves, ``JSONTextEncodable``,
    /// do so: the same bytes, faster).
    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> Data {
        if !pretty, let fast = value as? any JSONTextEncodable { return FastJSON.data(fast) }
        return try encoder(pretty: pretty).encode(value)
    }

    /// Decodes a value; a failure becomes `malformedInput` with the path of the problem. Types
    /// that read themselves (``JSONValueDecodable``) do so.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(DoorstepError) -> T {
        if let fast = T.self as? any JSONValueDecodable.Type {
            do {
                if let value = try fast.init(json: try FastJSON.parse(data)) as? T { return value }
            } catch {
                throw DoorstepError(.malformedInput, "the body is not a valid \(T.self): \(error.message)")
            }
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw DoorstepError(.malformedInput, "the body is not a valid \(T.self): \(describe(error))")
        }
    }
}
