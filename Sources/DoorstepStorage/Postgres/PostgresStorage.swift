public import DoorstepCore
import Foundation
public import Logging
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// The PostgreSQL backend: several stateless `doorstep-server` processes on one database.
///
/// The change sequence is assigned under one advisory lock (``PostgresSchema/writeLock``), held
/// until the transaction commits, so changes commit in sequence order and a pull cursor can never
/// step past a change that commits a moment later (`protocol/README.md`, "No skipped changes").
/// A push reads, merges and writes its households under locks of their own and takes the write
/// lock only to number its changes, so pushes of different households run side by side
/// (``PostgresMergeLocks``). A writer of rows pushes write runs alone (``write(_:)``); a writer of
/// rows no push writes waits only for the numbering (``lightWrite(_:)``); the office tally counts
/// under a lock of its own (``tallyWrite(_:)``). Reads take no lock.
public final class PostgresStorage: ServerStorage {
    let client: PostgresClient
    let logger: Logger
    /// Called inside each push's transaction just before it commits (tests hold transactions open with it).
    let beforeCommit: (@Sendable () async -> Void)?
    /// The bytes per household of the last pull page written, so that the next page reads about
    /// as many households as fit in one query (0 before the first page).
    let householdBytes = Mutex(0)
    /// The write lock's use by this process (``writeLockStatistics()``).
    let writeLock = Mutex(WriteLockStatistics())

    /// Connects to a database given as `postgres://user:password@host:port/database` (a `host`
    /// query item may name a Unix socket folder). Run ``client`` as a service (``run()``).
    public init(url: String, logger: Logger, beforeCommit: (@Sendable () async -> Void)? = nil) throws {
        self.client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: logger)
        self.logger = logger
        self.beforeCommit = beforeCommit
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async { await client.run() }

    /// The connection pool as a service of an application's service group: the storage answers
    /// while it runs.
    public var service: any Service { client }

