import DoorstepCore
import Foundation
import GRDB

/// What the relay's devices push: kept with their bytes and signatures, answered from what it holds (§19.3).
extension RelayStore {
    // MARK: Pushes

    /// Takes a batch a device pushed, in one transaction: seqs the relay (or the city) holds are
    /// answered from what it holds (the city's outcome once it is known, `relayed` until then;
    /// different content is `seqReuse`), new ones are kept with the batch's bytes and signature
    /// for the city and answered `relayed`; a batch that does not start where the device's work
    /// held here ends is `missingPredecessor`, and nothing changes.
    func take(
        _ batch: PushBatch, body: Data, signature: String, now: String, city: CityData
    ) throws -> (results: [MutationResult], highestContiguousSeq: Int64) {
        try pool.write { db in
            let device = batch.device.rawValue
            let progress = try Row.fetchOne(db, sql: "SELECT highest_seq, ask_from FROM progress WHERE device = ?", arguments: [device])
            var held: Int64 = progress?["highest_seq"] ?? 0
            let heldBefore = held
            if let ask = progress?["ask_from"] as Int64? {
                // After a restore of the city (§19.8): the device's catch-up (a batch of nothing but
                // `acknowledgedThrough`) is told what the city holds, so that it sends again from there;
                // once it does, it is told what the relay holds.
                if batch.mutations.isEmpty && batch.lost == nil && batch.acknowledgedThrough != nil { return ([], min(held, ask)) }
                if Self.seqs(of: batch).first <= ask + 1 {
                    try db.execute(sql: "UPDATE progress SET ask_from = NULL WHERE device = ?", arguments: [device])
                }
            }
            var advanced = false
            if let lost = batch.lost {
                guard lost.from <= held + 1 else { throw MergeEngine.missingPredecessor(held: held, first: lost.from) }
                if lost.through > held {
                    held = lost.through
                    advanced = true
                }
            }
            var answers: [Int64: MutationResult] = [:]
            var fresh: [Mutation] = []
            // Seqs the city holds that this relay never saw (the device pushed them to the city
            // directly): forwarded too, so that the city's own answer (a refusal, a stamp) comes back.
            var unseen: [Mutation] = []
            for mutation in batch.mutations {
                // A seq the relay holds is answered from it, even above `held` (the city was restored
                // and lacks earlier work this relay never saw: the device sends it again, then these).
                guard
                    let row = try Row.fetchOne(db, sql: "SELECT body, outcome FROM mutations WHERE device = ? AND seq = ?", arguments: [device, mutation.seq])
                else {
                    if mutation.seq > held {
                        fresh.append(mutation)
                    } else {
                        unseen.append(mutation)
                        answers[mutation.seq] = MutationResult(seq: mutation.seq, outcome: .relayed)
                    }
                    continue
                }
                // The device's bytes as they came, compared as the city compares them.
                guard try WireCoding.decode(Mutation.self, from: Data((row["body"] as String).utf8)) == mutation else {
                    throw DoorstepError(.seqReuse, "seq \(mutation.seq) of this device was already used for a different mutation; a device never reuses a seq")
                }
                if let text = row["outcome"] as String? {
                    answers[mutation.seq] = try WireCoding.decode(MutationResult.self, from: Data(text.utf8))
                    try db.execute(sql: "UPDATE mutations SET seen = 1 WHERE device = ? AND seq = ?", arguments: [device, mutation.seq])
                } else {
                    answers[mutation.seq] = MutationResult(seq: mutation.seq, outcome: .relayed)
                }
            }
            // In the batch's order (§8): a client pairs results with its mutations by position.
            func results() -> [MutationResult] { batch.mutations.compactMap { answers[$0.seq] } }
            if let first = fresh.first, first.seq != held + 1 { throw MergeEngine.missingPredecessor(held: held, first: first.seq) }
            guard !fresh.isEmpty || !unseen.isEmpty || advanced else { return (results(), held) }
            // Ordered by what it brings: a lost range from past what was held (its start may be work
            // the relay holds and forwards in batches of its own, which go first).
            let brought = fresh.map(\.seq) + unseen.map(\.seq) + (advanced ? [max(batch.lost?.from ?? 0, heldBefore + 1)] : [])
            try db.execute(
                sql: "INSERT INTO batches (device, body, signature, received_at, first_seq, last_seq) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [device, body, signature, now, brought.min() ?? 0, Self.seqs(of: batch).last])
            for mutation in unseen {
                // Already at the city, as it answers: not shown over its copy (its copy has it, or it refused it).
                try Self.keep(db, mutation, shown: nil, now: now)
            }
            for mutation in fresh {
                // Shown over the city's copy only when valid; forwarded either way (the city answers).
                var shown = mutation
                let writes = try? MutationValidator.validate(mutation.op, kind: mutation.kind, fields: mutation.fields, city: city)
                if let writes { shown.fields = writes }
                try Self.touch(db, try Self.keep(db, mutation, shown: writes == nil ? nil : shown, now: now))
                answers[mutation.seq] = MutationResult(seq: mutation.seq, outcome: .relayed)
                held = max(held, mutation.seq)
            }
            // Work held here above a gap the device just filled counts again.
            held = try Self.contiguous(db, device: batch.device, from: held)
            try db.execute(
                sql: "INSERT INTO progress (device, highest_seq) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET highest_seq = excluded.highest_seq",
                arguments: [device, held])
            return (results(), held)
        }
    }

    /// The seqs a batch covers, its mutations' and its declared lost range's (0 and 0 for none).
    static func seqs(of batch: PushBatch) -> (first: Int64, last: Int64) {
        let all = batch.mutations.map(\.seq) + (batch.lost.map { [$0.from, $0.through] } ?? [])
        return (all.min() ?? 0, all.max() ?? 0)
    }

    /// The highest seq n from `held` on such that the relay holds each of `held`+1 ... n of a device.
    static func contiguous(_ db: Database, device: DeviceID, from held: Int64) throws -> Int64 {
        var held = held
        while try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM mutations WHERE device = ? AND seq = ?)", arguments: [device.rawValue, held + 1]) ?? false
        {
            held += 1
        }
        return held
    }

    /// Keeps a mutation for the city, the device's bytes as they came and, when valid, its normalised
    /// values to show; returns the household it is shown in.
    @discardableResult
    static func keep(_ db: Database, _ mutation: Mutation, shown: Mutation?, now: String) throws -> EntityID {
        let household = try survivor(db, of: mutation.household)
        try db.execute(
            sql: "INSERT INTO mutations (device, seq, household, body, arrival, received_at, shown) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                mutation.device.rawValue, mutation.seq, household.description, String(decoding: try WireCoding.encode(mutation), as: UTF8.self),
                try next(db, .arrival), now, try shown.map { String(decoding: try WireCoding.encode($0), as: UTF8.self) },
            ])
        return household
    }

    /// The survivor a household id stands for at the city (itself when not linked).
    static func survivor(_ db: Database, of household: EntityID) throws -> EntityID {
        guard let text = try String.fetchOne(db, sql: "SELECT survivor FROM aliases WHERE alias = ?", arguments: [household.description]) else {
            return household
        }
        return (try? EntityID(text)) ?? household
    }

    /// Puts a household at the end of the relay's feed.
    static func touch(_ db: Database, _ household: EntityID, removed: Bool = false) throws {
        let seq = try next(db, .feedSeq)
        try db.execute(
            sql: "INSERT OR REPLACE INTO changes (household, seq, removed) VALUES (?, ?, ?)", arguments: [household.description, seq, removed])
    }
}
