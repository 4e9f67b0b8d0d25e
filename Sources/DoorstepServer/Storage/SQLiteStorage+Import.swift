public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    public func importHouseholds(_ rows: [ImportedHousehold], by principal: Principal, actor: String, policy: ImportCommitPolicy,
                                 engine: MergeEngine, now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> ImportOutcome {
        try await pool.writeWithoutTransaction { db in
            var outcome = ImportOutcome()
            try db.inTransaction(.immediate) {
                guard let identityText = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'") else {
                    throw DoorstepError(.internalError, "the server has no identity yet")
                }
                let identity = try StoredJSON.decode(ServerIdentity.self, identityText)
                var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
                let store = SQLiteMergeStore(db: db, engine: engine, actor: actor, now: now)
                let acting = Principal(device: identity.device, role: principal.role, district: principal.district)
                for row in rows {
                    if try Bool.fetchOne(db, sql: "SELECT 1 FROM national_ids WHERE value = ? LIMIT 1", arguments: [row.nationalId]) == true {
                        outcome.skipped.append(row.line)
                        continue
                    }
                    let id = EntityID.random()
                    var rejection: MutationResult?
                    try db.inSavepoint {
                        let seq = try store.progress(of: identity.device).highestSeq + 1
                        let mutation = Mutation(device: identity.device, seq: seq, hlc: clock.tick(), op: .create, kind: .household,
                                                entity: id, household: id, fields: row.fields)
                        let receipt = try engine.apply(PushBatch(device: identity.device, mutations: [mutation]), from: acting, store: store, clock: &clock)
                        guard let result = receipt.results.first else { throw DoorstepError(.internalError, "no result for an imported row") }
                        if result.outcome == .rejected {
                            rejection = result
                            return .rollback
                        }
                        return .commit
                    }
                    if let rejection {
                        let code = rejection.code ?? .invalidValue
                        outcome.rejected.append(ImportIssue(
                            line: row.line, field: Self.field(causing: code), code: code, message: rejection.reason ?? "the household was refused"
                        ))
                    } else {
                        outcome.created.append(row.line)
                    }
                }
                let commit = switch policy {
                case .never: false
                case .allOrNothing: outcome.rejected.isEmpty
                case .keepValid: true
                }
                guard commit else { return .rollback }
                try Self.saveClock(db, clock)
                outcome.committed = true
                return .commit
            }
            return outcome
        }
    }

    /// The field behind an engine rejection of a household creation whose values already passed `normalize`:
    /// the role rule on creation concerns only the status.
    static func field(causing code: DoorstepError.Code) -> String? {
        switch code {
        case .forbiddenForRole: "status"
        case .outOfScope: "district"
        case .invalidNationalId: "nationalId"
        default: nil
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
                guard let id = try? EntityID(text), let state = try engine.household(id, store: store),
                    let shownDistrict = state["district"].stringValue
                else { return nil }
                return ShownHousehold(
                    id: id, district: shownDistrict, nationalId: state["nationalId"].stringValue.map(NationalID.normalize),
                    headName: state["headName"].stringValue, status: state["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
                )
            }
        }
    }
}