    static func configuration(_ text: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw DoorstepError(.invalidValue, "the database must be a postgres://user:password@host:port/database URL")
        }
        let user = url.user ?? "postgres"
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let socketFolder = url.queryItems?.first { $0.name == "host" }?.value
        var configuration: PostgresClient.Configuration
        if let socketFolder, socketFolder.hasPrefix("/") {
            let port = url.port ?? 5432
            configuration = .init(
                unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: url.password,
                database: database.isEmpty ? nil : database)
        } else {
            configuration = .init(
                host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: user, password: url.password,
                database: database.isEmpty ? nil : database, tls: .disable)
        }
        configuration.options.maximumConnections = 16
        return configuration
    }

    public func migrate() async throws {
        try await PostgresSchema.migrate(client, logger: logger)
    }

    public func migrationPlan() async throws -> MigrationPlan {
        try await transaction { connection in
            var applied = Set<String>()
            var exists = false
            for try await found in try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger).decode(Bool.self) {
                exists = found
            }
            if exists {
                for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                    applied.insert(name)
                }
            }
            let known = PostgresSchema.migrations.map(\.name)
            var counts: [String: Int] = [:]
            for table in MigrationPlan.tablesToCount(known: known, applied: applied) {
                var present = false
                for try await found in try await connection.query("SELECT to_regclass(\(table)) IS NOT NULL", logger: logger).decode(Bool.self) {
                    present = found
                }
                guard present else { continue }
                for try await count in try await connection.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), logger: logger).decode(Int64.self)
                {
                    counts[table] = Int(count)
                }
            }
            return MigrationPlan(known: known, applied: applied, rowCounts: counts)
        }
    }

    /// Runs `body` in a write transaction alone: holding the merge gate exclusively (no push runs
    /// beside it) and the write lock. For writers of rows a push writes too (an office's
    /// decisions, imports, held changes, dismissed refusals).
    @discardableResult
    func write<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await serialWrite(exclusive: true, body)
    }

    /// Runs `body` in a write transaction holding the merge gate shared and the write lock: for a
    /// writer of rows no push writes (a pull's tick of the clock, enrollment, campaigns, accounts,
    /// the admin token), so that it waits for pushes' numbering but not for their merges.
    @discardableResult
    func lightWrite<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await serialWrite(exclusive: false, body)
    }

    /// Runs `body` in a write transaction holding the merge gate and `lock` (the write lock unless
    /// another is named: the tally's, which pushes never wait for).
    private func serialWrite<Result: Sendable>(
        exclusive: Bool, lock: Int64 = PostgresSchema.writeLock, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let timing = Mutex<(asked: ContinuousClock.Instant, taken: ContinuousClock.Instant)?>(nil)
        defer { if lock == PostgresSchema.writeLock { noteWriteLock(timing.withLock { $0 }) } }
        return try await transaction { connection in
            if exclusive {
                try await PostgresMergeLocks.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.mergeGate))", connection, logger)
            } else {
                try await PostgresMergeLocks.run("SELECT pg_advisory_xact_lock_shared(\(PostgresSchema.mergeGate))", connection, logger)
            }
            let asked = ContinuousClock.now
            try await PostgresMergeLocks.run("SELECT pg_advisory_xact_lock(\(lock))", connection, logger)
            timing.withLock { $0 = (asked, .now) }
            return try await body(connection)
        }
    }

    /// Runs `body` in a write transaction of the office tally: the merge gate shared and the
    /// tally's own lock, not the write lock. The tally reads committed changes only, in the feed's
    /// order (which the write lock keeps, as for a pull), and writes rows no one else writes, so
    /// pushes never wait for its counting.
    func tallyWrite<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await serialWrite(exclusive: false, lock: PostgresSchema.tallyLock, body)
    }

    /// How many times a push begins again, with the locks it lacked, before it runs alone.
    static let mergeAttempts = 8

    /// Runs a push's transaction under ``PostgresMergeLocks``, taking `seed` from its start. When
    /// another push held a lock it needed later, it rolls back and begins again with that lock as
    /// well; after ``mergeAttempts`` tries it runs alone (the merge gate exclusively), which always
    /// ends. A push that needs more than ``PostgresMergeLocks/maximum`` locks, or that finds
    /// PostgreSQL's lock table full, runs alone at once.
    @discardableResult
    func mergeWrite<Result: Sendable>(
        locks seed: Set<MergeLock>, _ body: (PostgresConnection, PostgresMergeLocks?) async throws -> Result
    ) async throws -> Result {
        var wanted = seed
        var attempt = 0
        while attempt < Self.mergeAttempts, wanted.count <= PostgresMergeLocks.maximum {
            attempt += 1
            let timing = Mutex<(asked: ContinuousClock.Instant, taken: ContinuousClock.Instant)?>(nil)
            do {
                defer { noteWriteLock(timing.withLock { $0 }) }
                return try await transaction { connection in
                    let locks = PostgresMergeLocks(connection: connection, logger: logger) { asked, taken in timing.withLock { $0 = (asked, taken) } }
                    try await locks.begin(with: wanted)
                    return try await body(connection, locks)
                }
            } catch let busy as PostgresMergeLocks.Busy {
                wanted.formUnion(busy.locks)
                writeLock.withLock { $0.retries += 1 }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "40P01" {
                // deadlock_detected: with a writer outside these rules (an older server's row
                // waits); PostgreSQL rolled this one back, so it begins again.
                writeLock.withLock { $0.retries += 1 }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "53200" {
                // out_of_memory: the lock table is full (max_locks_per_transaction); alone, this push needs none.
                logger.warning("PostgreSQL's lock table is full: a push runs alone; raise max_locks_per_transaction")
                break
            }
        }
        return try await write { connection in try await body(connection, nil) }
    }

    /// Counts a transaction that held the write lock from `timing.taken` to now (its end).
    private func noteWriteLock(_ timing: (asked: ContinuousClock.Instant, taken: ContinuousClock.Instant)?) {
        guard let timing else { return }
        let end = ContinuousClock.now
        writeLock.withLock {
            $0.transactions += 1
            $0.waitSeconds += Self.seconds(timing.taken - timing.asked)
            $0.heldSeconds += Self.seconds(end - timing.taken)
        }
    }

    public func writeLockStatistics() -> WriteLockStatistics? { writeLock.withLock { $0 } }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs `body` in a transaction; an error thrown by `body` comes out as itself (after the rollback),
    /// not wrapped in PostgresNIO's transaction error.
    @discardableResult
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError, error.rollbackError == nil { throw inner }
            throw error
        }
    }

    /// Runs `body` on a connection of the pool: for a read of one statement.
    func read<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Runs `body` in a read-only transaction that sees one snapshot of the database throughout
    /// (REPEATABLE READ), so that a read of several statements (a pull page, a household and its
    /// entities, a history, the review queue) never pairs rows from before a push with rows from
    /// after it.
    func readSnapshot<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await body(connection)
        }
    }

    // MARK: Identity and admin token

    public func identity(orCreate create: @Sendable () throws -> ServerIdentity) async throws -> ServerIdentity {
        try await lightWrite { connection in
            if let text = try await Self.meta(connection, "identity", logger) {
                return try StoredJSON.decode(ServerIdentity.self, text)
            }
            let identity = try create()
            try await Self.setMeta(connection, "identity", try StoredJSON.encode(identity), logger)
            let now = Instant.format(Date(), in: .gmt)
            try await connection.query(
                """
                INSERT INTO devices (id, name, role, district, token_hash, enrolled_at)
                VALUES (\(identity.device.rawValue), 'server', 'city', NULL, \("server:\(identity.device.rawValue)"), \(now))
                """, logger: logger)
            return identity
        }
    }

    static func meta(_ connection: PostgresConnection, _ key: String, _ logger: Logger) async throws -> String? {
        for try await value in try await connection.query("SELECT value FROM meta WHERE key = \(key)", logger: logger).decode(String.self) {
            return value
        }
        return nil
    }

    static func setMeta(_ connection: PostgresConnection, _ key: String, _ value: String, _ logger: Logger) async throws {
        try await connection.query(
            "INSERT INTO meta (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", logger: logger)
    }

    public func adminTokenHash() async throws -> String? {
        try await read { connection in try await Self.meta(connection, "admin_token_hash", logger) }
    }

    public func setAdminTokenHash(_ hash: String, onlyIfAbsent: Bool) async throws -> Bool {
        try await lightWrite { connection in
            if onlyIfAbsent, try await Self.meta(connection, "admin_token_hash", logger) != nil { return false }
            try await Self.setMeta(connection, "admin_token_hash", hash, logger)
            return true
        }
    }

    // MARK: Campaigns

    public func storedCampaigns() async throws -> [Campaign] {
        let bodies = try await read { connection in
            var bodies: [String] = []
            for try await body in try await connection.query("SELECT body FROM campaigns ORDER BY id", logger: logger).decode(String.self) {
                bodies.append(body)
            }
            return bodies
        }
        return try bodies.map { try StoredJSON.decode(Campaign.self, $0) }
    }

    public func saveCampaign(_ campaign: Campaign, by actor: String, at time: String) async throws {
        let body = try StoredJSON.encode(campaign)
        try await lightWrite { connection in
            try await connection.query(
                """
                INSERT INTO campaigns (id, body, saved_by, saved_at) VALUES (\(campaign.id), \(body), \(actor), \(time))
                ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, saved_by = EXCLUDED.saved_by, saved_at = EXCLUDED.saved_at
                """, logger: logger)
        }
    }

    public func deleteCampaign(id: String) async throws -> Bool {
        try await lightWrite { connection in
            for try await _ in try await connection.query("DELETE FROM campaigns WHERE id = \(id) RETURNING id", logger: logger).decode(String.self) {
                return true
            }
            return false
        }
    }

    // MARK: Devices and codes

    public func insertEnrollmentCode(_ code: EnrollmentCodeRecord) async throws {
        try await lightWrite { connection in
            try await connection.query(
                """
                INSERT INTO enrollment_codes (code_hash, district, role, created_by, created_at, expires_at, relay)
                VALUES (\(code.codeHash), \(code.district), \(code.role.rawValue), \(code.createdBy), \(code.createdAt), \(code.expiresAt), \(code.relay))
                """, logger: logger)
        }
    }

    public func redeemEnrollmentCode(hash: String, now: String, device: NewDevice) async throws -> DeviceRecord {
        try await redeem(hash: hash, relay: nil, now: now, device: device)
    }

    public func redeemRelayCode(hash: String, relay: String, now: String, device: NewDevice) async throws -> DeviceRecord {
        try await redeem(hash: hash, relay: relay, now: now, device: device)
    }

    /// Uses a code once: one issued to a relay through that relay only (§19.6), any other directly.
    private func redeem(hash: String, relay: String?, now: String, device: NewDevice) async throws -> DeviceRecord {
        try await lightWrite { connection in
            var found: (String?, String, String, String?, String?)?
            for try await row in try await connection.query(
                "SELECT district, role, expires_at, used_at, used_by FROM enrollment_codes WHERE code_hash = \(hash) AND relay IS NOT DISTINCT FROM \(relay) FOR UPDATE",
                logger: logger
            ).decode((String?, String, String, String?, String?).self) { found = row }
            var tokenHash: String?
            for try await held in try await connection.query("SELECT token_hash FROM devices WHERE id = \(device.id.rawValue)", logger: logger)
                .decode(String.self)
            {
                tokenHash = held
            }
            // A relay's report sent again (its answer lost): the device it made, as it was made.
            if relay != nil, found?.4 == device.id.rawValue, tokenHash == device.tokenHash,
                let record = try await Self.devices(connection, "WHERE id = $1", [device.id.rawValue], logger).first
            {
                return record
            }
            guard let found, found.3 == nil, found.2 > now, let role = Role(rawValue: found.1) else {
                throw DoorstepError(.invalidEnrollmentCode, "the enrollment code is unknown, already used or expired; ask the office for a new one")
            }
            guard tokenHash == nil else { throw DoorstepError(.invalidValue, "a device with this id is already enrolled; a device enrolls once") }
            try await connection.query(
                "UPDATE enrollment_codes SET used_at = \(now), used_by = \(device.id.rawValue) WHERE code_hash = \(hash)", logger: logger)
            try await connection.query(
                """
                INSERT INTO devices (id, name, role, district, token_hash, signing_key, enrolled_at)
                VALUES (\(device.id.rawValue), \(device.name), \(role.rawValue), \(found.0), \(device.tokenHash), \(device.signingKey), \(now))
                """, logger: logger)
            guard let record = try await Self.devices(connection, "WHERE id = $1", [device.id.rawValue], logger).first else {
                throw DoorstepError(.internalError, "the new device was not stored")
            }
            return record
        }
    }

    typealias DeviceRow = (String, String, String, String?, String?, String, String?, Int64, Bool, String?, String?)
    static let deviceColumns = "id, name, role, district, signing_key, enrolled_at, revoked_at, highest_seq, clock_skew, last_push_at, last_pull_at"

    static func devices(_ connection: PostgresConnection, _ filter: String, _ arguments: [String], _ logger: Logger) async throws -> [DeviceRecord] {
        var bindings = PostgresBindings()
        for argument in arguments { bindings.append(argument) }
        let query = PostgresQuery(unsafeSQL: "SELECT \(deviceColumns) FROM devices \(filter) ORDER BY enrolled_at, id", binds: bindings)
        var records: [DeviceRecord] = []
        for try await row in try await connection.query(query, logger: logger).decode(DeviceRow.self) {
            guard let id = try? DeviceID(row.0), let role = Role(rawValue: row.2) else { continue }
            records.append(
                DeviceRecord(
                    id: id, name: row.1, role: role, district: row.3, signingKey: row.4, enrolledAt: row.5,
                    revokedAt: row.6, highestSeq: row.7, clockSkew: row.8, lastPushAt: row.9, lastPullAt: row.10))
        }
        return records
    }

    public func device(tokenHash: String) async throws -> DeviceRecord? {
        try await read { connection in try await Self.devices(connection, "WHERE token_hash = $1", [tokenHash], logger).first }
    }

    public func device(id: DeviceID) async throws -> DeviceRecord? {
        try await read { connection in try await Self.devices(connection, "WHERE id = $1", [id.rawValue], logger).first }
    }

    public func devices(district: String?) async throws -> [DeviceRecord] {
        try await read { connection in
            let records =
                if let district {
                    try await Self.devices(connection, "WHERE district = $1 AND token_hash NOT LIKE 'server:%'", [district], logger)
                } else {
                    try await Self.devices(connection, "WHERE token_hash NOT LIKE 'server:%'", [], logger)
                }
            var lost: [LostWorkRow] = []
            for try await row in try await connection.query(
                "SELECT device, from_seq, through_seq, at FROM lost_work ORDER BY at, device, from_seq", logger: logger
            )
            .decode((String, Int64, Int64, String).self) {
                lost.append(LostWorkRow(device: row.0, from: row.1, through: row.2, at: row.3))
            }
            return LostWorkRow.attach(lost, to: records)
        }
    }

    /// Under the gate shared and the device's own lock (``MergeLock``), not the write lock: a push of
    /// that device holds its row while it waits for the write lock, so a revocation waits for the
    /// push in the pushes' own lock order instead of holding the write lock and waiting for the row.
    public func revokeDevice(_ id: DeviceID, at: String, scope: Principal) async throws -> DeviceRecord? {
        try await transaction { connection in
            let device = MergeLock.device(id)
            try await PostgresMergeLocks.run("SELECT pg_advisory_xact_lock_shared(\(PostgresSchema.mergeGate))", connection, logger)
            try await PostgresMergeLocks.run("SELECT pg_advisory_xact_lock(\(device.space), \(device.key))", connection, logger)
            guard let record = try await Self.devices(connection, "WHERE id = $1 AND token_hash NOT LIKE 'server:%'", [id.rawValue], logger).first,
                record.district.map({ scope.covers(district: $0) }) ?? (scope.role == .city)
            else { return nil }
            try await connection.query("UPDATE devices SET revoked_at = COALESCE(revoked_at, \(at)) WHERE id = \(id.rawValue)", logger: logger)
            return try await Self.devices(connection, "WHERE id = $1", [id.rawValue], logger).first
        }
    }

    // MARK: Rate limits

    public func noteAuthFailure(key: String, nowMillis: Int64, windowMillis: Int64) async throws -> Int {
        try await transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO auth_failures (key, window_start, count) VALUES (\(key), \(nowMillis), 1)
                ON CONFLICT (key) DO UPDATE SET
                    window_start = CASE WHEN \(nowMillis) - auth_failures.window_start >= \(windowMillis) THEN \(nowMillis) ELSE auth_failures.window_start END,
                    count = CASE WHEN \(nowMillis) - auth_failures.window_start >= \(windowMillis) THEN 1 ELSE auth_failures.count + 1 END
                RETURNING count
                """, logger: logger)
            var failures = 1
            for try await count in rows.decode(Int32.self) { failures = Int(count) }
            // Windows that have passed count for nothing: the table holds only the current ones.
            try await connection.query("DELETE FROM auth_failures WHERE window_start <= \(nowMillis - windowMillis)", logger: logger)
            return failures
        }
    }

    public func authFailures(key: String, nowMillis: Int64, windowMillis: Int64) async throws -> Int {
        try await read { connection in
            for try await (start, count) in try await connection.query(
                "SELECT window_start, count FROM auth_failures WHERE key = \(key)", logger: logger
            ).decode((Int64, Int32).self) {
                return nowMillis - start >= windowMillis ? 0 : Int(count)
            }
            return 0
        }
    }

    public func isHealthy() async -> Bool {
        (try? await read { connection in
            for try await one in try await connection.query("SELECT 1", logger: logger).decode(Int32.self) { return one == 1 }
            return false
        }) ?? false
    }

    public func backup(to path: String) async throws {
        throw DoorstepError(.invalidOperation, "back up a PostgreSQL database with pg_dump; `doorstep-server backup` copies the embedded SQLite database")
    }
}
