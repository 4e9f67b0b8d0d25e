import DoorstepCore
import GRDB

/// The local database's schema, as named migrations. A shipped migration is never edited.
enum ClientSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 scope, outbox, quarantine") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE households (
                        id TEXT PRIMARY KEY NOT NULL,
                        pulled TEXT,
                        view TEXT NOT NULL,
                        district TEXT,
                        head_name TEXT,
                        national_id TEXT,
                        address TEXT,
                        status TEXT,
                        conflicts INTEGER NOT NULL DEFAULT 0,
                        local_changes INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE INDEX households_head_name ON households(head_name);
                    CREATE INDEX households_national_id ON households(national_id);
                    CREATE INDEX households_status ON households(status);
                    CREATE INDEX households_district ON households(district);
                    CREATE TABLE aliases (alias TEXT PRIMARY KEY NOT NULL, survivor TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY,
                        household TEXT NOT NULL,
                        body TEXT NOT NULL,
                        acked INTEGER NOT NULL DEFAULT 0,
                        created_at TEXT NOT NULL
                    );
                    CREATE INDEX outbox_household ON outbox(household);
                    CREATE TABLE quarantine (
                        seq INTEGER PRIMARY KEY,
                        household TEXT NOT NULL,
                        body TEXT NOT NULL,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        at TEXT NOT NULL
                    );
                    """)
        }
        // GRDB's observation cannot see changes to WITHOUT ROWID tables: the households table
        // becomes an ordinary one so that lists refresh when a write or a sync changes them.
        migrator.registerMigration("v2 observable households") { db in
            try db.execute(
                sql: """
                    CREATE TABLE households_v2 (
                        id TEXT PRIMARY KEY NOT NULL,
                        pulled TEXT,
                        view TEXT NOT NULL,
                        district TEXT,
                        head_name TEXT,
                        national_id TEXT,
                        address TEXT,
                        status TEXT,
                        conflicts INTEGER NOT NULL DEFAULT 0,
                        local_changes INTEGER NOT NULL DEFAULT 0
                    );
                    INSERT INTO households_v2 (id, pulled, view, district, head_name, national_id, address, status, conflicts, local_changes)
                        SELECT id, pulled, view, district, head_name, national_id, address, status, conflicts, local_changes FROM households;
                    DROP TABLE households;
                    ALTER TABLE households_v2 RENAME TO households;
                    CREATE INDEX households_head_name ON households(head_name);
                    CREATE INDEX households_national_id ON households(national_id);
                    CREATE INDEX households_status ON households(status);
                    CREATE INDEX households_district ON households(district);
                    """)
        }
        // A household's entries move to rows of their own, so that recording a visit writes one
        // entry rather than the whole household (see LocalStore). Existing households are split.
        migrator.registerMigration("v3 household entries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE household_entities (
                        owner TEXT NOT NULL,
                        id TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        pulled TEXT,
                        view TEXT,
                        conflicts INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (owner, id)
                    );
                    CREATE TRIGGER households_drop_entries AFTER DELETE ON households
                    BEGIN DELETE FROM household_entities WHERE owner = old.id; END;
                    """)
            let rows = try Row.fetchAll(db, sql: "SELECT id, pulled, view FROM households")
            for row in rows {
                let id: String = row["id"]
                var view = try LocalStore.decode(HouseholdAggregate.self, row["view"])
                var pulled = try (row["pulled"] as String?).map { try LocalStore.decode(HouseholdAggregate.self, $0) }
                var pulledByID: [EntityID: EntityState] = [:]
                for entity in pulled?.entities ?? [] { pulledByID[entity.id] = entity }
                var position = 0
                for entity in view.entities {
                    try db.execute(
                        sql: "INSERT INTO household_entities (owner, id, position, pulled, view, conflicts) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [
                            id, entity.id.description, position, try pulledByID.removeValue(forKey: entity.id).map(LocalStore.encode),
                            try LocalStore.encode(entity), entity.conflicts.count,
                        ]
                    )
                    position += 1
                }
                for entity in (pulled?.entities ?? []) where pulledByID[entity.id] != nil {
                    try db.execute(
                        sql: "INSERT INTO household_entities (owner, id, position, pulled, conflicts) VALUES (?, ?, ?, ?, 0)",
                        arguments: [id, entity.id.description, position, try LocalStore.encode(entity)])
                    position += 1
                }
                view.entities = []
                pulled?.entities = []
                try db.execute(
                    sql: "UPDATE households SET pulled = ?, view = ? WHERE id = ?",
                    arguments: [try pulled.map(LocalStore.encode), try LocalStore.encode(view), id])
            }
        }
        // A write no longer updates the settings row for its seq and stamp (one page fewer per
        // visit): the newest outbox row holds both (`hlc`, NULL in rows from before), and the
        // settings keep them only for rows that leave the outbox (acknowledged, quarantined), so
        // that a seq is never given twice and the clock never goes back (see LocalStore.counters).
        migrator.registerMigration("v4 counters in the outbox") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN hlc TEXT;
                    CREATE TRIGGER outbox_keeps_counters AFTER DELETE ON outbox
                    BEGIN
                        UPDATE settings SET value = CAST(old.seq + 1 AS TEXT) WHERE key = 'nextSeq' AND CAST(value AS INTEGER) <= old.seq;
                        UPDATE settings SET value = old.hlc WHERE key = 'hlc' AND old.hlc IS NOT NULL AND value < old.hlc;
                    END;
                    """)
        }
        // The server's reason for a refusal in Chinese too (MutationResult.reasonZh).
        migrator.registerMigration("v5 refusal reasons in Chinese") { db in
            try db.execute(sql: "ALTER TABLE quarantine ADD COLUMN reason_zh TEXT")
        }
        // The facts of a refusal (MutationResult.details, protocol 1.1), to explain it in any language.
        migrator.registerMigration("v6 refusal details") { db in
            try db.execute(sql: "ALTER TABLE quarantine ADD COLUMN details TEXT")
        }
        // The stamp the server applied an acknowledged mutation with, where it clamped the device's
        // (MutationResult.stamp): the overlay shows the write under the id the server gave it.
        migrator.registerMigration("v7 applied stamps") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN stamp TEXT")
        }
        // What the worklist needs beside each household (HouseholdWorkFacts), so that it reads no
        // visits: the latest home visit and visit, whether it asked for a follow-up, the next
        // assistance item due; and each entry's kind, to find a household's assistance items.
        migrator.registerMigration("v8 worklist facts") { db in
            try db.execute(
                sql: """
                    ALTER TABLE households ADD COLUMN home_visit_at TEXT;
                    ALTER TABLE households ADD COLUMN latest_visit_at TEXT;
                    ALTER TABLE households ADD COLUMN follow_up INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE households ADD COLUMN next_due TEXT;
                    ALTER TABLE household_entities ADD COLUMN kind TEXT;
                    UPDATE household_entities SET kind = json_extract(COALESCE(view, pulled), '$.kind');
                    CREATE INDEX household_entities_kind ON household_entities(owner, kind);
                    """)
            for id in try String.fetchAll(db, sql: "SELECT id FROM households").compactMap({ try? EntityID($0) }) {
                guard let view = try LocalStore.view(db, id) else { continue }
                try LocalStore.storeFacts(db, HouseholdWorkFacts(view), of: id)
            }
        }
        // The worklist and its counts read a narrow index rather than the households' stored
        // texts (a scan of 10,000 households reads about a megabyte, not the district's files),
        // and the households needing attention are found without a scan.
        migrator.registerMigration("v9 worklist index") { db in
            try db.execute(
                sql: """
                    CREATE INDEX households_worklist ON households(
                        head_name, id, national_id, address, district, status, home_visit_at, follow_up, next_due, conflicts, local_changes);
                    CREATE INDEX households_conflicted ON households(id) WHERE conflicts > 0;
                    """)
        }
        // Attachments' files (protocol 1.4): which bytes the laptop holds in its folder of files,
        // which it made (and so uploads), and which the server holds whole.
        migrator.registerMigration("v10 attachment files") { db in
            try db.execute(
                sql: """
                    CREATE TABLE attachment_files (
                        sha256 TEXT PRIMARY KEY NOT NULL,
                        size INTEGER NOT NULL,
                        media_type TEXT NOT NULL,
                        held INTEGER NOT NULL DEFAULT 0,
                        mine INTEGER NOT NULL DEFAULT 0,
                        uploaded INTEGER NOT NULL DEFAULT 0,
                        used_at TEXT
                    ) WITHOUT ROWID;
                    """)
        }
        // The laptop's own work the server confirmed, kept 30 days out of every view, for a server
        // restored from an older backup (protocol 1.7, §8 "Work a restored server lost").
        migrator.registerMigration("v11 kept work") { db in
            try db.execute(
                sql: """
                    CREATE TABLE kept (
                        seq INTEGER PRIMARY KEY,
                        household TEXT NOT NULL,
                        body TEXT NOT NULL,
                        hlc TEXT,
                        settled_at TEXT NOT NULL
                    );
                    CREATE INDEX kept_settled ON kept(settled_at);
                    """)
        }
        return migrator
    }
}
