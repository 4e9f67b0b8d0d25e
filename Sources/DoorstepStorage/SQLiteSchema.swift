import GRDB

/// The embedded database's schema, as named migrations. A shipped migration is never edited.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 sync, access, review") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE devices (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        district TEXT,
                        token_hash TEXT NOT NULL UNIQUE,
                        signing_key TEXT,
                        enrolled_at TEXT NOT NULL,
                        revoked_at TEXT,
                        highest_seq INTEGER NOT NULL DEFAULT 0,
                        last_stamp TEXT NOT NULL DEFAULT '0000000000000000',
                        clock_skew INTEGER NOT NULL DEFAULT 0,
                        last_push_at TEXT,
                        last_pull_at TEXT
                    ) WITHOUT ROWID;
                    CREATE TABLE enrollment_codes (
                        code_hash TEXT PRIMARY KEY NOT NULL,
                        district TEXT,
                        role TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        expires_at TEXT NOT NULL,
                        used_at TEXT,
                        used_by TEXT
                    ) WITHOUT ROWID;
                    CREATE TABLE mutations (
                        device TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        write_id TEXT NOT NULL,
                        body TEXT NOT NULL,
                        result TEXT NOT NULL,
                        household TEXT,
                        received_at TEXT NOT NULL,
                        PRIMARY KEY (device, seq)
                    ) WITHOUT ROWID;
                    CREATE TABLE entities (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        household TEXT NOT NULL,
                        state TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX entities_household ON entities(household);
                    CREATE TABLE households (
                        id TEXT PRIMARY KEY NOT NULL,
                        canonical TEXT NOT NULL,
                        district TEXT,
                        change_seq INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE INDEX households_canonical ON households(canonical);
                    CREATE INDEX households_district ON households(district);
                    CREATE TABLE changes (
                        seq INTEGER PRIMARY KEY,
                        household TEXT NOT NULL,
                        district TEXT NOT NULL
                    );
                    CREATE UNIQUE INDEX changes_household_district ON changes(household, district);
                    CREATE INDEX changes_district_seq ON changes(district, seq);
                    CREATE TABLE national_ids (
                        value TEXT NOT NULL,
                        household TEXT NOT NULL,
                        PRIMARY KEY (value, household)
                    ) WITHOUT ROWID;
                    CREATE INDEX national_ids_household ON national_ids(household);
                    CREATE TABLE link_decisions (
                        first TEXT NOT NULL,
                        second TEXT NOT NULL,
                        register TEXT NOT NULL,
                        PRIMARY KEY (first, second)
                    ) WITHOUT ROWID;
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY,
                        household TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        field TEXT NOT NULL,
                        old TEXT NOT NULL,
                        new TEXT NOT NULL,
                        write_id TEXT NOT NULL,
                        device TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        actor TEXT,
                        at TEXT NOT NULL
                    );
                    CREATE INDEX audit_household ON audit(household, id);
                    CREATE INDEX audit_write ON audit(write_id, field);
                    CREATE TABLE rejections (
                        device TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        household TEXT,
                        entity TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        district TEXT,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        at TEXT NOT NULL,
                        PRIMARY KEY (device, seq)
                    ) WITHOUT ROWID;
                    CREATE TABLE rejected_bases (
                        write_id TEXT NOT NULL,
                        field TEXT NOT NULL,
                        base TEXT NOT NULL,
                        PRIMARY KEY (write_id, field)
                    ) WITHOUT ROWID;
                    CREATE TABLE rejected_creations (entity TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                    CREATE TABLE replacements (original TEXT PRIMARY KEY NOT NULL, effective TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE conflicts (
                        household TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        field TEXT NOT NULL,
                        district TEXT,
                        record TEXT NOT NULL,
                        PRIMARY KEY (household, entity, field)
                    ) WITHOUT ROWID;
                    CREATE INDEX conflicts_district ON conflicts(district);
                    CREATE TABLE auth_failures (
                        key TEXT PRIMARY KEY NOT NULL,
                        window_start INTEGER NOT NULL,
                        count INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2 dashboard accounts and sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dashboard_accounts (
                        name TEXT PRIMARY KEY NOT NULL,
                        password_hash TEXT NOT NULL,
                        role TEXT NOT NULL,
                        district TEXT,
                        created_by TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        password_changed_at TEXT NOT NULL,
                        disabled_at TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX dashboard_accounts_district ON dashboard_accounts(district);
                    CREATE TABLE dashboard_sessions (
                        id_hash TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL REFERENCES dashboard_accounts(name),
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX dashboard_sessions_account ON dashboard_sessions(account);
                    CREATE INDEX dashboard_sessions_expires ON dashboard_sessions(expires_at);
                    """)
        }
        // Whether an entity's stored state may hold an open conflict, so that refreshing a household's
        // conflicts decodes only those entities, not every visit. Rows written before this migration
        // are marked 1 ("decode to find out"); every save after it writes the exact answer.
        migrator.registerMigration("v3 entity conflict flag") { db in
            try db.execute(sql: "ALTER TABLE entities ADD COLUMN conflicted INTEGER NOT NULL DEFAULT 1")
        }
        // Each entity's state as a pull sends it, so that a pull places the stored text in the page
        // instead of decoding and encoding every entity. Rows from before are NULL (decoded then).
        migrator.registerMigration("v4 entity wire text") { db in
            try db.execute(sql: "ALTER TABLE entities ADD COLUMN wire TEXT")
        }
        // The entities that may hold a conflict, by household: refreshing a household's conflicts
        // after a write reads these index entries only. Without it the refresh visited the table
        // row of every child entity (each about 2 KB: a household's visits are most of its pages),
        // about 190 page reads per pushed visit at 22 visits a household.
        migrator.registerMigration("v5 conflicted entities index") { db in
            try db.execute(sql: "CREATE INDEX entities_conflicted ON entities(household, id) WHERE conflicted <> 0 AND kind <> 'household'")
        }
        // Entities stored by household: a household's rows sit side by side in the table's b-tree,
        // so a pull (and a push's read of the household) reads a few neighbouring pages instead of
        // one leaf and one overflow page per entity, scattered by random id over the whole table.
        // Measured at 1,000,000 changes: 100 households read in 27 ms before, 6 ms after (4 KiB
        // pages; 3 ms with the 16 KiB pages of databases created since, see `SQLiteStorage`).
        // The small columns come first and `wire` before `state`, so that reading the flag or the
        // wire text stops before the rest of a long row. Lookups by id go through `entities_id`.
        // The partial index of v5 goes: refreshing a household's conflicts reads the flags of its
        // range, the pages the write has just touched.
        migrator.registerMigration("v6 entities by household") { db in
            try db.execute(
                sql: """
                    CREATE TABLE entities_v6 (
                        household TEXT NOT NULL,
                        id TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        conflicted INTEGER NOT NULL DEFAULT 1,
                        wire TEXT,
                        state TEXT NOT NULL,
                        PRIMARY KEY (household, id)
                    ) WITHOUT ROWID;
                    INSERT INTO entities_v6 (household, id, kind, conflicted, wire, state)
                        SELECT household, id, kind, conflicted, wire, state FROM entities ORDER BY household, id;
                    DROP TABLE entities;
                    ALTER TABLE entities_v6 RENAME TO entities;
                    CREATE UNIQUE INDEX entities_id ON entities(id);
                    """)
        }
        // The office's review of held changes: a held change keeps its mutation (`body`) so that
        // the office can read and accept it; an office closes a row (accepted, or dismissed with a
        // reason) and it leaves the queue. An accepted change's history names its origin.
        migrator.registerMigration("v7 held changes and closed rejections") { db in
            try db.execute(
                sql: """
                    ALTER TABLE rejections ADD COLUMN body TEXT;
                    ALTER TABLE rejections ADD COLUMN closed_as TEXT;
                    ALTER TABLE rejections ADD COLUMN closed_by TEXT;
                    ALTER TABLE rejections ADD COLUMN closed_at TEXT;
                    ALTER TABLE rejections ADD COLUMN closed_reason TEXT;
                    ALTER TABLE audit ADD COLUMN origin TEXT;
                    """)
        }
        // Campaigns an administrator stores through the API (stages and dates as data), beside
        // those of the city data and the server's configuration.
        migrator.registerMigration("v8 stored campaigns") { db in
            try db.execute(
                sql: """
                    CREATE TABLE campaigns (
                        id TEXT PRIMARY KEY,
                        body TEXT NOT NULL,
                        saved_by TEXT NOT NULL,
                        saved_at TEXT NOT NULL
                    );
                    """)
        }
        // A refusal's Chinese reason and its details (protocol 1.1), for the office's review queue.
        migrator.registerMigration("v9 refusal details") { db in
            try db.execute(
                sql: """
                    ALTER TABLE rejections ADD COLUMN reason_zh TEXT;
                    ALTER TABLE rejections ADD COLUMN details TEXT;
                    ALTER TABLE audit ADD COLUMN settled INTEGER;
                    UPDATE rejections SET district = (SELECT district FROM devices WHERE devices.id = rejections.device)
                    WHERE district IS NULL AND closed_at IS NULL;
                    """)
        }
        // The office tally (Rules/TallyRules.swift): report counters by district, scope (a
        // campaign, or '' for what every campaign shares) and key; the households the reports
        // list; each household's kept part; the households list. Counted from the change feed by
        // the first refresh (the meta keys tally.fingerprint and tally.seq start absent). A
        // household's status changes are found by entity: an audit row's household is the survivor
        // at the time of the write, which a later unlink changes.
        migrator.registerMigration("v10 office tally") { db in
            try db.execute(
                sql: """
                    CREATE TABLE office_counts (
                        scope TEXT NOT NULL,
                        district TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value INTEGER NOT NULL,
                        PRIMARY KEY (scope, district, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE office_lists (
                        scope TEXT NOT NULL,
                        list TEXT NOT NULL,
                        district TEXT NOT NULL,
                        household TEXT NOT NULL,
                        national_id TEXT NOT NULL,
                        status TEXT,
                        head_name TEXT,
                        PRIMARY KEY (scope, list, district, household)
                    ) WITHOUT ROWID;
                    CREATE TABLE office_tallies (household TEXT PRIMARY KEY NOT NULL, tally TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE office_households (
                        household TEXT PRIMARY KEY NOT NULL,
                        district TEXT NOT NULL,
                        head_name TEXT NOT NULL,
                        national_id TEXT,
                        status TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX office_households_order ON office_households(district, head_name, household, status, national_id);
                    CREATE INDEX audit_status ON audit(entity, id) WHERE field = 'status';
                    """)
        }
        // Storage that holds years (issue 21): an entity is stored once, as its wire text, with
        // only the superseded ids beside it (`StoredEntityRow`), no longer also as its state; the
        // audit keeps one row per write (who, when, which entity) and one small row per field
        // changed, instead of the write's columns again on every field. The view `audit` reads
        // as the table did (`id` is the write's, `n` orders a write's fields; a device's own
        // write stores no actor: the view names the device). The rows of the former audit keep
        // their order: a write takes the first id of its rows, a field its former id.
        migrator.registerMigration("v11 stored once") { db in
            let unwired = try Row.fetchAll(db, sql: "SELECT household, id, state FROM entities WHERE wire IS NULL")
            for row in unwired {
                let stored = try StoredEntityRow(formerState: row["state"])
                try db.execute(
                    sql: "UPDATE entities SET wire = ? WHERE household = ? AND id = ?", arguments: [stored.wire, row["household"], row["id"]])
            }
            try db.execute(
                sql: """
                    CREATE TABLE entities_v11 (
                        household TEXT NOT NULL,
                        id TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        conflicted INTEGER NOT NULL DEFAULT 1,
                        wire TEXT NOT NULL,
                        superseded TEXT,
                        PRIMARY KEY (household, id)
                    ) WITHOUT ROWID;
                    INSERT INTO entities_v11 (household, id, kind, conflicted, wire, superseded)
                        SELECT household, id, kind, conflicted, wire,
                               (SELECT json_group_object(f.key, json_extract(f.value, '$.superseded')) FROM json_each(state, '$.fields') AS f
                                WHERE json_array_length(f.value, '$.superseded') > 0 HAVING COUNT(*) > 0)
                        FROM entities ORDER BY household, id;
                    DROP TABLE entities;
                    ALTER TABLE entities_v11 RENAME TO entities;
                    CREATE UNIQUE INDEX entities_id ON entities(id);

                    CREATE TABLE audit_writes (
                        id INTEGER PRIMARY KEY,
                        household TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        write_id TEXT NOT NULL,
                        device TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        actor TEXT,
                        at TEXT NOT NULL,
                        origin TEXT
                    );
                    CREATE TABLE audit_fields (
                        write INTEGER NOT NULL,
                        n INTEGER NOT NULL,
                        field TEXT NOT NULL,
                        old TEXT NOT NULL,
                        new TEXT NOT NULL,
                        settled INTEGER,
                        PRIMARY KEY (write, n)
                    ) WITHOUT ROWID;
                    CREATE TEMP TABLE audit_map AS
                        SELECT id, MIN(id) OVER (PARTITION BY household, entity, kind, write_id, device, seq, actor, at, origin) AS write FROM audit;
                    INSERT INTO audit_writes (id, household, entity, kind, write_id, device, seq, actor, at, origin)
                        SELECT a.id, a.household, a.entity, a.kind, a.write_id, a.device, a.seq, NULLIF(a.actor, 'device:' || a.device), a.at, a.origin
                        FROM audit a JOIN audit_map m ON m.id = a.id WHERE m.write = a.id ORDER BY a.id;
                    INSERT INTO audit_fields (write, n, field, old, new, settled)
                        SELECT m.write, a.id, a.field, a.old, a.new, a.settled FROM audit a JOIN audit_map m ON m.id = a.id ORDER BY m.write, a.id;
                    DROP TABLE audit_map;
                    DROP TABLE audit;
                    CREATE INDEX audit_household ON audit_writes(household, id);
                    CREATE INDEX audit_write ON audit_writes(write_id);
                    CREATE INDEX audit_status ON audit_writes(entity, id) WHERE kind = 'household';
                    \(SQLiteSchema.auditView)
                    """)
        }
        migrator.registerMigration("v12 lost work") { db in
            // Gaps devices declared in their streams of mutations (protocol 1.7, §8).
            try db.execute(
                sql: """
                    CREATE TABLE lost_work (
                        device TEXT NOT NULL,
                        from_seq INTEGER NOT NULL,
                        through_seq INTEGER NOT NULL,
                        at TEXT NOT NULL,
                        PRIMARY KEY (device, from_seq)
                    ) WITHOUT ROWID;
                    -- The devices that have not caught up since the last restore from a backup (filled by
                    -- the restore command; a device's row leaves with the batch that shows it caught up).
                    CREATE TABLE IF NOT EXISTS restore_pending (device TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v13 relays") { db in
            // District relays' credentials (protocol 1.8, §19).
            try db.execute(
                sql: """
                    CREATE TABLE relays (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        district TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        created_at TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        revoked_at TEXT,
                        last_contact_at TEXT
                    ) WITHOUT ROWID;
                    -- Codes issued to a relay are redeemed through it only (§19.6).
                    ALTER TABLE enrollment_codes ADD COLUMN relay TEXT;
                    """)
        }
        return migrator
    }

    /// The audit as one table reads (schema v11): a write's columns on each of its fields.
    static let auditView = """
        CREATE VIEW audit AS
            SELECT w.id AS id, f.n AS n, w.household AS household, w.entity AS entity, w.kind AS kind, f.field AS field, f.old AS old,
                   f.new AS new, w.write_id AS write_id, w.device AS device, w.seq AS seq, COALESCE(w.actor, 'device:' || w.device) AS actor,
                   w.at AS at, w.origin AS origin, f.settled AS settled
            FROM audit_writes w JOIN audit_fields f ON f.write = w.id;
        """
}
