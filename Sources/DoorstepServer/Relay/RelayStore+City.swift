import DoorstepCore
import Foundation
import GRDB

/// The relay's side of its rounds with the city: what goes, what comes back, the city's pages (§19.4).
extension RelayStore {
    // MARK: The city's side

    /// The batches waiting for the city, in the order they go (``ForwardingQueue``), read once a
    /// round without their bodies.
    func forwardingQueue() throws -> ForwardingQueue {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, device, first_seq FROM batches WHERE state = 0
                    AND (device IN (SELECT id FROM devices WHERE at_city > 0)
                        OR device IN (SELECT device FROM enrollments WHERE state = 0 OR (state = 2 AND again = 0)))
                    """)
            let awaiting = Set(try String.fetchAll(db, sql: "SELECT device FROM enrollments WHERE state = 0"))
            return ForwardingQueue(rows.map { ($0["id"], $0["device"], $0["first_seq"]) }, awaiting: awaiting)
        }
    }

    /// A waiting batch's device, bytes and signature; `nil` when it is no longer waiting.
    func waitingBatch(_ id: Int64) throws -> (device: DeviceID, body: Data, signature: String)? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT device, body, signature FROM batches WHERE id = ? AND state = 0", arguments: [id]),
                let device = try? DeviceID(row["device"] as String)
            else { return nil }
            return (device, row["body"], row["signature"])
        }
    }

    /// Whether work waits for the city to make a device enrolled here.
    func forwardingWaitsForEnrollment() throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM batches WHERE state = 0 AND device IN (SELECT device FROM enrollments WHERE state = 0))")
                ?? false
        }
    }

    /// Takes the city's receipt of a forwarded batch: each outcome kept for its device (a refusal
    /// leaves the relay's view at once); the batch is done.
    func takeReceipt(_ receipt: PushReceipt, batch id: Int64, now: String) throws {
        try pool.write { db in
            let mark = try Self.next(db, .receiptMark)
            for result in receipt.results {
                try db.execute(
                    sql: """
                        UPDATE mutations SET outcome = ?, confirmed = ?, settled = settled OR ?
                        WHERE device = ? AND seq = ? AND outcome IS NULL
                        """,
                    arguments: [
                        String(decoding: try WireCoding.encode(result), as: UTF8.self), mark, result.outcome == .rejected, receipt.device.rawValue,
                        result.seq,
                    ])
                if result.outcome == .rejected, db.changesCount > 0,
                    let household = try String.fetchOne(
                        db, sql: "SELECT household FROM mutations WHERE device = ? AND seq = ?", arguments: [receipt.device.rawValue, result.seq]
                    ).flatMap({ try? EntityID($0) })
                {
                    try Self.touch(db, household)
                }
            }
            try db.execute(sql: "UPDATE batches SET state = 1, forwarded_at = ? WHERE id = ?", arguments: [now, id])
            try Self.set(db, .lastForwardAt, now)
            // What the city holds of the device (a revoked device's work held for review aside).
            if !receipt.results.contains(where: { $0.code == .deviceRevoked }) {
                try db.execute(
                    sql: "UPDATE progress SET city_held = MAX(city_held, ?) WHERE device = ?",
                    arguments: [receipt.highestContiguousSeq, receipt.device.rawValue])
            }
        }
    }

    /// A batch the city refused as a whole for good (a signature, a scope, a shape): each of its
    /// mutations still waiting is answered with the refusal, as the city would have answered the device.
    func refuse(batch id: Int64, _ error: DoorstepError, now: String) throws {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT device, body FROM batches WHERE id = ?", arguments: [id]) else { return }
            let batch = try WireCoding.decode(PushBatch.self, from: row["body"] as Data)
            let mark = try Self.next(db, .receiptMark)
            for mutation in batch.mutations {
                let result = MutationResult(
                    seq: mutation.seq, outcome: .rejected, code: error.code, reason: error.message, reasonZh: error.chineseMessage,
                    details: error.details.isEmpty ? nil : error.details)
                try db.execute(
                    sql: "UPDATE mutations SET outcome = ?, confirmed = ?, settled = 1 WHERE device = ? AND seq = ? AND outcome IS NULL",
                    arguments: [String(decoding: try WireCoding.encode(result), as: UTF8.self), mark, row["device"] as String, mutation.seq])
                if db.changesCount > 0 { try Self.touch(db, try Self.survivor(db, of: mutation.household)) }
            }
            try db.execute(
                sql: "UPDATE batches SET state = 2, forwarded_at = ?, error = ? WHERE id = ?", arguments: [now, "\(error.code): \(error.message)", id])
        }
    }

    /// The mark of the last receipt taken: a page of the city's asked for after it holds what
    /// every receipt up to it said was applied.
    func receiptMark() throws -> Int64 {
        try value(.receiptMark).flatMap { Int64($0) } ?? 0
    }

    /// Takes a page of the city's pull, asked for when the receipt mark was `asked`: each household's
    /// copy replaced (the relay's feed delivers it again), the mutations it now holds settled (those
    /// the city confirmed before the page was asked for, as a device settles its own, §8), the
    /// households it removed removed; the last page (`hasMore` false) settles every confirmed one.
    func takeCityPage(_ page: PullPage, asked: Int64) throws {
        try pool.write { db in
            let epoch = try Self.value(db, .pullEpoch).flatMap { Int64($0) } ?? 0
            for aggregate in page.households {
                let id = aggregate.household.id
                try db.execute(
                    sql: "INSERT OR REPLACE INTO city_households (id, aggregate, pull_epoch) VALUES (?, ?, ?)",
                    arguments: [id.description, try WireCoding.encode(aggregate), epoch])
                for alias in aggregate.aliases {
                    try db.execute(sql: "INSERT OR REPLACE INTO aliases (alias, survivor) VALUES (?, ?)", arguments: [alias.description, id.description])
                    try db.execute(sql: "UPDATE mutations SET household = ? WHERE household = ?", arguments: [id.description, alias.description])
                }
                let ids = [id] + aggregate.aliases
                let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
                try db.execute(
                    sql: "UPDATE mutations SET settled = 1 WHERE settled = 0 AND confirmed <= ? AND household IN (\(placeholders))",
                    arguments: StatementArguments([asked] + ids.map(\.description)))
                try Self.touch(db, id)
            }
            for id in page.removed {
                try db.execute(sql: "DELETE FROM city_households WHERE id = ?", arguments: [id.description])
                try Self.touch(db, id, removed: true)
            }
            if !page.hasMore {
                // Every household of the district is in the copy as the city had it after these
                // receipts (§8 "Settling", case 2): what they confirmed leaves the view, shown again.
                let settling = try String.fetchAll(
                    db, sql: "SELECT DISTINCT household FROM mutations WHERE settled = 0 AND confirmed <= ? AND shown IS NOT NULL", arguments: [asked])
                try db.execute(sql: "UPDATE mutations SET settled = 1 WHERE settled = 0 AND confirmed <= ?", arguments: [asked])
                for household in settling.compactMap({ try? EntityID($0) }) { try Self.touch(db, household) }
                if try Self.value(db, .repulling) != nil {
                    // The whole district pulled again after a restore: copies it did not deliver are
                    // of households the restored city does not hold (any work held here still shows them).
                    for text in try String.fetchAll(db, sql: "SELECT id FROM city_households WHERE pull_epoch < ?", arguments: [epoch]) {
                        try db.execute(sql: "DELETE FROM city_households WHERE id = ?", arguments: [text])
                        guard let id = try? EntityID(text) else { continue }
                        try Self.touch(db, id, removed: try Self.shown(db, id) == nil)
                    }
                    try Self.set(db, .repulling, nil)
                }
            }
            try Self.set(db, .cityCursor, page.nextCursor)
        }
    }
}

/// The order a relay's waiting batches go to the city in (§19.4 step 3): one at a time, the device
/// whose earliest waiting batch came first going next (a colleague's visit to a household filed on
/// the office's network goes after the filing), each device's batches in the order of their seqs
/// (a batch its laptop sent again after a restore of the city goes before those forwarded after
/// it). The order waits at a device whose enrollment at the relay the city has yet to make.
struct ForwardingQueue {
    /// Each device's batches, by first seq then arrival.
    private var queues: [String: [(id: Int64, firstSeq: Int64)]] = [:]
    /// The earliest arrival among each device's batches.
    private var earliest: [String: Int64] = [:]
    private let awaiting: Set<String>

    init(_ batches: [(id: Int64, device: String, firstSeq: Int64)], awaiting: Set<String>) {
        for batch in batches { queues[batch.device, default: []].append((batch.id, batch.firstSeq)) }
        for device in queues.keys {
            queues[device]?.sort { ($0.firstSeq, $0.id) < ($1.firstSeq, $1.id) }
            earliest[device] = queues[device]?.map(\.id).min()
        }
        self.awaiting = awaiting
    }

    /// The next batch and its device; `nil` when none may go (the order waits at a device, or none is
    /// left). `stuck`: devices whose batch the city did not take this round.
    func next(excluding stuck: Set<String>) -> (id: Int64, device: String)? {
        for (device, _) in earliest.sorted(by: { $0.value < $1.value }) where !stuck.contains(device) {
            if awaiting.contains(device) { return nil }
            if let head = queues[device]?.first { return (head.id, device) }
        }
        return nil
    }

    /// Notes that a device's batch went.
    mutating func went(_ id: Int64, of device: String) {
        queues[device]?.removeAll { $0.id == id }
        if queues[device]?.isEmpty ?? true {
            queues[device] = nil
            earliest[device] = nil
        } else {
            earliest[device] = queues[device]?.map(\.id).min()
        }
    }
}
