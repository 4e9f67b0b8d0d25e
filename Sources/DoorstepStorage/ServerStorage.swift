public import DoorstepCore
import Foundation

/// The storage seam of the server: everything shared between requests (and, with PostgreSQL,
/// between server processes) goes through it: sync state, the server's clock, devices,
/// codes, rate limits, the review queue.
///
/// The server's test suite runs against any implementation.
public protocol ServerStorage: ImportStorage, ReportStorage, BundleStorage, DashboardStorage, RelayStorage, Sendable {
    /// Creates or upgrades the schema; refuses a database written by a newer version
    /// (``MigrationPlan/newerError``) and changes nothing then.
    func migrate() async throws
    /// What ``migrate()`` would do, without changing anything.
    func migrationPlan() async throws -> MigrationPlan

    /// The server's identity, made by `create` on first start (once, however many processes start).
    func identity(orCreate create: @Sendable () throws -> ServerIdentity) async throws -> ServerIdentity
    /// The hash of the city administrator's token, if one was set.
    func adminTokenHash() async throws -> String?
    /// Sets the admin token's hash; with `onlyIfAbsent`, only when none is set. Returns whether it was set.
    func setAdminTokenHash(_ hash: String, onlyIfAbsent: Bool) async throws -> Bool

    func insertEnrollmentCode(_ code: EnrollmentCodeRecord) async throws
    /// Uses a code once: throws `invalidEnrollmentCode` for an unknown, used or expired code.
    func redeemEnrollmentCode(hash: String, now: String, device: NewDevice) async throws -> DeviceRecord
    func device(tokenHash: String) async throws -> DeviceRecord?
    func device(id: DeviceID) async throws -> DeviceRecord?
    /// Devices of a district (all districts for `nil`).
    func devices(district: String?) async throws -> [DeviceRecord]
    /// Revokes a device at once; `nil` when no such device is in the caller's scope.
    func revokeDevice(_ id: DeviceID, at: String, scope: Principal) async throws -> DeviceRecord?

    /// Counts a failed authentication for a key (a client address) and returns the failures in the window.
    func noteAuthFailure(key: String, nowMillis: Int64, windowMillis: Int64) async throws -> Int
    /// The failures of a key in the current window.
    func authFailures(key: String, nowMillis: Int64, windowMillis: Int64) async throws -> Int

    /// Applies a batch in one transaction and answers with its receipt.
    func push(
        _ batch: PushBatch, from principal: Principal, engine: MergeEngine, actor: String?, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> PushReceipt
    /// One page of the principal's scope after the cursor, as the JSON the API answers with
    /// (`WireCoding`'s bytes of a ``PullPage``, UTF-8), written from the stored entity texts
    /// without building the page (both backends: ``PullScan``, ``EncodedPullPage``).
    /// A page stops after the household that brings it to `maxBytes` (§9, §15); `cursor` writes
    /// the page's next position as the cursor the caller receives (§9: opaque). With `estimate`
    /// the page says how many households of the scope changed after it (`remaining`, 1.3);
    /// without `attachments` (a client before 1.4, §13.4) it holds no attachment entity.
    func pullEncoded(
        for principal: Principal, after cursor: Int64, limit: Int, maxBytes: Int, estimate: Bool, attachments: Bool, engine: MergeEngine,
        now: String,
        physicalMillis: @escaping @Sendable () -> Int64, cursor issue: @Sendable (Int64) -> String
    ) async throws -> [UInt8]
    /// An office's decision, as a mutation stamped by the server's clock. Throws when it is refused;
    /// nothing changes then.
    func decide(
        _ decision: OfficeDecision, by principal: Principal, actor: String, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> MutationResult

    /// A household (any of its ids) with everything that belongs to it; `nil` when unknown.
    func household(_ id: EntityID, engine: MergeEngine) async throws -> HouseholdAggregate?
    /// The household a child entity (or a household) was created in; `nil` for an unknown id.
    func household(ofEntity id: EntityID) async throws -> EntityID?
    /// The change history of a household and everything linked into it, oldest first.
    func history(of household: EntityID) async throws -> [AuditEntry]
    /// Conflicts, duplicates, rejections and clock-flagged devices of a district (all for `nil`).
    func reviewQueue(district: String?) async throws -> ReviewQueue
    /// The campaigns an administrator stored (`PUT /v1/admin/campaigns/{id}`), by id.
    func storedCampaigns() async throws -> [Campaign]
    /// Stores a campaign, replacing a stored one with the same id.
    func saveCampaign(_ campaign: Campaign, by actor: String, at time: String) async throws
    /// Removes a stored campaign; whether there was one.
    func deleteCampaign(id: String) async throws -> Bool

    /// Whether the database answers.
    func isHealthy() async -> Bool
    /// Writes a consistent copy of the database to a file while the server runs.
    func backup(to path: String) async throws

    /// How long write transactions waited for the write lock and held it, since the storage
    /// opened; `nil` where the backend has no such lock to measure (SQLite's single writer).
    func writeLockStatistics() -> WriteLockStatistics?
}

extension ServerStorage {
    public func writeLockStatistics() -> WriteLockStatistics? { nil }
}

/// The write lock's use since the storage opened (PostgreSQL: the advisory lock that serialises
/// every writer of one database, whatever the number of server processes).
public struct WriteLockStatistics: Hashable, Sendable {
    /// Write transactions that took the lock.
    public var transactions = 0
    /// Seconds spent waiting for the lock, summed over the transactions.
    public var waitSeconds = 0.0
    /// Seconds the lock was held (from taking it to the commit or rollback), summed.
    public var heldSeconds = 0.0
    /// Pushes begun again because another push held a household, device or national ID they
    /// needed (PostgreSQL: each then waits for it from its start).
    public var retries = 0

    public init() {}
}
