import DoorstepCore
import Foundation
import GRDB
import Synchronization

/// What a district relay keeps (protocol 1.8, `protocol/README.md` §19), in one SQLite file of
/// its own: the city's copy of its district as last pulled, the batches its devices pushed (the
/// bytes and signature each device sent, until the city has taken them), each mutation with the
/// city's outcome once known, and a feed of its own that its devices pull.
///
/// What a device pulls from the relay is the city's copy of each household with the relay's
/// unsettled mutations applied over it by the same register rules a device uses for its own
/// (``HouseholdAggregate/applying(_:)``): the relay decides no outcome and rewrites nothing.
final class RelayStore: Sendable {
    let pool: DatabasePool
    /// The district the relay serves.
    let district: String
    /// This relay database's own id, in its pull cursors (a cursor of another server is refused).
    let instance: String
    /// The relay's clock: it absorbs its devices' stamps and the city's clock, and answers with it.
    private let clock: Mutex<HybridLogicalClock>

    init(path: String, district: String, clock physical: @escaping @Sendable () -> Int64 = HybridLogicalClock.systemMillis) throws {
        clock = Mutex(HybridLogicalClock(physicalMillis: physical))
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(pool)
        self.district = district
        instance = try pool.write { db in
            if let held = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance'") {
                guard let served = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'district'"), served == district else {
                    throw DoorstepError(.invalidValue, "this relay's data folder serves another district; start it with that district or another folder")
                }
                return held
            }
            let made = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('instance', ?), ('district', ?)", arguments: [String(made), district])
            return String(made)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("relay v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
                    -- The district's devices as the city listed them, and those enrolled through the relay.
                    CREATE TABLE devices (
                        id TEXT PRIMARY KEY NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        record TEXT NOT NULL,
                        revoked_here_at TEXT,
                        revocation_sent INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    -- The highest seq n of each device such that the relay or the city holds 1...n.
                    CREATE TABLE progress (device TEXT PRIMARY KEY NOT NULL, highest_seq INTEGER NOT NULL) WITHOUT ROWID;
                    -- Each batch as its device sent it: the bytes it signed, and its signature.
                    CREATE TABLE batches (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        device TEXT NOT NULL,
                        body BLOB NOT NULL,
                        signature TEXT NOT NULL,
                        received_at TEXT NOT NULL,
                        state INTEGER NOT NULL DEFAULT 0, -- 0 to forward, 1 taken by the city, 2 refused by it
                        forwarded_at TEXT,
                        error TEXT
                    );
                    CREATE INDEX batches_waiting ON batches(device, id) WHERE state = 0;
                    CREATE TABLE mutations (
                        device TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        household TEXT NOT NULL,
                        body TEXT NOT NULL, -- as the device sent it
                        arrival INTEGER NOT NULL,
                        received_at TEXT NOT NULL,
                        shown TEXT, -- its values normalised, when valid: applied over the city's copy until settled
                        outcome TEXT, -- the city's MutationResult
                        confirmed INTEGER, -- the receipt mark it came with
                        settled INTEGER NOT NULL DEFAULT 0,
                        seen INTEGER NOT NULL DEFAULT 0, -- the device was told the city's outcome
                        PRIMARY KEY (device, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX mutations_overlay ON mutations(household, arrival) WHERE settled = 0 AND shown IS NOT NULL;
                    CREATE INDEX mutations_waiting ON mutations(arrival) WHERE outcome IS NULL;
                    -- The city's copy of each household of the district, as last pulled.
                    CREATE TABLE city_households (id TEXT PRIMARY KEY NOT NULL, aggregate BLOB NOT NULL) WITHOUT ROWID;
                    CREATE TABLE aliases (alias TEXT PRIMARY KEY NOT NULL, survivor TEXT NOT NULL) WITHOUT ROWID;
                    -- The relay's own feed: each household once, at the position of its last change.
                    CREATE TABLE changes (household TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
                    CREATE UNIQUE INDEX changes_seq ON changes(seq);
                    -- Files its devices uploaded whole to the relay, and whether the city holds them whole yet.
                    CREATE TABLE files (sha256 TEXT PRIMARY KEY NOT NULL, length INTEGER NOT NULL, received_at TEXT NOT NULL, at_city INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
                    -- Enrollment codes the city issued to this relay (§19.6), and the devices enrolled with them.
                    CREATE TABLE codes (code_hash TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT) WITHOUT ROWID;
                    CREATE TABLE enrollments (
                        device TEXT PRIMARY KEY NOT NULL,
                        code_hash TEXT NOT NULL,
                        name TEXT NOT NULL,
                        token_hash TEXT NOT NULL,
                        signing_key TEXT NOT NULL,
                        state INTEGER NOT NULL DEFAULT 0 -- 0 to tell the city, 1 made there, 2 refused there
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("relay v2") { db in
            // When the city was first seen to hold a file whole: the relay's copy goes some days after (§19.3).
            try db.execute(sql: "ALTER TABLE files ADD COLUMN at_city_at TEXT")
        }
        migrator.registerMigration("relay v3") { db in
            /// Adds a column unless the table has it (a data folder of a development version had some);
            /// whether it added it.
            @discardableResult
            func add(_ table: String, _ column: String, _ definition: String) throws -> Bool {
                guard try !db.columns(in: table).contains(where: { $0.name == column }) else { return false }
                try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(column) \(definition)")
                return true
            }
            try db.execute(sql: "UPDATE files SET at_city_at = received_at WHERE at_city = 1 AND at_city_at IS NULL")
            // The seqs a batch brings (its mutations' and its declared lost range, from past what the
            // relay held): a device's batches go to the city in the order of their seqs, a batch sent
            // again after a restore of the city before those the relay had forwarded after it (§19.8).
            try add("batches", "first_seq", "INTEGER NOT NULL DEFAULT 0")
            try add("batches", "last_seq", "INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "DROP INDEX IF EXISTS batches_waiting")
            try db.execute(sql: "CREATE INDEX batches_waiting ON batches(device, first_seq, id) WHERE state = 0")
            // 0 not known at the city yet, 1 in its last list of the district's devices, 2 made at the
            // city since that list, -1 no longer known there (restored from a backup without it); a
            // device's batches go to the city only while it is known there.
            if try add("devices", "at_city", "INTEGER NOT NULL DEFAULT 0") {
                try db.execute(sql: "UPDATE devices SET at_city = 1 WHERE id NOT IN (SELECT device FROM enrollments WHERE state <> 1)")
            }
            // An enrollment made here reported again to a city restored without it.
            try add("enrollments", "again", "INTEGER NOT NULL DEFAULT 0")
            // The pull of the city that last delivered a household's copy: a pull begun again after a
            // restore removes the copies it did not deliver.
            try add("city_households", "pull_epoch", "INTEGER NOT NULL DEFAULT 0")
            // The highest seq of each device the city was seen to hold (its lists, its receipts): a list
            // saying less is a city restored from a backup (§19.8). And, after a restore, the seq the
            // city holds, told to the device's catch-up so that it sends again what the relay forwards
            // again, and hears the restored city's outcomes.
            try add("progress", "city_held", "INTEGER NOT NULL DEFAULT 0")
            try add("progress", "ask_from", "INTEGER")
            try db.execute(
                sql: """
                    UPDATE progress SET city_held = MAX(city_held, COALESCE(
                        (SELECT json_extract(record, '$.highestSeq') FROM devices WHERE devices.id = progress.device), 0))
                    """)
            for row in try Row.fetchAll(db, sql: "SELECT id, body FROM batches WHERE first_seq = 0") {
                // A body that does not read (none should) keeps 0 and 0: it goes to the city in the order it came.
                guard let batch = try? WireCoding.decode(PushBatch.self, from: row["body"] as Data) else { continue }
                let seqs = Self.seqs(of: batch)
                try db.execute(
                    sql: "UPDATE batches SET first_seq = ?, last_seq = ? WHERE id = ?", arguments: [seqs.first, seqs.last, row["id"] as Int64])
            }
        }
        return migrator
    }

    // MARK: Clock

    /// Takes a stamp seen (a device's, the city's) into the relay's clock.
    func absorb(_ stamp: HLC) { clock.withLock { $0.absorb(stamp) } }

    /// The relay's clock now, for an answer.
    func tick() -> HLC { clock.withLock { $0.tick() } }

    // MARK: Meta

    /// Keys of the meta table.
    enum Key: String {
        case cityCursor, receiptMark, feedSeq, arrival, lastContactAt, lastError, lastForwardAt, revoked, reachable
        case cityKeyID, cityPublicKey, campaigns
        /// The city's page the line cut, as far as it came (an ``UnfinishedPage``).
        case partialPage
        /// Salts the devices' cursors: changed when the city was restored from a backup, so that
        /// each device pulls its district again and says what it had acknowledged (§8, §19.8).
        case cursorEpoch
        /// Set when the city was restored: the next list of devices says how far the city holds each one's work.
        case checkProgress
        /// The pull of the city under way (raised when one begins again after a restore), and whether it is such a one.
        case pullEpoch, repulling
    }

    func value(_ key: Key) throws -> String? {
        try pool.read { db in try Self.value(db, key) }
    }

    func set(_ key: Key, _ value: String?) throws {
        try pool.write { db in try Self.set(db, key, value) }
    }

    static func value(_ db: Database, _ key: Key) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key.rawValue])
    }

    static func set(_ db: Database, _ key: Key, _ value: String?) throws {
        if let value {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key.rawValue, value])
        } else {
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key.rawValue])
        }
    }

    /// The next value of a counter kept in the meta table.
    static func next(_ db: Database, _ key: Key) throws -> Int64 {
        let value = (try value(db, key).flatMap { Int64($0) } ?? 0) + 1
        try set(db, key, String(value))
        return value
    }
}
