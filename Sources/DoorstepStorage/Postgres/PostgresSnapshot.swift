import DoorstepCore
import Foundation
import Logging
import PostgresNIO

/// Loads snapshot keys from PostgreSQL and writes a run's changes back, inside one transaction.
struct PostgresSnapshot {
    let connection: PostgresConnection
    let logger: Logger
    let engine: MergeEngine
    /// A push's locks (``PostgresMergeLocks``), taken for each key before it is read and for each
    /// write before it is written; `nil` for a writer that holds the merge gate exclusively.
    var locks: PostgresMergeLocks? = nil

    /// Runs `body` over snapshots until a run misses no key; returns the last snapshot and the body's result.
    ///
    /// The rows loaded stay loaded between runs (only each run's misses are fetched), and no write
    /// happens between runs to what was read (the caller holds the write lock, or ``locks`` holds
    /// each key read), so each run sees one consistent state.
    func run<Result>(seed: Set<SnapshotKey>, _ body: (SnapshotMergeStore) throws -> Result) async throws -> (SnapshotMergeStore, Result) {
        try await run(seed: seed, before: {}) { store, _ in try body(store) }
    }

    /// ``run(seed:_:)`` with `before` called ahead of each run, once the keys it reads are locked:
    /// what it reads (the server's clock) is then as the last writer of those keys left it.
    func run<Result, Prepared>(
        seed: Set<SnapshotKey>, before: () async throws -> Prepared, _ body: (SnapshotMergeStore, Prepared) throws -> Result
    ) async throws -> (SnapshotMergeStore, Result) {
        let base = SnapshotMergeStore()
        try await load(seed, into: base)
        for _ in 0..<10_000 {
            let store = base.reloaded()
            let prepared = try await before()
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try body(store, prepared))
            } catch {
                outcome = .failure(error)
            }
            if store.misses.isEmpty {
                return (store, try outcome.get())
            }
            try await load(store.misses, into: base)
        }
        throw DoorstepError(.internalError, "a batch needed more lookups than expected")
    }

    func load(_ keys: Set<SnapshotKey>, into store: SnapshotMergeStore) async throws {
        try await locks?.need(keys)
        var devices: [String] = [], entities: [String] = [], canonicals: [String] = [], members: [String] = []
        var nationalIDs: [String] = [], values: [String] = [], writes: [String] = [], rejectedWrites: [String] = []
        var creations: [String] = [], replacements: [String] = []
        var logged: [String: [Int64]] = [:]
        var pairs: [HouseholdPair] = []
        for key in keys {
            switch key {
            case .progress(let device): devices.append(device.rawValue)
            case .logged(let device, let seq): logged[device.rawValue, default: []].append(seq)
            case .entity(let id): entities.append(id.description)
            case .canonical(let id): canonicals.append(id.description)
            case .members(let id): members.append(id.description)
            case .nationalIDs(let id): nationalIDs.append(id.description)
            case .households(let value): values.append(value)
            case .linkDecision(let pair): pairs.append(pair)
            case .writtenValue(let write, _): writes.append(write.description)
            case .rejectedBase(let write, _): rejectedWrites.append(write.description)
            case .rejectedCreation(let id): creations.append(id.description)
            case .replacement(let write): replacements.append(write.description)
            }
        }
        if !devices.isEmpty {
            for try await (id, seq, stamp, skew) in try await connection.query(
                "SELECT id, highest_seq, last_stamp, clock_skew FROM devices WHERE id = ANY(\(devices))", logger: logger
            ).decode((String, Int64, String, Bool).self) {
                guard let device = try? DeviceID(id) else { continue }
                store.progresses[device] = DeviceProgress(highestSeq: seq, lastStamp: (try? HLC(stamp)) ?? .zero, clockSkewFlagged: skew)
            }
        }
        for (device, seqs) in logged {
            for try await (seq, body, result) in try await connection.query(
                "SELECT seq, body, result FROM mutations WHERE device = \(device) AND seq = ANY(\(seqs))", logger: logger
            ).decode((Int64, String, String).self) {
                guard let id = try? DeviceID(device) else { continue }
                store.logged[id, default: [:]][seq] = LoggedMutation(
                    mutation: try StoredJSON.decode(Mutation.self, body),
                    result: try StoredJSON.decode(MutationResult.self, result))
            }
        }
        if !entities.isEmpty {
            for try await (wire, superseded) in try await connection.query(
                "SELECT wire, superseded FROM entities WHERE id = ANY(\(entities))", logger: logger
            ).decode((String, String?).self) {
                let state = try StoredEntityRow(wire: wire, superseded: superseded).state
                store.entities[state.id] = state
            }
        }
        if !canonicals.isEmpty || !members.isEmpty {
            for try await (id, canonical) in try await connection.query(
                "SELECT id, canonical FROM households WHERE id = ANY(\(canonicals)) OR canonical = ANY(\(members))", logger: logger
            ).decode((String, String).self) {
                guard let household = try? EntityID(id), let survivor = try? EntityID(canonical) else { continue }
                store.canonicals[household] = survivor
                store.members[survivor, default: []].insert(household)
            }
        }
        if !nationalIDs.isEmpty || !values.isEmpty {
            for try await (value, id) in try await connection.query(
                "SELECT value, household FROM national_ids WHERE household = ANY(\(nationalIDs)) OR value = ANY(\(values))", logger: logger
            ).decode((String, String).self) {
                guard let household = try? EntityID(id) else { continue }
                store.nationalIDsByHousehold[household, default: []].insert(value)
                store.householdsByNationalID[value, default: []].insert(household)
            }
        }
        for pair in pairs {
            for try await text in try await connection.query(
                "SELECT register FROM link_decisions WHERE first = \(pair.first.description) AND second = \(pair.second.description)", logger: logger
            ).decode(String.self) {
                store.linkDecisions[pair] = try StoredJSON.decode(StoredRegister.self, text).register
            }
        }
        if !writes.isEmpty {
            for try await (write, field, value) in try await connection.query(
                "SELECT write_id, field, new FROM audit WHERE write_id = ANY(\(writes))", logger: logger
            ).decode((String, String, String).self) {
                guard let id = try? WriteID(write) else { continue }
                store.writtenValues[id, default: [:]][field] = try StoredJSON.decode(JSONValue.self, value)
            }
        }
        if !rejectedWrites.isEmpty {
            for try await (write, field, base) in try await connection.query(
                "SELECT write_id, field, base FROM rejected_bases WHERE write_id = ANY(\(rejectedWrites))", logger: logger
            ).decode((String, String, String).self) {
                guard let id = try? WriteID(write) else { continue }
                store.rejectedBases[id, default: [:]][field] = try StoredJSON.decode([WriteID].self, base)
            }
        }
        if !creations.isEmpty {
            for try await id in try await connection.query("SELECT entity FROM rejected_creations WHERE entity = ANY(\(creations))", logger: logger).decode(
                String.self)
            {
                if let entity = try? EntityID(id) { store.rejectedCreations.insert(entity) }
            }
        }
        if !replacements.isEmpty {
            for try await (original, effective) in try await connection.query(
                "SELECT original, effective FROM replacements WHERE original = ANY(\(replacements))", logger: logger
            ).decode((String, String).self) {
                if let from = try? WriteID(original), let to = try? WriteID(effective) { store.replacements[from] = to }
            }
        }
        store.markLoaded(keys)
    }

    /// Writes a run's changes back: progress, entities, links, logs; then refreshes the change feed
    /// and conflicts of every touched household.
    /// `origin`: where the writes came from, when an office accepts a held change.
    func writeBack(_ store: SnapshotMergeStore, actor: String?, now: String, origin: AuditOrigin? = nil) async throws {
        try await locks?.need(locks: MergeLock.locks(forWritesOf: store))
        let originText = try origin.map(StoredJSON.encode)
        for device in store.dirtyProgress {
            guard let progress = store.progresses[device] else { continue }
            try await connection.query(
                """
                UPDATE devices SET highest_seq = \(progress.highestSeq), last_stamp = \(progress.lastStamp.description),
                    clock_skew = \(progress.clockSkewFlagged), last_push_at = \(now) WHERE id = \(device.rawValue)
                """, logger: logger)
        }
        for (device, seqs) in store.lost {
            try await connection.query(
                """
                INSERT INTO lost_work (device, from_seq, through_seq, at) VALUES (\(device.rawValue), \(seqs.from), \(seqs.through), \(now))
                ON CONFLICT (device, from_seq) DO NOTHING
                """, logger: logger)
        }
        // Each kind of row in one statement (arrays unnested), not one round trip per row.
        let states = store.dirtyEntities.compactMap { store.entities[$0] }
        let stored = try states.map(StoredEntityRow.init)
        if !states.isEmpty {
            // The superseded ids as '' where there are none (a text array of NULLs does not bind), stored as NULL.
            try await connection.query(
                """
                INSERT INTO entities (id, kind, household, wire, superseded, conflicted)
                SELECT id, kind, household, wire, NULLIF(superseded, ''), conflicted FROM UNNEST(
                    \(states.map(\.id.description)), \(states.map(\.kind.rawValue)), \(states.map(\.household.description)),
                    \(stored.map(\.wire)), \(stored.map { $0.superseded ?? "" }), \(states.map { !$0.conflicts.isEmpty })
                ) AS row(id, kind, household, wire, superseded, conflicted)
                ON CONFLICT (id) DO UPDATE SET wire = EXCLUDED.wire, superseded = EXCLUDED.superseded, conflicted = EXCLUDED.conflicted
                """, logger: logger)
        }
        let placed = store.dirtyCanonicals.compactMap { id in store.canonicals[id].map { (id, $0) } }
        if !placed.isEmpty {
            try await connection.query(
                """
                INSERT INTO households (id, canonical) SELECT * FROM UNNEST(\(placed.map(\.0.description)), \(placed.map(\.1.description)))
                ON CONFLICT (id) DO UPDATE SET canonical = EXCLUDED.canonical
                """, logger: logger)
        }
        if !store.newNationalIDs.isEmpty {
            try await connection.query(
                """
                INSERT INTO national_ids (value, household)
                SELECT * FROM UNNEST(\(store.newNationalIDs.map(\.0)), \(store.newNationalIDs.map(\.1.description))) ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        for pair in store.dirtyLinkDecisions {
            guard let register = store.linkDecisions[pair] else { continue }
            try await connection.query(
                """
                INSERT INTO link_decisions (first, second, register) VALUES (\(pair.first.description), \(pair.second.description), \(try StoredJSON.encode(StoredRegister(register))))
                ON CONFLICT (first, second) DO UPDATE SET register = EXCLUDED.register
                """, logger: logger)
        }
        for (original, effective) in store.newReplacements {
            try await connection.query(
                """
                INSERT INTO replacements (original, effective) VALUES (\(original.description), \(effective.description))
                ON CONFLICT (original) DO UPDATE SET effective = EXCLUDED.effective
                """, logger: logger)
        }
        if !store.applied.isEmpty {
            try await logMutations(store.applied.map { ($0.mutation, $0.write, $0.result, $0.household as EntityID?) }, now: now)
            try await writeAudit(store.applied.filter { !$0.changes.isEmpty }, actor: actor, now: now, origin: originText)
        }
        // The change feed first: a rejection below is filed under its household's district as it stands now.
        try await touch(store.touched)
        for entry in store.rejected {
            let mutation = entry.mutation
            let household = store.canonicals[mutation.household]
            try await logMutations([(mutation, entry.write, entry.result, household)], now: now)
            let district = try await ReviewRouting.refused(mutation, code: entry.result.code).district(for: mutation) { question in
                try await PostgresStorage.answer(question, connection, logger)
            }
            try await connection.query(
                """
                INSERT INTO rejections (device, seq, household, entity, kind, district, code, reason, at, reason_zh, details)
                VALUES (\(mutation.device.rawValue), \(mutation.seq), \(mutation.household.description), \(mutation.entity.description),
                        \(mutation.kind.rawValue), \(district), \(entry.result.code?.rawValue ?? "rejected"), \(entry.result.reason ?? ""), \(now),
                        \(entry.result.reasonZh), \(try entry.result.details.map { try StoredJSON.encode($0) }))
                ON CONFLICT (device, seq) DO NOTHING
                """, logger: logger)
            for id in Set([entry.write, mutation.writeID]) {
                for (field, base) in entry.substitutes {
                    try await connection.query(
                        """
                        INSERT INTO rejected_bases (write_id, field, base) VALUES (\(id.description), \(field), \(try StoredJSON.encode(base)))
                        ON CONFLICT (write_id, field) DO UPDATE SET base = EXCLUDED.base
                        """, logger: logger)
                }
            }
            if mutation.op == .create {
                try await connection.query(
                    "INSERT INTO rejected_creations (entity) VALUES (\(mutation.entity.description)) ON CONFLICT DO NOTHING", logger: logger)
            }
        }
    }

    /// Logs mutations with their results, in one statement.
    private func logMutations(_ entries: [(mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID?)], now: String) async throws {
        guard !entries.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO mutations (device, seq, write_id, body, result, household, received_at)
            SELECT device, seq, write_id, body, result, NULLIF(household, ''), \(now) FROM UNNEST(
                \(entries.map(\.mutation.device.rawValue)), \(entries.map(\.mutation.seq)), \(entries.map(\.write.description)),
                \(try entries.map { try StoredJSON.encode($0.mutation) }), \(try entries.map { try StoredJSON.encode($0.result) }),
                \(entries.map { $0.household?.description ?? "" })
            ) AS row(device, seq, write_id, body, result, household)
            """, logger: logger)
    }

    /// The audit of applied writes (schema v10): a row per write, taking its id from the sequence
    /// in the order written (the history's order), and a row per field it changed. `actor`: `nil`
    /// for a device's own writes (the view `audit` names the device).
    private func writeAudit(_ entries: [SnapshotMergeStore.Applied], actor: String?, now: String, origin: String?) async throws {
        guard !entries.isEmpty else { return }
        var ids: [Int64] = []
        for try await id in try await connection.query(
            "SELECT nextval('audit_writes_id_seq') FROM generate_series(1, \(entries.count))", logger: logger
        ).decode(Int64.self) {
            ids.append(id)
        }
        ids.sort()
        guard ids.count == entries.count else { throw DoorstepError(.internalError, "the audit's sequence gave \(ids.count) ids for \(entries.count) writes") }
        try await connection.query(
            """
            INSERT INTO audit_writes (id, household, entity, kind, write_id, device, seq, actor, at, origin)
            SELECT id, household, entity, kind, write_id, device, seq, \(actor), \(now), \(origin) FROM UNNEST(
                \(ids), \(entries.map(\.household.description)), \(entries.map(\.mutation.entity.description)),
                \(entries.map(\.mutation.kind.rawValue)), \(entries.map(\.write.description)), \(entries.map(\.mutation.device.rawValue)),
                \(entries.map(\.mutation.seq))
            ) AS row(id, household, entity, kind, write_id, device, seq)
            """, logger: logger)
        var writes: [Int64] = [], ns: [Int64] = [], fields: [String] = [], old: [String] = [], new: [String] = [], settled: [Bool] = []
        for (id, entry) in zip(ids, entries) {
            for (n, change) in entry.changes.enumerated() {
                writes.append(id)
                ns.append(Int64(n))
                fields.append(change.field)
                old.append(try StoredJSON.encode(change.old))
                new.append(try StoredJSON.encode(change.new))
                settled.append(change.settled)
            }
        }
        try await connection.query(
            """
            INSERT INTO audit_fields (write, n, field, old, new, settled)
            SELECT write, n, field, old, new, NULLIF(settled, FALSE) FROM UNNEST(\(writes), \(ns), \(fields), \(old), \(new), \(settled))
                AS row(write, n, field, old, new, settled)
            """, logger: logger)
    }

    /// The whole household as a pull delivers it, read from the database.
    func aggregate(_ survivor: EntityID) async throws -> HouseholdAggregate? {
        try await aggregates([survivor])[survivor]
    }

    /// Several survivors' households as a pull delivers them (absent: no state), read in a few
    /// queries whatever their number. With `onlyConflicted`, the child entities are only those
    /// flagged as possibly conflicted: enough for the household's district and open conflicts
    /// (the same conflicts, in the same order), without decoding every visit.
    func aggregates(_ survivors: [EntityID], onlyConflicted: Bool = false) async throws -> [EntityID: HouseholdAggregate] {
        guard !survivors.isEmpty else { return [:] }
        let seed = Set(survivors.flatMap { [SnapshotKey.canonical($0), .members($0), .entity($0)] })
        let (_, tops) = try await run(seed: seed) { store -> [EntityID: HouseholdAggregate] in
            var tops: [EntityID: HouseholdAggregate] = [:]
            for survivor in survivors {
                guard let household = try engine.household(survivor, store: store) else { continue }
                tops[survivor] = HouseholdAggregate(household: household, aliases: try store.linkMembers(of: survivor).filter { $0 != survivor }, entities: [])
            }
            return tops
        }
        var owners: [String: EntityID] = [:]
        for (survivor, top) in tops {
            owners[survivor.description] = survivor
            for alias in top.aliases { owners[alias.description] = survivor }
        }
        var result = tops
        guard !owners.isEmpty else { return result }
        // Looked up by household (its index), not read in id order: ordered by id in SQL, the planner
        // may walk the whole table by its key. Sorted here by the ids' bytes, as SQLite orders them
        // whatever the database's collation.
        let keys = Array(owners.keys)
        let rows =
            onlyConflicted
            ? try await connection.query(
                "SELECT household, wire, superseded FROM entities WHERE household = ANY(\(keys)) AND kind <> 'household' AND conflicted", logger: logger)
            : try await connection.query(
                "SELECT household, wire, superseded FROM entities WHERE household = ANY(\(keys)) AND kind <> 'household'", logger: logger)
        for try await (owner, wire, superseded) in rows.decode((String, String, String?).self) {
            guard let survivor = owners[owner] else { continue }
            result[survivor]?.entities.append(try StoredEntityRow(wire: wire, superseded: superseded).state)
        }
        for survivor in result.keys { result[survivor]?.entities.sort { $0.id.description.utf8.lexicographicallyPrecedes($1.id.description.utf8) } }
        return result
    }

    /// Several survivors' households as a pull sends them, as their stored texts (see
    /// ``AggregateParts``; absent: no state): a household without aliases is its rows' wire texts,
    /// a linked one merges its members' states.
    func aggregateParts(_ survivors: [EntityID], attachments: Bool = true) async throws -> [EntityID: AggregateParts] {
        guard !survivors.isEmpty else { return [:] }
        let seed = Set(survivors.flatMap { [SnapshotKey.canonical($0), .members($0)] })
        let (_, tops) = try await run(seed: seed) { store -> [EntityID: (aliases: [EntityID], merged: EntityState?)] in
            var tops: [EntityID: (aliases: [EntityID], merged: EntityState?)] = [:]
            for survivor in survivors {
                let aliases = try store.linkMembers(of: survivor).filter { $0 != survivor }
                tops[survivor] = (aliases, aliases.isEmpty ? nil : try engine.household(survivor, store: store))
            }
            return tops
        }
        var owners: [String: EntityID] = [:]
        for (survivor, top) in tops {
            owners[survivor.description] = survivor
            for alias in top.aliases { owners[alias.description] = survivor }
        }
        var children: [EntityID: [(id: String, stored: AggregateParts.Stored)]] = [:]
        var own: [EntityID: AggregateParts.Stored] = [:]
        let householdKind = EntityKind.household.rawValue
        for try await (owner, id, kind, wire) in try await connection.query(
            "SELECT household, id, kind, wire FROM entities WHERE household = ANY(\(Array(owners.keys)))", logger: logger
        ).decode((String, String, String, String).self) {
            guard let survivor = owners[owner], RevisionView.sends(kind: kind, readsAttachments: attachments) else { continue }
            let stored = AggregateParts.Stored(wire: wire)
            if kind == householdKind {
                if id == survivor.description { own[survivor] = stored }
            } else {
                children[survivor, default: []].append((id, stored))
            }
        }
        var result: [EntityID: AggregateParts] = [:]
        for (survivor, top) in tops {
            let household: AggregateParts.Household
            if let merged = top.merged {
                household = .merged(merged)
            } else if top.aliases.isEmpty, let stored = own[survivor] {
                household = .stored(stored)
            } else {
                continue
            }
            // By the ids' bytes, as SQLite orders them.
            let sorted = (children[survivor] ?? []).sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
            result[survivor] = AggregateParts(aliases: top.aliases, children: sorted.map(\.stored), household: household)
        }
        return result
    }

    /// Marks households changed, in order: its open conflicts refreshed, and for each a new change
    /// sequence number for each district whose devices must hear of it, taken under the write lock
    /// (a push takes it here, ``PostgresMergeLocks``).
    func touch(_ households: [EntityID]) async throws {
        guard !households.isEmpty else { return }
        var placed: [EntityID: (survivor: EntityID, district: String?)] = [:]
        for try await (id, canonical, district) in try await connection.query(
            "SELECT id, canonical, district FROM households WHERE id = ANY(\(households.map(\.description)))", logger: logger
        ).decode((String, String, String?).self) {
            guard let household = try? EntityID(id), let survivor = try? EntityID(canonical) else { continue }
            placed[household] = (survivor, district)
        }
        let aggregates = try await self.aggregates(households.filter { placed[$0]?.survivor == $0 }, onlyConflicted: true)
        var order: [(household: EntityID, district: String?, targets: [String])] = []
        var conflicts: [ConflictKey: (district: String?, record: String)] = [:]
        var conflictOrder: [ConflictKey] = []
        for household in households {
            guard let old = placed[household] else { continue }
            let aggregate = aggregates[household]
            let district = aggregate?.household["district"].stringValue
            order.append((household, district, ChangeFeed.districts(was: old.district, now: district)))
            for record in aggregate?.conflicts ?? [] {
                let key = ConflictKey(household: household.description, entity: record.entity.description, field: record.field)
                if conflicts[key] == nil { conflictOrder.append(key) }
                conflicts[key] = (district, try StoredJSON.encode(record))
            }
        }
        guard !order.isEmpty else { return }
        let ids = order.map(\.household.description)
        // The conflicts are the households' own (a push holds their locks): written before the
        // write lock, which covers only the numbering below.
        try await connection.query("DELETE FROM conflicts WHERE household = ANY(\(ids))", logger: logger)
        if !conflictOrder.isEmpty {
            let values = conflictOrder.compactMap { key in conflicts[key].map { (key, $0) } }
            try await connection.query(
                """
                INSERT INTO conflicts (household, entity, field, district, record)
                SELECT household, entity, field, NULLIF(district, ''), record FROM UNNEST(
                    \(values.map(\.0.household)), \(values.map(\.0.entity)), \(values.map(\.0.field)), \(values.map { $0.1.district ?? "" }), \(values.map(\.1.record))
                ) AS row(household, entity, field, district, record)
                """, logger: logger)
        }
        try await locks?.enterWriteLock()
        var seq = Int64(try await PostgresStorage.meta(connection, "change_seq", logger) ?? "0") ?? 0
        var feed: (seqs: [Int64], households: [String], districts: [String]) = ([], [], [])
        var rows: (districts: [String], seqs: [Int64]) = ([], [])
        for entry in order {
            for target in entry.targets {
                seq += 1
                feed.seqs.append(seq)
                feed.households.append(entry.household.description)
                feed.districts.append(target)
            }
            rows.districts.append(entry.district ?? "")
            rows.seqs.append(seq)
        }
        if !feed.seqs.isEmpty {
            try await connection.query(
                """
                DELETE FROM changes WHERE (household, district) IN (SELECT * FROM UNNEST(\(feed.households), \(feed.districts)))
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO changes (seq, household, district) SELECT * FROM UNNEST(\(feed.seqs), \(feed.households), \(feed.districts))
                """, logger: logger)
        }
        try await PostgresStorage.setMeta(connection, "change_seq", String(seq), logger)
        try await connection.query(
            """
            UPDATE households SET district = NULLIF(row.district, ''), change_seq = row.seq
            FROM UNNEST(\(ids), \(rows.districts), \(rows.seqs)) AS row(id, district, seq) WHERE households.id = row.id
            """, logger: logger)
    }

    /// A row of the conflicts table, by its key.
    private struct ConflictKey: Hashable {
        var household: String
        var entity: String
        var field: String
    }
}
