public import DoorstepCore
import Foundation
import GRDB

/// The embedded default: one SQLite file through GRDB, in WAL mode with `synchronous=FULL`.
public final class SQLiteStorage: ServerStorage {
    let pool: DatabasePool
    public let path: String

    /// The page size of a database this server creates. A household's entities are stored side by
    /// side (schema v6), about 2 KB each: with 16 KiB pages each row stays on its leaf page (with
    /// 4 KiB pages a row past about 1 KB goes on to an overflow page) and a household's rows take
    /// one or two pages. The connections' caches keep SQLite's default size in bytes (2 MiB).
    /// A database created with other pages keeps them (SQLite changes them only by a VACUUM).
    static let pageSize = 16_384

    /// Opens (or creates) the database file at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // Takes effect only when the file is created (before WAL is on); otherwise ignored.
            try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        self.path = path
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on the writer when it turns WAL on, after prepareDatabase:
        // FULL again, or an acknowledged push would not be on disk when the receipt is sent.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    }

    public func migrate() async throws {
        if let newer = try await migrationPlan().newerError { throw newer }
        try SQLiteSchema.migrator.migrate(pool)
    }

    public func migrationPlan() async throws -> MigrationPlan {
        try await pool.read { db in try Self.migrationPlan(db) }
    }

