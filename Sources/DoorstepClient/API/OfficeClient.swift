public import DoorstepCore
public import Foundation
import GRDB

/// The office's calls to the server, with an office device's token or the city's admin token:
/// enrollment codes, devices, the review queue and its decisions, import, roster comparison,
/// household history, reports, bundle upload. Works from any machine.
public struct OfficeClient: Sendable {
    let api: ServerAPI

    /// An office client for a server and a token.
    public init(server: URL, token: String, configuration: ClientConfiguration? = nil) throws {
        let settings = configuration ?? ClientConfiguration(databasePath: "")
        try settings.checkTransport(server)
        api = ServerAPI(transport: settings.transport(server), token: token, retry: settings.retry, compression: settings.compresses(with: server))
    }

    /// Issues a one-time enrollment code for a district and role.
    public func createEnrollmentCode(district: String?, role: Role, expiresInHours: Int? = nil, relay: String? = nil) async throws -> EnrollmentCode {
        let body = EnrollmentCodeRequest(district: district, role: role, expiresInHours: expiresInHours, relay: relay)
        return try await api.call("POST", "/v1/admin/enrollment-codes", body: try WireCoding.encode(body), as: EnrollmentCode.self)
    }

    /// The enrolled devices of the caller's district (the city may name one, or see all).
    public func devices(district: String? = nil) async throws -> [DeviceRecord] {
        try await deviceList(district: district).devices
    }

    /// The enrolled devices as listed, with when the server was last restored from a backup (1.7).
    public func deviceList(district: String? = nil) async throws -> DeviceList {
        try await api.call("GET", "/v1/admin/devices" + Self.query(["district": district]), as: DeviceList.self)
    }

    /// Revokes a device at once.
    public func revoke(device: DeviceID) async throws -> DeviceRecord {
        try await api.call("POST", "/v1/admin/devices/\(device)/revoke", as: DeviceRecord.self)
    }

    /// Makes a district relay's credential (protocol 1.8, §19.5): its token is in the answer only.
    public func createRelay(name: String, district: String) async throws -> NewRelayResponse {
        try await api.call(
            "POST", "/v1/admin/relays", body: try WireCoding.encode(NewRelayRequest(name: name, district: district)), as: NewRelayResponse.self)
    }

    /// The district relays (an office's own district's; the city's all, or `district`'s).
    public func relays(district: String? = nil) async throws -> [RelayRecord] {
        try await api.call("GET", "/v1/admin/relays" + Self.query(["district": district]), as: RelayList.self).relays
    }

    /// Revokes a relay at once: its token is refused (`relayRevoked`) from then on.
    public func revokeRelay(_ id: String) async throws -> RelayRecord {
        try await api.call("POST", "/v1/admin/relays/\(id)/revoke", as: RelayRecord.self)
    }

    /// Conflicts, duplicates, rejected mutations and clock-flagged devices waiting for review.
    public func review(district: String? = nil) async throws -> ReviewQueue {
        try await api.call("GET", "/v1/review" + Self.query(["district": district]), as: ReviewQueue.self)
    }

    /// Keeps the shown value of a conflicted field (or confirms a deletion, for `_deleted`).
    public func confirm(entity: EntityID, field: String) async throws -> MutationResult {
        try await decide("/v1/review/conflicts/confirm", ConflictConfirm(entity: entity, field: field))
    }

    /// Replaces a conflicted field with another value (for `_deleted`, restores the entry).
    public func overturn(entity: EntityID, field: String, value: JSONValue) async throws -> MutationResult {
        try await decide("/v1/review/conflicts/overturn", ConflictOverturn(entity: entity, field: field, value: value))
    }

    /// Separates two households linked as duplicates.
    public func unlink(survivor: EntityID, alias: EntityID) async throws -> MutationResult {
        try await decide("/v1/review/links/unlink", UnlinkRequest(survivor: survivor, alias: alias))
    }

    /// The office's status decision for a household.
    public func setStatus(household: EntityID, to status: HouseholdStatus) async throws -> MutationResult {
        try await decide("/v1/households/\(household)/status", StatusChangeRequest(to: status))
    }

    /// Voids a mistaken home visit with a reason (it stays in the history; reports ignore it), or
    /// restores it with `nil`.
    public func voidVisit(_ visit: EntityID, reason: String?) async throws -> MutationResult {
        try await decide("/v1/visits/\(visit)/void", VoidRequest(reason: reason))
    }

    /// Applies a change held from a revoked device's bundle as the office's decision (its device,
    /// seq and time stay in the household's history); it leaves the review queue.
    public func acceptHeld(device: DeviceID, seq: Int64) async throws -> MutationResult {
        try await decide("/v1/review/rejections/\(device)/\(seq)/accept", [String: JSONValue]())
    }

    /// Sets a held or refused change aside with a reason; nothing is applied, it leaves the queue.
    public func dismissRejection(device: DeviceID, seq: Int64, reason: String) async throws -> ClosedRejection {
        try await api.call(
            "POST", "/v1/review/rejections/\(device)/\(seq)/dismiss", body: try WireCoding.encode(DismissRequest(reason: reason)),
            as: ClosedRejection.self)
    }

    private func decide(_ path: String, _ body: some Encodable) async throws -> MutationResult {
        try await api.call("POST", path, body: try WireCoding.encode(body), as: MutationResult.self)
    }

