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

    // MARK: Devices

    /// Takes devices the city made: new ones added, every record (a revocation made at the city
    /// above all) replaced; what each device has at the city raises its progress. `complete`: the
    /// city's whole list of the district's devices; the answer is then whether it shows a city
    /// restored from a backup (§19.8): a device it listed before is missing, or it holds less of a
    /// device's work than it was seen to hold.
    @discardableResult
    func takeDevices(_ list: [RelayDevice], complete: Bool = false) throws -> Bool {
        try pool.write { db in
            var missing = false
            if complete {
                let listed = Set(list.filter { $0.device.district == district }.map(\.device.id.rawValue))
                for row in try Row.fetchAll(db, sql: "SELECT id, at_city FROM devices WHERE at_city > 0") where !listed.contains(row["id"] as String) {
                    // One made at the city since the list before (the list may have been asked before it
                    // was made) waits for a list that has it; one listed before is gone: a restore.
                    let gone = row["at_city"] as Int == 1
                    if gone { missing = true }
                    try db.execute(sql: "UPDATE devices SET at_city = ? WHERE id = ?", arguments: [gone ? -1 : 0, row["id"] as String])
                }
                for entry in list where entry.device.district == district {
                    let seen = try Int64.fetchOne(db, sql: "SELECT city_held FROM progress WHERE device = ?", arguments: [entry.device.id.rawValue]) ?? 0
                    if entry.device.highestSeq < seen { missing = true }
                }
            }
            for entry in list where entry.device.district == district {
                try db.execute(
                    sql: """
                        INSERT INTO devices (id, token_hash, record, at_city) VALUES (?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, record = excluded.record,
                            at_city = MAX(at_city, excluded.at_city)
                        """,
                    arguments: [
                        entry.device.id.rawValue, entry.tokenHash, String(decoding: try WireCoding.encode(entry.device), as: UTF8.self), complete ? 1 : 2,
                    ])
                if complete { try db.execute(sql: "UPDATE devices SET at_city = 1 WHERE id = ?", arguments: [entry.device.id.rawValue]) }
                try db.execute(
                    sql: """
                        INSERT INTO progress (device, highest_seq, city_held) VALUES (?, ?, ?)
                        ON CONFLICT (device) DO UPDATE SET highest_seq = MAX(highest_seq, excluded.highest_seq),
                            city_held = MAX(city_held, excluded.city_held)
                        """, arguments: [entry.device.id.rawValue, entry.device.highestSeq, entry.device.highestSeq])
            }
            return missing
        }
    }

    /// Devices whose work waits here because the city does not know them (yet, or since a restore).
    func devicesUnknownAtCity() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT device FROM batches WHERE state = 0 AND device IN (SELECT id FROM devices WHERE at_city <= 0)")
        }
    }

    /// The device holding a token (by its hash), with whether the office revoked it here.
    /// `forgotten`: the city no longer knows it (restored from a backup taken before it was
    /// enrolled) and the relay is not making it there again.
    func device(tokenHash: String) throws -> (record: DeviceRecord, revokedHere: Bool, forgotten: Bool)? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT record, revoked_here_at,
                            at_city < 0 AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.device = devices.id AND e.state = 0) AS forgotten
                        FROM devices WHERE token_hash = ?
                        """, arguments: [tokenHash])
            else { return nil }
            return (
                try WireCoding.decode(DeviceRecord.self, from: Data((row["record"] as String).utf8)), (row["revoked_here_at"] as String?) != nil,
                row["forgotten"] as Bool
            )
        }
    }

    /// A device's record; `nil` for one the relay does not know.
    func device(id: DeviceID) throws -> DeviceRecord? {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT record FROM devices WHERE id = ?", arguments: [id.rawValue])
                .map { try WireCoding.decode(DeviceRecord.self, from: Data($0.utf8)) }
        }
    }

    /// Revokes a device of the district here, at once (an office did it at the relay, §19.5); the
    /// city is told at the relay's next round. `nil` for a device the relay does not know.
    func revokeHere(_ id: DeviceID, at: String) throws -> DeviceRecord? {
        try pool.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT record FROM devices WHERE id = ?", arguments: [id.rawValue]) else { return nil }
            try db.execute(
                sql: "UPDATE devices SET revoked_here_at = COALESCE(revoked_here_at, ?) WHERE id = ?", arguments: [at, id.rawValue])
            var record = try WireCoding.decode(DeviceRecord.self, from: Data(text.utf8))
            if record.revokedAt == nil {
                record.revokedAt = try String.fetchOne(db, sql: "SELECT revoked_here_at FROM devices WHERE id = ?", arguments: [id.rawValue])
            }
            return record
        }
    }

    /// Revocations made here that the city has not taken yet.
    func revocationsToSend() throws -> [DeviceID] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM devices WHERE revoked_here_at IS NOT NULL AND revocation_sent = 0").compactMap { try? DeviceID($0) }
        }
    }

    /// Notes that the city took a revocation made here.
    func revocationSent(_ id: DeviceID) throws {
        try pool.write { db in try db.execute(sql: "UPDATE devices SET revocation_sent = 1 WHERE id = ?", arguments: [id.rawValue]) }
    }

    /// How many devices of the district the relay knows.
    func deviceCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM devices") ?? 0 }
    }

    // MARK: Pushes

    /// Takes a batch a device pushed, in one transaction: seqs the relay (or the city) holds are
    /// answered from what it holds (the city's outcome once it is known, `relayed` until then;
    /// different content is `seqReuse`), new ones are kept with the batch's bytes and signature
    /// for the city and answered `relayed`; a batch that does not start where the device's work
    /// held here ends is `missingPredecessor`, and nothing changes.
    func take(
        _ batch: PushBatch, body: Data, signature: String, now: String, city: CityData
    ) throws -> (results: [MutationResult], highestContiguousSeq: Int64) {
        try pool.write { db in
            let device = batch.device.rawValue
            let progress = try Row.fetchOne(db, sql: "SELECT highest_seq, ask_from FROM progress WHERE device = ?", arguments: [device])
            var held: Int64 = progress?["highest_seq"] ?? 0
            let heldBefore = held
            if let ask = progress?["ask_from"] as Int64? {
                // After a restore of the city (§19.8): the device's catch-up (a batch of nothing but
                // `acknowledgedThrough`) is told what the city holds, so that it sends again from there;
                // once it does, it is told what the relay holds.
                if batch.mutations.isEmpty && batch.lost == nil && batch.acknowledgedThrough != nil { return ([], min(held, ask)) }
                if Self.seqs(of: batch).first <= ask + 1 {
                    try db.execute(sql: "UPDATE progress SET ask_from = NULL WHERE device = ?", arguments: [device])
                }
            }
            var advanced = false
            if let lost = batch.lost {
                guard lost.from <= held + 1 else { throw MergeEngine.missingPredecessor(held: held, first: lost.from) }
                if lost.through > held {
                    held = lost.through
                    advanced = true
                }
            }
            var answers: [Int64: MutationResult] = [:]
            var fresh: [Mutation] = []
            // Seqs the city holds that this relay never saw (the device pushed them to the city
            // directly): forwarded too, so that the city's own answer (a refusal, a stamp) comes back.
            var unseen: [Mutation] = []
            for mutation in batch.mutations {
                // A seq the relay holds is answered from it, even above `held` (the city was restored
                // and lacks earlier work this relay never saw: the device sends it again, then these).
                guard
                    let row = try Row.fetchOne(db, sql: "SELECT body, outcome FROM mutations WHERE device = ? AND seq = ?", arguments: [device, mutation.seq])
                else {
                    if mutation.seq > held {
                        fresh.append(mutation)
                    } else {
                        unseen.append(mutation)
                        answers[mutation.seq] = MutationResult(seq: mutation.seq, outcome: .relayed)
                    }
                    continue
                }
                // The device's bytes as they came, compared as the city compares them.
                guard try WireCoding.decode(Mutation.self, from: Data((row["body"] as String).utf8)) == mutation else {
                    throw DoorstepError(.seqReuse, "seq \(mutation.seq) of this device was already used for a different mutation; a device never reuses a seq")
                }
                if let text = row["outcome"] as String? {
                    answers[mutation.seq] = try WireCoding.decode(MutationResult.self, from: Data(text.utf8))
                    try db.execute(sql: "UPDATE mutations SET seen = 1 WHERE device = ? AND seq = ?", arguments: [device, mutation.seq])
                } else {
                    answers[mutation.seq] = MutationResult(seq: mutation.seq, outcome: .relayed)
                }
            }
            // In the batch's order (§8): a client pairs results with its mutations by position.
            func results() -> [MutationResult] { batch.mutations.compactMap { answers[$0.seq] } }
            if let first = fresh.first, first.seq != held + 1 { throw MergeEngine.missingPredecessor(held: held, first: first.seq) }
            guard !fresh.isEmpty || !unseen.isEmpty || advanced else { return (results(), held) }
            // Ordered by what it brings: a lost range from past what was held (its start may be work
            // the relay holds and forwards in batches of its own, which go first).
            let brought = fresh.map(\.seq) + unseen.map(\.seq) + (advanced ? [max(batch.lost?.from ?? 0, heldBefore + 1)] : [])
            try db.execute(
                sql: "INSERT INTO batches (device, body, signature, received_at, first_seq, last_seq) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [device, body, signature, now, brought.min() ?? 0, Self.seqs(of: batch).last])
            for mutation in unseen {
                // Already at the city, as it answers: not shown over its copy (its copy has it, or it refused it).
                try Self.keep(db, mutation, shown: nil, now: now)
            }
            for mutation in fresh {
                // Shown over the city's copy only when valid; forwarded either way (the city answers).
                var shown = mutation
                let writes = try? MutationValidator.validate(mutation.op, kind: mutation.kind, fields: mutation.fields, city: city)
                if let writes { shown.fields = writes }
                try Self.touch(db, try Self.keep(db, mutation, shown: writes == nil ? nil : shown, now: now))
                answers[mutation.seq] = MutationResult(seq: mutation.seq, outcome: .relayed)
                held = max(held, mutation.seq)
            }
            // Work held here above a gap the device just filled counts again.
            held = try Self.contiguous(db, device: batch.device, from: held)
            try db.execute(
                sql: "INSERT INTO progress (device, highest_seq) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET highest_seq = excluded.highest_seq",
                arguments: [device, held])
            return (results(), held)
        }
    }

    /// The seqs a batch covers, its mutations' and its declared lost range's (0 and 0 for none).
    static func seqs(of batch: PushBatch) -> (first: Int64, last: Int64) {
        let all = batch.mutations.map(\.seq) + (batch.lost.map { [$0.from, $0.through] } ?? [])
        return (all.min() ?? 0, all.max() ?? 0)
    }

    /// The highest seq n from `held` on such that the relay holds each of `held`+1 ... n of a device.
    static func contiguous(_ db: Database, device: DeviceID, from held: Int64) throws -> Int64 {
        var held = held
        while try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM mutations WHERE device = ? AND seq = ?)", arguments: [device.rawValue, held + 1]) ?? false
        {
            held += 1
        }
        return held
    }

    /// Keeps a mutation for the city, the device's bytes as they came and, when valid, its normalised
    /// values to show; returns the household it is shown in.
    @discardableResult
    static func keep(_ db: Database, _ mutation: Mutation, shown: Mutation?, now: String) throws -> EntityID {
        let household = try survivor(db, of: mutation.household)
        try db.execute(
            sql: "INSERT INTO mutations (device, seq, household, body, arrival, received_at, shown) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                mutation.device.rawValue, mutation.seq, household.description, String(decoding: try WireCoding.encode(mutation), as: UTF8.self),
                try next(db, .arrival), now, try shown.map { String(decoding: try WireCoding.encode($0), as: UTF8.self) },
            ])
        return household
    }

    /// The survivor a household id stands for at the city (itself when not linked).
    static func survivor(_ db: Database, of household: EntityID) throws -> EntityID {
        guard let text = try String.fetchOne(db, sql: "SELECT survivor FROM aliases WHERE alias = ?", arguments: [household.description]) else {
            return household
        }
        return (try? EntityID(text)) ?? household
    }

    /// Puts a household at the end of the relay's feed.
    static func touch(_ db: Database, _ household: EntityID, removed: Bool = false) throws {
        let seq = try next(db, .feedSeq)
        try db.execute(
            sql: "INSERT OR REPLACE INTO changes (household, seq, removed) VALUES (?, ?, ?)", arguments: [household.description, seq, removed])
    }

    // MARK: Pulls by the relay's devices

    /// One page of the relay's feed after `cursor`: households as the relay shows them, as JSON
    /// (the city's copy's bytes as they are kept when nothing of the relay's is shown over it),
    /// and those the city linked away or that left the district.
    func page(after cursor: Int64, limit: Int) throws -> (households: [[UInt8]], removed: [EntityID], next: Int64, hasMore: Bool) {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT household, seq, removed FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit + 1])
            var households: [[UInt8]] = []
            var removed: [EntityID] = []
            var next = cursor
            for row in rows.prefix(limit) {
                next = row["seq"]
                guard let id = try? EntityID(row["household"] as String) else { continue }
                if !(row["removed"] as Bool), let json = try Self.shownJSON(db, id) {
                    households.append(json)
                } else if try row["removed"] as Bool || Self.refusedFiling(db, id) {
                    // Linked away or out of the district at the city, or filed here and refused there.
                    removed.append(id)
                }
                // Else not known here yet (its copy comes with the relay's next pull): nothing said of it.
            }
            return (households, removed, next, rows.count > limit)
        }
    }

    /// A household as the relay shows it, as JSON: the city's copy's bytes when no unsettled work of
    /// the relay's devices is shown over it (most of a district), else ``shown(_:_:)`` encoded.
    static func shownJSON(_ db: Database, _ id: EntityID) throws -> [UInt8]? {
        let ids = [id.description] + (try String.fetchAll(db, sql: "SELECT alias FROM aliases WHERE survivor = ?", arguments: [id.description]))
        let overlaid =
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM mutations WHERE settled = 0 AND shown IS NOT NULL
                        AND household IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", "))))
                    """, arguments: StatementArguments(ids)) ?? false
        if !overlaid, let stored = try Data.fetchOne(db, sql: "SELECT aggregate FROM city_households WHERE id = ?", arguments: [id.description]) {
            return [UInt8](stored)
        }
        return try shown(db, id).map { [UInt8](try WireCoding.encode($0)) }
    }

    /// An attachment of the district as the relay shows it (the city's copy, or a creation held
    /// here); `nil` when it is not in the relay's view, or deleted.
    func attachment(_ id: EntityID) throws -> EntityState? {
        try pool.read { db in
            let households =
                try String.fetchAll(
                    db, sql: "SELECT id FROM city_households WHERE instr(CAST(aggregate AS TEXT), ?) > 0", arguments: [id.description])
                + String.fetchAll(
                    db, sql: "SELECT DISTINCT household FROM mutations WHERE shown IS NOT NULL AND json_extract(body, '$.entity') = ?",
                    arguments: [id.description])
            for household in Set(households).compactMap({ try? EntityID($0) }) {
                if let found = try Self.shown(db, household)?.entities.first(where: { $0.id == id && $0.kind == .attachment }) {
                    return found.isDeleted ? nil : found
                }
            }
            return nil
        }
    }

    /// Whether a household was filed here and the city refused its filing.
    static func refusedFiling(_ db: Database, _ id: EntityID) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM mutations WHERE household = ? AND json_extract(body, '$.entity') = ?
                    AND json_extract(body, '$.op') = 'create' AND json_extract(outcome, '$.outcome') = 'rejected')
                """, arguments: [id.description, id.description]) ?? false
    }

    /// A household as the relay shows it: the city's copy with the unsettled valid mutations of
    /// the relay's devices applied in the order they arrived; `nil` when neither exists.
    static func shown(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        var aggregate = try Data.fetchOne(db, sql: "SELECT aggregate FROM city_households WHERE id = ?", arguments: [id.description])
            .map { try WireCoding.decode(HouseholdAggregate.self, from: $0) }
        let ids = [id] + (aggregate?.aliases ?? [])
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let overlay = try String.fetchAll(
            db, sql: "SELECT shown FROM mutations WHERE settled = 0 AND shown IS NOT NULL AND household IN (\(placeholders)) ORDER BY arrival",
            arguments: StatementArguments(ids.map(\.description))
        ).map { try WireCoding.decode(Mutation.self, from: Data($0.utf8)) }
        if aggregate == nil {
            // Filed on the district's LAN and not yet at the city: its creation is the start.
            guard let creation = overlay.first(where: { $0.kind == .household && $0.op == .create && $0.entity == id }),
                let state = EntityState.applyingEntry(creation, to: nil)
            else { return nil }
            aggregate = HouseholdAggregate(household: state)
            return aggregate?.applying(overlay.filter { $0 != creation })
        }
        return aggregate?.applying(overlay)
    }

    // MARK: The city's side

    /// The batches waiting for the city, in the order they go (``ForwardingQueue``), read once a
    /// round without their bodies.
    func forwardingQueue() throws -> ForwardingQueue {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, device, first_seq FROM batches WHERE state = 0
                    AND (device IN (SELECT id FROM devices WHERE at_city > 0)
                        OR device IN (SELECT device FROM enrollments WHERE state = 0 OR (state = 2 AND again = 0)))
                    """)
            let awaiting = Set(try String.fetchAll(db, sql: "SELECT device FROM enrollments WHERE state = 0"))
            return ForwardingQueue(rows.map { ($0["id"], $0["device"], $0["first_seq"]) }, awaiting: awaiting)
        }
    }

    /// A waiting batch's device, bytes and signature; `nil` when it is no longer waiting.
    func waitingBatch(_ id: Int64) throws -> (device: DeviceID, body: Data, signature: String)? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT device, body, signature FROM batches WHERE id = ? AND state = 0", arguments: [id]),
                let device = try? DeviceID(row["device"] as String)
            else { return nil }
            return (device, row["body"], row["signature"])
        }
    }

    /// Whether work waits for the city to make a device enrolled here.
    func forwardingWaitsForEnrollment() throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM batches WHERE state = 0 AND device IN (SELECT device FROM enrollments WHERE state = 0))")
                ?? false
        }
    }

    /// Takes the city's receipt of a forwarded batch: each outcome kept for its device (a refusal
    /// leaves the relay's view at once); the batch is done.
    func takeReceipt(_ receipt: PushReceipt, batch id: Int64, now: String) throws {
        try pool.write { db in
            let mark = try Self.next(db, .receiptMark)
            for result in receipt.results {
                try db.execute(
                    sql: """
                        UPDATE mutations SET outcome = ?, confirmed = ?, settled = settled OR ?
                        WHERE device = ? AND seq = ? AND outcome IS NULL
                        """,
                    arguments: [
                        String(decoding: try WireCoding.encode(result), as: UTF8.self), mark, result.outcome == .rejected, receipt.device.rawValue,
                        result.seq,
                    ])
                if result.outcome == .rejected, db.changesCount > 0,
                    let household = try String.fetchOne(
                        db, sql: "SELECT household FROM mutations WHERE device = ? AND seq = ?", arguments: [receipt.device.rawValue, result.seq]
                    ).flatMap({ try? EntityID($0) })
                {
                    try Self.touch(db, household)
                }
            }
            try db.execute(sql: "UPDATE batches SET state = 1, forwarded_at = ? WHERE id = ?", arguments: [now, id])
            try Self.set(db, .lastForwardAt, now)
            // What the city holds of the device (a revoked device's work held for review aside).
            if !receipt.results.contains(where: { $0.code == .deviceRevoked }) {
                try db.execute(
                    sql: "UPDATE progress SET city_held = MAX(city_held, ?) WHERE device = ?",
                    arguments: [receipt.highestContiguousSeq, receipt.device.rawValue])
            }
        }
    }

    /// A batch the city refused as a whole for good (a signature, a scope, a shape): each of its
    /// mutations still waiting is answered with the refusal, as the city would have answered the device.
    func refuse(batch id: Int64, _ error: DoorstepError, now: String) throws {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT device, body FROM batches WHERE id = ?", arguments: [id]) else { return }
            let batch = try WireCoding.decode(PushBatch.self, from: row["body"] as Data)
            let mark = try Self.next(db, .receiptMark)
            for mutation in batch.mutations {
                let result = MutationResult(
                    seq: mutation.seq, outcome: .rejected, code: error.code, reason: error.message, reasonZh: error.chineseMessage,
                    details: error.details.isEmpty ? nil : error.details)
                try db.execute(
                    sql: "UPDATE mutations SET outcome = ?, confirmed = ?, settled = 1 WHERE device = ? AND seq = ? AND outcome IS NULL",
                    arguments: [String(decoding: try WireCoding.encode(result), as: UTF8.self), mark, row["device"] as String, mutation.seq])
                if db.changesCount > 0 { try Self.touch(db, try Self.survivor(db, of: mutation.household)) }
            }
            try db.execute(
                sql: "UPDATE batches SET state = 2, forwarded_at = ?, error = ? WHERE id = ?", arguments: [now, "\(error.code): \(error.message)", id])
        }
    }

    /// The mark of the last receipt taken: a page of the city's asked for after it holds what
    /// every receipt up to it said was applied.
    func receiptMark() throws -> Int64 {
        try value(.receiptMark).flatMap { Int64($0) } ?? 0
    }

    /// Takes a page of the city's pull, asked for when the receipt mark was `asked`: each household's
    /// copy replaced (the relay's feed delivers it again), the mutations it now holds settled (those
    /// the city confirmed before the page was asked for, as a device settles its own, §8), the
    /// households it removed removed; the last page (`hasMore` false) settles every confirmed one.
    func takeCityPage(_ page: PullPage, asked: Int64) throws {
        try pool.write { db in
            let epoch = try Self.value(db, .pullEpoch).flatMap { Int64($0) } ?? 0
            for aggregate in page.households {
                let id = aggregate.household.id
                try db.execute(
                    sql: "INSERT OR REPLACE INTO city_households (id, aggregate, pull_epoch) VALUES (?, ?, ?)",
                    arguments: [id.description, try WireCoding.encode(aggregate), epoch])
                for alias in aggregate.aliases {
                    try db.execute(sql: "INSERT OR REPLACE INTO aliases (alias, survivor) VALUES (?, ?)", arguments: [alias.description, id.description])
                    try db.execute(sql: "UPDATE mutations SET household = ? WHERE household = ?", arguments: [id.description, alias.description])
                }
                let ids = [id] + aggregate.aliases
                let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
                try db.execute(
                    sql: "UPDATE mutations SET settled = 1 WHERE settled = 0 AND confirmed <= ? AND household IN (\(placeholders))",
                    arguments: StatementArguments([asked] + ids.map(\.description)))
                try Self.touch(db, id)
            }
            for id in page.removed {
                try db.execute(sql: "DELETE FROM city_households WHERE id = ?", arguments: [id.description])
                try Self.touch(db, id, removed: true)
            }
            if !page.hasMore {
                // Every household of the district is in the copy as the city had it after these
                // receipts (§8 "Settling", case 2): what they confirmed leaves the view, shown again.
                let settling = try String.fetchAll(
                    db, sql: "SELECT DISTINCT household FROM mutations WHERE settled = 0 AND confirmed <= ? AND shown IS NOT NULL", arguments: [asked])
                try db.execute(sql: "UPDATE mutations SET settled = 1 WHERE settled = 0 AND confirmed <= ?", arguments: [asked])
                for household in settling.compactMap({ try? EntityID($0) }) { try Self.touch(db, household) }
                if try Self.value(db, .repulling) != nil {
                    // The whole district pulled again after a restore: copies it did not deliver are
                    // of households the restored city does not hold (any work held here still shows them).
                    for text in try String.fetchAll(db, sql: "SELECT id FROM city_households WHERE pull_epoch < ?", arguments: [epoch]) {
                        try db.execute(sql: "DELETE FROM city_households WHERE id = ?", arguments: [text])
                        guard let id = try? EntityID(text) else { continue }
                        try Self.touch(db, id, removed: try Self.shown(db, id) == nil)
                    }
                    try Self.set(db, .repulling, nil)
                }
            }
            try Self.set(db, .cityCursor, page.nextCursor)
        }
    }

    /// The city refused the relay's cursor: it was restored from a backup (§19.8). The next pull
    /// starts over (the copies stay until it replaces them: a pull cut on a weak line must not empty
    /// the laptops' worklists); every file the relay holds is asked about again and sent if the
    /// city lacks it; the next list of devices says how far the city holds each one's work (what the
    /// relay forwarded beyond is forwarded again, and the devices' cursors change, so that each
    /// pulls its district again and says what it had acknowledged, as it would to the restored
    /// city directly: work it sent the city itself is sent again, ``restoreProgress(_:)``).
    func cityRestored() throws {
        try pool.write { db in
            try Self.pullAgain(db)
            try db.execute(sql: "UPDATE files SET at_city = 0, at_city_at = NULL")
            try Self.set(db, .checkProgress, "1")
        }
    }

    /// Pulls the district from the start again; the copies the new pull does not deliver go at its end.
    func pullAgain() throws { try pool.write { db in try Self.pullAgain(db) } }

    static func pullAgain(_ db: Database) throws {
        try set(db, .cityCursor, nil)
        try set(db, .partialPage, nil)
        _ = try next(db, .pullEpoch)
        try set(db, .repulling, "1")
    }

    /// Whether the relay forwarded, and the city took, work of a device from seq `resume` on.
    func forwarded(device: DeviceID, from resume: Int64) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM batches WHERE device = ? AND state = 1 AND last_seq >= ?)", arguments: [device.rawValue, resume])
                ?? false
        }
    }

    /// After the city was restored (``cityRestored()``), with its list of the district's devices:
    /// for each device the relay holds work of, the batches it forwarded beyond what the restored
    /// city holds go again (their outcomes forgotten: the city answers them anew, and they show
    /// in the relay's view until it does), and its progress here becomes what the city holds and
    /// what the relay holds after it without a gap (a device that sent the city work the relay never
    /// saw is asked for it again, §19.8); an enrollment made here that the city no longer knows is
    /// reported again; the devices' cursors change. How many batches; `nil` when there was nothing to check.
    func restoreProgress(_ list: [RelayDevice]) throws -> Int? {
        guard try value(.checkProgress) != nil else { return nil }
        return try pool.write { db in
            guard try Self.value(db, .checkProgress) != nil else { return nil }
            var cityHeld: [String: Int64] = [:]
            for entry in list where entry.device.district == district { cityHeld[entry.device.id.rawValue] = entry.device.highestSeq }
            // Devices enrolled here that the restored city no longer knows: reported again (§19.6),
            // their work forwarded again once it makes them.
            let reported = Set(
                try String.fetchAll(db, sql: "SELECT device FROM enrollments WHERE state = 1").filter { cityHeld[$0] == nil })
            for device in reported {
                try db.execute(sql: "UPDATE enrollments SET state = 0, again = 1 WHERE device = ?", arguments: [device])
            }
            var again = 0
            let devices = Set(try String.fetchAll(db, sql: "SELECT DISTINCT device FROM batches")).union(cityHeld.keys)
            // A device the restored city does not know and the relay cannot make there again (enrolled at
            // the city after the backup) is as unknown here as there (its token refused: enrolled again,
            // a laptop starts anew): its work is left as it was.
            for text in devices.sorted() where cityHeld[text] != nil || reported.contains(text) {
                guard let device = try? DeviceID(text) else { continue }
                let held = cityHeld[text] ?? 0
                again += try Self.forwardAgain(db, device: device, from: held + 1)
                let households = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT household FROM mutations m WHERE device = ? AND seq > ? AND outcome IS NOT NULL
                        AND EXISTS (SELECT 1 FROM batches b WHERE b.device = m.device AND b.state = 0 AND m.seq BETWEEN b.first_seq AND b.last_seq)
                        """, arguments: [text, held])
                try db.execute(
                    sql: """
                        UPDATE mutations SET outcome = NULL, confirmed = NULL, settled = 0, seen = 0
                        WHERE device = ? AND seq > ? AND outcome IS NOT NULL
                        AND EXISTS (SELECT 1 FROM batches b WHERE b.device = mutations.device AND b.state = 0 AND mutations.seq BETWEEN b.first_seq AND b.last_seq)
                        """, arguments: [text, held])
                for household in households.compactMap({ try? EntityID($0) }) { try Self.touch(db, household) }
                let progress = try Self.contiguous(db, device: device, from: held)
                // The device's catch-up is told what the city holds when the relay holds more: it sends
                // again from there and hears the restored city's outcomes (§19.8).
                try db.execute(
                    sql: "INSERT OR REPLACE INTO progress (device, highest_seq, city_held, ask_from) VALUES (?, ?, ?, ?)",
                    arguments: [text, progress, held, progress > held ? held : nil])
            }
            try Self.set(db, .checkProgress, nil)
            // Only now, with each device's progress as the city holds it: a device asking where the
            // relay stands is told what the city lacks of its work.
            try Self.set(db, .cursorEpoch, UUID().uuidString.lowercased())
            return again
        }
    }

    /// Forwards again what the relay forwarded of a device from seq `resume` on (the city lacks it:
    /// restored from a backup); how many batches.
    static func forwardAgain(_ db: Database, device: DeviceID, from resume: Int64) throws -> Int {
        try db.execute(sql: "UPDATE batches SET state = 0 WHERE device = ? AND state = 1 AND last_seq >= ?", arguments: [device.rawValue, resume])
        return db.changesCount
    }

    // MARK: Enrollment with the relay's own codes (§19.6)

    /// Takes the codes the city issued to this relay and has not seen used: those used here stay used.
    func takeCodes(_ codes: [RelayCode]) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM codes WHERE used_at IS NULL")
            for code in codes {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO codes (code_hash, role, expires_at) VALUES (?, ?, ?)",
                    arguments: [code.codeHash, code.role.rawValue, code.expiresAt])
            }
        }
    }

    /// Whether a code (by its hash) was issued to this relay: it is then used here, never at the city.
    func holdsCode(_ hash: String) throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM codes WHERE code_hash = ?)", arguments: [hash]) ?? false }
    }

    /// Enrolls a device with one of the relay's codes, at once, whether or not the city is
    /// reachable: `invalidEnrollmentCode` for a code used or expired.
    func enroll(code hash: String, device: DeviceID, name: String, tokenHash: String, signingKey: String, now: String) throws -> DeviceRecord {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT role, expires_at, used_at FROM codes WHERE code_hash = ?", arguments: [hash]),
                (row["used_at"] as String?) == nil, (row["expires_at"] as String) > now, let role = Role(rawValue: row["role"])
            else {
                throw DoorstepError(.invalidEnrollmentCode, "the enrollment code is unknown, already used or expired; ask the office for a new one")
            }
            try db.execute(sql: "UPDATE codes SET used_at = ? WHERE code_hash = ?", arguments: [now, hash])
            let record = DeviceRecord(
                id: device, name: name, role: role, district: district, signingKey: signingKey, enrolledAt: now, revokedAt: nil, highestSeq: 0,
                clockSkew: false, lastPushAt: nil, lastPullAt: nil)
            try db.execute(
                sql: "INSERT INTO devices (id, token_hash, record) VALUES (?, ?, ?)",
                arguments: [device.rawValue, tokenHash, String(decoding: try WireCoding.encode(record), as: UTF8.self)])
            try db.execute(
                sql: "INSERT INTO enrollments (device, code_hash, name, token_hash, signing_key) VALUES (?, ?, ?, ?, ?)",
                arguments: [device.rawValue, hash, name, tokenHash, signingKey])
            return record
        }
    }

    /// Devices enrolled here that the city has not made yet.
    func enrollmentsToReport() throws -> [RelayEnrollment] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT device, code_hash, name, token_hash, signing_key FROM enrollments WHERE state = 0").compactMap { row in
                guard let device = try? DeviceID(row["device"] as String) else { return nil }
                return RelayEnrollment(
                    codeHash: row["code_hash"], device: device, deviceName: row["name"], tokenHash: row["token_hash"], publicSigningKey: row["signing_key"])
            }
        }
    }

    /// Notes the city's answer to an enrollment made here: made, or refused (the code was
    /// revoked or expired meanwhile): a refused device's token is refused here from then on
    /// (not after a restore of the city: ``restoreProgress(_:)``).
    func enrollmentReported(_ device: DeviceID, made: Bool, now: String) throws {
        try pool.write { db in
            let again = try Bool.fetchOne(db, sql: "SELECT again = 1 FROM enrollments WHERE device = ?", arguments: [device.rawValue]) ?? false
            try db.execute(sql: "UPDATE enrollments SET state = ? WHERE device = ?", arguments: [made ? 1 : 2, device.rawValue])
            if made { try db.execute(sql: "UPDATE devices SET at_city = MAX(at_city, 2) WHERE id = ?", arguments: [device.rawValue]) }
            // Refused again by a restored city (its code is not in its backup): the laptop is not
            // revoked here; its work waits, said in the relay's status, until the city knows it.
            if !made && !again {
                try db.execute(
                    sql: "UPDATE devices SET revoked_here_at = COALESCE(revoked_here_at, ?), revocation_sent = 1 WHERE id = ?",
                    arguments: [now, device.rawValue])
            }
        }
    }

    // MARK: Files

    /// Notes a file its devices uploaded whole here, for the city.
    func fileHeld(_ sha256: String, length: Int64, now: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO files (sha256, length, received_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING", arguments: [sha256, length, now])
        }
    }

    /// Notes files held whole here that were not noted (a relay killed between an upload's last part
    /// and its note), so that they are forwarded too.
    func noteWholeFiles(_ whole: [(sha256: String, length: Int64)], now: String) throws {
        try pool.write { db in
            for file in whole {
                try db.execute(
                    sql: "INSERT INTO files (sha256, length, received_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                    arguments: [file.sha256, file.length, now])
            }
        }
    }

    /// Files held here that the city does not hold whole yet, oldest first.
    func filesToForward() throws -> [(sha256: String, length: Int64)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, length FROM files WHERE at_city = 0 ORDER BY received_at, sha256").map { ($0["sha256"], $0["length"]) }
        }
    }

    /// Notes that the city holds a file whole.
    func fileAtCity(_ sha256: String, now: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE files SET at_city = 1, at_city_at = COALESCE(at_city_at, ?) WHERE sha256 = ?", arguments: [now, sha256])
        }
    }

    /// Files the city has held whole since before `cutoff`: the relay's copies may go (§19.3).
    func filesHeldAtCity(before cutoff: String) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM files WHERE at_city = 1 AND at_city_at < ? ORDER BY at_city_at", arguments: [cutoff])
        }
    }

    /// Forgets a file whose copy here was removed (or is gone).
    func forgetFile(_ sha256: String) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM files WHERE sha256 = ?", arguments: [sha256]) }
    }

    // MARK: Status

    /// What the relay's office is shown.
    func status(upstream: String) throws -> RelayStatus {
        try pool.read { db in
            RelayStatus(
                district: district, upstream: upstream, upstreamReachable: try Self.value(db, .reachable) == "1",
                lastContactAt: try Self.value(db, .lastContactAt), lastError: try Self.value(db, .lastError),
                pendingMutations: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mutations WHERE outcome IS NULL") ?? 0,
                pendingBatches: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batches WHERE state = 0") ?? 0,
                pendingFiles: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE at_city = 0") ?? 0,
                lastForwardAt: try Self.value(db, .lastForwardAt),
                oldestUnconfirmedAt: try String.fetchOne(db, sql: "SELECT MIN(received_at) FROM mutations WHERE outcome IS NULL"),
                refusedNotYetSeen: try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM mutations WHERE seen = 0 AND outcome IS NOT NULL AND json_extract(outcome, '$.outcome') = 'rejected'")
                    ?? 0,
                devices: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM devices") ?? 0, revoked: try Self.value(db, .revoked) == "1")
        }
    }
}

/// The order a relay's waiting batches go to the city in (§19.4 step 3): one at a time, the device
/// whose earliest waiting batch came first going next (a colleague's visit to a household filed on
/// the office's network goes after the filing), each device's batches in the order of their seqs
/// (a batch its laptop sent again after a restore of the city goes before those forwarded after
/// it). The order waits at a device whose enrollment at the relay the city has yet to make.
struct ForwardingQueue {
    /// Each device's batches, by first seq then arrival.
    private var queues: [String: [(id: Int64, firstSeq: Int64)]] = [:]
    /// The earliest arrival among each device's batches.
    private var earliest: [String: Int64] = [:]
    private let awaiting: Set<String>

    init(_ batches: [(id: Int64, device: String, firstSeq: Int64)], awaiting: Set<String>) {
        for batch in batches { queues[batch.device, default: []].append((batch.id, batch.firstSeq)) }
        for device in queues.keys {
            queues[device]?.sort { ($0.firstSeq, $0.id) < ($1.firstSeq, $1.id) }
            earliest[device] = queues[device]?.map(\.id).min()
        }
        self.awaiting = awaiting
    }

    /// The next batch and its device; `nil` when none may go (the order waits at a device, or none is
    /// left). `stuck`: devices whose batch the city did not take this round.
    func next(excluding stuck: Set<String>) -> (id: Int64, device: String)? {
        for (device, _) in earliest.sorted(by: { $0.value < $1.value }) where !stuck.contains(device) {
            if awaiting.contains(device) { return nil }
            if let head = queues[device]?.first { return (head.id, device) }
        }
        return nil
    }

    /// Notes that a device's batch went.
    mutating func went(_ id: Int64, of device: String) {
        queues[device]?.removeAll { $0.id == id }
        if queues[device]?.isEmpty ?? true {
            queues[device] = nil
            earliest[device] = nil
        } else {
            earliest[device] = queues[device]?.map(\.id).min()
        }
    }
}
