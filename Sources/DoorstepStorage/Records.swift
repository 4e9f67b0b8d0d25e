public import DoorstepCore

/// A one-time enrollment code, stored by the hash of the code.
public struct EnrollmentCodeRecord: Codable, Hashable, Sendable {
    public var codeHash: String
    public var district: String?
    public var role: Role
    public var createdBy: String
    public var createdAt: String
    public var expiresAt: String
    /// The relay it is issued to (1.8): redeemed only through that relay.
    public var relay: String? = nil

    public init(codeHash: String, district: String?, role: Role, createdBy: String, createdAt: String, expiresAt: String) {
        self.codeHash = codeHash
        self.district = district
        self.role = role
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A device about to be enrolled.
public struct NewDevice: Sendable {
    public var id: DeviceID
    public var name: String
    public var tokenHash: String
    public var signingKey: String?

    public init(id: DeviceID, name: String, tokenHash: String, signingKey: String?) {
        self.id = id
        self.name = name
        self.tokenHash = tokenHash
        self.signingKey = signingKey
    }
}

/// The server's own identity: its device id (for office decisions it stamps) and its bundle key.
public struct ServerIdentity: Codable, Hashable, Sendable {
    public var device: DeviceID
    /// The X25519 private key bundles are encrypted to, base64 (raw 32 bytes). Never leaves the server.
    public var bundlePrivateKey: String
    /// A short id of the key, so a bundle names the key it was made for.
    public var keyID: String
    /// Set anew by each restore from a backup (`doorstep-server restore`): pull cursors are keyed
    /// with it too, so that every cursor issued before the restore is refused and devices pull
    /// their scope again (`protocol/README.md` §9). `nil` on a server never restored.
    public var restoreEpoch: String?
    /// When the last restore was made (RFC 3339), for the devices list's `restoredAt` (1.7).
    public var restoredAt: String?

    public init(device: DeviceID, bundlePrivateKey: String, keyID: String, restoreEpoch: String? = nil, restoredAt: String? = nil) {
        self.device = device
        self.bundlePrivateKey = bundlePrivateKey
        self.keyID = keyID
        self.restoreEpoch = restoreEpoch
        self.restoredAt = restoredAt
    }
}

/// A row of the gaps devices declared (`lost_work`, protocol 1.7 §8), as both backends read it.
struct LostWorkRow: Sendable {
    var device: String
    var from: Int64
    var through: Int64
    var at: String

    /// The devices with their gaps in `lost`, in the order the rows come (declared).
    static func attach(_ rows: [LostWorkRow], to records: [DeviceRecord]) -> [DeviceRecord] {
        guard !rows.isEmpty else { return records }
        var byDevice: [String: [LostWork]] = [:]
        for row in rows { byDevice[row.device, default: []].append(LostWork(from: row.from, through: row.through, at: row.at)) }
        return records.map { record in
            var record = record
            record.lost = byDevice[record.id.rawValue]
            return record
        }
    }
}
