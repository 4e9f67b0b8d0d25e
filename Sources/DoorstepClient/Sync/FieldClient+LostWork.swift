import DoorstepCore
import Foundation
import GRDB

/// Work a restored server lost (protocol 1.7, §8): sent again from what this laptop holds, or
/// declared lost; a refused cursor's catching up.
extension FieldClient {
    /// Sends again the work a server that lost it asks for, from `resume` up to the first seq not
    /// acknowledged (`before`): every seq this laptop holds there, from the outbox, the quarantine
    /// (the server answers them again) and the settled work kept (protocol 1.7); each run of seqs
    /// it no longer holds is declared lost to a server that takes it (1.7). `nil` when it cannot
    /// (nothing to send from there, or a server before 1.7 lacking work no longer held); else how
    /// many seqs are sent again and declared lost.
    func recover(from resume: Int64, before first: Int64, api: ServerAPI) async throws -> (sent: Int, lost: Int)? {
        guard resume >= 1, resume < first else { return nil }
        // Whether a gap may be declared (the server reads 1.7) is asked before the write, which
        // finds the gaps (after a restore only: the server's revision is asked once, then kept).
        let takesLost = try await serverTakesLostWork(api)
        return try await pool.write { db -> (sent: Int, lost: Int)? in
            let held = try Self.heldSeqs(db, from: resume, before: first)
            let gaps = Self.gaps(in: held, from: resume, before: first)
            if !gaps.isEmpty && !takesLost { return nil }
            if !gaps.isEmpty { try LocalStore.setLostToDeclare(db, try LocalStore.lostToDeclare(db) + gaps) }
            let now = Instant.format(Date(), in: .gmt)
            try db.execute(
                sql:
                    "INSERT OR IGNORE INTO outbox (seq, household, body, acked, created_at, hlc) SELECT seq, household, body, 0, ?, hlc FROM kept WHERE seq >= ?",
                arguments: [now, resume])
            try db.execute(sql: "DELETE FROM kept WHERE seq >= ?", arguments: [resume])
            try db.execute(
                sql: "INSERT OR IGNORE INTO outbox (seq, household, body, acked, created_at) SELECT seq, household, body, 0, ? FROM quarantine WHERE seq >= ?",
                arguments: [now, resume])
            try db.execute(sql: "DELETE FROM quarantine WHERE seq >= ?", arguments: [resume])
            try db.execute(sql: "UPDATE outbox SET acked = 0 WHERE seq >= ?", arguments: [resume])
            try Self.askAgainForFiles(db)
            for household in try String.fetchAll(db, sql: "SELECT DISTINCT household FROM outbox WHERE seq >= ?", arguments: [resume]).compactMap({
                try? EntityID($0)
            }) {
                try LocalStore.refreshView(db, household)
            }
            return (held.count, gaps.reduce(0) { $0 + Int($1.count) })
        }
    }

    /// The seqs from `resume` to before `first` this laptop holds, in order: in the outbox, the quarantine or kept.
    static func heldSeqs(_ db: Database, from resume: Int64, before first: Int64) throws -> [Int64] {
        try Int64.fetchAll(
            db,
            sql: """
                SELECT seq FROM outbox WHERE seq >= ?1 AND seq < ?2 UNION SELECT seq FROM quarantine WHERE seq >= ?1 AND seq < ?2
                UNION SELECT seq FROM kept WHERE seq >= ?1 AND seq < ?2 ORDER BY seq
                """,
            arguments: [resume, first])
    }

    /// The runs of seqs from `resume` to before `first` that are not in `held` (ascending).
    static func gaps(in held: [Int64], from resume: Int64, before first: Int64) -> [SeqRange] {
        var gaps: [SeqRange] = []
        var next = resume
        for seq in held + [first] where seq >= next {
            if seq > next { gaps.append(SeqRange(from: next, through: seq - 1)) }
            next = seq + 1
        }
        return gaps
    }

    /// Whether the server takes `lost` in a batch (1.7): as last said, else asked again.
    func serverTakesLostWork(_ api: ServerAPI) async throws -> Bool {
        let stored = try await pool.read { db in try LocalStore.setting(db, .serverRevision) }
        if ProtocolVersion.readsLostWork(stored) { return true }
        let info = try await api.call("GET", "/v1/server", as: ServerInfo.self)
        let revision = info.protocolRevision ?? "1.0"
        try await pool.write { db in try LocalStore.set(db, .serverRevision, revision) }
        return ProtocolVersion.readsLostWork(revision)
    }

    /// After a refused cursor: tells the server what this device had acknowledged and asks where
    /// it stands (an empty batch with `acknowledgedThrough`, §8) and, when it lacks confirmed work,
    /// sends it again (or declares it lost, 1.7), each batch saying `acknowledgedThrough` until
    /// the sync ends. `nil` when the server lacks nothing; else how many seqs are sent again and
    /// declared lost.
    func catchUp(api: ServerAPI, device: DeviceID) async throws -> (sent: Int, lost: Int)? {
        let first = try await pool.read { db -> Int64 in
            let unsent = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM outbox WHERE acked IN (0, 2, 3)")
            let declaring = try LocalStore.lostToDeclare(db).first?.from
            return [unsent, declaring, try LocalStore.counters(db).nextSeq].compactMap { $0 }.min() ?? 1
        }
        try await pool.write { db in try LocalStore.set(db, .catchingUpThrough, String(first - 1)) }
        let body = try WireCoding.encode(PushBatch(device: device, mutations: [], acknowledgedThrough: first - 1))
        let receipt = try await api.call(
            "POST", "/v1/push", body: body, headers: try Self.signature(of: body, by: try await pushSigningKey()), as: PushReceipt.self)
        try await pool.write { db in try Self.absorb(receipt.serverClock, db) }
        let held = receipt.highestContiguousSeq
        guard held + 1 < first else { return nil }
        guard let again = try await recover(from: held + 1, before: first, api: api) else {
            throw DoorstepError(
                .missingPredecessor,
                "the server lost this laptop's confirmed work from seq \(held + 1) on and this laptop no longer holds all of it; the server must be updated to take it as lost",
                zh: "服务器缺少本机自序号 \(held + 1) 起已确认的工作，而本机已不再保存其中一部分；需先升级服务器，才能告知其丢失",
                details: ErrorDetails(rule: "resumeFrom", resumeFrom: held + 1))
        }
        return again
    }

    /// A server restored from a backup may lack files it once held whole: each file this laptop
    /// made and still holds is asked about again (`HEAD`) at the next sending, and sent if missing.
    static func askAgainForFiles(_ db: Database) throws {
        try db.execute(sql: "UPDATE attachment_files SET uploaded = 0 WHERE mine = 1 AND held = 1")
    }

    /// Takes a receipt: acknowledged work stays overlaid until a pull catches up; rejected work goes to quarantine.
    /// A pushed outbox row: its seq, household and stored body.
    struct OutboxEntry {
        var seq: Int64
        var household: EntityID
        var body: String
    }
}
