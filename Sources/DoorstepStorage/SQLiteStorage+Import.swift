public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    public func importHouseholds(
        _ rows: any ImportRows, by principal: Principal, actor: String, policy: ImportCommitPolicy,
        engine: MergeEngine, now: String, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> ImportOutcome {
        try await pool.writeWithoutTransaction { db in
            var outcome = ImportOutcome()
            try db.inTransaction(.immediate) {
                let identity = try OfficeWrites.identity(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'"))
                var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
                let store = SQLiteMergeStore(db: db, engine: engine, actor: actor, now: now)
                while let row = try rows.next() {
                    if try Bool.fetchOne(db, sql: "SELECT 1 FROM national_ids WHERE value = ? LIMIT 1", arguments: [row.nationalId]) == true {
                        outcome.skipped.append(row.line)
                        continue
                    }
                    // A refused row leaves no trace: its savepoint rolls back.
                    var refusal: MutationResult?
                    try db.inSavepoint {
                        let result = try OfficeWrites.importRow(
                            row, as: EntityID.random(), by: principal, server: identity.device, engine: engine,
                            store: store, clock: &clock)
                        guard result.outcome == .rejected else { return .commit }
                        refusal = result
                        return .rollback
                    }
                    if let refusal { outcome.refuse(line: row.line, refusal) } else { outcome.created.append(row.line) }
                }
                guard policy.commits(outcome, allSound: rows.allSound) else { return .rollback }
                try Self.saveClock(db, clock)
                outcome.committed = true
                return .commit
            }
            return outcome
        }
    }

    public func householdSummaries(district: String?, engine: MergeEngine) async throws -> [ShownHousehold] {
        try await pool.read { db in
            let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: "")
            let ids: [String]
            if let district {
                ids = try String.fetchAll(db, sql: "SELECT id FROM households WHERE id = canonical AND district = ? ORDER BY id", arguments: [district])
            } else {
                ids = try String.fetchAll(db, sql: "SELECT id FROM households WHERE id = canonical ORDER BY id")
            }
            return try ids.compactMap { text -> ShownHousehold? in
                guard let id = try? EntityID(text), let state = try engine.household(id, store: store) else { return nil }
                return ReportRows.shown(id, state: state)
            }
        }
    }
}
