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

    public init(serverKeyID: String, serverPublicKey: String, protocolVersions: [Int]) {
        self.serverKeyID = serverKeyID
        self.serverPublicKey = serverPublicKey
        self.protocolVersions = protocolVersions
    }
}
