import DoorstepCore
import Foundation
import GRDB

/// The ``MergeStore`` over one GRDB write transaction of the embedded database.
///
/// Every method runs SQL on the transaction's connection; the merge engine decides,
/// this type only reads and writes rows.
struct SQLiteMergeStore: MergeStore {
    let db: Database
    let engine: MergeEngine
    /// Who is acting, for the audit history (a device id, or an office account).
    let actor: String?
    /// The time of the transaction, RFC 3339.
    let now: String
    /// Entity states decoded during this transaction, when the caller allows it (see ``EntityCache``).
    var entityCache: EntityCache? = nil
    /// Where the writes of this transaction came from, when an office accepts a held change.
    var origin: AuditOrigin? = nil

    /// A statement the connection keeps prepared: its SQL is parsed once per connection, not per call.
    private func statement(_ sql: String) throws -> Statement {
        try db.cachedStatement(sql: sql)
    }

    private func execute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try statement(sql).execute(arguments: arguments)
    }

    // MARK: Devices

    func progress(of device: DeviceID) throws -> DeviceProgress {
        guard let row = try Row.fetchOne(try statement("SELECT highest_seq, last_stamp, clock_skew FROM devices WHERE id = ?"), arguments: [device.rawValue])
        else {
            return DeviceProgress()
        }
        let stamp: String = row["last_stamp"]
        return DeviceProgress(highestSeq: row["highest_seq"], lastStamp: (try? HLC(stamp)) ?? .zero, clockSkewFlagged: row["clock_skew"] as Bool)
    }

    func setProgress(_ progress: DeviceProgress, of device: DeviceID) throws {
        try execute(
            sql: "UPDATE devices SET highest_seq = ?, last_stamp = ?, clock_skew = ?, last_push_at = ? WHERE id = ?",
            arguments: [progress.highestSeq, progress.lastStamp.description, progress.clockSkewFlagged, now, device.rawValue]
        )
    }

    func recordLost(_ seqs: SeqRange, of device: DeviceID) throws {
        try execute(
            sql: "INSERT OR IGNORE INTO lost_work (device, from_seq, through_seq, at) VALUES (?, ?, ?, ?)",
            arguments: [device.rawValue, seqs.from, seqs.through, now])
    }

    func loggedMutation(device: DeviceID, seq: Int64) throws -> LoggedMutation? {
        try Self.loggedMutation(db, device: device, seq: seq)
    }

    /// The mutation log's row of a device's seq, in any transaction of the database.
    static func loggedMutation(_ db: Database, device: DeviceID, seq: Int64) throws -> LoggedMutation? {
        let statement = try db.cachedStatement(sql: "SELECT body, result FROM mutations WHERE device = ? AND seq = ?")
        guard let row = try Row.fetchOne(statement, arguments: [device.rawValue, seq]) else { return nil }
        return LoggedMutation(mutation: try StoredJSON.decode(Mutation.self, row["body"]), result: try StoredJSON.decode(MutationResult.self, row["result"]))
    }

    // MARK: Entities

    func entity(_ id: EntityID) throws -> EntityState? {
        if let cached = entityCache?.states[id] { return cached }
        guard let row = try Row.fetchOne(try statement("SELECT wire, superseded FROM entities WHERE id = ?"), arguments: [id.description]) else {
            return nil
        }
        let state = try StoredEntityRow(wire: row[0], superseded: row[1]).state
        entityCache?.states[id] = state
        return state
    }

    func entities(ofHouseholds households: [EntityID]) throws -> [EntityState] {
        guard !households.isEmpty else { return [] }
        let marks = databaseQuestionMarks(count: households.count)
        return try Row.fetchAll(
            try statement("SELECT wire, superseded FROM entities WHERE household IN (\(marks)) AND kind <> 'household' ORDER BY id"),
            arguments: StatementArguments(households.map(\.description))
        )
        .map { try StoredEntityRow(wire: $0[0], superseded: $0[1]).state }
    }

    /// Saves an entity (`StoredEntityRow`): as a pull sends it (`wire`), the superseded ids the wire
    /// leaves out, and whether it may hold a conflict.
    func saveEntity(_ state: EntityState, changed: [String]) throws {
        let stored = try StoredEntityRow(state)
        entityCache?.states[state.id] = nil  // read back from the row next time, exactly as stored
        try execute(
            sql: """
                INSERT INTO entities (id, kind, household, wire, superseded, conflicted) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(household, id) DO UPDATE SET wire = excluded.wire, superseded = excluded.superseded, conflicted = excluded.conflicted
                """,
            arguments: [state.id.description, state.kind.rawValue, state.household.description, stored.wire, stored.superseded, !state.conflicts.isEmpty]
        )
    }

    // MARK: Links

    func canonical(of household: EntityID) throws -> EntityID? {
        try String.fetchOne(try statement("SELECT canonical FROM households WHERE id = ?"), arguments: [household.description]).flatMap { try? EntityID($0) }
    }

    func setCanonical(_ survivor: EntityID, of household: EntityID) throws {
        try execute(
            sql: "INSERT INTO households (id, canonical) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET canonical = excluded.canonical",
            arguments: [household.description, survivor.description]
        )
    }

    func linkMembers(of survivor: EntityID) throws -> [EntityID] {
        try String.fetchAll(try statement("SELECT id FROM households WHERE canonical = ? ORDER BY id"), arguments: [survivor.description]).compactMap {
            try? EntityID($0)
        }
    }

    func nationalIDs(of household: EntityID) throws -> [String] {
        try String.fetchAll(try statement("SELECT value FROM national_ids WHERE household = ? ORDER BY value"), arguments: [household.description])
    }

    func households(withNationalID value: String) throws -> [EntityID] {
        try String.fetchAll(try statement("SELECT household FROM national_ids WHERE value = ? ORDER BY household"), arguments: [value]).compactMap {
            try? EntityID($0)
        }
    }

    func addNationalID(_ value: String, to household: EntityID) throws {
        try execute(sql: "INSERT OR IGNORE INTO national_ids (value, household) VALUES (?, ?)", arguments: [value, household.description])
    }

    func linkDecision(_ pair: HouseholdPair) throws -> Register? {
        try String.fetchOne(
            try statement("SELECT register FROM link_decisions WHERE first = ? AND second = ?"), arguments: [pair.first.description, pair.second.description]
        )
        .map { try StoredJSON.decode(StoredRegister.self, $0).register }
    }

    func saveLinkDecision(_ register: Register, for pair: HouseholdPair) throws {
        try execute(
            sql: "INSERT INTO link_decisions (first, second, register) VALUES (?, ?, ?) ON CONFLICT(first, second) DO UPDATE SET register = excluded.register",
            arguments: [pair.first.description, pair.second.description, try StoredJSON.encode(StoredRegister(register))]
        )
    }

    // MARK: Writes, rejections, replacements

    func writtenValue(_ write: WriteID, field: String) throws -> JSONValue? {
        try String.fetchOne(try statement("SELECT new FROM audit WHERE write_id = ? AND field = ? LIMIT 1"), arguments: [write.description, field])
            .map { try StoredJSON.decode(JSONValue.self, $0) }
    }

    func rejectedBase(_ write: WriteID, field: String) throws -> [WriteID]? {
        try String.fetchOne(try statement("SELECT base FROM rejected_bases WHERE write_id = ? AND field = ?"), arguments: [write.description, field])
            .map { try StoredJSON.decode([WriteID].self, $0) }
    }

    func isRejectedCreation(_ entity: EntityID) throws -> Bool {
        try Bool.fetchOne(try statement("SELECT 1 FROM rejected_creations WHERE entity = ?"), arguments: [entity.description]) ?? false
    }

    func replacementWrite(for original: WriteID) throws -> WriteID? {
        try String.fetchOne(try statement("SELECT effective FROM replacements WHERE original = ?"), arguments: [original.description]).flatMap {
            try? WriteID($0)
        }
    }

    func recordReplacement(original: WriteID, effective: WriteID) throws {
        try execute(sql: "INSERT OR REPLACE INTO replacements (original, effective) VALUES (?, ?)", arguments: [original.description, effective.description])
    }

    /// Logs an applied mutation and its audit (schema v11): one row for the write, one per field it changed.
    func recordApplied(_ mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID, changes: [FieldChange]) throws {
        try logMutation(mutation, write: write, result: result, household: household)
        guard !changes.isEmpty else { return }
        try execute(
            sql: "INSERT INTO audit_writes (household, entity, kind, write_id, device, seq, actor, at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                household.description, mutation.entity.description, mutation.kind.rawValue, write.description, mutation.device.rawValue,
                mutation.seq, actor, now, try origin.map(StoredJSON.encode),
            ]
        )
        let id = db.lastInsertedRowID
        for (n, change) in changes.enumerated() {
            try execute(
                sql: "INSERT INTO audit_fields (write, n, field, old, new, settled) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, n, change.field, try StoredJSON.encode(change.old), try StoredJSON.encode(change.new), change.settled ? 1 : nil]
            )
        }
    }

    func recordRejected(_ mutation: Mutation, write: WriteID, result: MutationResult, substitutes: [String: [WriteID]]) throws {
        let household = try canonical(of: mutation.household)
        try logMutation(mutation, write: write, result: result, household: household)
        let district = try ReviewRouting.refused(mutation, code: result.code).district(for: mutation) { try SQLiteStorage.answer($0, db) }
        try execute(
            sql: """
                INSERT OR REPLACE INTO rejections (device, seq, household, entity, kind, district, code, reason, at, reason_zh, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mutation.device.rawValue, mutation.seq, mutation.household.description, mutation.entity.description,
                mutation.kind.rawValue, district, result.code?.rawValue ?? "rejected", result.reason ?? "", now,
                result.reasonZh, try result.details.map { try StoredJSON.encode($0) },
            ]
        )
        for id in Set([write, mutation.writeID]) {
            for (field, base) in substitutes {
                try execute(
                    sql: "INSERT OR REPLACE INTO rejected_bases (write_id, field, base) VALUES (?, ?, ?)",
                    arguments: [id.description, field, try StoredJSON.encode(base)])
            }
        }
        if mutation.op == .create {
            try execute(sql: "INSERT OR IGNORE INTO rejected_creations (entity) VALUES (?)", arguments: [mutation.entity.description])
        }
    }

    private func logMutation(_ mutation: Mutation, write: WriteID, result: MutationResult, household: EntityID?) throws {
        try execute(
            sql: "INSERT INTO mutations (device, seq, write_id, body, result, household, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                mutation.device.rawValue, mutation.seq, write.description, try StoredJSON.encode(mutation),
                try StoredJSON.encode(result), household?.description, now,
            ]
        )
    }

    // MARK: Change feed

    /// Marks a household changed: a new change sequence number for each district whose devices
    /// must hear of it (where it is now; where it was, if it left), and its open conflicts refreshed.
    ///
    /// Sequence numbers are taken inside the single writer transaction, so they commit in order
    /// and a pull cursor can never step past a change that commits later.
    ///
    /// Of the household it needs only the merged household (its district) and the open conflicts of
    /// the household and its entities, so it decodes only the entities flagged as possibly conflicted
    /// (see ``entitiesThatMayConflict(ofHouseholds:)``): the same conflicts, in the same order, as
    /// ``aggregate(_:)`` would give, without decoding every visit of the household.
    func touch(household: EntityID) throws {
        guard let survivor = try canonical(of: household) else { return }
        let old = try String.fetchOne(try statement("SELECT district FROM households WHERE id = ?"), arguments: [household.description])
        var merged: EntityState?
        var conflicts: [ConflictRecord] = []
        if survivor == household, let state = try engine.household(survivor, store: self) {
            merged = state
            let members = try linkMembers(of: survivor)
            conflicts = ChangeFeed.conflicts(household: state, entities: try entitiesThatMayConflict(ofHouseholds: members.isEmpty ? [survivor] : members))
        }
        let district = merged?["district"].stringValue
        var seq = try Int64.fetchOne(try statement("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'")) ?? 0
        for target in ChangeFeed.districts(was: old, now: district) {
            seq += 1
            try execute(sql: "DELETE FROM changes WHERE household = ? AND district = ?", arguments: [household.description, target])
            try execute(sql: "INSERT INTO changes (seq, household, district) VALUES (?, ?, ?)", arguments: [seq, household.description, target])
        }
        try execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('change_seq', ?)", arguments: [String(seq)])
        try execute(sql: "UPDATE households SET district = ?, change_seq = ? WHERE id = ?", arguments: [district, seq, household.description])
        try execute(sql: "DELETE FROM conflicts WHERE household = ?", arguments: [household.description])
        for record in conflicts {
            try execute(
                sql: "INSERT OR REPLACE INTO conflicts (household, entity, field, district, record) VALUES (?, ?, ?, ?, ?)",
                arguments: [household.description, record.entity.description, record.field, district, try StoredJSON.encode(record)]
            )
        }
    }

    /// The query of ``entitiesThatMayConflict(ofHouseholds:)`` for `households` ids: it reads the
    /// households' ranges of the table (schema v6) and decodes only the flagged rows' states.
    static func conflictedEntitiesSQL(households: Int) -> String {
        "SELECT wire, superseded FROM entities WHERE household IN (\(databaseQuestionMarks(count: households))) AND kind <> 'household' AND conflicted <> 0 ORDER BY id"
    }

    /// The child entities of the households (as ``entities(ofHouseholds:)``, in the same order) that
    /// may hold an open conflict: those whose row is flagged `conflicted` (every save writes the flag;
    /// rows older than the flag say 1). The many conflict-free entities, every visit, are not decoded.
    func entitiesThatMayConflict(ofHouseholds households: [EntityID]) throws -> [EntityState] {
        guard !households.isEmpty else { return [] }
        return try Row.fetchAll(
            try statement(Self.conflictedEntitiesSQL(households: households.count)),
            arguments: StatementArguments(households.map(\.description))
        )
        .map { try StoredEntityRow(wire: $0[0], superseded: $0[1]).state }
    }

    /// The whole household as a pull delivers it, read for writing as JSON text (see
    /// ``AggregateParts``); `nil` when the survivor has no state. A household without aliases is
    /// one range of the table (schema v6), its own row included; a linked one merges its members.
    func aggregateParts(_ survivor: EntityID, attachments: Bool = true) throws -> AggregateParts? {
        let members = try linkMembers(of: survivor)
        let aliases = members.filter { $0 != survivor }
        let owners = members.isEmpty ? [survivor] : members
        let rows = try Row.fetchCursor(
            try statement(
                """
                SELECT kind, id, wire FROM entities
                WHERE household IN (\(databaseQuestionMarks(count: owners.count))) ORDER BY id
                """),
            arguments: StatementArguments(owners.map(\.description)))
        var children: [AggregateParts.Stored] = []
        var own: AggregateParts.Stored?
        let householdKind = EntityKind.household.rawValue
        let survivorText = survivor.description
        while let row = try rows.next() {
            let kind: String = row[0]
            guard RevisionView.sends(kind: kind, readsAttachments: attachments) else { continue }
            let stored = AggregateParts.Stored(wire: row[2])
            if kind == householdKind {
                if (row[1] as String) == survivorText { own = stored }
            } else {
                children.append(stored)
            }
        }
        let household: AggregateParts.Household
        if aliases.isEmpty {
            // With no other member the household's state is the survivor's own (`MergeEngine.household`).
            guard let own else { return nil }
            household = .stored(own)
        } else {
            guard let merged = try engine.household(survivor, store: self) else { return nil }
            household = .merged(merged)
        }
        return AggregateParts(aliases: aliases, children: children, household: household)
    }

    /// The whole household as a pull delivers it.
    func aggregate(_ survivor: EntityID) throws -> HouseholdAggregate? {
        guard let household = try engine.household(survivor, store: self) else { return nil }
        let members = try linkMembers(of: survivor)
        return HouseholdAggregate(
            household: household,
            aliases: members.filter { $0 != survivor },
            entities: try entities(ofHouseholds: members.isEmpty ? [survivor] : members)
        )
    }
}

/// Entity states a ``SQLiteMergeStore`` decoded in one transaction, so that a batch reads each
/// household's state once rather than at every step (plan, merge, change feed). Only states read
/// from rows are kept; a save drops the entry, so the next read decodes the row as stored. Used
/// where nothing else writes entities during the store's life and no savepoint rolls back under it.
final class EntityCache {
    var states: [EntityID: EntityState] = [:]
}
