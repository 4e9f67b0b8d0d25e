import DoorstepClient
import DoorstepCore
import DoorstepServer
import Foundation
import GRDB

/// The limit: SQLite (through GRDB) writing the same rows directly with prepared statements,
/// in the same mode as Doorstep (`DatabasePool`, WAL, `synchronous=FULL`), on the same disk.
enum RawSQLite {
    /// Opens `path` as the server and the client open theirs (SQLite's default page cache).
    static func open(_ path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // As the server and the client: GRDB's WAL set-up leaves the writer at NORMAL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return pool
    }

    /// Reading a database another process (or a client's background checkpoint) may be writing.
    static var readOnly: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        return configuration
    }

    // MARK: Server ingest

    /// What the server wrote for one mutation, read back from its database.
    struct MutationRows {
        var mutation: [DatabaseValue]
        var entity: [DatabaseValue]
        var auditWrite: [DatabaseValue]?
        var auditFields: [[DatabaseValue]]
        var household: String
        var district: String
        var device: String
        var seq: Int64
        var stamp: String
    }

    /// Reads back the rows the server wrote for the mutations of `devices`, in seq order per device.
    static func serverRows(from path: String, devices: [String]) throws -> [[MutationRows]] {
        let source = try DatabaseQueue(path: path, configuration: readOnly)
        return try source.read { db in
            try devices.map { device in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT device, seq, write_id, body, result, household, received_at FROM mutations WHERE device = ? ORDER BY seq",
                    arguments: [device])
                return try rows.map { row in
                    let body: String = row["body"]
                    let mutation = try JSONDecoder().decode(Mutation.self, from: Data(body.utf8))
                    guard
                        let entity = try Row.fetchOne(
                            db, sql: "SELECT id, kind, household, wire, superseded, conflicted FROM entities WHERE id = ?",
                            arguments: [mutation.entity.description])
                    else {
                        throw BenchError("the server holds no entity \(mutation.entity) for mutation \(device)/\(mutation.seq)")
                    }
                    let writeID: String = row["write_id"]
                    // By write id (indexed): the audit has no index on device and seq.
                    let write = try Row.fetchOne(
                        db,
                        sql:
                            "SELECT id, household, entity, kind, write_id, device, seq, actor, at FROM audit_writes WHERE write_id = ? AND device = ? AND seq = ?",
                        arguments: [writeID, device, mutation.seq])
                    let fields =
                        try write.map { write in
                            try Row.fetchAll(
                                db, sql: "SELECT n, field, old, new, settled FROM audit_fields WHERE write = ? ORDER BY n", arguments: [write["id"]])
                        } ?? []
                    let household: String = row["household"]
                    let district = try String.fetchOne(db, sql: "SELECT district FROM households WHERE id = ?", arguments: [household]) ?? Facts.district
                    return MutationRows(
                        mutation: Array(row.databaseValues), entity: Array(entity.databaseValues),
                        auditWrite: write.map { Array($0.databaseValues.dropFirst()) },
                        auditFields: fields.map { Array($0.databaseValues) },
                        household: household, district: district, device: device, seq: mutation.seq,
                        stamp: String(writeID.prefix { $0 != "@" }))
                }
            }
        }
    }

    /// Writes the rows into `path` (a copy of the server's database from just before the ingest),
    /// one transaction per `batchSize` mutations of a device, as the server does per pushed batch:
    /// per mutation the log row, the entity state, the audit rows, the change-feed row (delete and
    /// insert), the household's change seq, the change counter and the device's progress; per batch
    /// the server clock and the device's last push. Returns the seconds spent in the transactions.
    static func replayServerRows(_ devices: [[MutationRows]], into path: String, batchSize: Int) throws -> Double {
        let pool = try open(path)
        var changeSeq = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'") } ?? 0
        let now = Instant.format(Date(), in: .gmt)
        var elapsed = Duration.zero
        for rows in devices {
            for start in stride(from: 0, to: rows.count, by: batchSize) {
                let batch = rows[start..<min(start + batchSize, rows.count)]
                let began = ContinuousClock.now
                try pool.write { db in
                    let logRow = try db.cachedStatement(
                        sql: "INSERT INTO mutations (device, seq, write_id, body, result, household, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    let entity = try db.cachedStatement(
                        sql:
                            "INSERT INTO entities (id, kind, household, wire, superseded, conflicted) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(household, id) DO UPDATE SET wire = excluded.wire, superseded = excluded.superseded, conflicted = excluded.conflicted"
                    )
                    let auditWrite = try db.cachedStatement(
                        sql: "INSERT INTO audit_writes (household, entity, kind, write_id, device, seq, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                    let auditField = try db.cachedStatement(sql: "INSERT INTO audit_fields (write, n, field, old, new, settled) VALUES (?, ?, ?, ?, ?, ?)")
                    let dropChange = try db.cachedStatement(sql: "DELETE FROM changes WHERE household = ? AND district = ?")
                    let change = try db.cachedStatement(sql: "INSERT INTO changes (seq, household, district) VALUES (?, ?, ?)")
                    let household = try db.cachedStatement(sql: "UPDATE households SET district = ?, change_seq = ? WHERE id = ?")
                    let counter = try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('change_seq', ?)")
                    let progress = try db.cachedStatement(
                        sql: "UPDATE devices SET highest_seq = ?, last_stamp = ?, clock_skew = 0, last_push_at = ? WHERE id = ?")
                    for item in batch {
                        try logRow.execute(arguments: StatementArguments(item.mutation))
                        try entity.execute(arguments: StatementArguments(item.entity))
                        if let write = item.auditWrite {
                            try auditWrite.execute(arguments: StatementArguments(write))
                            let id = db.lastInsertedRowID
                            for row in item.auditFields { try auditField.execute(arguments: StatementArguments([id.databaseValue] + row)) }
                        }
                        changeSeq += 1
                        try dropChange.execute(arguments: [item.household, item.district])
                        try change.execute(arguments: [changeSeq, item.household, item.district])
                        try household.execute(arguments: [item.district, changeSeq, item.household])
                        try counter.execute(arguments: [String(changeSeq)])
                        try progress.execute(arguments: [item.seq, item.stamp, now, item.device])
                    }
                    if let last = batch.last {
                        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc', ?)", arguments: [last.stamp])
                        try db.execute(sql: "UPDATE devices SET last_push_at = ? WHERE id = ?", arguments: [now, last.device])
                    }
                }
                elapsed += ContinuousClock.now - began
            }
        }
        return elapsed.seconds
    }

    // MARK: Plain rows

    /// The physical limit of ingest: `count` visits as plain rows of one table (the visit's own
    /// columns, no log, history or index but the key), `batchSize` per transaction, in a fresh
    /// database opened as the server opens its own. Returns the seconds spent in the transactions.
    static func plainVisits(count: Int, batchSize: Int, households: [EntityID], path: String) throws -> Double {
        let pool = try open(path)
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE visits (
                        id TEXT PRIMARY KEY NOT NULL, household TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,
                        visited_at TEXT NOT NULL, visitor TEXT NOT NULL, mode TEXT NOT NULL, conclusion TEXT NOT NULL,
                        verified TEXT NOT NULL, observed_income_fen INTEGER NOT NULL, notes TEXT NOT NULL
                    ) WITHOUT ROWID
                    """)
        }
        let device = UUID().uuidString.lowercased()
        var generator = SeededGenerator(seed: 2020, stream: "plain rows")
        var elapsed = Duration.zero
        for start in stride(from: 0, to: count, by: batchSize) {
            let rows = (start..<min(start + batchSize, count)).map { n -> [(any DatabaseValueConvertible)?] in
                let visit = Facts.visit(n)
                func text(_ key: String) -> String { if case .string(let value)? = visit[key] { return value } else { return "" } }
                let income: Int64 = if case .int(let value)? = visit["observedIncomeFen"] { value } else { 0 }
                return [
                    UUID().uuidString.lowercased(), households[Int.random(in: 0..<households.count, using: &generator)].description, device, n + 1,
                    text("visitedAt"), text("visitor"), text("mode"), text("conclusion"), #"["income","members"]"#, income, text("notes"),
                ]
            }
            let began = ContinuousClock.now
            try pool.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO visits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                for row in rows { try insert.execute(arguments: StatementArguments(row)) }
            }
            elapsed += ContinuousClock.now - began
        }
        try pool.close()
        return elapsed.seconds
    }

    // MARK: Bytes stored

    /// Bytes each table and index of a database takes (its pages, `dbstat`), read while the server runs.
    static func tableBytes(_ path: String) throws -> [String: Int] {
        let queue = try DatabaseQueue(path: path, configuration: readOnly)
        defer { try? queue.close() }
        return try queue.read { db in
            var bytes: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name") { bytes[row["name"]] = row["bytes"] }
            return bytes
        }
    }

    /// What a database grew by between two `tableBytes`, per `count` writes: in all and by table,
    /// without the office tally's tables (a row per household, rewritten as it changes).
    static func growth(from before: [String: Int], to after: [String: Int], per count: Int) -> (total: Double, tables: [String: Double]) {
        var tables: [String: Double] = [:]
        for (name, bytes) in after where !name.hasPrefix("office_") {
            let grown = bytes - (before[name] ?? 0)
            if grown != 0 { tables[name] = Double(grown) / Double(max(1, count)) }
        }
        return (tables.values.reduce(0, +), tables)
    }

    // MARK: Client first sync

    /// Inserts a client's rows (`households` and `household_entities`: the household parts and
    /// every entry, pulled and view states, list columns) into a fresh client database, `page`
    /// households per transaction, in the order the device received them. Returns the households
    /// and the seconds spent in the transactions (reading the source is not timed).
    static func replayClientRows(from source: String, order: [EntityID], into path: String, page: Int) throws -> (rows: Int, seconds: Double) {
        _ = try FieldClient(configuration: ClientConfiguration(databasePath: path))  // the client's schema
        let pool = try open(path)
        let reader = try DatabaseQueue(path: source, configuration: readOnly)
        let columns = "id, pulled, view, district, head_name, national_id, address, status, conflicts, local_changes"
        let entryColumns = "owner, id, position, pulled, view, conflicts"
        var elapsed = Duration.zero
        var count = 0
        for start in stride(from: 0, to: order.count, by: page) {
            let ids = order[start..<min(start + page, order.count)].map(\.description)
            let marks = databaseQuestionMarks(count: ids.count)
            let (rows, entries) = try reader.read { db in
                (
                    try Row.fetchAll(db, sql: "SELECT \(columns) FROM households WHERE id IN (\(marks))", arguments: StatementArguments(ids)).map {
                        Array($0.databaseValues)
                    },
                    try Row.fetchAll(db, sql: "SELECT \(entryColumns) FROM household_entities WHERE owner IN (\(marks))", arguments: StatementArguments(ids))
                        .map { Array($0.databaseValues) }
                )
            }
            let began = ContinuousClock.now
            try pool.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO households (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                let entry = try db.cachedStatement(sql: "INSERT INTO household_entities (\(entryColumns)) VALUES (?, ?, ?, ?, ?, ?)")
                for row in rows { try insert.execute(arguments: StatementArguments(row)) }
                for row in entries { try entry.execute(arguments: StatementArguments(row)) }
            }
            elapsed += ContinuousClock.now - began
            count += rows.count
        }
        return (count, elapsed.seconds)
    }

    // MARK: Bare insert

    /// A one-row table in its own database beside the client's, for the local-write floor.
    final class BareInsert: Sendable {
        let pool: DatabasePool
        let body: String

        init(path: String, bodyBytes: Int) throws {
            pool = try RawSQLite.open(path)
            body = String(repeating: "x", count: bodyBytes)
            try pool.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
        }

        /// One transaction inserting one row.
        func insert() async throws {
            let body = self.body
            try await pool.write { db in try db.cachedStatement(sql: "INSERT INTO bare (body) VALUES (?)").execute(arguments: [body]) }
        }
    }
}
