public import DoorstepCore



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
    /// Apply a change held from a revoked device's bundle, as the office's own: a creation as the
    /// device wrote it (same id), an edit or a deletion over whatever the fields hold now.
    case acceptHeld(Mutation)
    /// Void a mistaken home visit with a reason (it stays in the history; reports ignore it), or
    /// restore it with `nil`.
    case voidVisit(EntityID, reason: String?)
}
