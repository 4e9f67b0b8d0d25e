import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// PostgreSQL's v10 ("stored once"): a database written by v9 (entities as state and wire text,
/// one audit row per field) keeps every entity and every row of its history.
struct PostgresMigrationTests {
    @Test(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
    func migratingToV10_keepsEveryEntity_andTheAudit_andTheWritesGoOn() async throws {
        try await TestDatabase.withSQLiteStorage("pg-migration-source") { source in
            _ = try await EncodedPullTests.seedLinkedAndConflictedHouseholds(into: source)
            let entityColumns = "id, kind, household, conflicted, wire, superseded"
            let auditColumns = "household, entity, kind, field, old, new, write_id, device, seq, actor, at, settled"
            let (entities, audit) = try source.pool.read { db in
                (
                    try Row.fetchAll(db, sql: "SELECT \(entityColumns) FROM entities ORDER BY id"),
                    try Row.fetchAll(db, sql: "SELECT \(auditColumns) FROM audit ORDER BY id, n")
                )
            }
            #expect(entities.contains { $0["superseded"] != nil } && audit.count >= 20)

            let url = try #require(try await TestDatabase.fresh())
            let logger = Logger(label: "pg-migration")
            let postgres = try PostgresStorage(url: url, logger: logger)
            let running = Task { await postgres.run() }
            defer { running.cancel() }
            try await PostgresSchema.migrate(postgres.client, logger: logger, upTo: "v9 office tally")
            // The rows as v9 wrote them: the state beside the wire text (the first entity without
            // wire text, as saved before v4), a row per field carrying its write's columns.
            try await postgres.write { connection in
                for (index, row) in entities.enumerated() {
                    let wire: String = row["wire"]
                    let state = try StoredEntityRow(wire: wire, superseded: row["superseded"]).state
                    let stateText = try StoredJSON.encode(StoredEntity(state))
                    let kind: String = row["kind"], household: String = row["household"], id: String = row["id"]
                    let conflicted = (row["conflicted"] as Int) != 0
                    let storedWire: String? = index == 0 ? nil : wire
                    try await connection.query(
                        """
                        INSERT INTO entities (id, kind, household, state, conflicted, wire)
                        VALUES (\(id), \(kind), \(household), \(stateText), \(conflicted), \(storedWire))
                        """, logger: logger)
                }
                for row in audit {
                    let household: String = row["household"], entity: String = row["entity"], kind: String = row["kind"]
                    let field: String = row["field"], old: String = row["old"], new: String = row["new"], write: String = row["write_id"]
                    let device: String = row["device"], seq: Int64 = row["seq"], actor: String = row["actor"], at: String = row["at"]
                    let settled = (row["settled"] as Int?) == 1  // v9 wrote FALSE for a field not settled
                    try await connection.query(
                        """
                        INSERT INTO audit (household, entity, kind, field, old, new, write_id, device, seq, actor, at, settled)
                        VALUES (\(household), \(entity), \(kind), \(field), \(old), \(new), \(write), \(device), \(seq), \(actor), \(at), \(settled))
                        """, logger: logger)
                }
            }
            let plan = try await postgres.migrationPlan()
            #expect(
                plan.pending == [
                    MigrationPlan.Step(name: "v10 stored once", rows: entities.count + audit.count), MigrationPlan.Step(name: "v11 lost work", rows: 0),
                    MigrationPlan.Step(name: "v12 relays", rows: 0),
                ]
                    && plan.unknown.isEmpty)
            try await postgres.migrate()
            #expect(try await postgres.migrationPlan().pending.isEmpty)

            let (migratedEntities, migratedAudit, writes, next) = try await postgres.read { connection in
                var entityRows: [[String?]] = []
                for try await (id, kind, household, conflicted, wire, superseded) in try await connection.query(
                    "SELECT id, kind, household, conflicted, wire, superseded FROM entities", logger: logger
                ).decode((String, String, String, Bool, String, String?).self) {
                    entityRows.append([id, kind, household, conflicted ? "1" : "0", wire, superseded])
                }
                var auditRows: [[String]] = []
                for try await row in try await connection.query(
                    "SELECT household, entity, kind, field, old, new, write_id, device, seq::text, actor, at, settled FROM audit ORDER BY id, n", logger: logger
                ).decode((String, String, String, String, String, String, String, String, String, String, String, Bool?).self) {
                    auditRows.append([row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11 == true ? "settled" : "-"])
                }
                var writes: (Int64, Int64)?
                for try await row in try await connection.query("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM audit_writes", logger: logger)
                    .decode((Int64, Int64).self)
                { writes = row }
                var next: Int64?
                for try await id in try await connection.query("SELECT nextval('audit_writes_id_seq')", logger: logger).decode(Int64.self) { next = id }
                return (entityRows, auditRows, writes, next)
            }
            // Sorted by the ids' bytes, as SQLite ordered them.
            let sortedEntities = migratedEntities.sorted { ($0[0] ?? "").utf8.lexicographicallyPrecedes(($1[0] ?? "").utf8) }
            let expectedEntities: [[String?]] = entities.map { row in
                let conflicted: Int = row["conflicted"]
                let texts: [String?] = [row["id"], row["kind"], row["household"], String(conflicted), row["wire"], row["superseded"]]
                return texts
            }
            #expect(sortedEntities == expectedEntities)
            let expectedAudit: [[String]] = audit.map { row in
                let seq: Int64 = row["seq"]
                var texts: [String] = []
                for column in ["household", "entity", "kind", "field", "old", "new", "write_id", "device"] { texts.append(row[column]) }
                texts += [String(seq), row["actor"], row["at"], (row["settled"] as Int?) == 1 ? "settled" : "-"]
                return texts
            }
            #expect(migratedAudit == expectedAudit)
            let (count, last) = try #require(writes)
            #expect(count > 0 && Int(count) < audit.count, "a write's columns are stored once for its fields")
            #expect(try #require(next) > last, "new writes come after the migrated ones")
        }
    }
}
