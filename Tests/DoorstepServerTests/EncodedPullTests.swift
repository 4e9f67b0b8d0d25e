import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// The pull page written from stored entity texts against the page built from the households' merged states and encoded whole.
struct EncodedPullTests {
    @Test func encodedPage_equalsTheEncodedBuiltPage_withLinksConflictsAndDeletions() async throws {
        try await TestDatabase.withSQLiteStorage("encoded-pull") { storage in
            let city = try await Self.seedLinkedAndConflictedHouseholds(into: storage)
            func compare(_ note: Comment) async throws {
                let (built, bytes) = try await storage.pages(
                    for: city, after: 0, limit: 100, engine: Self.engine, now: "2020-04-02T00:00:00Z",
                    physicalMillis: Self.clock)
                let encoded = Data(bytes)
                // Registers compare with their server-side superseded ids, which stay off the wire: compare what is sent.
                #expect(encoded == (try WireCoding.encoder().encode(built)), note)
                #expect(!built.households.isEmpty && built.conflicts.count >= 1, "a conflict and a link are in the page")
                #expect(built.households.contains { !$0.aliases.isEmpty })
                #expect(built.households.contains { $0.aliases.isEmpty && $0.entities.count == 2 }, "a household without links, with its entries")
                #expect(built.households.contains { $0.entities.contains { $0.isDeleted } }, "a deleted member is in the page")
            }
            // (An entity saved before the wire text existed is given it by migration v11: see the migration test.)
            try await compare("with stored wire texts")
        }
    }

    static let engine = MergeEngine()
    static let clock: @Sendable () -> Int64 = { 1_588_291_200_000 }

