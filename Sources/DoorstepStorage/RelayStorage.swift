public import DoorstepCore

/// What the city keeps of district relays (protocol 1.8, `protocol/README.md` §19): their
/// credentials, and what a relay may learn of its district's devices.
public protocol RelayStorage: Sendable {
    /// Stores a new relay with the hash of its token.
    func insertRelay(_ relay: RelayRecord, tokenHash: String) async throws
    /// The relay holding a token (by its hash), revoked or not; `nil` for none.
    func relay(tokenHash: String) async throws -> RelayRecord?
    /// The relays of a district (all for `nil`), oldest first.
    func relays(district: String?) async throws -> [RelayRecord]
    /// Revokes a relay at once; `nil` when no such relay is in the caller's scope.
    func revokeRelay(_ id: String, at: String, scope: Principal) async throws -> RelayRecord?
    /// Notes that a relay called the city.
    func noteRelayContact(_ id: String, at: String) async throws
    /// Every device of a district (revoked ones included), each with the hash of its token.
    func deviceCredentials(district: String) async throws -> [RelayDevice]
    /// The enrollment codes issued to a relay, neither used nor expired at `now`.
    func relayCodes(relay: String, now: String) async throws -> [RelayCode]
    /// Uses a code issued to `relay` once, for the device it enrolled: `invalidEnrollmentCode` for a
    /// code unknown, of another relay, used or expired.
    func redeemRelayCode(hash: String, relay: String, now: String, device: NewDevice) async throws -> DeviceRecord
}
