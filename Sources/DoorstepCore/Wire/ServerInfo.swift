/// The answer to `GET /v1/server`: who a server is, asked without a token, so that a device can
/// tell whether an address still reaches the server it enrolled with before it sends its token
/// there (`protocol/README.md` section 11, "A server at a new address").
public struct ServerInfo: Codable, Hashable, Sendable {
    /// The id of the server's bundle key: the server's identity, kept across moves and restarts.
    public var serverKeyID: String
    /// The server's bundle public key (base64 X25519), as enrollment gives it.
    public var serverPublicKey: String
    /// The protocol versions the server serves.
    public var protocolVersions: [Int]
    /// The revision of the current version the server serves, e.g. `1.1` (absent before 1.1: `protocol/README.md` §13).
    public var protocolRevision: String?
    /// For a district relay (1.8, §19): the district it serves; its `serverKeyID` and
    /// `serverPublicKey` are the city's, since bundles and signatures go to the city.
    public var relayFor: String?

    public init(
        serverKeyID: String, serverPublicKey: String, protocolVersions: [Int], protocolRevision: String? = ProtocolVersion.revision,
        relayFor: String? = nil
    ) {
        self.serverKeyID = serverKeyID
        self.serverPublicKey = serverPublicKey
        self.protocolVersions = protocolVersions
        self.protocolRevision = protocolRevision
        self.relayFor = relayFor
    }
}