    /// What a start would do to the database at `path`, read without opening it for writing (a
    /// database in rollback-journal mode, a restored backup, stays so).
    public static func migrationPlan(readingOnly path: String) throws -> MigrationPlan {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try migrationPlan(db) }
    }

    private static func migrationPlan(_ db: Database) throws -> MigrationPlan {
        let migrator = SQLiteSchema.migrator
        let applied = try migrator.appliedIdentifiers(db)
        var counts: [String: Int] = [:]
        for table in MigrationPlan.tablesToCount(known: migrator.migrations, applied: applied) where try db.tableExists(table) || db.viewExists(table) {
            counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
        }
        return MigrationPlan(known: migrator.migrations, applied: applied, rowCounts: counts)
    }

    // MARK: Identity and admin token

    public func identity(orCreate create: @Sendable () throws -> ServerIdentity) async throws -> ServerIdentity {
        try await pool.write { db in
            if let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'") {
                return try StoredJSON.decode(ServerIdentity.self, text)
            }
            let identity = try create()
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('identity', ?)", arguments: [try StoredJSON.encode(identity)])
            try db.execute(
                sql: "INSERT INTO devices (id, name, role, district, token_hash, enrolled_at) VALUES (?, 'server', 'city', NULL, ?, ?)",
                arguments: [identity.device.rawValue, "server:\(identity.device.rawValue)", Instant.format(Date(), in: .gmt)]
            )
            return identity
        }
    }

    public func adminTokenHash() async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'admin_token_hash'") }
    }

    public func setAdminTokenHash(_ hash: String, onlyIfAbsent: Bool) async throws -> Bool {
        try await pool.write { db in
            if onlyIfAbsent {
                try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('admin_token_hash', ?)", arguments: [hash])
            } else {
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('admin_token_hash', ?)", arguments: [hash])
            }
            return db.changesCount > 0
        }
    }

    // MARK: Campaigns

    public func storedCampaigns() async throws -> [Campaign] {
        let bodies = try await pool.read { db in try String.fetchAll(db, sql: "SELECT body FROM campaigns ORDER BY id") }
        return try bodies.map { try StoredJSON.decode(Campaign.self, $0) }
    }

    public func saveCampaign(_ campaign: Campaign, by actor: String, at time: String) async throws {
        let body = try StoredJSON.encode(campaign)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO campaigns (id, body, saved_by, saved_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET body = excluded.body, saved_by = excluded.saved_by, saved_at = excluded.saved_at
                    """,
                arguments: [campaign.id, body, actor, time])
        }
    }

    public func deleteCampaign(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM campaigns WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: Devices and codes

    public func insertEnrollmentCode(_ code: EnrollmentCodeRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO enrollment_codes (code_hash, district, role, created_by, created_at, expires_at, relay) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [code.codeHash, code.district, code.role.rawValue, code.createdBy, code.createdAt, code.expiresAt, code.relay]
            )
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
        try await pool.write { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT district, role, expires_at, used_at, used_by FROM enrollment_codes WHERE code_hash = ? AND relay IS ?",
                arguments: [hash, relay])
            // A relay's report sent again (its answer lost): the device it made, as it was made.
            if relay != nil, let row, (row["used_by"] as String?) == device.id.rawValue,
                try String.fetchOne(db, sql: "SELECT token_hash FROM devices WHERE id = ?", arguments: [device.id.rawValue]) == device.tokenHash
            {
                return try Self.deviceRecord(db, id: device.id.rawValue)
            }
            guard let row, (row["used_at"] as String?) == nil, (row["expires_at"] as String) > now, let role = Role(rawValue: row["role"]) else {
                throw DoorstepError(.invalidEnrollmentCode, "the enrollment code is unknown, already used or expired; ask the office for a new one")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM devices WHERE id = ?", arguments: [device.id.rawValue]) == true {
                throw DoorstepError(.invalidValue, "a device with this id is already enrolled; a device enrolls once")
            }
            try db.execute(sql: "UPDATE enrollment_codes SET used_at = ?, used_by = ? WHERE code_hash = ?", arguments: [now, device.id.rawValue, hash])
            let district: String? = row["district"]
            try db.execute(
                sql: "INSERT INTO devices (id, name, role, district, token_hash, signing_key, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [device.id.rawValue, device.name, role.rawValue, district, device.tokenHash, device.signingKey, now]
            )
            return try Self.deviceRecord(db, id: device.id.rawValue)
        }
    }

    static let deviceColumns = "id, name, role, district, signing_key, enrolled_at, revoked_at, highest_seq, clock_skew, last_push_at, last_pull_at"

    static func deviceRecord(_ row: Row) -> DeviceRecord? {
        guard let id = try? DeviceID(row["id"] as String), let role = Role(rawValue: row["role"]) else { return nil }
        return DeviceRecord(
            id: id, name: row["name"], role: role, district: row["district"], signingKey: row["signing_key"],
            enrolledAt: row["enrolled_at"], revokedAt: row["revoked_at"], highestSeq: row["highest_seq"],
            clockSkew: row["clock_skew"], lastPushAt: row["last_push_at"], lastPullAt: row["last_pull_at"]
        )
    }

    static func deviceRecord(_ db: Database, id: String) throws -> DeviceRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(deviceColumns) FROM devices WHERE id = ?", arguments: [id]), let record = deviceRecord(row) else {
            throw DoorstepError(.notFound, "no device \(id)")
        }
        return record
    }

    public func device(tokenHash: String) async throws -> DeviceRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE token_hash = ?", arguments: [tokenHash]).flatMap(Self.deviceRecord)
        }
    }

    public func device(id: DeviceID) async throws -> DeviceRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE id = ?", arguments: [id.rawValue]).flatMap(Self.deviceRecord)
        }
    }

    public func devices(district: String?) async throws -> [DeviceRecord] {
        try await pool.read { db in
            let rows: [Row]
            if let district {
                rows = try Row.fetchAll(
                    db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE district = ? AND token_hash NOT LIKE 'server:%' ORDER BY enrolled_at, id",
                    arguments: [district])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE token_hash NOT LIKE 'server:%' ORDER BY enrolled_at, id")
            }
            let lost = try Row.fetchAll(db, sql: "SELECT device, from_seq, through_seq, at FROM lost_work ORDER BY at, device, from_seq").map {
                LostWorkRow(device: $0[0], from: $0[1], through: $0[2], at: $0[3])
            }
            let awaited = Set(try String.fetchAll(db, sql: "SELECT device FROM restore_pending"))
            return LostWorkRow.attach(lost, to: rows.compactMap(Self.deviceRecord)).map { record in
                var record = record
                if awaited.contains(record.id.rawValue) { record.notSyncedSinceRestore = true }
                return record
            }
        }
    }

    public func revokeDevice(_ id: DeviceID, at: String, scope: Principal) async throws -> DeviceRecord? {
        try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE id = ? AND token_hash NOT LIKE 'server:%'", arguments: [id.rawValue]),
                let record = Self.deviceRecord(row), record.district.map({ scope.covers(district: $0) }) ?? (scope.role == .city)
            else { return nil }
            try db.execute(sql: "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [at, id.rawValue])
            return try Self.deviceRecord(db, id: id.rawValue)
        }
    }

    // MARK: Rate limits

    public func noteAuthFailure(key: String, nowMillis: Int64, windowMillis: Int64) async throws -> Int {
        try await pool.write { db in
            let row = try Row.fetchOne(db, sql: "SELECT window_start, count FROM auth_failures WHERE key = ?", arguments: [key])
            var start: Int64 = row?["window_start"] ?? nowMillis
            var count: Int = row?["count"] ?? 0
            if nowMillis - start >= windowMillis {
                start = nowMillis
                count = 0
            }
            count += 1
            try db.execute(sql: "INSERT OR REPLACE INTO auth_failures (key, window_start, count) VALUES (?, ?, ?)", arguments: [key, start, count])
            // Windows that have passed count for nothing: the table holds only the current ones.
            try db.execute(sql: "DELETE FROM auth_failures WHERE window_start <= ?", arguments: [nowMillis - windowMillis])
            return count
        }
    }

    public func authFailures(key: String, nowMillis: Int64, windowMillis: Int64) async throws -> Int {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT window_start, count FROM auth_failures WHERE key = ?", arguments: [key]) else { return 0 }
            return nowMillis - (row["window_start"] as Int64) >= windowMillis ? 0 : row["count"]
        }
    }

    // MARK: Sync

    static func loadClock(_ db: Database, physicalMillis: @escaping @Sendable () -> Int64) throws -> HybridLogicalClock {
        let last = try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'hlc'")).flatMap { try? HLC($0) } ?? .zero
        return HybridLogicalClock(last: last, physicalMillis: physicalMillis)
    }

    static func saveClock(_ db: Database, _ clock: HybridLogicalClock) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc', ?)").execute(arguments: [clock.last.description])
    }

    public func push(
        _ batch: PushBatch, from principal: Principal, engine: MergeEngine, actor: String?, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> PushReceipt {
        try await pool.write { db in
            var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
            let store = SQLiteMergeStore(db: db, engine: engine, actor: actor, now: now, entityCache: EntityCache())
            let receipt = try engine.apply(batch, from: principal, store: store, clock: &clock)
            try Self.saveClock(db, clock)
            try db.cachedStatement(sql: "UPDATE devices SET last_push_at = ? WHERE id = ?").execute(arguments: [now, principal.device.rawValue])
            if batch.caughtUp(by: receipt) {
                // Caught up with a restored server (1.7, §8): no longer awaited.
                try db.cachedStatement(sql: "DELETE FROM restore_pending WHERE device = ?").execute(arguments: [principal.device.rawValue])
            }
            return receipt
        }
    }

    /// The page written straight from the stored texts of the entities into one buffer (see
    /// ``SQLiteMergeStore/aggregateParts(_:)``), scanned by ``PullScan``.
    public func pullEncoded(
        for principal: Principal, after cursor: Int64, limit: Int, maxBytes: Int, estimate: Bool, attachments: Bool, engine: MergeEngine,
        now: String,
        physicalMillis: @escaping @Sendable () -> Int64, cursor issue: @Sendable (Int64) -> String
    ) async throws -> [UInt8] {
        let page = try await pool.read { db in
            let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: now, entityCache: EntityCache())
            let latest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'")) ?? 0
            try ChangeFeed.check(cursor: cursor, latest: latest)
            let rows: [Row]
            if principal.role == .city {
                rows = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT seq, household FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [cursor, limit + 1])
            } else {
                rows = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT seq, household FROM changes WHERE district = ? AND seq > ? ORDER BY seq LIMIT ?"),
                    arguments: [principal.district ?? "", cursor, limit + 1])
            }
            let changed = rows.map { (seq: $0[0] as Int64, household: $0[1] as String) }
            // Where each household of the page is now, in one query, then the survivors of its aliases.
            var placed: [String: PullScan.Placement] = [:]
            func place(_ ids: [String]) throws {
                guard !ids.isEmpty else { return }
                for row in try Row.fetchAll(
                    db, sql: "SELECT id, canonical, district FROM households WHERE id IN (\(databaseQuestionMarks(count: ids.count)))",
                    arguments: StatementArguments(ids))
                {
                    placed[row[0]] = PullScan.Placement(canonical: row[1], district: row[2])
                }
            }
            try place(Array(Set(changed.prefix(limit).map(\.household))))
            try place(PullScan.unplacedSurvivors(changed, limit: limit, placed: placed))
            var page = try PullScan(changed, limit: limit, after: cursor, placed: placed, for: principal).page(
                maxBytes: maxBytes, parts: { try store.aggregateParts($0, attachments: attachments) })
            if estimate {
                if let district = ChangeFeed.remainingScope(of: principal) {
                    page.remaining = try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT COUNT(*) FROM changes WHERE district = ? AND seq > ?"),
                        arguments: [district, page.next])
                } else {
                    page.remaining = try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT COUNT(DISTINCT household) FROM changes WHERE seq > ?"), arguments: [page.next])
                }
            }
            return page
        }
        return page.finished(serverClock: try await notePull(by: principal, now: now, physicalMillis: physicalMillis), cursor: issue)
    }

    /// Ticks the server's clock for a pull and notes when the device pulled; the stamp goes in the page.
    private func notePull(by principal: Principal, now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> HLC {
        try await pool.write { db in
            var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
            let stamp = clock.tick()
            try Self.saveClock(db, clock)
            try db.cachedStatement(sql: "UPDATE devices SET last_pull_at = ? WHERE id = ?").execute(arguments: [now, principal.device.rawValue])
            return stamp
        }
    }

    public func decide(
        _ decision: OfficeDecision, by principal: Principal, actor: String, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> MutationResult {
        try await pool.write { db in
            try Self.decide(decision, by: principal, actor: actor, origin: nil, engine: engine, now: now, physicalMillis: physicalMillis, db)
        }
    }

    /// An office's decision inside a write transaction: the server's device, seq and clock (``OfficeWrites``).
    static func decide(
        _ decision: OfficeDecision, by principal: Principal, actor: String, origin: AuditOrigin?, engine: MergeEngine,
        now: String, physicalMillis: @escaping @Sendable () -> Int64, _ db: Database
    ) throws -> MutationResult {
        let identity = try OfficeWrites.identity(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'"))
        var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
        var store = SQLiteMergeStore(db: db, engine: engine, actor: actor, now: now, entityCache: EntityCache())
        store.origin = origin
        let result = try OfficeWrites.decide(decision, by: principal, server: identity.device, engine: engine, store: store, clock: &clock)
        try Self.saveClock(db, clock)
        return result
    }

    // MARK: Reading for offices

    public func household(ofEntity id: EntityID) async throws -> EntityID? {
        try await pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT household FROM entities WHERE id = ?"), arguments: [id.description])
                .flatMap { try? EntityID($0) }
        }
    }

    public func household(_ id: EntityID, engine: MergeEngine) async throws -> HouseholdAggregate? {
        try await pool.read { db in
            let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: "")
            guard let survivor = try store.canonical(of: id) else { return nil }
            return try store.aggregate(survivor)
        }
    }

    public func history(of household: EntityID) async throws -> [AuditEntry] {
        try await pool.read { db in
            let survivor = try String.fetchOne(db, sql: "SELECT canonical FROM households WHERE id = ?", arguments: [household.description])
            let members = try String.fetchAll(db, sql: "SELECT id FROM households WHERE canonical = ?", arguments: [survivor ?? household.description])
            var history = HouseholdHistory(of: household, survivor: survivor, members: members)
            while !history.frontier.isEmpty {
                let marks = databaseQuestionMarks(count: history.frontier.count)
                history.add(
                    try String.fetchAll(
                        db,
                        sql: """
                            SELECT first FROM link_decisions WHERE second IN (\(marks))
                            UNION SELECT second FROM link_decisions WHERE first IN (\(marks))
                            UNION SELECT household FROM national_ids WHERE value IN (SELECT value FROM national_ids WHERE household IN (\(marks)))
                            """, arguments: StatementArguments(history.frontier + history.frontier + history.frontier)))
            }
            let filed = Array(history.filed)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.household, e.household, a.entity, a.kind, a.field, a.old, a.new, a.write_id, a.device, a.seq, a.actor, a.at, a.origin,
                           a.settled
                    FROM audit a LEFT JOIN entities e ON e.id = a.entity
                    WHERE a.household IN (\(databaseQuestionMarks(count: filed.count))) ORDER BY a.id, a.n
                    """, arguments: StatementArguments(filed))
            return history.entries(
                rows.map { row in
                    HouseholdHistory.Row(
                        filedUnder: row[0], owner: row[1], entity: row[2], kind: row[3], field: row[4], old: row[5], new: row[6],
                        write: row[7], device: row[8], seq: row[9], actor: row[10], at: row[11], origin: row[12],
                        settled: (row[13] as Int?) == 1)
                })
        }
    }

    public func reviewQueue(district: String?) async throws -> ReviewQueue {
        try await pool.read { db in
            let filter = district == nil ? "" : " WHERE district = ?"
            let arguments: StatementArguments = district.map { [$0] } ?? []
            let conflicts = try Row.fetchAll(db, sql: "SELECT district, record FROM conflicts\(filter) ORDER BY household, entity, field", arguments: arguments)
                .compactMap { ReviewQueueRows.conflict(district: $0["district"], record: $0["record"]) }
            let duplicates = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.id AS alias, a.canonical AS survivor, s.district AS district FROM households a
                    JOIN households s ON s.id = a.canonical WHERE a.id <> a.canonical\(district == nil ? "" : " AND s.district = ?") ORDER BY a.canonical, a.id
                    """,
                arguments: arguments
            ).compactMap { ReviewQueueRows.duplicate(alias: $0["alias"], survivor: $0["survivor"], district: $0["district"]) }
            let open = district == nil ? " WHERE closed_at IS NULL" : " AND closed_at IS NULL"
            let rejections = try Row.fetchAll(db, sql: "SELECT * FROM rejections\(filter)\(open) ORDER BY at, device, seq", arguments: arguments)
                .compactMap { row in
                    ReviewQueueRows.rejection(
                        device: row["device"], seq: row["seq"], household: row["household"], entity: row["entity"], kind: row["kind"],
                        district: row["district"], code: row["code"], reason: row["reason"], at: row["at"], body: row["body"],
                        reasonZh: row["reason_zh"], details: row["details"])
                }
            let flagged = try Row.fetchAll(
                db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE clock_skew = 1\(district == nil ? "" : " AND district = ?")", arguments: arguments
            )
            .compactMap(Self.deviceRecord)
            return ReviewQueue(conflicts: conflicts, duplicates: duplicates, rejections: rejections, clockFlaggedDevices: flagged)
        }
    }

    public func isHealthy() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    public func backup(to path: String) async throws {
        let destination = try DatabaseQueue(path: path)
        try pool.backup(to: destination)
        // A backup is one file: out of WAL mode (which the copy inherits), so that copying the
        // file alone copies all of it and opening it leaves nothing beside it.
        try await destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        try destination.close()
    }

    /// Marks a copy of a server's database as restored: its identity gets a new
    /// ``ServerIdentity/restoreEpoch``, so the cursors issued before are refused once it serves.
    public static func markRestored(_ path: String, epoch: String, at time: String) throws {
        // A server that just stopped may still be finishing a write (the tally's, in the background).
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'") else { return }
            var identity = try StoredJSON.decode(ServerIdentity.self, text)
            identity.restoreEpoch = epoch
            identity.restoredAt = time
            // Every device is awaited until it pulls again (a backup from before v12 gets the table first).
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS restore_pending (device TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
            try db.execute(sql: "DELETE FROM restore_pending")
            try db.execute(
                sql: "INSERT INTO restore_pending (device) SELECT id FROM devices WHERE revoked_at IS NULL AND token_hash NOT LIKE 'server:%'")
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'identity'", arguments: [try StoredJSON.encode(identity)])
        }
        try queue.close()
    }

    /// Checks a copy of a server's database (a backup) without changing it: SQLite's own
    /// `integrity_check`, and that it is a Doorstep server's. Throws `invalidValue` saying which.
    public static func checkCopy(_ path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        let ok: Bool
        let isServer: Bool
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            (ok, isServer) = try queue.read { db in
                (
                    try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"],
                    try Bool.fetchOne(db, sql: "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'devices'") ?? false
                )
            }
        } catch {
            throw DoorstepError(.invalidValue, "\(path) is not a readable SQLite database")
        }
        guard ok else { throw DoorstepError(.invalidValue, "\(path) fails SQLite's integrity check: it is damaged") }
        guard isServer else { throw DoorstepError(.invalidValue, "\(path) is not a Doorstep server's database") }
    }
}
