import Logging
import PostgresNIO

/// The PostgreSQL schema, as named migrations applied once (under an advisory lock, so several
/// server processes starting together migrate once). A shipped migration is never edited.
enum PostgresSchema {
    /// The advisory lock pushes and light writers take shared and every other writer exclusively
    /// (``PostgresMergeLocks``). It is the key servers before 0.3 took exclusively for every write
    /// (their only write lock), so a server of an older version on the same database, during a
    /// rolling upgrade, never writes beside a push of a newer one.
    static let mergeGate: Int64 = 0x446F_6F72_7374_6570  // "Doorstep"
    /// The advisory lock held while migrating.
    static let migrationLock: Int64 = 0x446F_6F72_7374_6571
    /// The advisory lock under which changes are numbered in the feed, held to the commit.
    static let writeLock: Int64 = 0x446F_6F72_7374_6572
    /// The advisory lock of the office tally's counting (one process counts at a time).
    static let tallyLock: Int64 = 0x446F_6F72_7374_6573

    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1 sync, access, review",
            [
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """
                CREATE TABLE devices (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, district TEXT,
                    token_hash TEXT NOT NULL UNIQUE, signing_key TEXT, enrolled_at TEXT NOT NULL, revoked_at TEXT,
                    highest_seq BIGINT NOT NULL DEFAULT 0, last_stamp TEXT NOT NULL DEFAULT '0000000000000000',
                    clock_skew BOOLEAN NOT NULL DEFAULT FALSE, last_push_at TEXT, last_pull_at TEXT)
                """,
                """
                CREATE TABLE enrollment_codes (
                    code_hash TEXT PRIMARY KEY, district TEXT, role TEXT NOT NULL, created_by TEXT NOT NULL,
                    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, used_by TEXT)
                """,
                """
                CREATE TABLE mutations (
                    device TEXT NOT NULL, seq BIGINT NOT NULL, write_id TEXT NOT NULL, body TEXT NOT NULL,
                    result TEXT NOT NULL, household TEXT, received_at TEXT NOT NULL, PRIMARY KEY (device, seq))
                """,
                "CREATE TABLE entities (id TEXT PRIMARY KEY, kind TEXT NOT NULL, household TEXT NOT NULL, state TEXT NOT NULL)",
                "CREATE INDEX entities_household ON entities(household)",
                "CREATE TABLE households (id TEXT PRIMARY KEY, canonical TEXT NOT NULL, district TEXT, change_seq BIGINT NOT NULL DEFAULT 0)",
                "CREATE INDEX households_canonical ON households(canonical)",
                "CREATE INDEX households_district ON households(district)",
                "CREATE TABLE changes (seq BIGINT PRIMARY KEY, household TEXT NOT NULL, district TEXT NOT NULL, UNIQUE (household, district))",
                "CREATE INDEX changes_district_seq ON changes(district, seq)",
                "CREATE TABLE national_ids (value TEXT NOT NULL, household TEXT NOT NULL, PRIMARY KEY (value, household))",
                "CREATE INDEX national_ids_household ON national_ids(household)",
                "CREATE TABLE link_decisions (first TEXT NOT NULL, second TEXT NOT NULL, register TEXT NOT NULL, PRIMARY KEY (first, second))",
                """
                CREATE TABLE audit (
                    id BIGSERIAL PRIMARY KEY, household TEXT NOT NULL, entity TEXT NOT NULL, kind TEXT NOT NULL, field TEXT NOT NULL,
                    old TEXT NOT NULL, new TEXT NOT NULL, write_id TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,
                    actor TEXT, at TEXT NOT NULL)
                """,
                "CREATE INDEX audit_household ON audit(household, id)",
                "CREATE INDEX audit_write ON audit(write_id, field)",
                """
                CREATE TABLE rejections (
                    device TEXT NOT NULL, seq BIGINT NOT NULL, household TEXT, entity TEXT NOT NULL, kind TEXT NOT NULL,
                    district TEXT, code TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (device, seq))
                """,
                "CREATE TABLE rejected_bases (write_id TEXT NOT NULL, field TEXT NOT NULL, base TEXT NOT NULL, PRIMARY KEY (write_id, field))",
                "CREATE TABLE rejected_creations (entity TEXT PRIMARY KEY)",
                "CREATE TABLE replacements (original TEXT PRIMARY KEY, effective TEXT NOT NULL)",
                """
                CREATE TABLE conflicts (
                    household TEXT NOT NULL, entity TEXT NOT NULL, field TEXT NOT NULL, district TEXT, record TEXT NOT NULL,
                    PRIMARY KEY (household, entity, field))
                """,
                "CREATE INDEX conflicts_district ON conflicts(district)",
                "CREATE TABLE auth_failures (key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, count INTEGER NOT NULL)",
            ]
        ),
        (
            "v2 dashboard accounts and sessions",
            [
                """
                CREATE TABLE dashboard_accounts (
                    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, district TEXT, created_by TEXT NOT NULL,
                    created_at TEXT NOT NULL, password_changed_at TEXT NOT NULL, disabled_at TEXT)
                """,
                "CREATE INDEX dashboard_accounts_district ON dashboard_accounts(district)",
                """
                CREATE TABLE dashboard_sessions (
                    id_hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES dashboard_accounts(name),
                    created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
                """,
                "CREATE INDEX dashboard_sessions_account ON dashboard_sessions(account)",
                "CREATE INDEX dashboard_sessions_expires ON dashboard_sessions(expires_at)",
            ]
        ),
        // Whether an entity's state may hold an open conflict, so that refreshing a household's
        // conflicts after a push decodes only those entities, not every visit (as the SQLite
        // storage's v3). Rows from before say TRUE ("decode to find out"); every save writes it.
        (
            "v3 entity conflict flag",
            [
                "ALTER TABLE entities ADD COLUMN conflicted BOOLEAN NOT NULL DEFAULT TRUE"
            ]
        ),
        // Each entity's state as a pull sends it, so that a page places the stored text instead of
        // decoding and encoding every entity (as the SQLite storage's v4). Rows from before: NULL.
        (
            "v4 entity wire text",
            [
                "ALTER TABLE entities ADD COLUMN wire TEXT"
            ]
        ),
        // Held changes keep their mutation; an office closes a row of the rejection log; an
        // accepted change's history names its origin (as the SQLite storage's v7).
        (
            "v5 held changes and closed rejections",
            [
                "ALTER TABLE rejections ADD COLUMN body TEXT",
                "ALTER TABLE rejections ADD COLUMN closed_as TEXT",
                "ALTER TABLE rejections ADD COLUMN closed_by TEXT",
                "ALTER TABLE rejections ADD COLUMN closed_at TEXT",
                "ALTER TABLE rejections ADD COLUMN closed_reason TEXT",
                "ALTER TABLE audit ADD COLUMN origin TEXT",
            ]
        ),
        // Campaigns an administrator stores through the API (as the SQLite storage's v8).
        (
            "v6 stored campaigns",
            ["CREATE TABLE campaigns (id TEXT PRIMARY KEY, body TEXT NOT NULL, saved_by TEXT NOT NULL, saved_at TEXT NOT NULL)"]
        ),
        // A refusal's Chinese reason and its details (as the SQLite storage's v9).
        (
            "v7 refusal details",
            [
                "ALTER TABLE rejections ADD COLUMN reason_zh TEXT", "ALTER TABLE rejections ADD COLUMN details TEXT",
                "ALTER TABLE audit ADD COLUMN settled BOOLEAN",
                """
                UPDATE rejections SET district = (SELECT district FROM devices WHERE devices.id = rejections.device)
                WHERE district IS NULL AND closed_at IS NULL
                """,
            ]
        ),
        // Attachments' files (protocol 1.4), shared by every server process: each a large object,
        // named in `files` once whole and checked; uploads under way in `file_uploads`.
        (
            "v8 attachment files",
            [
                """
                CREATE TABLE files (
                    sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, media_type TEXT NOT NULL, object OID NOT NULL
                )
                """,
                """
                CREATE TABLE file_uploads (
                    sha256 TEXT NOT NULL, length BIGINT NOT NULL, object OID NOT NULL, held BIGINT NOT NULL,
                    head BYTEA NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (sha256, length)
                )
                """,
            ]
        ),
        // The office tally (Rules/TallyRules.swift; as the SQLite storage's v10). Lists and the
        // households list are ordered by code point (COLLATE "C"), as SQLite and Swift order them.
        (
            "v9 office tally",
            [
                """
                CREATE TABLE office_counts (
                    scope TEXT NOT NULL, district TEXT NOT NULL, key TEXT NOT NULL, value BIGINT NOT NULL,
                    PRIMARY KEY (scope, district, key)
                )
                """,
                """
                CREATE TABLE office_lists (
                    scope TEXT NOT NULL, list TEXT NOT NULL, district TEXT NOT NULL, household TEXT COLLATE "C" NOT NULL,
                    national_id TEXT NOT NULL, status TEXT, head_name TEXT, PRIMARY KEY (scope, list, district, household)
                )
                """,
                "CREATE TABLE office_tallies (household TEXT PRIMARY KEY, tally TEXT NOT NULL)",
                """
                CREATE TABLE office_households (
                    household TEXT COLLATE "C" PRIMARY KEY, district TEXT COLLATE "C" NOT NULL, head_name TEXT COLLATE "C" NOT NULL,
                    national_id TEXT, status TEXT
                )
                """,
                "CREATE INDEX office_households_order ON office_households(district, head_name, household) INCLUDE (status, national_id)",
                "CREATE INDEX audit_status ON audit(entity, id) WHERE field = 'status'",
            ]
        ),
        // As SQLite's v11 (see there): an entity stored once (its wire text and the superseded ids
        // it leaves out), the audit as a row per write and a row per field, read through the view
        // `audit`. The superseded ids and missing wire texts are written first (`preparations`).
        (
            "v10 stored once",
            [
                "ALTER TABLE entities DROP COLUMN state",
                "ALTER TABLE entities ALTER COLUMN wire SET NOT NULL",
                """
                CREATE TABLE audit_writes (
                    id BIGINT PRIMARY KEY, household TEXT NOT NULL, entity TEXT NOT NULL, kind TEXT NOT NULL, write_id TEXT NOT NULL,
                    device TEXT NOT NULL, seq BIGINT NOT NULL, actor TEXT, at TEXT NOT NULL, origin TEXT)
                """,
                "CREATE SEQUENCE audit_writes_id_seq OWNED BY audit_writes.id",
                """
                CREATE TABLE audit_fields (
                    write BIGINT NOT NULL, n BIGINT NOT NULL, field TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL, settled BOOLEAN,
                    PRIMARY KEY (write, n))
                """,
                """
                CREATE TEMP TABLE audit_map ON COMMIT DROP AS
                    SELECT id, MIN(id) OVER (PARTITION BY household, entity, kind, write_id, device, seq, actor, at, origin) AS write FROM audit
                """,
                """
                INSERT INTO audit_writes (id, household, entity, kind, write_id, device, seq, actor, at, origin)
                    SELECT a.id, a.household, a.entity, a.kind, a.write_id, a.device, a.seq, NULLIF(a.actor, 'device:' || a.device), a.at, a.origin
                    FROM audit a JOIN audit_map m ON m.id = a.id WHERE m.write = a.id
                """,
                """
                INSERT INTO audit_fields (write, n, field, old, new, settled)
                    SELECT m.write, a.id, a.field, a.old, a.new, NULLIF(a.settled, FALSE) FROM audit a JOIN audit_map m ON m.id = a.id
                """,
                "SELECT setval('audit_writes_id_seq', COALESCE((SELECT MAX(id) FROM audit_writes), 0) + 1, false)",
                "DROP TABLE audit",
                "CREATE INDEX audit_household ON audit_writes(household, id)",
                "CREATE INDEX audit_write ON audit_writes(write_id)",
                "CREATE INDEX audit_status ON audit_writes(entity, id) WHERE kind = 'household'",
                """
                CREATE VIEW audit AS
                    SELECT w.id AS id, f.n AS n, w.household AS household, w.entity AS entity, w.kind AS kind, f.field AS field, f.old AS old,
                           f.new AS new, w.write_id AS write_id, w.device AS device, w.seq AS seq,
                           COALESCE(w.actor, 'device:' || w.device) AS actor, w.at AS at, w.origin AS origin, f.settled AS settled
                    FROM audit_writes w JOIN audit_fields f ON f.write = w.id
                """,
            ]
        ),
        // As SQLite's v12: gaps devices declared in their streams of mutations (protocol 1.7, §8).
        (
            "v11 lost work",
            [
                """
                CREATE TABLE lost_work (
                    device TEXT NOT NULL, from_seq BIGINT NOT NULL, through_seq BIGINT NOT NULL, at TEXT NOT NULL,
                    PRIMARY KEY (device, from_seq))
                """
            ]
        ),
        // As SQLite's v13: district relays' credentials (protocol 1.8, §19).
        (
            "v12 relays",
            [
                """
                CREATE TABLE relays (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL, created_by TEXT NOT NULL, revoked_at TEXT, last_contact_at TEXT)
                """,
                "ALTER TABLE enrollment_codes ADD COLUMN relay TEXT",
            ]
        ),
    ]

    /// What a migration needs done in Swift before its statements, by the migration's name.
    static let preparations: [String: @Sendable (PostgresConnection, Logger) async throws -> Void] = [
        "v10 stored once": { connection, logger in
            // The superseded ids of the entities that have any (a few: those written concurrently),
            // and the wire text of those saved before it existed (schema v4), from their state, in
            // the bytes a save writes (`StoredEntityRow`).
            try await connection.query("ALTER TABLE entities ADD COLUMN superseded TEXT", logger: logger)
            var rows: [(String, String)] = []
            for try await row in try await connection.query(
                "SELECT id, state FROM entities WHERE wire IS NULL OR jsonb_path_exists(state::jsonb, '$.fields.*.superseded[0]')", logger: logger
            ).decode((String, String).self) {
                rows.append(row)
            }
            for (id, state) in rows {
                let stored = try StoredEntityRow(formerState: state)
                try await connection.query("UPDATE entities SET wire = \(stored.wire), superseded = \(stored.superseded) WHERE id = \(id)", logger: logger)
            }
        }
    ]

    /// Applies the migrations not yet applied, in order; with `upTo`, none after the one of that name (tests).
    static func migrate(_ client: PostgresClient, logger: Logger, upTo last: String? = nil) async throws {
        do {
            try await migrateInTransaction(client, logger: logger, upTo: last)
        } catch let error as PostgresTransactionError {
            // The migration's own error (a newer database, a failed statement), not the wrapper's.
            if let inner = error.closureError, error.rollbackError == nil { throw inner }
            throw error
        }
    }

    private static func migrateInTransaction(_ client: PostgresClient, logger: Logger, upTo last: String?) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)", logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            if let newer = MigrationPlan(known: migrations.map(\.name), applied: applied, rowCounts: [:]).newerError {
                throw newer
            }
            for migration in migrations where !applied.contains(migration.name) {
                try await preparations[migration.name]?(connection, logger)
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                if migration.name == last { break }
            }
        }
    }
}
