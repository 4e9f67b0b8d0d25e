/// The request and answer bodies of enrollment and of the office and admin endpoints, one
/// declaration each for the server, the client, the tests and the tools. Each is named after its
/// schema in `protocol/openapi.yaml` (`ContractTests` checks every one against it).

/// `POST /v1/enroll`: a one-time code, the device's name and its Ed25519 public key (base64).
public struct EnrollRequest: Codable, Hashable, Sendable {
    public var code: String
    public var deviceName: String
    /// The device's Ed25519 public signing key, base64 of its 32 raw bytes.
    public var publicSigningKey: String

    public init(code: String, deviceName: String, publicSigningKey: String) {
        self.code = code
        self.deviceName = deviceName
        self.publicSigningKey = publicSigningKey
    }
}

/// The answer to an enrollment: the device's id and token, its role and district, the server's bundle key and clock.
public struct EnrollResponse: Codable, Hashable, Sendable {
    public var device: DeviceID
    /// The bearer token; the server keeps only its hash.
    public var token: String
    public var role: Role
    public var district: String?
    /// The server's X25519 bundle key, base64 of its 32 raw bytes.
    public var serverPublicKey: String
    /// The id of the bundle key (the server's identity, `GET /v1/server`).
    public var serverKeyID: String
    public var serverClock: HLC

    public init(device: DeviceID, token: String, role: Role, district: String?, serverPublicKey: String, serverKeyID: String, serverClock: HLC) {
        self.device = device
        self.token = token
        self.role = role
        self.district = district
        self.serverPublicKey = serverPublicKey
        self.serverKeyID = serverKeyID
        self.serverClock = serverClock
    }
}

/// `POST /v1/admin/enrollment-codes`: the district and role of the device the code enrolls.
public struct EnrollmentCodeRequest: Codable, Hashable, Sendable {
    public var district: String?
    public var role: Role
    /// How long the code stays valid (1 to 720 hours; 72 when absent).
    public var expiresInHours: Int?
    /// A relay of the district the code is issued to (1.8, §19.6): only that relay enrolls with it,
    /// also while the city is unreachable.
    public var relay: String?

    public init(district: String?, role: Role, expiresInHours: Int? = nil, relay: String? = nil) {
        self.district = district
        self.role = role
        self.expiresInHours = expiresInHours
        self.relay = relay
    }
}

/// A one-time enrollment code, with its expiry.
public struct EnrollmentCode: Codable, Hashable, Sendable {
    public var code: String
    /// RFC 3339, UTC.
    public var expiresAt: String
    public var district: String?
    public var role: Role
    /// The relay it is issued to (1.8, §19.6), when it is.
    public var relay: String?

    public init(code: String, expiresAt: String, district: String?, role: Role, relay: String? = nil) {
        self.code = code
        self.expiresAt = expiresAt
        self.district = district
        self.role = role
        self.relay = relay
    }
}

/// `GET /v1/admin/devices`.
public struct DeviceList: Codable, Hashable, Sendable {
    public var devices: [DeviceRecord]
    /// When the server's database was last restored from a backup by its restore command (1.7).
    public var restoredAt: String?

    public init(devices: [DeviceRecord], restoredAt: String? = nil) {
        self.devices = devices
        self.restoredAt = restoredAt
    }

    /// The mutations the devices declared lost (1.7): confirmed once, lost by a restore, no longer held.
    public var lostMutations: Int64 {
        devices.reduce(0) { sum, device in sum + (device.lost ?? []).reduce(0) { $0 + SeqRange(from: $1.from, through: $1.through).count } }
    }

    /// The devices not revoked that have not caught up since the server was restored from a backup:
    /// the only ones whose acknowledged work after the backup may still be missing.
    public var notSyncedSinceRestore: [DeviceRecord] {
        devices.filter { $0.notSyncedSinceRestore == true && $0.revokedAt == nil }
    }
}

/// `POST /v1/admin/users`: a dashboard account to create.
public struct NewDashboardUser: Codable, Hashable, Sendable {
    public var name: String
    public var password: String
    public var role: Role
    public var district: String?

    public init(name: String, password: String, role: Role, district: String?) {
        self.name = name
        self.password = password
        self.role = role
        self.district = district
    }
}

/// `GET /v1/admin/users`.
public struct DashboardAccountList: Codable, Hashable, Sendable {
    public var users: [DashboardAccount]

    public init(users: [DashboardAccount]) { self.users = users }
}

/// `GET /v1/admin/campaigns`: the city's campaigns, those of its data and those an
/// administrator stored, by first day.
public struct CampaignList: Codable, Hashable, Sendable {
    public var campaigns: [Campaign]

    public init(campaigns: [Campaign]) { self.campaigns = campaigns }
}

/// `POST /v1/admin/users/{name}/password`.
public struct PasswordChange: Codable, Hashable, Sendable {
    public var password: String

    public init(password: String) { self.password = password }
}

/// `POST /v1/review/conflicts/confirm`: keep a conflicted field's shown value.
public struct ConflictConfirm: Codable, Hashable, Sendable {
    public var entity: EntityID
    public var field: String

    public init(entity: EntityID, field: String) {
        self.entity = entity
        self.field = field
    }
}

/// `POST /v1/review/conflicts/overturn`: replace every head of a field (`value` may be absent only for `_deleted`).
public struct ConflictOverturn: Codable, Hashable, Sendable {
    public var entity: EntityID
    public var field: String
    public var value: JSONValue?

    public init(entity: EntityID, field: String, value: JSONValue?) {
        self.entity = entity
        self.field = field
        self.value = value
    }
}

/// `POST /v1/review/links/unlink`: separate two households linked as duplicates.
public struct UnlinkRequest: Codable, Hashable, Sendable {
    public var survivor: EntityID
    public var alias: EntityID

    public init(survivor: EntityID, alias: EntityID) {
        self.survivor = survivor
        self.alias = alias
    }
}

/// `POST /v1/households/{id}/status` (schema `StatusChange`).
public struct StatusChangeRequest: Codable, Hashable, Sendable {
    public var to: HouseholdStatus

    public init(to: HouseholdStatus) { self.to = to }
}

/// `POST /v1/visits/{id}/void`: the reason a visit is void, or `nil` to restore it. The key is
/// required either way (a body without it is refused, so that a forgotten key never restores a
/// voided visit), and `nil` is written as `null`.
public struct VoidRequest: Codable, Hashable, Sendable {
    public var reason: String?

    public init(reason: String?) { self.reason = reason }

    enum CodingKeys: String, CodingKey { case reason }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.reason) else {
            throw DoorstepError(
                .missingField, "reason is required: the reason the visit is void, or null to restore it",
                zh: "须给出作废理由；恢复时理由为 null")
        }
        reason = try container.decodeNil(forKey: .reason) ? nil : container.decode(String.self, forKey: .reason)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reason, forKey: .reason)
    }
}

/// `POST /v1/review/rejections/{device}/{seq}/dismiss`.
public struct DismissRequest: Codable, Hashable, Sendable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// `GET /v1/households/{id}/history`.
public struct HistoryList: Codable, Hashable, Sendable {
    public var history: [AuditEntry]

    public init(history: [AuditEntry]) { self.history = history }
}
