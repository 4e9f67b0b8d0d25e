public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    public func holdForReview(
        _ batches: [PushBatch], device: DeviceRecord, code: DoorstepError.Code, reason: String,
        now: String, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> [PushReceipt] {
        try await pool.write { db in
            var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
            let highest = try Int64.fetchOne(db, sql: "SELECT highest_seq FROM devices WHERE id = ?", arguments: [device.id.rawValue]) ?? 0
            var logged: [Int64: LoggedMutation] = [:]
            for seq in Set(batches.flatMap { $0.mutations.map(\.seq) }) {
                logged[seq] = try SQLiteMergeStore.loggedMutation(db, device: device.id, seq: seq)
            }
            let plan = try HoldForReview(batches, device: device, highestSeq: highest, logged: logged, code: code, reason: reason, clock: &clock) { mutation in
                try ReviewRouting.held(mutation, device: device).district(for: mutation) { try Self.answer($0, db) }
            }
            for row in plan.rows {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO rejections (device, seq, household, entity, kind, district, code, reason, at, body)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        device.id.rawValue, row.mutation.seq, row.mutation.household.description, row.mutation.entity.description,
                        row.mutation.kind.rawValue, row.district, code.rawValue, reason, now, try StoredJSON.encode(row.mutation),
                    ]
                )
            }
            try Self.saveClock(db, clock)
            return plan.receipts
        }
    }

    /// Storage's answer to a question of ``ReviewRouting``.
    static func answer(_ question: ReviewRouting.Question, _ db: Database) throws -> String? {
        switch question {
        case .writerDistrict(let device):
            try String.fetchOne(db.cachedStatement(sql: "SELECT district FROM devices WHERE id = ?"), arguments: [device.rawValue])
        case .householdDistrict(let household):
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT s.district FROM households h JOIN households s ON s.id = h.canonical WHERE h.id = ?"),
                arguments: [household.description])
        }
    }

    public func acceptHeld(
        device: DeviceID, seq: Int64, by principal: Principal, actor: String, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> MutationResult {
        try await pool.write { db in
            let held = try Self.openRejection(device: device, seq: seq, db).heldChange(in: principal)
            let result = try Self.decide(
                .acceptHeld(held), by: principal, actor: actor, origin: AuditOrigin(device: held.device, seq: held.seq, hlc: held.hlc),
                engine: engine, now: now, physicalMillis: physicalMillis, db)
            try Self.close(device: device, seq: seq, as: .accepted, by: actor, reason: nil, now: now, db)
            return result
        }
    }

    public func dismissRejection(
        device: DeviceID, seq: Int64, by principal: Principal, actor: String, reason: String,
        now: String
    ) async throws -> ClosedRejection {
        let reason = try OpenRejection.checkedReason(reason)
        return try await pool.write { db in
            try Self.openRejection(device: device, seq: seq, db).check(principal)
            try Self.close(device: device, seq: seq, as: .dismissed, by: actor, reason: reason, now: now, db)
            return ClosedRejection(device: device, seq: seq, closedAs: .dismissed, closedBy: actor, closedAt: now, reason: reason)
        }
    }

    /// The open row of the rejection log with this key, or `notFound`.
    static func openRejection(device: DeviceID, seq: Int64, _ db: Database) throws -> OpenRejection {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT district, body FROM rejections WHERE device = ? AND seq = ? AND closed_at IS NULL",
                arguments: [device.rawValue, seq])
        else { throw OpenRejection.notFound }
        return OpenRejection(district: row["district"], body: row["body"])
    }

    static func close(device: DeviceID, seq: Int64, as closing: RejectionClosing, by actor: String, reason: String?, now: String, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE rejections SET closed_as = ?, closed_by = ?, closed_at = ?, closed_reason = ? WHERE device = ? AND seq = ?",
            arguments: [closing.rawValue, actor, now, reason, device.rawValue, seq])
    }
}