    /// Two devices file a household with a member and visits, then the same person again (a link),
    /// edit the member concurrently (a conflict) and visit again. Returns a city principal.
    static func seedLinkedAndConflictedHouseholds(into storage: SQLiteStorage) async throws -> Principal {
        var devices: [Principal] = []
        for index in 0..<2 {
            try await storage.insertEnrollmentCode(
                EnrollmentCodeRecord(
                    codeHash: "code-\(index)", district: "150602", role: .visitor, createdBy: "test",
                    createdAt: "2020-01-01T00:00:00Z", expiresAt: "2099-01-01T00:00:00Z"))
            devices.append(
                try await storage.redeemEnrollmentCode(
                    hash: "code-\(index)", now: "2020-01-02T00:00:00Z",
                    device: NewDevice(
                        id: DeviceID.random(), name: "d\(index)", tokenHash: "token-\(index)", signingKey: nil)
                ).principal)
        }
        let body = "150602" + "19850701" + "123"
        let nationalID = body + String(NationalID.checkCharacter(for: Array(body)))
        func household(_ id: EntityID) -> [FieldWrite] {
            [
                FieldWrite(field: "headName", value: "王某某"), FieldWrite(field: "nationalId", value: .string(nationalID)),
                FieldWrite(field: "address", value: "东胜区 \"建设街\" 12/3"), FieldWrite(field: "district", value: "150602"),
                FieldWrite(field: "fileLevel", value: "national"), FieldWrite(field: "primaryCause", value: "illness"),
                FieldWrite(field: "difficulty", value: "general"), FieldWrite(field: "skillLevel", value: "none"),
                FieldWrite(field: "monthlyIncomeFen", value: 100_000), FieldWrite(field: "epidemicAffected", value: false),
                FieldWrite(field: "status", value: "candidate"),
            ]
        }
        let first = EntityID.random(), second = EntityID.random(), member = EntityID.random()
        var seq: [Int64] = [0, 0]
        func push(_ index: Int, _ build: (Int64, HLC) -> Mutation) async throws {
            seq[index] += 1
            let mutation = build(seq[index], HLC(wallMillis: 1_588_291_200_000 + seq[index] * 10 + Int64(index), logical: 0))
            let receipt = try await storage.push(
                PushBatch(device: devices[index].device, mutations: [mutation]), from: devices[index], engine: Self.engine,
                actor: nil, now: "2020-04-01T00:00:00Z", physicalMillis: Self.clock)
            #expect(receipt.results.allSatisfy { $0.outcome != .rejected }, "\(receipt.results)")
        }
        let a = devices[0].device, b = devices[1].device
        try await push(0) { Mutation(device: a, seq: $0, hlc: $1, op: .create, kind: .household, entity: first, household: first, fields: household(first)) }
        try await push(0) {
            Mutation(
                device: a, seq: $0, hlc: $1, op: .create, kind: .member, entity: member, household: first,
                fields: [
                    FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "spouse"),
                    FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "unemployed"),
                ])
        }
        let created = WriteID(hlc: HLC(wallMillis: 1_586_000_000_020, logical: 0), device: a)
        for n in 0..<3 {
            try await push(0) {
                Mutation(
                    device: a, seq: $0, hlc: $1, op: .create, kind: .visit, entity: EntityID.random(), household: first,
                    fields: [
                        FieldWrite(field: "visitedAt", value: .string("2020-04-0\(n + 1)T10:30:00+08:00")), FieldWrite(field: "visitor", value: "走访员甲"),
                        FieldWrite(field: "mode", value: "atHome"), FieldWrite(field: "conclusion", value: "eligible"),
                        FieldWrite(field: "verified", value: []),
                    ])
            }
        }
        // A member filed by mistake and deleted (a tombstone in the page).
        let mistaken = EntityID.random()
        try await push(0) {
            Mutation(
                device: a, seq: $0, hlc: $1, op: .create, kind: .member, entity: mistaken, household: first,
                fields: [
                    FieldWrite(field: "name", value: "李某某"), FieldWrite(field: "relation", value: "child"),
                    FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "student"),
                ])
        }
        let filed = WriteID(hlc: HLC(wallMillis: 1_588_291_200_000 + seq[0] * 10, logical: 0), device: a)
        try await push(0) {
            Mutation(
                device: a, seq: $0, hlc: $1, op: .delete, kind: .member, entity: mistaken, household: first,
                fields: [FieldWrite(field: deletedFieldName, value: true)], covers: [filed])
        }
        // The other device files the same person again (a link) and edits the member concurrently (a conflict).
        try await push(1) { Mutation(device: b, seq: $0, hlc: $1, op: .create, kind: .household, entity: second, household: second, fields: household(second)) }
        try await push(1) {
            Mutation(
                device: b, seq: $0, hlc: $1, op: .update, kind: .member, entity: member, household: first,
                fields: [
                    FieldWrite(field: "health", value: "disabled", base: [created])
                ])
        }
        try await push(0) {
            Mutation(
                device: a, seq: $0, hlc: $1, op: .update, kind: .member, entity: member, household: first,
                fields: [
                    FieldWrite(field: "health", value: "chronicIllness", base: [created])
                ])
        }
        // Visits after the conflict: each refreshes the household's conflicts.
        for n in 3..<5 {
            try await push(1) {
                Mutation(
                    device: b, seq: $0, hlc: $1, op: .create, kind: .visit, entity: EntityID.random(), household: first,
                    fields: [
                        FieldWrite(field: "visitedAt", value: .string("2020-04-0\(n + 1)T10:30:00+08:00")), FieldWrite(field: "visitor", value: "走访员乙"),
                        FieldWrite(field: "mode", value: "atHome"), FieldWrite(field: "conclusion", value: "eligible"),
                        FieldWrite(field: "verified", value: []),
                    ])
            }
        }
        // A household of its own (no link), with a member and a visit: the page writes it from its rows alone.
        let single = EntityID.random()
        let otherBody = "150602" + "19900101" + "456"
        var singleFields = household(single)
        singleFields[1] = FieldWrite(field: "nationalId", value: .string(otherBody + String(NationalID.checkCharacter(for: Array(otherBody)))))
        try await push(0) { Mutation(device: a, seq: $0, hlc: $1, op: .create, kind: .household, entity: single, household: single, fields: singleFields) }
        try await push(0) {
            Mutation(
                device: a, seq: $0, hlc: $1, op: .create, kind: .member, entity: EntityID.random(), household: single,
                fields: [
                    FieldWrite(field: "name", value: "赵某"), FieldWrite(field: "relation", value: "child"),
                    FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "student"),
                ])
        }
        try await push(0) {
            Mutation(
                device: a, seq: $0, hlc: $1, op: .create, kind: .visit, entity: EntityID.random(), household: single,
                fields: [
                    FieldWrite(field: "visitedAt", value: "2020-04-07T10:30:00+08:00"), FieldWrite(field: "visitor", value: "走访员甲"),
                    FieldWrite(field: "mode", value: "atHome"), FieldWrite(field: "conclusion", value: "eligible"), FieldWrite(field: "verified", value: []),
                ])
        }

        return Principal(device: a, role: .city, district: nil)
    }

    @Test func refreshingConflicts_readsTheHouseholdsRangeOfEntities_notTheTable() async throws {
        try await TestDatabase.withSQLiteStorage("conflict-range") { storage in
            for households in [1, 2] {
                let plan = try await storage.pool.read { db in
                    try Row.fetchAll(
                        db, sql: "EXPLAIN QUERY PLAN " + SQLiteMergeStore.conflictedEntitiesSQL(households: households),
                        arguments: StatementArguments((0..<households).map { _ in EntityID.random().description })
                    )
                    .map { $0["detail"] as String? ?? "" }
                }
                #expect(plan.first == "SEARCH entities USING PRIMARY KEY (household=?)", "\(households) household(s): \(plan)")
                #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(households) household(s): \(plan)")
            }
        }
    }

    @Test func aHouseholdsEntitiesAreOneRangeOfTheTable_andANewDatabaseHas16KiBPages() async throws {
        try await TestDatabase.withSQLiteStorage("entity-range") { storage in
            let (pageSize, plan) = try await storage.pool.read { db in
                (
                    try Int.fetchOne(db, sql: "PRAGMA page_size"),
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT kind, id, wire FROM entities WHERE household = ? ORDER BY id", arguments: ["x"])
                        .map { $0["detail"] as String? ?? "" }
                )
            }
            #expect(pageSize == 16_384)
            #expect(plan == ["SEARCH entities USING PRIMARY KEY (household=?)"], "read in key order, no sort: \(plan)")
        }
    }

    @Test func migratingFromV5_keepsEveryEntity_andTheAudit_andThePullSendsTheSameBytes() async throws {
        try await TestDatabase.withSQLiteStorage("v6-current") { current in
            let city = try await Self.seedLinkedAndConflictedHouseholds(into: current)
            // The same rows in a database at schema v5 (entities keyed by id alone), then migrated.
            let directory = Scratch.root.appendingPathComponent("doorstep-v5-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let older = try SQLiteStorage(path: directory.appendingPathComponent("doorstep.sqlite").path)
            try SQLiteSchema.migrator.migrate(older.pool, upTo: "v5 conflicted entities index")
            try await older.pool.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [current.path])
                let tables = try String.fetchAll(
                    db,
                    sql: """
                        SELECT name FROM source.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('grdb_migrations', 'entities')
                        """)
                try db.inTransaction {
                    // The columns the older schema has (later migrations add some, and some tables).
                    for table in tables {
                        let columns = try Row.fetchAll(db, sql: "PRAGMA main.table_info(\(table))").map { $0["name"] as String }.joined(separator: ", ")
                        guard !columns.isEmpty else { continue }
                        try db.execute(sql: "INSERT INTO main.\(table) (\(columns)) SELECT \(columns) FROM source.\(table)")
                    }
                    // Entities and the audit as schema v5 held them: the state beside the wire text (one
                    // entity without wire text, as saved before v4), a row per field with its write's columns.
                    let rows = try Row.fetchAll(db, sql: "SELECT id, kind, household, wire, superseded, conflicted FROM source.entities ORDER BY id")
                    for (index, row) in rows.enumerated() {
                        let state = try StoredEntityRow(wire: row["wire"], superseded: row["superseded"]).state
                        try db.execute(
                            sql: "INSERT INTO main.entities (id, kind, household, state, conflicted, wire) VALUES (?, ?, ?, ?, ?, ?)",
                            arguments: [
                                row["id"], row["kind"], row["household"], try StoredJSON.encode(StoredEntity(state)), row["conflicted"],
                                index == 0 ? nil : row["wire"] as String,
                            ])
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO main.audit (household, entity, kind, field, old, new, write_id, device, seq, actor, at)
                            SELECT household, entity, kind, field, old, new, write_id, device, seq, actor, at FROM source.audit ORDER BY id, n
                            """)
                    return .commit
                }
                try db.execute(sql: "DETACH DATABASE source")
            }
            // What a start would do, said before it does it (`migrate --dry-run`).
            let plan = try await older.migrationPlan()
            let rows = try await older.pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM entities") ?? 0) + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0)
            }
            #expect(plan.unknown.isEmpty && plan.applied.last == "v5 conflicted entities index")
            #expect(plan.pending.first?.name == "v6 entities by household" && plan.pending.contains(MigrationPlan.Step(name: "v11 stored once", rows: rows)))
            #expect(plan.pending.last?.name == "v13 relays")
            #expect(plan.estimatedSeconds > 0)
            try await older.migrate()
            #expect(try await older.migrationPlan().pending.isEmpty)

            let entities = "SELECT household, id, kind, conflicted, wire, superseded FROM entities ORDER BY household, id"
            let before = try current.pool.read { db in try Row.fetchAll(db, sql: entities) }
            let after = try older.pool.read { db in try Row.fetchAll(db, sql: entities) }
            #expect(after.count == before.count && before.count >= 9)
            #expect(after == before)
            #expect(before.contains { $0["superseded"] != nil }, "a register with superseded ids crossed the migration")
            // The audit: every write's fields, in the same order, under the same write's columns.
            let audit = "SELECT household, entity, kind, field, old, new, write_id, device, seq, actor, at FROM audit ORDER BY id, n"
            let history = try current.pool.read { db in try Row.fetchAll(db, sql: audit) }
            let migratedHistory = try older.pool.read { db in try Row.fetchAll(db, sql: audit) }
            #expect(history.count >= 20)
            #expect(migratedHistory == history)
            let writes = try await older.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_writes") ?? 0 }
            #expect(writes < history.count, "a write's columns are stored once for its fields")
            let indexes = try await older.pool.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entities' AND sql IS NOT NULL ORDER BY name")
            }
            #expect(indexes == ["entities_id"])
            let page = try await current.pullEncoded(
                for: city, after: 0, limit: 100, engine: Self.engine, now: "2020-04-02T00:00:00Z", physicalMillis: Self.clock)
            let migrated = try await older.pullEncoded(
                for: city, after: 0, limit: 100, engine: Self.engine, now: "2020-04-02T00:00:00Z", physicalMillis: Self.clock)
            #expect(migrated == page)
        }
    }
}
