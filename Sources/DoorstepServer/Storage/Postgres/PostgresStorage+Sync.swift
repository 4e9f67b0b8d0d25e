public import DoorstepCore
import Foundation
import Logging
import PostgresNIO

extension PostgresStorage {
    static func loadClock(_ connection: PostgresConnection, _ logger: Logger, physicalMillis: @escaping @Sendable () -> Int64) async throws -> HybridLogicalClock {
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
            }
        }
        return keys
    }

    public func push(_ batch: PushBatch, from principal: Principal, engine: MergeEngine, actor: String?, now: String,
                     physicalMillis: @escaping @Sendable () -> Int64) async throws -> PushReceipt {
        try await write { connection in
            let start = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
            let snapshot = PostgresSnapshot(connection: connection, logger: logger, engine: engine)
            let (store, outcome) = try await snapshot.run(seed: Self.seed(for: batch)) { store -> (PushReceipt, HybridLogicalClock) in
                var clock = start
                let receipt = try engine.apply(batch, from: principal, store: store, clock: &clock)
                return (receipt, clock)
            }
            try await snapshot.writeBack(store, actor: actor, now: now)
            try await Self.setMeta(connection, "hlc", outcome.1.last.description, logger)
            try await connection.query("UPDATE devices SET last_push_at = \(now) WHERE id = \(principal.device.rawValue)", logger: logger)
            if let beforeCommit { await beforeCommit() }
            return outcome.0
        }
    }

    public func pull(for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String,
                     physicalMillis: @escaping @Sendable () -> Int64) async throws -> PullPage {
        let page = try await readSnapshot { connection -> ([HouseholdAggregate], [EntityID], Int64, Bool) in
            var scan = try await scanPage(connection, for: principal, after: cursor, limit: limit)
            let aggregates = try await PostgresSnapshot(connection: connection, logger: logger, engine: engine).aggregates(scan.households)
            var households: [HouseholdAggregate] = []
            for id in scan.households {
                if let aggregate = aggregates[id] { households.append(aggregate) } else { scan.removed.insert(id) }
            }
            return (households, scan.removed.subtracting(households.map(\.household.id)).sorted(), scan.next, scan.hasMore)
        }
        let stamp = try await notePull(by: principal, now: now, physicalMillis: physicalMillis)
        return PullPage(nextCursor: String(page.2), hasMore: page.3, serverClock: stamp, households: page.0, removed: page.1)
    }

    /// The page written from the entities' stored wire texts (``EncodedPullPage``): the same bytes
    /// as encoding ``pull(for:after:limit:engine:now:physicalMillis:)``'s page.
    public func pullEncoded(for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String,
                            physicalMillis: @escaping @Sendable () -> Int64) async throws -> [UInt8] {
        let page = try await readSnapshot { connection -> (EncodedPullPage, [EntityID], Int64) in
            var scan = try await scanPage(connection, for: principal, after: cursor, limit: limit)
            let parts = try await PostgresSnapshot(connection: connection, logger: logger, engine: engine).aggregateParts(scan.households)
            var page = EncodedPullPage(hasMore: scan.hasMore)
            var delivered = Set<EntityID>()
            for id in scan.households {
                if let household = parts[id] {
                    try page.add(household)
                    delivered.insert(id)
                } else {
                    scan.removed.insert(id)
                }
            }
            return (page, scan.removed.subtracting(delivered).sorted(), scan.next)
        }
        let stamp = try await notePull(by: principal, now: now, physicalMillis: physicalMillis)
        return page.0.finished(next: page.2, removed: page.1, serverClock: stamp)
    }

    /// The changes of the principal's scope after the cursor: the survivors still in it, in the
    /// feed's order, each once; the households that left it; the next cursor.
    private func scanPage(_ connection: PostgresConnection, for principal: Principal, after cursor: Int64, limit: Int) async throws
        -> (households: [EntityID], removed: Set<EntityID>, next: Int64, hasMore: Bool)
    {
        let latest = Int64(try await Self.meta(connection, "change_seq", logger) ?? "0") ?? 0
        guard cursor <= latest else {
            throw DoorstepError(.invalidCursor, "the cursor is ahead of this server's changes (was the server restored from a backup?); pull from the start")
        }
        let rows: PostgresRowSequence
        if principal.role == .city {
            rows = try await connection.query("SELECT seq, household FROM changes WHERE seq > \(cursor) ORDER BY seq LIMIT \(Int64(limit + 1))", logger: logger)
        } else {
            rows = try await connection.query("""
                SELECT seq, household FROM changes WHERE district = \(principal.district ?? "") AND seq > \(cursor) ORDER BY seq LIMIT \(Int64(limit + 1))
                """, logger: logger)
        }
        var changed: [(Int64, String)] = []
        for try await row in rows.decode((Int64, String).self) { changed.append(row) }
        // Where each household is now, in one query.
        let page = changed.prefix(limit)
        var placed: [String: (canonical: String, district: String?)] = [:]
        for try await (id, canonical, district) in try await connection.query(
            "SELECT id, canonical, district FROM households WHERE id = ANY(\(page.map(\.1)))", logger: logger
        ).decode((String, String, String?).self) {
            placed[id] = (canonical, district)
        }
        var removed = Set<EntityID>()
        var delivered = Set<EntityID>()
        var households: [EntityID] = []
        for (_, text) in page {
            guard let id = try? EntityID(text) else { continue }
            guard let current = placed[text], current.canonical == text, let district = current.district, principal.covers(district: district) else {
                removed.insert(id)
                continue
            }
            if delivered.insert(id).inserted { households.append(id) }
        }
        return (households, removed.subtracting(delivered), page.last?.0 ?? cursor, changed.count > limit)
    }

    /// Ticks the server's clock for a pull and notes when the device pulled; the stamp goes in the page.
    private func notePull(by principal: Principal, now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> HLC {
        try await write { connection in
            var clock = try await Self.loadClock(connection, logger, physicalMillis: physicalMillis)
            let stamp = clock.tick()
            try await Self.setMeta(connection, "hlc", clock.last.description, logger)
            try await connection.query("UPDATE devices SET last_pull_at = \(now) WHERE id = \(principal.device.rawValue)", logger: logger)
            return stamp
        }
    }

    public func decide(_ decision: OfficeDecision, by principal: Principal, actor: String, engine: MergeEngine, now: String,
                       physicalMillis: @escaping @Sendable () -> Int64) async throws -> MutationResult {
        try await write { connection in
            try await decide(decision, by: principal, actor: actor, origin: nil, engine: engine, now: now, physicalMillis: physicalMillis, connection)
        }
    }

    /// An office's decision inside a write transaction: the server's device, seq and clock.
    func decide(_ decision: OfficeDecision, by principal: Principal, actor: String, origin: AuditOrigin?, engine: MergeEngine, now: String,
                physicalMillis: @escaping @Sendable () -> Int64, _ connection: PostgresConnection) async throws -> MutationResult {
        do {
            guard let text = try await Self.meta(connection, "identity", logger) else {
                throw DoorstepError(.internalError, "the server has no identity yet")
            }
            let identity = try StoredJSON.decode(ServerIdentity.self, text)
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
            let acting = Principal(device: identity.device, role: principal.role, district: principal.district)
            let (store, outcome) = try await snapshot.run(seed: seed) { store -> (MutationResult, HybridLogicalClock) in
                var clock = start
                let seq = try store.progress(of: identity.device).highestSeq + 1
                let mutation = try DecisionBuilder(store: store, engine: engine).mutation(for: decision, device: identity.device, seq: seq, hlc: clock.tick())
                let receipt = try engine.apply(PushBatch(device: identity.device, mutations: [mutation]), from: acting, store: store, clock: &clock)
                guard let result = receipt.results.first else { throw DoorstepError(.internalError, "no result for the decision") }
                return (result, clock)
            }
            if outcome.0.outcome == .rejected {
                throw DoorstepError(outcome.0.code ?? .invalidOperation, outcome.0.reason ?? "the decision was refused")
            }
            try await snapshot.writeBack(store, actor: actor, now: now, origin: origin)
            try await Self.setMeta(connection, "hlc", outcome.1.last.description, logger)
            return outcome.0
        }
    }

    public func household(_ id: EntityID, engine: MergeEngine) async throws -> HouseholdAggregate? {
        try await readSnapshot { connection in
            var survivor: EntityID?
            for try await canonical in try await connection.query("SELECT canonical FROM households WHERE id = \(id.description)", logger: logger).decode(String.self) {
                survivor = try? EntityID(canonical)
            }
            guard let survivor else { return nil }
            return try await PostgresSnapshot(connection: connection, logger: logger, engine: engine).aggregate(survivor)
        }
    }

    public func history(of household: EntityID) async throws -> [AuditEntry] {
        try await readSnapshot { connection in
            var survivor = household.description
            for try await canonical in try await connection.query("SELECT canonical FROM households WHERE id = \(household.description)", logger: logger).decode(String.self) {
                survivor = canonical
            }
            var group = Set([survivor, household.description])
            for try await id in try await connection.query("SELECT id FROM households WHERE canonical = \(survivor)", logger: logger).decode(String.self) {
                group.insert(id)
            }
            // As the SQLite storage: rows filed under every household ever linked with the group,
            // however indirectly, kept when they are writes to the group's own entities.
            var filed = group
            var frontier = Array(group)
            while !frontier.isEmpty {
                var found: [String] = []
                for try await id in try await connection.query("""
                    SELECT first FROM link_decisions WHERE second = ANY(\(frontier))
                    UNION SELECT second FROM link_decisions WHERE first = ANY(\(frontier))
                    UNION SELECT household FROM national_ids WHERE value IN (SELECT value FROM national_ids WHERE household = ANY(\(frontier)))
                    """, logger: logger).decode(String.self) {
                    found.append(id)
                }
                frontier = found.filter { filed.insert($0).inserted }
            }
            var entries: [AuditEntry] = []
            for try await row in try await connection.query("""
                SELECT a.household, e.household, a.entity, a.kind, a.field, a.old, a.new, a.write_id, a.device, a.seq, a.actor, a.at, a.origin
                FROM audit a LEFT JOIN entities e ON e.id = a.entity WHERE a.household = ANY(\(Array(filed))) ORDER BY a.id
                """, logger: logger).decode((String, String?, String, String, String, String, String, String, String, Int64, String?, String, String?).self) {
                // A link decision (field `link:<other>`) belongs to both households it names.
                guard group.contains(row.1 ?? row.0) || (row.4.hasPrefix("link:") && group.contains(String(row.4.dropFirst(5)))) else { continue }
                guard let entity = try? EntityID(row.2), let kind = EntityKind(rawValue: row.3), let device = try? DeviceID(row.8) else { continue }
                entries.append(AuditEntry(
                    entity: entity, kind: kind, field: row.4, old: (try? StoredJSON.decode(JSONValue.self, row.5)) ?? .null,
                    new: (try? StoredJSON.decode(JSONValue.self, row.6)) ?? .null, write: row.7, device: device, seq: row.9,
                    actor: row.10 ?? "", at: row.11, origin: row.12.flatMap { try? StoredJSON.decode(AuditOrigin.self, $0) }
                ))
            }
            return entries
        }
    }

    public func reviewQueue(district: String?) async throws -> ReviewQueue {
        try await readSnapshot { connection in
            let all = district == nil
            let filter = district ?? ""
            var conflicts: [ReviewQueue.Conflict] = []
            for try await (area, record) in try await connection.query("""
                SELECT district, record FROM conflicts WHERE \(all) OR district = \(filter) ORDER BY household, entity, field
                """, logger: logger).decode((String?, String).self) {
                if let decoded = try? StoredJSON.decode(ConflictRecord.self, record) { conflicts.append(.init(district: area, record: decoded)) }
            }
            var duplicates: [ReviewQueue.Duplicate] = []
            for try await (alias, survivor, area) in try await connection.query("""
                SELECT a.id, a.canonical, s.district FROM households a JOIN households s ON s.id = a.canonical
                WHERE a.id <> a.canonical AND (\(all) OR s.district = \(filter)) ORDER BY a.canonical, a.id
                """, logger: logger).decode((String, String, String?).self) {
                if let a = try? EntityID(alias), let s = try? EntityID(survivor) { duplicates.append(.init(survivor: s, alias: a, district: area)) }
            }
            var rejections: [ReviewQueue.Rejection] = []
            for try await row in try await connection.query("""
                SELECT device, seq, household, entity, kind, district, code, reason, at, body FROM rejections
                WHERE closed_at IS NULL AND (\(all) OR district = \(filter)) ORDER BY at, device, seq
                """, logger: logger).decode((String, Int64, String?, String, String, String?, String, String, String, String?).self) {
                guard let device = try? DeviceID(row.0), let entity = try? EntityID(row.3), let kind = EntityKind(rawValue: row.4) else { continue }
                rejections.append(.init(device: device, seq: row.1, household: row.2.flatMap { try? EntityID($0) }, entity: entity, kind: kind,
                                        district: row.5, code: DoorstepError.Code(row.6), reason: row.7, at: row.8,
                                        mutation: row.9.flatMap { try? StoredJSON.decode(Mutation.self, $0) }))
            }
            let flagged = try await Self.devices(connection, all ? "WHERE clock_skew" : "WHERE clock_skew AND district = $1", all ? [] : [filter], logger)
            return ReviewQueue(conflicts: conflicts, duplicates: duplicates, rejections: rejections, clockFlaggedDevices: flagged)
        }
    }
}
