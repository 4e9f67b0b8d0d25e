public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    public func holdForReview(_ batches: [PushBatch], device: DeviceRecord, code: DoorstepError.Code, reason: String,
                              now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> [PushReceipt] {
        try await pool.write { db in
            var clock = try Self.loadClock(db, physicalMillis: physicalMillis)
            let highest = try Int64.fetchOne(db, sql: "SELECT highest_seq FROM devices WHERE id = ?", arguments: [device.id.rawValue]) ?? 0
            var receipts: [PushReceipt] = []
            for batch in batches {
                var results: [MutationResult] = []
                for mutation in batch.mutations {
                    if let row = try Row.fetchOne(db, sql: "SELECT body, result FROM mutations WHERE device = ? AND seq = ?",
                                                  arguments: [device.id.rawValue, mutation.seq]) {
                        // Pushed before the revocation: answer as a replayed push would.
                        let logged = try StoredJSON.decode(Mutation.self, row["body"])
                        var result = try StoredJSON.decode(MutationResult.self, row["result"])
                        if logged != mutation {
                            result = MutationResult(seq: mutation.seq, outcome: .rejected, code: .seqReuse,
                                                    reason: "seq \(mutation.seq) of this device was already used for a different mutation; not held")
                        } else if result.outcome != .rejected {
                            result.outcome = .alreadyApplied
                        }
                        results.append(result)
                        continue
                    }
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO rejections (device, seq, household, entity, kind, district, code, reason, at, body)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            device.id.rawValue, mutation.seq, mutation.household.description, mutation.entity.description,
                            mutation.kind.rawValue, try Self.reviewDistrict(of: mutation, device: device, db), code.rawValue, reason, now,
                            try StoredJSON.encode(mutation),
                        ]
                    )
                    results.append(MutationResult(seq: mutation.seq, outcome: .rejected, code: code, reason: reason))
                }
                receipts.append(PushReceipt(device: device.id, highestContiguousSeq: highest, serverClock: clock.tick(),
                                            results: results, clockSkew: false))
            }
            try Self.saveClock(db, clock)
            return receipts
        }
    }

    /// The district whose office reviews a held mutation: the device's own (its office uploaded
    /// the bundle; a bundle never puts rows into another district's review); for a city device,
    /// the household's (as linked now), else the one a new household names.
    static func reviewDistrict(of mutation: Mutation, device: DeviceRecord, _ db: Database) throws -> String? {
        if let district = device.district { return district }
        let stored = try String.fetchOne(
            db,
            sql: "SELECT s.district FROM households h JOIN households s ON s.id = h.canonical WHERE h.id = ?",
            arguments: [mutation.household.description]
        )
        if let stored { return stored }
        guard mutation.kind == .household else { return nil }
        return mutation.fields.first(where: { $0.field == "district" })?.value.stringValue
    }

    public func acceptHeld(device: DeviceID, seq: Int64, by principal: Principal, actor: String, engine: MergeEngine, now: String,
                           physicalMillis: @escaping @Sendable () -> Int64) async throws -> MutationResult {
        try await pool.write { db in
            let held = try Self.openRejection(device: device, seq: seq, db).heldChange(in: principal)
            let result = try Self.decide(.acceptHeld(held), by: principal, actor: actor, origin: AuditOrigin(device: held.device, seq: held.seq, hlc: held.hlc),
                                         engine: engine, now: now, physicalMillis: physicalMillis, db)
            try Self.close(device: device, seq: seq, as: .accepted, by: actor, reason: nil, now: now, db)
            return result
        }
    }

    public func dismissRejection(device: DeviceID, seq: Int64, by principal: Principal, actor: String, reason: String,
                                 now: String) async throws -> ClosedRejection {
        let reason = try OpenRejection.checkedReason(reason)
        return try await pool.write { db in
            try Self.openRejection(device: device, seq: seq, db).check(principal)
            try Self.close(device: device, seq: seq, as: .dismissed, by: actor, reason: reason, now: now, db)
            return ClosedRejection(device: device, seq: seq, closedAs: .dismissed, closedBy: actor, closedAt: now, reason: reason)
        }
    }

    /// The open row of the rejection log with this key, or `notFound`.
    static func openRejection(device: DeviceID, seq: Int64, _ db: Database) throws -> OpenRejection {
        guard let row = try Row.fetchOne(db, sql: "SELECT district, body FROM rejections WHERE device = ? AND seq = ? AND closed_at IS NULL",
                                         arguments: [device.rawValue, seq])
        else { throw OpenRejection.notFound }
        return OpenRejection(district: row["district"], body: row["body"])
    }

    static func close(device: DeviceID, seq: Int64, as closing: RejectionClosing, by actor: String, reason: String?, now: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE rejections SET closed_as = ?, closed_by = ?, closed_at = ?, closed_reason = ? WHERE device = ? AND seq = ?",
                       arguments: [closing.rawValue, actor, now, reason, device.rawValue, seq])
    }
}
