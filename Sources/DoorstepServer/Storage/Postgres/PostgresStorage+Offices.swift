public import DoorstepCore
import Foundation
import Logging
import PostgresNIO

/// Import, roster, report and bundle storage on PostgreSQL: the same behaviour as the SQLite
/// extensions, with PostgreSQL's SQL.
extension PostgresStorage {
    /// Carries an outcome out of a transaction that must roll back.
    private struct RollBack: Error { let outcome: ImportOutcome }

    public func importHouseholds(_ rows: [ImportedHousehold], by principal: Principal, actor: String, policy: ImportCommitPolicy,
                                 engine: MergeEngine, now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> ImportOutcome {
        do {
            return try await write { connection in
                guard let text = try await Self.meta(connection, "identity", logger) else {
                    throw DoorstepError(.internalError, "the server has no identity yet")
                }
                let identity = try StoredJSON.decode(ServerIdentity.self, text)
                var clock = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
                let acting = Principal(device: identity.device, role: principal.role, district: principal.district)
                let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
                var outcome = ImportOutcome()
                for row in rows {
                    var known = false
                    for try await _ in try await connection.query("SELECT 1 FROM national_ids WHERE value = \(row.nationalId) LIMIT 1", logger: logger).decode(Int32.self) {
                        known = true
                    }
                    if known {
                        outcome.skipped.append(row.line)
                        continue
                    }
                    let id = EntityID.random()
                    let start = clock
                    // A row runs on its own snapshot; only an applied row is written back, so a rejected one leaves no trace.
                    let (store, result) = try await snapshot.run(seed: [.progress(identity.device), .households(row.nationalId)]) { store -> (MutationResult, HybridLogicalClock) in
                        var runClock = start
                        let seq = try store.progress(of: identity.device).highestSeq + 1
                        let mutation = Mutation(device: identity.device, seq: seq, hlc: runClock.tick(), op: .create, kind: .household,
                                                entity: id, household: id, fields: row.fields)
                        let receipt = try engine.apply(PushBatch(device: identity.device, mutations: [mutation]), from: acting, store: store, clock: &runClock)
                        guard let first = receipt.results.first else { throw DoorstepError(.internalError, "no result for an imported row") }
                        return (first, runClock)
                    }
                    if result.0.outcome == .rejected {
                        let code = result.0.code ?? .invalidValue
                        outcome.rejected.append(ImportIssue(line: row.line, field: SQLiteStorage.field(causing: code), code: code,
                                                            message: result.0.reason ?? "the household was refused"))
                        continue
                    }
                    clock = result.1
                    try await snapshot.writeBack(store, actor: actor, now: now)
                    outcome.created.append(row.line)
                }
                let commit = switch policy {
                case .never: false
                case .allOrNothing: outcome.rejected.isEmpty
                case .keepValid: true
                }
                guard commit else { throw RollBack(outcome: outcome) }
                try await Self.setMeta(connection, "hlc", clock.last.description, logger)
                outcome.committed = true
                return outcome
            }
        } catch let rollBack as RollBack {
            return rollBack.outcome
        }
    }

    /// Every surviving household of a district with its shown values.
    public func householdSummaries(district: String?, engine: MergeEngine) async throws -> [ShownHousehold] {
        try await readSnapshot { connection in
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
            var result: [ShownHousehold] = []
            for id in try await survivors(connection, district: district) {
                guard let state = try await snapshot.aggregate(id)?.household, let shown = state["district"].stringValue else { continue }
                result.append(ShownHousehold(
                    id: id, district: shown, nationalId: state["nationalId"].stringValue.map(NationalID.normalize),
                    headName: state["headName"].stringValue, status: state["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
                ))
            }
            return result
        }
    }

    private func survivors(_ connection: PostgresConnection, district: String?) async throws -> [EntityID] {
        var ids: [EntityID] = []
        for try await text in try await connection.query("""
            SELECT id FROM households WHERE id = canonical AND (\(district == nil) OR district = \(district ?? "")) ORDER BY id
            """, logger: logger).decode(String.self) {
            if let id = try? EntityID(text) { ids.append(id) }
        }
        return ids
    }

    public func reportInputs(district: String?, engine: MergeEngine) async throws -> ReportInputs {
        try await readSnapshot { connection in
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
            var households: [HouseholdAggregate] = []
            for id in try await survivors(connection, district: district) {
                if let aggregate = try await snapshot.aggregate(id) { households.append(aggregate) }
            }
            let inScope = Set(households.map(\.household.id))
            var history: [StatusChange] = []
            for try await (household, old, new, write, at) in try await connection.query("""
                SELECT h.canonical, a.old, a.new, a.write_id, a.at FROM audit a JOIN households h ON h.id = a.entity
                WHERE a.kind = 'household' AND a.field = 'status' ORDER BY a.id
                """, logger: logger).decode((String, String, String, String, String).self) {
                guard let id = try? EntityID(household), inScope.contains(id), let to = SQLiteStorage.status(new),
                    let instant = SQLiteStorage.changeInstant(write: write, recorded: at)
                else { continue }
                history.append(StatusChange(household: id, at: instant, from: SQLiteStorage.status(old), to: to))
            }
            let filter = district.map { _ in "WHERE token_hash NOT LIKE 'server:%' AND district = $1" } ?? "WHERE token_hash NOT LIKE 'server:%'"
            let devices = try await Self.devices(connection, filter, district.map { [$0] } ?? [], logger).map { record in
                ReportDevice(id: record.id, name: record.name, district: record.district,
                             lastSyncAt: SQLiteStorage.latest(record.lastPushAt, record.lastPullAt), clockFlagged: record.clockSkew,
                             revokedAt: record.revokedAt)
            }
            var review: [String: ReviewCounts] = [:]
            let all = district == nil, only = district ?? ""
            for try await (area, count) in try await connection.query("""
                SELECT district, COUNT(*) FROM conflicts WHERE district IS NOT NULL AND (\(all) OR district = \(only)) GROUP BY district
                """, logger: logger).decode((String, Int64).self) { review[area, default: ReviewCounts()].conflicts = Int(count) }
            for try await (area, count) in try await connection.query("""
                SELECT s.district, COUNT(*) FROM households a JOIN households s ON s.id = a.canonical
                WHERE a.id <> a.canonical AND s.district IS NOT NULL AND (\(all) OR s.district = \(only)) GROUP BY s.district
                """, logger: logger).decode((String, Int64).self) { review[area, default: ReviewCounts()].duplicates = Int(count) }
            for try await (area, count) in try await connection.query("""
                SELECT district, COUNT(*) FROM rejections WHERE district IS NOT NULL AND closed_at IS NULL AND (\(all) OR district = \(only)) GROUP BY district
                """, logger: logger).decode((String, Int64).self) { review[area, default: ReviewCounts()].rejections = Int(count) }
            return ReportInputs(households: households, statusHistory: history, devices: devices, pendingReview: review)
        }
    }

    public func holdForReview(_ batches: [PushBatch], device: DeviceRecord, code: DoorstepError.Code, reason: String,
                              now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> [PushReceipt] {
        try await write { connection in
            var clock = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
            var highest: Int64 = 0
            for try await value in try await connection.query("SELECT highest_seq FROM devices WHERE id = \(device.id.rawValue)", logger: logger).decode(Int64.self) {
                highest = value
            }
            var receipts: [PushReceipt] = []
            for batch in batches {
                var results: [MutationResult] = []
                for mutation in batch.mutations {
                    var logged: (String, String)?
                    for try await row in try await connection.query(
                        "SELECT body, result FROM mutations WHERE device = \(device.id.rawValue) AND seq = \(mutation.seq)", logger: logger
                    ).decode((String, String).self) { logged = row }
                    if let logged {
                        // Pushed before the revocation: answer as a replayed push would.
                        var result = try StoredJSON.decode(MutationResult.self, logged.1)
                        if try StoredJSON.decode(Mutation.self, logged.0) != mutation {
                            result = MutationResult(seq: mutation.seq, outcome: .rejected, code: .seqReuse,
                                                    reason: "seq \(mutation.seq) of this device was already used for a different mutation; not held")
                        } else if result.outcome != .rejected {
                            result.outcome = .alreadyApplied
                        }
                        results.append(result)
                        continue
                    }
                    let district = try await reviewDistrict(of: mutation, device: device, connection)
                    try await connection.query("""
                        INSERT INTO rejections (device, seq, household, entity, kind, district, code, reason, at, body)
                        VALUES (\(device.id.rawValue), \(mutation.seq), \(mutation.household.description), \(mutation.entity.description),
                                \(mutation.kind.rawValue), \(district), \(code.rawValue), \(reason), \(now), \(try StoredJSON.encode(mutation)))
                        ON CONFLICT (device, seq) DO NOTHING
                        """, logger: logger)
                    results.append(MutationResult(seq: mutation.seq, outcome: .rejected, code: code, reason: reason))
                }
                receipts.append(PushReceipt(device: device.id, highestContiguousSeq: highest, serverClock: clock.tick(), results: results, clockSkew: false))
            }
            try await Self.setMeta(connection, "hlc", clock.last.description, logger)
            return receipts
        }
    }

    /// The district whose office reviews a held mutation (see the SQLite version).
    private func reviewDistrict(of mutation: Mutation, device: DeviceRecord, _ connection: PostgresConnection) async throws -> String? {
        if let district = device.district { return district }
        for try await stored in try await connection.query("""
            SELECT s.district FROM households h JOIN households s ON s.id = h.canonical WHERE h.id = \(mutation.household.description)
            """, logger: logger).decode(String?.self) {
            if let stored { return stored }
        }
        guard mutation.kind == .household else { return nil }
        return mutation.fields.first(where: { $0.field == "district" })?.value.stringValue
    }

    public func acceptHeld(device: DeviceID, seq: Int64, by principal: Principal, actor: String, engine: MergeEngine, now: String,
                           physicalMillis: @escaping @Sendable () -> Int64) async throws -> MutationResult {
        try await write { connection in
            let held = try await openRejection(device: device, seq: seq, connection).heldChange(in: principal)
            let result = try await decide(.acceptHeld(held), by: principal, actor: actor, origin: AuditOrigin(device: held.device, seq: held.seq, hlc: held.hlc),
                                          engine: engine, now: now, physicalMillis: physicalMillis, connection)
            try await close(device: device, seq: seq, as: .accepted, by: actor, reason: nil, now: now, connection)
            return result
        }
    }

    public func dismissRejection(device: DeviceID, seq: Int64, by principal: Principal, actor: String, reason: String,
                                 now: String) async throws -> ClosedRejection {
        let reason = try OpenRejection.checkedReason(reason)
        return try await write { connection in
            try await openRejection(device: device, seq: seq, connection).check(principal)
            try await close(device: device, seq: seq, as: .dismissed, by: actor, reason: reason, now: now, connection)
            return ClosedRejection(device: device, seq: seq, closedAs: .dismissed, closedBy: actor, closedAt: now, reason: reason)
        }
    }

    /// The open row of the rejection log with this key, or `notFound`.
    private func openRejection(device: DeviceID, seq: Int64, _ connection: PostgresConnection) async throws -> OpenRejection {
        for try await (district, body) in try await connection.query("""
            SELECT district, body FROM rejections WHERE device = \(device.rawValue) AND seq = \(seq) AND closed_at IS NULL
            """, logger: logger).decode((String?, String?).self) {
            return OpenRejection(district: district, body: body)
        }
        throw OpenRejection.notFound
    }

    private func close(device: DeviceID, seq: Int64, as closing: RejectionClosing, by actor: String, reason: String?, now: String,
                       _ connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE rejections SET closed_as = \(closing.rawValue), closed_by = \(actor), closed_at = \(now), closed_reason = \(reason)
            WHERE device = \(device.rawValue) AND seq = \(seq)
            """, logger: logger)
    }
}
