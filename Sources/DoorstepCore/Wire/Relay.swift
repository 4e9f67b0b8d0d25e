/// The wire types of district relays (protocol 1.8, `protocol/README.md` §19).

/// A district relay as the city keeps it: a credential of its own, bound to one district.
public struct RelayRecord: Codable, Hashable, Sendable {
    /// The relay's id, `r-` and 32 hex digits.
    public var id: String
    public var name: String
    /// The one district the relay serves.
    public var district: String
    public var createdAt: String
    /// Who made it (`device:<id>` or `city-admin`).
    public var createdBy: String
    public var revokedAt: String?
    /// When the relay last called the city.
    public var lastContactAt: String?

    /// Whether the city revoked the relay.
    public var isRevoked: Bool { revokedAt != nil }

    public init(
        id: String, name: String, district: String, createdAt: String, createdBy: String, revokedAt: String? = nil, lastContactAt: String? = nil
    ) {
        self.id = id
        self.name = name
        self.district = district
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.revokedAt = revokedAt
        self.lastContactAt = lastContactAt
    }

    /// Whether `text` has the shape of a relay id.
    public static func isValidID(_ text: String) -> Bool {
        text.count == 34 && text.hasPrefix("r-") && text.dropFirst(2).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

/// `POST /v1/admin/relays`: a relay for a district (an office of that district, or the city).
public struct NewRelayRequest: Codable, Hashable, Sendable {
    public var name: String
    public var district: String

    public init(name: String, district: String) {
        self.name = name
        self.district = district
    }
}

/// The answer to `POST /v1/admin/relays`: the relay and its token, shown once.
public struct NewRelayResponse: Codable, Hashable, Sendable {
    public var relay: RelayRecord
    public var token: String

    public init(relay: RelayRecord, token: String) {
        self.relay = relay
        self.token = token
    }
}

/// `GET /v1/admin/relays`.
public struct RelayList: Codable, Hashable, Sendable {
    public var relays: [RelayRecord]

    public init(relays: [RelayRecord]) { self.relays = relays }
}

/// One device of the relay's district as the city tells the relay: the record, and the hash of
/// its token so that the relay can check the device's calls itself (§19.3).
public struct RelayDevice: Codable, Hashable, Sendable {
    public var device: DeviceRecord
    /// SHA-256 of the device's token, lowercase hex.
    public var tokenHash: String

    public init(device: DeviceRecord, tokenHash: String) {
        self.device = device
        self.tokenHash = tokenHash
    }
}

/// `GET /v1/relay/devices`: the relay itself and every device of its district, revoked ones included.
public struct RelayDeviceList: Codable, Hashable, Sendable {
    public var relay: RelayRecord
    public var devices: [RelayDevice]
    /// The city's clock, for the relay to absorb.
    public var serverClock: HLC
    /// The enrollment codes issued to this relay and not used yet (§19.6).
    public var codes: [RelayCode]?

    public init(relay: RelayRecord, devices: [RelayDevice], serverClock: HLC, codes: [RelayCode]? = nil) {
        self.relay = relay
        self.devices = devices
        self.serverClock = serverClock
        self.codes = codes
    }
}

/// An enrollment code issued to a relay, as the relay checks it when the city is unreachable (§19.6).
public struct RelayCode: Codable, Hashable, Sendable {
    /// SHA-256 of the code as typed and normalised, lowercase hex.
    public var codeHash: String
    public var role: Role
    public var expiresAt: String

    public init(codeHash: String, role: Role, expiresAt: String) {
        self.codeHash = codeHash
        self.role = role
        self.expiresAt = expiresAt
    }
}

/// `POST /v1/relay/enrollments`: a device a relay enrolled with one of its codes, for the city to
/// make it (§19.6): its id and token's hash as the relay gave them.
public struct RelayEnrollment: Codable, Hashable, Sendable {
    public var codeHash: String
    public var device: DeviceID
    public var deviceName: String
    public var tokenHash: String
    public var publicSigningKey: String

    public init(codeHash: String, device: DeviceID, deviceName: String, tokenHash: String, publicSigningKey: String) {
        self.codeHash = codeHash
        self.device = device
        self.deviceName = deviceName
        self.tokenHash = tokenHash
        self.publicSigningKey = publicSigningKey
    }
}

/// What a relay tells its office (`GET /v1/relay/status` at the relay, `doorstep-server relay-status`).
public struct RelayStatus: Codable, Hashable, Sendable {
    /// The district it serves.
    public var district: String
    /// The city's address.
    public var upstream: String
    /// Whether the last call to the city was answered.
    public var upstreamReachable: Bool
    /// When the city last answered.
    public var lastContactAt: String?
    /// The last error the city's link gave, while it is down.
    public var lastError: String?
    /// Mutations the relay holds whose outcome the city has not given yet.
    public var pendingMutations: Int
    /// Batches held for forwarding (each as its device signed it).
    public var pendingBatches: Int
    /// Files its devices uploaded that the city does not hold whole yet (§19.3).
    public var pendingFiles: Int
    /// When the relay last forwarded a batch the city took.
    public var lastForwardAt: String?
    /// When the oldest mutation still waiting for the city reached the relay.
    public var oldestUnconfirmedAt: String?
    /// Mutations the city refused whose device has not yet learnt it.
    public var refusedNotYetSeen: Int
    /// Devices of the district the relay knows (from the city's list).
    public var devices: Int
    /// Whether the city revoked this relay: it then takes no work.
    public var revoked: Bool

    public init(
        district: String, upstream: String, upstreamReachable: Bool, lastContactAt: String?, lastError: String?, pendingMutations: Int,
        pendingBatches: Int, pendingFiles: Int = 0, lastForwardAt: String?, oldestUnconfirmedAt: String?, refusedNotYetSeen: Int, devices: Int,
        revoked: Bool
    ) {
        self.district = district
        self.upstream = upstream
        self.upstreamReachable = upstreamReachable
        self.lastContactAt = lastContactAt
        self.lastError = lastError
        self.pendingMutations = pendingMutations
        self.pendingBatches = pendingBatches
        self.pendingFiles = pendingFiles
        self.lastForwardAt = lastForwardAt
        self.oldestUnconfirmedAt = oldestUnconfirmedAt
        self.refusedNotYetSeen = refusedNotYetSeen
        self.devices = devices
        self.revoked = revoked
    }
}