    /// A household with everything that belongs to it.
    public func household(_ id: EntityID) async throws -> HouseholdAggregate {
        try await api.call("GET", "/v1/households/\(id)", as: HouseholdAggregate.self)
    }

    /// Who changed what in a household, when, from which device.
    public func history(_ id: EntityID) async throws -> [AuditEntry] {
        try await api.call("GET", "/v1/households/\(id)/history", as: HistoryList.self).history
    }

    /// Imports existing household files (CSV as Excel saves it, or JSON). With `check`, a dry run.
    /// A file with errors imports nothing unless `acceptValid`; the report lists every row's problem.
    public func importHouseholds(_ data: Data, contentType: String, check: Bool = false, acceptValid: Bool = false) async throws -> ImportReport {
        let query = Self.query(["check": check ? "true" : nil, "acceptValid": acceptValid ? "true" : nil])
        return try await api.call("POST", "/v1/admin/import" + query, body: data, contentType: contentType, decodeAlso: [422], as: ImportReport.self)
    }

    /// Compares a civil-affairs roster (CSV) with the households on file. Changes nothing.
    public func compareRoster(_ csv: Data, district: String? = nil) async throws -> RosterReport {
        try await api.call("POST", "/v1/roster/compare" + Self.query(["district": district]), body: csv, contentType: "text/csv", as: RosterReport.self)
    }

    // MARK: Dashboard accounts

    /// Creates a dashboard account: `office` (an office creates accounts of its own district,
    /// `district` may then be omitted) or `city` (the city's token only). Returns the account, never its password.
    public func createUser(name: String, password: String, role: Role, district: String? = nil) async throws -> DashboardAccount {
        let body = NewDashboardUser(name: name, password: password, role: role, district: district)
        return try await api.call("POST", "/v1/admin/users", body: try WireCoding.encode(body), as: DashboardAccount.self)
    }

    /// The dashboard accounts the caller manages, by name: an office sees its district's office
    /// accounts; the city sees all, or one district's.
    public func users(district: String? = nil) async throws -> [DashboardAccount] {
        try await api.call("GET", "/v1/admin/users" + Self.query(["district": district]), as: DashboardAccountList.self).users
    }

    /// Disables an account: its sessions end at once and it cannot sign in until enabled again.
    public func disableUser(_ name: String) async throws -> DashboardAccount {
        try await api.call("POST", "/v1/admin/users/\(Self.pathComponent(name))/disable", as: DashboardAccount.self)
    }

    /// Enables a disabled account again.
    public func enableUser(_ name: String) async throws -> DashboardAccount {
        try await api.call("POST", "/v1/admin/users/\(Self.pathComponent(name))/enable", as: DashboardAccount.self)
    }

    /// Sets an account's password (its sessions end at once; a disabled account stays disabled).
    public func setPassword(_ name: String, password: String) async throws -> DashboardAccount {
        let body = try WireCoding.encode(PasswordChange(password: password))
        return try await api.call("POST", "/v1/admin/users/\(Self.pathComponent(name))/password", body: body, as: DashboardAccount.self)
    }

    // MARK: Campaigns

    /// The city's campaigns (those of its data and those stored), by first day.
    public func campaigns() async throws -> [Campaign] {
        try await api.call("GET", "/v1/admin/campaigns", as: CampaignList.self).campaigns
    }

    /// Stores a campaign, replacing one with the same id (the city's token only).
    public func saveCampaign(_ campaign: Campaign) async throws -> Campaign {
        let body = try WireCoding.encode(campaign)
        return try await api.call("PUT", "/v1/admin/campaigns/\(Self.pathComponent(campaign.id))", body: body, as: Campaign.self)
    }

    /// Removes a stored campaign (the city's token only).
    public func removeCampaign(_ id: String) async throws {
        _ = try await api.call("DELETE", "/v1/admin/campaigns/\(Self.pathComponent(id))") { _ in () }
    }

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-"))) ?? ""
    }

    static func query(_ items: [String: String?]) -> String {
        let parts = items.keys.sorted().compactMap { key -> String? in
            guard let value = items[key] ?? nil else { return nil }
            return "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}

extension FieldClient {
    /// An office client using this device's own token (an office device enrolled with an office code).
    ///
    /// With `server`, the enrolled server at another address, once ``verifyServer(at:)`` has found
    /// the same server there (the device's token goes nowhere else).
    public func officeClient(via server: URL? = nil) async throws -> OfficeClient {
        let (enrollment, token) = try await pool.read { db in (try Self.enrollment(db), try LocalStore.setting(db, .token)) }
        guard let enrollment, let token else {
            throw DoorstepError(.notEnrolled, "this device is not enrolled yet")
        }
        if let server, server != enrollment.server { try await verifyServer(at: server) }
        return try OfficeClient(server: server ?? enrollment.server, token: token, configuration: configuration)
    }
}

extension FieldClient {
    /// A household's full change history (who changed what, when, from which device), read from
    /// the server: the history is the server's record, so this needs a network.
    public func history(_ id: EntityID) async throws -> [AuditEntry] {
        let survivor = try await pool.read { db in try LocalStore.survivor(db, of: id) }
        return try await officeClient().history(survivor)
    }
}
