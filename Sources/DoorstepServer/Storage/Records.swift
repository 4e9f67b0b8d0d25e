public import DoorstepCore


/// An enrolled device (a visitor's laptop or an office's CLI), as the server keeps it.
public struct DeviceRecord: Codable, Hashable, Sendable {
    public var id: DeviceID
    public var name: String
    public var role: Role
    public var district: String?
    /// The device's Ed25519 public signing key, base64 (raw 32 bytes).
    public var signingKey: String?
    public var enrolledAt: String
    public var revokedAt: String?
    public var highestSeq: Int64
    public var clockSkew: Bool
    public var lastPushAt: String?
    public var lastPullAt: String?

    /// The principal the device acts as.
    public var principal: Principal { Principal(device: id, role: role, district: district) }
    /// Whether the device's access has been revoked.
    public var isRevoked: Bool { revokedAt != nil }
}

/// A one-time enrollment code, stored by the hash of the code.
public struct EnrollmentCodeRecord: Codable, Hashable, Sendable {
    public var codeHash: String
    public var district: String?
    public var role: Role
    public var createdBy: String
    public var createdAt: String
    public var expiresAt: String
}

/// A device about to be enrolled.
public struct NewDevice: Sendable {
    public var id: DeviceID
    public var name: String
    public var tokenHash: String
    public var signingKey: String?
}

/// The server's own identity: its device id (for office decisions it stamps) and its bundle key.
public struct ServerIdentity: Codable, Hashable, Sendable {
    public var device: DeviceID
    /// The X25519 private key bundles are encrypted to, base64 (raw 32 bytes). Never leaves the server.
    public var bundlePrivateKey: String
    /// A short id of the key, so a bundle names the key it was made for.
    public var keyID: String
}

/// One row of a household's change history: who changed which field, when, from which device.
public struct AuditEntry: Codable, Hashable, Sendable {
    public var entity: EntityID
    public var kind: EntityKind
    public var field: String
    public var old: JSONValue
    public var new: JSONValue
    public var write: String
    public var device: DeviceID
    public var seq: Int64
    /// The device, or the office account that made a decision through the server.
    public var actor: String
    public var at: String
}

/// What waits for an office's review (DESIGN.md §6; issue "review queue").
public struct ReviewQueue: Codable, Hashable, Sendable {
    public struct Conflict: Codable, Hashable, Sendable {
        public var district: String?
        public var record: ConflictRecord
    }

    public struct Duplicate: Codable, Hashable, Sendable {
        public var survivor: EntityID
        public var alias: EntityID
        public var district: String?
    }

    public struct Rejection: Codable, Hashable, Sendable {
        public var device: DeviceID
        public var seq: Int64
        public var household: EntityID?
        public var entity: EntityID
        public var kind: EntityKind
        public var district: String?
        public var code: DoorstepError.Code
        public var reason: String
        public var at: String
    }

    public var conflicts: [Conflict]
    public var duplicates: [Duplicate]
    public var rejections: [Rejection]
    /// Devices that sent stamps too far ahead of the server's clock.
    public var clockFlaggedDevices: [DeviceRecord]
}

/// A decision an office makes through the server, stamped by the server's clock.
public enum OfficeDecision: Sendable, Hashable {
    /// Keep the shown value of a conflicted field (rewrite it over every head).
    case confirm(entity: EntityID, field: String)
    /// Replace every head of a field with another value (one of the heads, or a typed one).
    case overturn(entity: EntityID, field: String, value: JSONValue)
    /// Separate two households linked as duplicates.
    case unlink(survivor: EntityID, alias: EntityID)
    /// Change a household's status (the status table applies from its current status).
    case setStatus(household: EntityID, to: HouseholdStatus)
}
