public import DoorstepCore
import Foundation
import Logging
import PostgresNIO

/// Import, roster, report and bundle storage on PostgreSQL: the same behaviour as the SQLite
/// extensions, with PostgreSQL's SQL.
extension PostgresStorage {
    /// Carries an outcome out of a transaction that must roll back.
    private struct RollBack: Error { let outcome: ImportOutcome }

    /// Rows imported in one snapshot and written back together.
    static let importChunk = 200

    public func importHouseholds(
        _ rows: any ImportRows, by principal: Principal, actor: String, policy: ImportCommitPolicy,
        engine: MergeEngine, now: String, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> ImportOutcome {
        do {
            return try await write { connection in
                var run = ImportRun(
                    connection: connection, logger: logger, engine: engine, principal: principal, actor: actor, now: now,
                    identity: try OfficeWrites.identity(try await Self.meta(connection, "identity", logger)),
                    clock: try await Self.loadClock(connection, logger, physicalMillis: physicalMillis))
                var chunk: [ImportedHousehold] = []
                while let row = try rows.next() {
                    chunk.append(row)
                    if chunk.count == Self.importChunk {
                        try await run.importChunk(chunk)
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
                try await run.importChunk(chunk)
                guard policy.commits(run.outcome, allSound: rows.allSound) else { throw RollBack(outcome: run.outcome) }
                try await Self.setMeta(connection, "hlc", run.clock.last.description, logger)
                run.outcome.committed = true
                return run.outcome
            }
        } catch let rollBack as RollBack {
            return rollBack.outcome
        }
    }

    /// An import under way, a chunk of rows at a time: the national IDs already on file looked up
    /// in one query, the chunk's rows merged in one snapshot and written back in a few statements.
    /// A chunk with a row the merge engine refuses is imported a row at a time instead, each on
    /// its own snapshot, so that a refused row leaves no trace (not even a seq of the server's).
    private struct ImportRun {
        let connection: PostgresConnection
        let logger: Logger
        let engine: MergeEngine
        let principal: Principal
        let actor: String
        let now: String
        let identity: ServerIdentity
        var clock: HybridLogicalClock
        var outcome = ImportOutcome()

        mutating func importChunk(_ chunk: [ImportedHousehold]) async throws {
            guard !chunk.isEmpty else { return }
            var known = Set<String>()
            for try await value in try await connection.query(
                "SELECT DISTINCT value FROM national_ids WHERE value = ANY(\(chunk.map(\.nationalId)))", logger: logger
            ).decode(String.self) {
                known.insert(value)
            }
            var fresh: [(row: ImportedHousehold, id: EntityID)] = []
            for row in chunk {
                // A file holds each national ID once (its reader refuses a second); counted here anyway.
                if !known.insert(row.nationalId).inserted {
                    outcome.skipped.append(row.line)
                } else {
                    fresh.append((row, EntityID.random()))
                }
            }
            guard !fresh.isEmpty else { return }
            let merged = try await merge(fresh)
            if merged.results.allSatisfy({ $0.outcome != .rejected }) {
                try await keep(merged, lines: fresh.map(\.row.line))
                return
            }
            for entry in fresh {
                let one = try await merge([entry])
                if let refusal = one.results.first, refusal.outcome == .rejected {
                    outcome.refuse(line: entry.row.line, refusal)
                } else {
                    try await keep(one, lines: [entry.row.line])
                }
            }
        }

        /// Rows merged in order on one snapshot, from the import's clock; nothing is written.
        private func merge(_ rows: [(row: ImportedHousehold, id: EntityID)]) async throws -> Merged {
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
            var seed: Set<SnapshotKey> = [.progress(identity.device)]
            for (row, id) in rows { seed.formUnion([.households(row.nationalId), .entity(id), .canonical(id)]) }
            let (start, principal, identity, engine) = (clock, principal, identity, engine)
            let (store, (results, end)) = try await snapshot.run(seed: seed) { store -> ([MutationResult], HybridLogicalClock) in
                var runClock = start
                var results: [MutationResult] = []
                for (row, id) in rows {
                    results.append(
                        try OfficeWrites.importRow(row, as: id, by: principal, server: identity.device, engine: engine, store: store, clock: &runClock))
                }
                return (results, runClock)
            }
            return Merged(snapshot: snapshot, store: store, results: results, clock: end)
        }

        /// What ``merge(_:)`` made, to write back or drop.
        private struct Merged {
            var snapshot: PostgresSnapshot
            var store: SnapshotMergeStore
            var results: [MutationResult]
            var clock: HybridLogicalClock
        }

        /// Writes merged rows back and counts them created.
        private mutating func keep(_ merged: Merged, lines: [Int]) async throws {
            clock = merged.clock
            try await merged.snapshot.writeBack(merged.store, actor: actor, now: now)
            outcome.created.append(contentsOf: lines)
        }
    }

    /// Every surviving household of a district with its shown values.
    public func householdSummaries(district: String?, engine: MergeEngine) async throws -> [ShownHousehold] {
        try await readSnapshot { connection in
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
            var result: [ShownHousehold] = []
            for id in try await survivors(connection, district: district) {
                if let state = try await snapshot.aggregate(id)?.household, let shown = ReportRows.shown(id, state: state) { result.append(shown) }
            }
            return result
        }
    }

    private func survivors(_ connection: PostgresConnection, district: String?) async throws -> [EntityID] {
        var ids: [EntityID] = []
        for try await text in try await connection.query(
            """
            SELECT id FROM households WHERE id = canonical AND (\(district == nil) OR district = \(district ?? "")) ORDER BY id
            """, logger: logger
        ).decode(String.self) {
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
            for try await (household, old, new, write, at) in try await connection.query(
                """
                SELECT h.canonical, a.old, a.new, a.write_id, a.at FROM audit a JOIN households h ON h.id = a.entity
                WHERE a.kind = 'household' AND a.field = 'status' ORDER BY a.id, a.n
                """, logger: logger
            ).decode((String, String, String, String, String).self) {
                if let change = ReportRows.statusChange(household: household, old: old, new: new, write: write, recordedAt: at, in: inScope) {
                    history.append(change)
                }
            }
            let filter = district.map { _ in "WHERE token_hash NOT LIKE 'server:%' AND district = $1" } ?? "WHERE token_hash NOT LIKE 'server:%'"
            let devices = try await Self.devices(connection, filter, district.map { [$0] } ?? [], logger).map(ReportRows.device)
            var review: [String: ReviewCounts] = [:]
            let all = district == nil, only = district ?? ""
            for try await (area, count) in try await connection.query(
                """
                SELECT district, COUNT(*) FROM conflicts WHERE district IS NOT NULL AND (\(all) OR district = \(only)) GROUP BY district
                """, logger: logger
            ).decode((String, Int64).self) { review[area, default: ReviewCounts()].conflicts = Int(count) }
            for try await (area, count) in try await connection.query(
                """
                SELECT s.district, COUNT(*) FROM households a JOIN households s ON s.id = a.canonical
                WHERE a.id <> a.canonical AND s.district IS NOT NULL AND (\(all) OR s.district = \(only)) GROUP BY s.district
                """, logger: logger
            ).decode((String, Int64).self) { review[area, default: ReviewCounts()].duplicates = Int(count) }
            for try await (area, count) in try await connection.query(
                """
                SELECT district, COUNT(*) FROM rejections WHERE district IS NOT NULL AND closed_at IS NULL AND (\(all) OR district = \(only)) GROUP BY district
                """, logger: logger
            ).decode((String, Int64).self) { review[area, default: ReviewCounts()].rejections = Int(count) }
            return ReportInputs(households: households, statusHistory: history, devices: devices, pendingReview: review)
        }
    }

    public func holdForReview(
        _ batches: [PushBatch], device: DeviceRecord, code: DoorstepError.Code, reason: String,
        now: String, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> [PushReceipt] {
        try await write { connection in
            var clock = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
            var highest: Int64 = 0
            for try await value in try await connection.query("SELECT highest_seq FROM devices WHERE id = \(device.id.rawValue)", logger: logger).decode(
                Int64.self)
            {
                highest = value
            }
            var logged: [Int64: LoggedMutation] = [:]
            for try await (seq, body, result) in try await connection.query(
                """
                SELECT seq, body, result FROM mutations WHERE device = \(device.id.rawValue) AND seq = ANY(\(Array(Set(batches.flatMap { $0.mutations.map(\.seq) }))))
                """, logger: logger
            ).decode((Int64, String, String).self) {
                logged[seq] = LoggedMutation(mutation: try StoredJSON.decode(Mutation.self, body), result: try StoredJSON.decode(MutationResult.self, result))
            }
            var answers: [ReviewRouting.Question: String?] = [:]
            for question in HoldForReview.questions(batches, device: device) { answers[question] = try await Self.answer(question, connection, logger) }
            let plan = HoldForReview(batches, device: device, highestSeq: highest, logged: logged, code: code, reason: reason, clock: &clock) { mutation in
                ReviewRouting.held(mutation, device: device).district(for: mutation) { answers[$0] ?? nil }
            }
            for row in plan.rows {
                try await connection.query(
                    """
                    INSERT INTO rejections (device, seq, household, entity, kind, district, code, reason, at, body)
                    VALUES (\(device.id.rawValue), \(row.mutation.seq), \(row.mutation.household.description), \(row.mutation.entity.description),
                            \(row.mutation.kind.rawValue), \(row.district), \(code.rawValue), \(reason), \(now), \(try StoredJSON.encode(row.mutation)))
                    ON CONFLICT (device, seq) DO NOTHING
                    """, logger: logger)
            }
            try await Self.setMeta(connection, "hlc", clock.last.description, logger)
            return plan.receipts
        }
    }

    /// Storage's answer to a question of ``ReviewRouting``.
    static func answer(_ question: ReviewRouting.Question, _ connection: PostgresConnection, _ logger: Logger) async throws -> String? {
        let rows: PostgresRowSequence
        switch question {
        case .writerDistrict(let device):
            rows = try await connection.query("SELECT district FROM devices WHERE id = \(device.rawValue)", logger: logger)
        case .householdDistrict(let household):
            rows = try await connection.query(
                """
                SELECT s.district FROM households h JOIN households s ON s.id = h.canonical WHERE h.id = \(household.description)
                """, logger: logger)
        }
        for try await district in rows.decode(String?.self) { return district }
        return nil
    }

    public func acceptHeld(
        device: DeviceID, seq: Int64, by principal: Principal, actor: String, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> MutationResult {
        try await write { connection in
            let held = try await openRejection(device: device, seq: seq, connection).heldChange(in: principal)
            let result = try await decide(
                .acceptHeld(held), by: principal, actor: actor, origin: AuditOrigin(device: held.device, seq: held.seq, hlc: held.hlc),
                engine: engine, now: now, physicalMillis: physicalMillis, connection)
            try await close(device: device, seq: seq, as: .accepted, by: actor, reason: nil, now: now, connection)
            return result
        }
    }

    public func dismissRejection(
        device: DeviceID, seq: Int64, by principal: Principal, actor: String, reason: String,
        now: String
    ) async throws -> ClosedRejection {
        let reason = try OpenRejection.checkedReason(reason)
        return try await write { connection in
            try await openRejection(device: device, seq: seq, connection).check(principal)
            try await close(device: device, seq: seq, as: .dismissed, by: actor, reason: reason, now: now, connection)
            return ClosedRejection(device: device, seq: seq, closedAs: .dismissed, closedBy: actor, closedAt: now, reason: reason)
        }
    }

    /// The open row of the rejection log with this key, or `notFound`.
    private func openRejection(device: DeviceID, seq: Int64, _ connection: PostgresConnection) async throws -> OpenRejection {
        for try await (district, body) in try await connection.query(
            """
            SELECT district, body FROM rejections WHERE device = \(device.rawValue) AND seq = \(seq) AND closed_at IS NULL
            """, logger: logger
        ).decode((String?, String?).self) {
            return OpenRejection(district: district, body: body)
        }
        throw OpenRejection.notFound
    }

    private func close(
        device: DeviceID, seq: Int64, as closing: RejectionClosing, by actor: String, reason: String?, now: String,
        _ connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            UPDATE rejections SET closed_as = \(closing.rawValue), closed_by = \(actor), closed_at = \(now), closed_reason = \(reason)
            WHERE device = \(device.rawValue) AND seq = \(seq)
            """, logger: logger)
    }
}
