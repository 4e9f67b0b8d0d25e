public import DoorstepCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

extension PostgresStorage {
    static func loadClock(
        _ connection: PostgresConnection, _ logger: Logger, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> HybridLogicalClock {
        let last = try await meta(connection, "hlc", logger).flatMap { try? HLC($0) } ?? .zero
        return HybridLogicalClock(last: last, physicalMillis: physicalMillis)
    }

    /// The keys a batch will surely need, so most batches run once or twice.
    static func seed(for batch: PushBatch) -> Set<SnapshotKey> {
        var keys: Set<SnapshotKey> = [.progress(batch.device)]
        for mutation in batch.mutations {
            keys.insert(.logged(mutation.device, mutation.seq))
            keys.insert(.entity(mutation.entity))
            keys.insert(.entity(mutation.household))
            keys.insert(.canonical(mutation.household))
            keys.insert(.rejectedCreation(mutation.entity))
            keys.insert(.rejectedCreation(mutation.household))
            for field in mutation.fields {
                for id in field.base { keys.insert(.replacement(id)); keys.insert(.rejectedBase(id, field.field)) }
                // A filing's national ID: the households already filed under it (duplicates).
                if mutation.kind == .household, field.field == "nationalId", let value = field.value.stringValue { keys.insert(.households(value)) }
            }
        }
        return keys
    }

    public func push(
        _ batch: PushBatch, from principal: Principal, engine: MergeEngine, actor: String?, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> PushReceipt {
        let seed = Self.seed(for: batch)
        return try await mergeWrite(locks: Set(seed.flatMap(MergeLock.locks(for:)))) { connection, locks in
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine, locks: locks)
            // The clock is read again before each run, once what the run reads is locked: at least
            // as far as the last push of those households left it.
            let (store, outcome) = try await snapshot.run(
                seed: seed, before: { try await Self.loadClock(connection, logger, physicalMillis: physicalMillis) }
            ) { store, start -> (PushReceipt, HybridLogicalClock) in
                var clock = start
                let receipt = try engine.apply(batch, from: principal, store: store, clock: &clock)
                return (receipt, clock)
            }
            try await connection.query("UPDATE devices SET last_push_at = \(now) WHERE id = \(principal.device.rawValue)", logger: logger)
            try await snapshot.writeBack(store, actor: actor, now: now)
            try await locks?.enterWriteLock()
            try await Self.advanceClock(connection, to: outcome.1.last, logger)
            if let beforeCommit { await beforeCommit() }
            return outcome.0
        }
    }

    /// Moves the server's stored clock to `stamp` unless it is already past it (pushes of other
    /// households, side by side, may have moved it further). Under the write lock.
    static func advanceClock(_ connection: PostgresConnection, to stamp: HLC, _ logger: Logger) async throws {
        if let stored = try await meta(connection, "hlc", logger).flatMap({ try? HLC($0) }), stored >= stamp { return }
        try await setMeta(connection, "hlc", stamp.description, logger)
    }

    /// The page written from the entities' stored wire texts (``EncodedPullPage``), scanned by ``PullScan``.
    public func pullEncoded(
        for principal: Principal, after cursor: Int64, limit: Int, maxBytes: Int, estimate: Bool, attachments: Bool, engine: MergeEngine,
        now: String,
        physicalMillis: @escaping @Sendable () -> Int64, cursor issue: @Sendable (Int64) -> String
    ) async throws -> [UInt8] {
        let page = try await readSnapshot { connection in
            let latest = Int64(try await Self.meta(connection, "change_seq", logger) ?? "0") ?? 0
            try ChangeFeed.check(cursor: cursor, latest: latest)
            let rows: PostgresRowSequence
            if principal.role == .city {
                rows = try await connection.query(
                    "SELECT seq, household FROM changes WHERE seq > \(cursor) ORDER BY seq LIMIT \(Int64(limit + 1))", logger: logger)
            } else {
                rows = try await connection.query(
                    """
                    SELECT seq, household FROM changes WHERE district = \(principal.district ?? "") AND seq > \(cursor) ORDER BY seq LIMIT \(Int64(limit + 1))
                    """, logger: logger)
            }
            var changed: [(seq: Int64, household: String)] = []
            for try await row in rows.decode((Int64, String).self) { changed.append(row) }
            // Where each household of the page is now, in one query, then the survivors of its aliases.
            var placed: [String: PullScan.Placement] = [:]
            for ids in [changed.prefix(limit).map(\.household), nil] {
                let asked = ids ?? PullScan.unplacedSurvivors(changed, limit: limit, placed: placed)
                guard !asked.isEmpty else { continue }
                for try await (id, canonical, district) in try await connection.query(
                    "SELECT id, canonical, district FROM households WHERE id = ANY(\(asked))", logger: logger
                ).decode((String, String, String?).self) {
                    placed[id] = PullScan.Placement(canonical: canonical, district: district)
                }
            }
            let scan = PullScan(changed, limit: limit, after: cursor, placed: placed, for: principal)
            // The households are read in chunks until the page is written, each as many as the bytes
            // per household say will fill it (a fifth more, at least 8): first those of the last page
            // written (8 before any), then those of this page so far. So a page usually takes one
            // read, and one that stops at its byte cap reads little more than it sends. No household
            // is written twice (``PullScan/PageBuilder``).
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
            let wanted = scan.households
            let position = Dictionary(wanted.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
            var builder = PullScan.PageBuilder(scan, maxBytes: maxBytes)
            var parts: [EntityID: AggregateParts] = [:]
            var read = 0
            func chunkSize(bytesPerHousehold: Int, written: Int) -> Int {
                guard bytesPerHousehold > 0 else { return 8 }
                let fits = min(wanted.count - read, max(0, maxBytes - written) / bytesPerHousehold)
                return max(8, fits + fits / 5 + 1)
            }
            var chunk = chunkSize(bytesPerHousehold: self.householdBytes.withLock { $0 }, written: 0)
            while true {
                let next = Array(wanted[read..<min(wanted.count, read + chunk)])
                for (id, household) in try await snapshot.aggregateParts(next, attachments: attachments) { parts[id] = household }
                read += next.count
                let written = try builder.advance { id in
                    if let household = parts.removeValue(forKey: id) { return .parts(household) }
                    guard let index = position[id], index >= read else { return .absent }
                    return .notRead
                }
                if var written {
                    if builder.deliveredCount > 0 {
                        let perHousehold = builder.byteCount / builder.deliveredCount
                        self.householdBytes.withLock { $0 = perHousehold }
                    }
                    if estimate {
                        let rows: PostgresRowSequence
                        if let district = ChangeFeed.remainingScope(of: principal) {
                            rows = try await connection.query(
                                "SELECT COUNT(*) FROM changes WHERE district = \(district) AND seq > \(written.next)", logger: logger)
                        } else {
                            rows = try await connection.query(
                                "SELECT COUNT(DISTINCT household) FROM changes WHERE seq > \(written.next)", logger: logger)
                        }
                        for try await count in rows.decode(Int64.self) { written.remaining = Int(count) }
                    }
                    return written
                }
                chunk = chunkSize(bytesPerHousehold: max(1, builder.byteCount / max(1, builder.deliveredCount)), written: builder.byteCount)
            }
        }
        return page.finished(serverClock: try await notePull(by: principal, now: now, physicalMillis: physicalMillis), cursor: issue)
    }

    /// Ticks the server's clock for a pull and notes when the device pulled; the stamp goes in the page.
    /// The device's row first, then the write lock: a push of the same device holds the row while
    /// it waits for the write lock, and a pull holding the write lock must never wait for it.
    private func notePull(by principal: Principal, now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> HLC {
        try await transaction { connection in
            try await connection.query("UPDATE devices SET last_pull_at = \(now) WHERE id = \(principal.device.rawValue)", logger: logger)
        }
        return try await lightWrite { connection in
            var clock = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
            let stamp = clock.tick()
            try await Self.setMeta(connection, "hlc", clock.last.description, logger)
            return stamp
        }
    }

    public func decide(
        _ decision: OfficeDecision, by principal: Principal, actor: String, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> MutationResult {
        try await write { connection in
            try await decide(decision, by: principal, actor: actor, origin: nil, engine: engine, now: now, physicalMillis: physicalMillis, connection)
        }
    }

    /// An office's decision inside a write transaction: the server's device, seq and clock (``OfficeWrites``).
    func decide(
        _ decision: OfficeDecision, by principal: Principal, actor: String, origin: AuditOrigin?, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64, _ connection: PostgresConnection
    ) async throws -> MutationResult {
        let identity = try OfficeWrites.identity(try await Self.meta(connection, "identity", logger))
        let start = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
        let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
        var seed: Set<SnapshotKey> = [.progress(identity.device)]
        switch decision {
        case .confirm(let entity, _), .overturn(let entity, _, _), .setStatus(let entity, _):
            seed.formUnion([.canonical(entity), .entity(entity), .members(entity)])
        case .unlink(let survivor, let alias):
            seed.formUnion([.canonical(survivor), .canonical(alias), .linkDecision(HouseholdPair(survivor, alias))])
        case .acceptHeld(let held):
            seed.formUnion([.canonical(held.household), .entity(held.entity), .members(held.household)])
        case .voidVisit(let visit, _):
            seed.insert(.entity(visit))
        }
        // A refused decision throws out of the run: nothing is written back.
        let (store, outcome) = try await snapshot.run(seed: seed) { store -> (MutationResult, HybridLogicalClock) in
            var clock = start
            let result = try OfficeWrites.decide(decision, by: principal, server: identity.device, engine: engine, store: store, clock: &clock)
            return (result, clock)
        }
        try await snapshot.writeBack(store, actor: actor, now: now, origin: origin)
        try await Self.setMeta(connection, "hlc", outcome.1.last.description, logger)
        return outcome.0
    }

    public func household(ofEntity id: EntityID) async throws -> EntityID? {
        try await readSnapshot { connection in
            var household: EntityID?
            for try await text in try await connection.query("SELECT household FROM entities WHERE id = \(id.description)", logger: logger).decode(String.self)
            {
                household = try? EntityID(text)
            }
            return household
        }
    }

    public func household(_ id: EntityID, engine: MergeEngine) async throws -> HouseholdAggregate? {
        try await readSnapshot { connection in
            var survivor: EntityID?
            for try await canonical in try await connection.query("SELECT canonical FROM households WHERE id = \(id.description)", logger: logger).decode(
                String.self)
            {
                survivor = try? EntityID(canonical)
            }
            guard let survivor else { return nil }
            return try await PostgresSnapshot(connection: connection, logger: logger, engine: engine).aggregate(survivor)
        }
    }

    public func history(of household: EntityID) async throws -> [AuditEntry] {
        try await readSnapshot { connection in
            var survivor: String?
            for try await canonical in try await connection.query("SELECT canonical FROM households WHERE id = \(household.description)", logger: logger)
                .decode(String.self)
            {
                survivor = canonical
            }
            var members: [String] = []
            for try await id in try await connection.query(
                "SELECT id FROM households WHERE canonical = \(survivor ?? household.description)", logger: logger
            ).decode(String.self) {
                members.append(id)
            }
            var history = HouseholdHistory(of: household, survivor: survivor, members: members)
            while !history.frontier.isEmpty {
                var found: [String] = []
                for try await id in try await connection.query(
                    """
                    SELECT first FROM link_decisions WHERE second = ANY(\(history.frontier))
                    UNION SELECT second FROM link_decisions WHERE first = ANY(\(history.frontier))
                    UNION SELECT household FROM national_ids WHERE value IN (SELECT value FROM national_ids WHERE household = ANY(\(history.frontier)))
                    """, logger: logger
                ).decode(String.self) {
                    found.append(id)
                }
                history.add(found)
            }
            var rows: [HouseholdHistory.Row] = []
            for try await row in try await connection.query(
                """
                SELECT a.household, e.household, a.entity, a.kind, a.field, a.old, a.new, a.write_id, a.device, a.seq, a.actor, a.at, a.origin,
                       a.settled
                FROM audit a LEFT JOIN entities e ON e.id = a.entity WHERE a.household = ANY(\(Array(history.filed))) ORDER BY a.id, a.n
                """, logger: logger
            ).decode((String, String?, String, String, String, String, String, String, String, Int64, String?, String, String?, Bool?).self) {
                rows.append(
                    HouseholdHistory.Row(
                        filedUnder: row.0, owner: row.1, entity: row.2, kind: row.3, field: row.4, old: row.5, new: row.6,
                        write: row.7, device: row.8, seq: row.9, actor: row.10, at: row.11, origin: row.12, settled: row.13 == true))
            }
            return history.entries(rows)
        }
    }

    public func reviewQueue(district: String?) async throws -> ReviewQueue {
        try await readSnapshot { connection in
            let all = district == nil
            let filter = district ?? ""
            var conflicts: [ReviewQueue.Conflict] = []
            for try await (area, record) in try await connection.query(
                """
                SELECT district, record FROM conflicts WHERE \(all) OR district = \(filter) ORDER BY household, entity, field
                """, logger: logger
            ).decode((String?, String).self) {
                if let conflict = ReviewQueueRows.conflict(district: area, record: record) { conflicts.append(conflict) }
            }
            var duplicates: [ReviewQueue.Duplicate] = []
            for try await (alias, survivor, area) in try await connection.query(
                """
                SELECT a.id, a.canonical, s.district FROM households a JOIN households s ON s.id = a.canonical
                WHERE a.id <> a.canonical AND (\(all) OR s.district = \(filter)) ORDER BY a.canonical, a.id
                """, logger: logger
            ).decode((String, String, String?).self) {
                if let duplicate = ReviewQueueRows.duplicate(alias: alias, survivor: survivor, district: area) { duplicates.append(duplicate) }
            }
            var rejections: [ReviewQueue.Rejection] = []
            for try await row in try await connection.query(
                """
                SELECT device, seq, household, entity, kind, district, code, reason, at, body, reason_zh, details FROM rejections
                WHERE closed_at IS NULL AND (\(all) OR district = \(filter)) ORDER BY at, device, seq
                """, logger: logger
            ).decode((String, Int64, String?, String, String, String?, String, String, String, String?, String?, String?).self) {
                if let rejection = ReviewQueueRows.rejection(
                    device: row.0, seq: row.1, household: row.2, entity: row.3, kind: row.4, district: row.5,
                    code: row.6, reason: row.7, at: row.8, body: row.9, reasonZh: row.10, details: row.11)
                {
                    rejections.append(rejection)
                }
            }
            let flagged = try await Self.devices(connection, all ? "WHERE clock_skew" : "WHERE clock_skew AND district = $1", all ? [] : [filter], logger)
            return ReviewQueue(conflicts: conflicts, duplicates: duplicates, rejections: rejections, clockFlaggedDevices: flagged)
        }
    }
}
