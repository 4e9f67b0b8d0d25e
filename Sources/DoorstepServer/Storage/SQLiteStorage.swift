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
        try SQLiteSchema.migrator.migrate(pool)
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

    // MARK: Devices and codes

    public func insertEnrollmentCode(_ code: EnrollmentCodeRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO enrollment_codes (code_hash, district, role, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [code.codeHash, code.district, code.role.rawValue, code.createdBy, code.createdAt, code.expiresAt]
            )
        }
    }

    public func redeemEnrollmentCode(hash: String, now: String, device: NewDevice) async throws -> DeviceRecord {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT district, role, expires_at, used_at FROM enrollment_codes WHERE code_hash = ?", arguments: [hash]),
                (row["used_at"] as String?) == nil, (row["expires_at"] as String) > now,
                let role = Role(rawValue: row["role"])
            else {
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
                rows = try Row.fetchAll(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE district = ? AND token_hash NOT LIKE 'server:%' ORDER BY enrolled_at, id", arguments: [district])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE token_hash NOT LIKE 'server:%' ORDER BY enrolled_at, id")
            }
            return rows.compactMap(Self.deviceRecord)
        }
    }

    public func revokeDevice(_ id: DeviceID, at: String, scope: Principal) async throws -> DeviceRecord? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE id = ? AND token_hash NOT LIKE 'server:%'", arguments: [id.rawValue]),
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

    public func push(_ batch: PushBatch, from principal: Principal, engine: MergeEngine, actor: String?, now: String,
                     physicalMillis: @escaping @Sendable () -> Int64) async throws -> PushReceipt {
        try await pool.write { db in
            var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
            let store = SQLiteMergeStore(db: db, engine: engine, actor: actor, now: now, entityCache: EntityCache())
            let receipt = try engine.apply(batch, from: principal, store: store, clock: &clock)
            try Self.saveClock(db, clock)
            try db.cachedStatement(sql: "UPDATE devices SET last_push_at = ? WHERE id = ?").execute(arguments: [now, principal.device.rawValue])
            return receipt
        }
    }

    public func pull(for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String,
                     physicalMillis: @escaping @Sendable () -> Int64) async throws -> PullPage {
        let page = try await page(AggregatesBuilder.self, for: principal, after: cursor, limit: limit, engine: engine, now: now)
        let clock = try await notePull(by: principal, now: now, physicalMillis: physicalMillis)
        return PullPage(nextCursor: String(page.next), hasMore: page.hasMore, serverClock: clock, households: page.builder.households, removed: page.removed)
    }

    /// The page written straight from the stored texts of the entities into one buffer (see
    /// ``SQLiteMergeStore/aggregateParts(_:)``): the same bytes as encoding
    /// ``pull(for:after:limit:engine:now:physicalMillis:)``'s page.
    public func pullEncoded(for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String,
                            physicalMillis: @escaping @Sendable () -> Int64) async throws -> [UInt8] {
        let page = try await page(EncodedPageBuilder.self, for: principal, after: cursor, limit: limit, engine: engine, now: now)
        let clock = try await notePull(by: principal, now: now, physicalMillis: physicalMillis)
        return page.builder.page.finished(next: page.next, removed: page.removed, serverClock: clock)
    }

    /// The changes of the principal's scope after the cursor, each household still in it added to
    /// a `Builder` (one it has no state for, or that left the scope, is reported removed).
    private func page<Builder: PullPageBuilder>(
        _ builder: Builder.Type, for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String
    ) async throws -> (builder: Builder, removed: [EntityID], next: Int64, hasMore: Bool) {
        try await pool.read { db in
            let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: now, entityCache: EntityCache())
            let latest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'")) ?? 0
            guard cursor <= latest else {
                throw DoorstepError(.invalidCursor, "the cursor is ahead of this server's changes (was the server restored from a backup?); pull from the start")
            }
            let rows: [Row]
            if principal.role == .city {
                rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, household FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [cursor, limit + 1])
            } else {
                rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, household FROM changes WHERE district = ? AND seq > ? ORDER BY seq LIMIT ?"),
                                        arguments: [principal.district ?? "", cursor, limit + 1])
            }
            let hasMore = rows.count > limit
            var builder = Builder(hasMore: hasMore)
            var removed = Set<EntityID>()
            var delivered = Set<EntityID>()
            var next = cursor
            let placement = try db.cachedStatement(sql: "SELECT canonical, district FROM households WHERE id = ?")
            for row in rows.prefix(limit) {
                next = row["seq"]
                guard let id = try? EntityID(row["household"] as String) else { continue }
                guard !delivered.contains(id) else { continue }
                let placed = try Row.fetchOne(placement, arguments: [id.description])
                guard let placed, (placed[0] as String) == id.description, let district = placed[1] as String?,
                    principal.covers(district: district), try builder.add(id, from: store)
                else {
                    removed.insert(id)
                    continue
                }
                delivered.insert(id)
            }
            return (builder, removed.subtracting(delivered).sorted(), next, hasMore)
        }
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

    public func decide(_ decision: OfficeDecision, by principal: Principal, actor: String, engine: MergeEngine, now: String,
                       physicalMillis: @escaping @Sendable () -> Int64) async throws -> MutationResult {
        try await pool.write { db in
            try Self.decide(decision, by: principal, actor: actor, origin: nil, engine: engine, now: now, physicalMillis: physicalMillis, db)
        }
    }

    /// An office's decision inside a write transaction: the server's device, seq and clock.
    static func decide(_ decision: OfficeDecision, by principal: Principal, actor: String, origin: AuditOrigin?, engine: MergeEngine,
                       now: String, physicalMillis: @escaping @Sendable () -> Int64, _ db: Database) throws -> MutationResult {
        guard let identityText = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'") else {
            throw DoorstepError(.internalError, "the server has no identity yet")
        }
        let identity = try StoredJSON.decode(ServerIdentity.self, identityText)
        var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
        var store = SQLiteMergeStore(db: db, engine: engine, actor: actor, now: now, entityCache: EntityCache())
        store.origin = origin
        let seq = try store.progress(of: identity.device).highestSeq + 1
        let mutation = try DecisionBuilder(store: store, engine: engine)
            .mutation(for: decision, device: identity.device, seq: seq, hlc: clock.tick())
        let acting = Principal(device: identity.device, role: principal.role, district: principal.district)
        let receipt = try engine.apply(PushBatch(device: identity.device, mutations: [mutation]), from: acting, store: store, clock: &clock)
        guard let result = receipt.results.first else { throw DoorstepError(.internalError, "no result for the decision") }
        if result.outcome == .rejected {
            // Refused as a whole: the transaction rolls back, nothing is logged.
            throw DoorstepError(result.code ?? .invalidOperation, result.reason ?? "the decision was refused")
        }
        try Self.saveClock(db, clock)
        return result
    }

    // MARK: Reading for offices

    public func household(_ id: EntityID, engine: MergeEngine) async throws -> HouseholdAggregate? {
        try await pool.read { db in
            let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: "")
            guard let survivor = try store.canonical(of: id) else { return nil }
            return try store.aggregate(survivor)
        }
    }

    public func history(of household: EntityID) async throws -> [AuditEntry] {
        try await pool.read { db in
            let survivor = try String.fetchOne(db, sql: "SELECT canonical FROM households WHERE id = ?", arguments: [household.description]) ?? household.description
            let members = try String.fetchAll(db, sql: "SELECT id FROM households WHERE canonical = ?", arguments: [survivor])
            let group = Set(members + [survivor, household.description])
            // A write is filed under the survivor of its time, so while households were linked their
            // writes sit under another id. Read the rows filed under every household ever linked with
            // the group, however indirectly (national IDs in common: a household keeps every ID it
            // held; offices' decisions), and keep those of the group's own entities: after an unlink
            // each side shows its own writes, and only those.
            var linked = group
            var frontier = Array(group)
            while !frontier.isEmpty {
                let marks = databaseQuestionMarks(count: frontier.count)
                let found = try String.fetchAll(db, sql: """
                    SELECT first FROM link_decisions WHERE second IN (\(marks))
                    UNION SELECT second FROM link_decisions WHERE first IN (\(marks))
                    UNION SELECT household FROM national_ids WHERE value IN (SELECT value FROM national_ids WHERE household IN (\(marks)))
                    """, arguments: StatementArguments(frontier + frontier + frontier))
                frontier = found.filter { linked.insert($0).inserted }
            }
            let filed = Array(linked)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.household AS filed, e.household AS owner, a.entity, a.kind, a.field, a.old, a.new, a.write_id, a.device, a.seq, a.actor, a.at, a.origin
                    FROM audit a LEFT JOIN entities e ON e.id = a.entity
                    WHERE a.household IN (\(databaseQuestionMarks(count: filed.count))) ORDER BY a.id
                    """,
                arguments: StatementArguments(filed)
            ).filter { row in
                // A link decision (field `link:<other>`) belongs to both households it names.
                let field: String = row["field"]
                return group.contains((row["owner"] as String?) ?? row["filed"]) || (field.hasPrefix("link:") && group.contains(String(field.dropFirst(5))))
            }
            return rows.compactMap { row -> AuditEntry? in
                guard let entity = try? EntityID(row["entity"] as String), let kind = EntityKind(rawValue: row["kind"]),
                    let device = try? DeviceID(row["device"] as String)
                else { return nil }
                return AuditEntry(
                    entity: entity, kind: kind, field: row["field"],
                    old: (try? StoredJSON.decode(JSONValue.self, row["old"])) ?? .null,
                    new: (try? StoredJSON.decode(JSONValue.self, row["new"])) ?? .null,
                    write: row["write_id"], device: device, seq: row["seq"], actor: row["actor"] ?? "", at: row["at"],
                    origin: (row["origin"] as String?).flatMap { try? StoredJSON.decode(AuditOrigin.self, $0) }
                )
            }
        }
    }

    public func reviewQueue(district: String?) async throws -> ReviewQueue {
        try await pool.read { db in
            let filter = district == nil ? "" : " WHERE district = ?"
            let arguments: StatementArguments = district.map { [$0] } ?? []
            let conflicts = try Row.fetchAll(db, sql: "SELECT district, record FROM conflicts\(filter) ORDER BY household, entity, field", arguments: arguments)
                .compactMap { row -> ReviewQueue.Conflict? in
                    guard let record = try? StoredJSON.decode(ConflictRecord.self, row["record"]) else { return nil }
                    return ReviewQueue.Conflict(district: row["district"], record: record)
                }
            let duplicates = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.id AS alias, a.canonical AS survivor, s.district AS district FROM households a
                    JOIN households s ON s.id = a.canonical WHERE a.id <> a.canonical\(district == nil ? "" : " AND s.district = ?") ORDER BY a.canonical, a.id
                    """,
                arguments: arguments
            ).compactMap { row -> ReviewQueue.Duplicate? in
                guard let alias = try? EntityID(row["alias"] as String), let survivor = try? EntityID(row["survivor"] as String) else { return nil }
                return ReviewQueue.Duplicate(survivor: survivor, alias: alias, district: row["district"])
            }
            let open = district == nil ? " WHERE closed_at IS NULL" : " AND closed_at IS NULL"
            let rejections = try Row.fetchAll(db, sql: "SELECT * FROM rejections\(filter)\(open) ORDER BY at, device, seq", arguments: arguments)
                .compactMap { row -> ReviewQueue.Rejection? in
                    guard let device = try? DeviceID(row["device"] as String), let entity = try? EntityID(row["entity"] as String),
                        let kind = EntityKind(rawValue: row["kind"])
                    else { return nil }
                    return ReviewQueue.Rejection(
                        device: device, seq: row["seq"], household: (row["household"] as String?).flatMap { try? EntityID($0) },
                        entity: entity, kind: kind, district: row["district"], code: DoorstepError.Code(row["code"] as String),
                        reason: row["reason"], at: row["at"], mutation: (row["body"] as String?).flatMap { try? StoredJSON.decode(Mutation.self, $0) }
                    )
                }
            let flagged = try Row.fetchAll(db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE clock_skew = 1\(district == nil ? "" : " AND district = ?")", arguments: arguments)
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
    }
}

/// What a pull page is built into, household by household, inside the page's read transaction.
private protocol PullPageBuilder: Sendable {
    init(hasMore: Bool)
    /// Adds a survivor household of the scope; `false` (nothing added) when it has no state.
    mutating func add(_ survivor: EntityID, from store: SQLiteMergeStore) throws -> Bool
}

/// The households as values, for ``SQLiteStorage/pull(for:after:limit:engine:now:physicalMillis:)``.
private struct AggregatesBuilder: PullPageBuilder {
    var households: [HouseholdAggregate] = []

    init(hasMore: Bool) {}

    mutating func add(_ survivor: EntityID, from store: SQLiteMergeStore) throws -> Bool {
        guard let aggregate = try store.aggregate(survivor) else { return false }
        households.append(aggregate)
        return true
    }
}

/// The page as JSON text (``EncodedPullPage``), each household written from its rows.
private struct EncodedPageBuilder: PullPageBuilder {
    var page: EncodedPullPage

    init(hasMore: Bool) { page = EncodedPullPage(hasMore: hasMore) }

    mutating func add(_ survivor: EntityID, from store: SQLiteMergeStore) throws -> Bool {
        guard let parts = try store.aggregateParts(survivor) else { return false }
        try page.add(parts)
        return true
    }
}
