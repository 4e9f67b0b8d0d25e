import DoorstepCore
import Foundation
import GRDB

/// Keys of the settings table.
enum SettingKey: String {
    case device, token, server, role, district, deviceName
    case serverPublicKey, serverKeyID, signingKey
    case hlc, cursor, nextSeq, lastSyncAt, lastSyncError
    case revokedAt, revokedBundle
    /// The server's campaigns (`GET /v1/campaigns`, JSON), kept at each sync.
    case campaigns
    /// The protocol revision the server said it serves at the last sync (`GET /v1/server`).
    case serverRevision
    /// A pull page cut on the way when a sync ended (JSON: its request, id, headers and the bytes
    /// that came), resumed by the next sync from the same cursor (protocol 1.5, §18).
    case partialPage
    /// Seqs to declare lost to the server (JSON `[SeqRange]`, protocol 1.7): a restored server
    /// lacks them and this laptop no longer holds them.
    case lostToDeclare
    /// The gaps declared and taken by the server (JSON `[LostWork]`), for the visitor to see.
    case declaredLost
    /// Set when a pull cursor was refused (a restored server): the sync then asks where the
    /// server stands and sends again what it lacks (protocol 1.7, §16 step 3).
    case askWhereServerStands
    /// While catching up with a restored server: the highest seq it had acknowledged to this
    /// laptop, said in each batch (`acknowledgedThrough`, protocol 1.7).
    case catchingUpThrough
}

/// The local SQLite file: the pulled scope, each household's view (pulled state with the
/// device's own unsynced work on top), the outbox and the quarantine.
///
/// A household is stored in parts, so that a write touches only what it changes: its row in
/// `households` holds the household state and aliases (`pulled` and `view`, entries stripped)
/// and the list columns; each entry (member, visit…) is a row of `household_entities` under the
/// household's survivor (`owner`), with its pulled and its view state (`NULL` where it has none:
/// an entry only made here has no pulled state) in the aggregate's order (`position`, then `id`:
/// the entries of a pulled household, which come in id order, all have position 0). A
/// household's `local_changes` is 1 while the device holds work on it not yet pulled back.
///
/// Every method takes the transaction's `Database`; the caller decides the transaction.
enum LocalStore {
    static func setting(_ db: Database, _ key: SettingKey) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM settings WHERE key = ?"), arguments: [key.rawValue])
    }

    /// Every setting at once (a write needs several).
    static func settings(_ db: Database) throws -> [SettingKey: String] {
        var result: [SettingKey: String] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT key, value FROM settings"))
        while let row = try rows.next() {
            if let key = SettingKey(rawValue: row[0]) { result[key] = row[1] }
        }
        return result
    }

    static func set(_ db: Database, _ key: SettingKey, _ value: String?) throws {
        if let value {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)").execute(arguments: [key.rawValue, value])
        } else {
            try db.cachedStatement(sql: "DELETE FROM settings WHERE key = ?").execute(arguments: [key.rawValue])
        }
    }

    /// The next mutation's seq and the device clock's last stamp: the newest outbox row's, or the
    /// settings' where higher (they hold the counters of rows that have left the outbox; schema v4).
    static func counters(_ db: Database) throws -> (nextSeq: Int64, last: HLC) {
        let newest = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hlc FROM outbox ORDER BY seq DESC LIMIT 1"))
        return counters(nextSeq: try setting(db, .nextSeq), hlc: try setting(db, .hlc), newestSeq: newest?["seq"], newestStamp: newest?["hlc"])
    }

    /// The counters from the settings' values and the newest outbox row's (`nil` when the outbox is empty).
    static func counters(nextSeq: String?, hlc: String?, newestSeq: Int64?, newestStamp: String?) -> (nextSeq: Int64, last: HLC) {
        var next = nextSeq.flatMap { Int64($0) } ?? 1
        var last = hlc.flatMap { try? HLC($0) } ?? .zero
        if let newestSeq { next = max(next, newestSeq + 1) }
        if let stamp = newestStamp.flatMap({ try? HLC($0) }), stamp > last { last = stamp }
        return (next, last)
    }

    /// What every local write reads first, in one statement: who writes (device, role, district),
    /// the counters, the survivor of the household named, and its listed district.
    struct WritePrelude {
        var device: String?
        var role: String?
        var district: String?
        var nextSeq: Int64
        var last: HLC
        var survivor: EntityID
        /// The survivor's district as listed; `nil` when the device holds no such household.
        var listedDistrict: String?
    }

    static func writePrelude(_ db: Database, household: EntityID) throws -> WritePrelude {
        let sql = """
            SELECT
                (SELECT value FROM settings WHERE key = 'device') AS device,
                (SELECT value FROM settings WHERE key = 'role') AS role,
                (SELECT value FROM settings WHERE key = 'district') AS district,
                (SELECT value FROM settings WHERE key = 'hlc') AS hlc,
                (SELECT value FROM settings WHERE key = 'nextSeq') AS nextSeq,
                newest.seq AS newestSeq, newest.hlc AS newestStamp,
                target.id AS survivor, listed.district AS listedDistrict
            FROM (SELECT COALESCE((SELECT survivor FROM aliases WHERE alias = ?1), ?1) AS id) AS target
            LEFT JOIN households AS listed ON listed.id = target.id
            LEFT JOIN (SELECT seq, hlc FROM outbox ORDER BY seq DESC LIMIT 1) AS newest ON 1
            """
        guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [household.description]) else {
            throw DoorstepError(.internalError, "the write prelude returned no row")
        }
        let counters = counters(nextSeq: row["nextSeq"], hlc: row["hlc"], newestSeq: row["newestSeq"], newestStamp: row["newestStamp"])
        return WritePrelude(
            device: row["device"], role: row["role"], district: row["district"], nextSeq: counters.nextSeq, last: counters.last,
            survivor: (row["survivor"] as String?).flatMap { try? EntityID($0) } ?? household, listedDistrict: row["listedDistrict"])
    }

    static func survivor(_ db: Database, of id: EntityID) throws -> EntityID {
        try String.fetchOne(db.cachedStatement(sql: "SELECT survivor FROM aliases WHERE alias = ?"), arguments: [id.description]).flatMap { try? EntityID($0) }
            ?? id
    }

    /// The pulled copy of a household as the server last sent it, or `nil` for one only made here.
    static func pulled(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        guard
            var top = try String.fetchOne(db.cachedStatement(sql: "SELECT pulled FROM households WHERE id = ?"), arguments: [id.description])
                .map({ try decode(HouseholdAggregate.self, $0) })
        else { return nil }
        top.entities = try String.fetchAll(
            db.cachedStatement(sql: "SELECT pulled FROM household_entities WHERE owner = ? AND pulled IS NOT NULL ORDER BY position, id"),
            arguments: [id.description]
        ).map { try decode(EntityState.self, $0) }
        return top
    }

    /// A household as this device shows it: the household, its aliases and every entry.
    static func view(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        let survivor = try survivor(db, of: id)
        guard var top = try top(db, survivor) else { return nil }
        top.entities = try String.fetchAll(
            db.cachedStatement(sql: "SELECT view FROM household_entities WHERE owner = ? AND view IS NOT NULL ORDER BY position, id"),
            arguments: [survivor.description]
        ).map { try decode(EntityState.self, $0) }
        return top
    }

    /// The household state and aliases of a view, without its entries (the `view` column).
    static func top(_ db: Database, _ survivor: EntityID) throws -> HouseholdAggregate? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT view FROM households WHERE id = ?"), arguments: [survivor.description])
            .map { try decode(HouseholdAggregate.self, $0) }
    }

    /// One entry of a household's view.
    static func viewEntry(_ db: Database, owner: EntityID, _ id: EntityID) throws -> EntityState? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT view FROM household_entities WHERE owner = ? AND id = ?"),
            arguments: [owner.description, id.description]
        )
        .map { try decode(EntityState.self, $0) }
    }

    /// The outbox mutations (pending and acknowledged) that touch a household, in seq order: the
    /// overlay (not those a relay holds whose household it has delivered since, `acked = 3`: §19.3).
    static func outbox(_ db: Database, household ids: [EntityID]) throws -> [Mutation] {
        guard !ids.isEmpty else { return [] }
        var mutations: [Mutation] = []
        // Writes the server applied under another stamp (it clamped a clock too far ahead): shown
        // under the id the server gave them, and the later bases that name them say so too (§5).
        var renamed: [WriteID: WriteID] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT body, stamp FROM outbox WHERE acked <> 3 AND household IN (\(databaseQuestionMarks(count: ids.count))) ORDER BY seq",
            arguments: StatementArguments(ids.map(\.description)))
        {
            var mutation = try decode(Mutation.self, row["body"] as String)
            if let text = row["stamp"] as String?, let stamp = try? HLC(text) {
                renamed[mutation.writeID] = WriteID(hlc: stamp, device: mutation.device)
                mutation.hlc = stamp
            }
            mutations.append(mutation)
        }
        guard !renamed.isEmpty else { return mutations }
        return mutations.map { mutation in
            var mutation = mutation
            mutation.fields = mutation.fields.map { write in
                var write = write
                write.base = write.base.map { renamed[$0] ?? $0 }
                return write
            }
            mutation.covers = mutation.covers.map { renamed[$0] ?? $0 }
            return mutation
        }
    }

    /// Recomputes a household's view: the pulled aggregate with the outbox applied by the shared register rules.
    static func refreshView(_ db: Database, _ id: EntityID) throws {
        let survivor = try survivor(db, of: id)
        let pulled = try pulled(db, survivor)
        let aliases = try String.fetchAll(db.cachedStatement(sql: "SELECT alias FROM aliases WHERE survivor = ?"), arguments: [survivor.description])
            .compactMap { try? EntityID($0) }
        let local = try outbox(db, household: [survivor] + aliases)
        var base = pulled
        if base == nil, let creation = local.first(where: { $0.kind == .household && $0.op == .create && $0.entity == survivor }) {
            base = HouseholdAggregate(household: EntityState(kind: .household, id: survivor, household: survivor, created: creation.writeID))
        }
        guard let base else {
            try db.cachedStatement(sql: "DELETE FROM households WHERE id = ?").execute(arguments: [survivor.description])
            return
        }
        try storeView(db, base.applying(local), localChanges: !local.isEmpty)
    }

    /// Writes a household's whole view: its row (the household, aliases and list columns) and its
    /// entries' view states, in the view's order. Pulled copies are left as they are; entries only
    /// made on this device that the view no longer holds are dropped.
    static func storeView(_ db: Database, _ view: HouseholdAggregate, localChanges: Bool) throws {
        let owner = view.household.id.description
        try db.cachedStatement(sql: "UPDATE household_entities SET view = NULL WHERE owner = ?").execute(arguments: [owner])
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO household_entities (owner, id, position, view, conflicts, kind) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(owner, id) DO UPDATE SET position = excluded.position, view = excluded.view, conflicts = excluded.conflicts, kind = excluded.kind
                """)
        for (position, entity) in view.entities.enumerated() {
            try upsert.execute(arguments: [owner, entity.id.description, position, try encode(entity), entity.conflictCount, entity.kind.rawValue])
        }
        try db.cachedStatement(sql: "DELETE FROM household_entities WHERE owner = ? AND view IS NULL AND pulled IS NULL").execute(arguments: [owner])
        try storeTop(db, view, conflicts: view.conflicts.count, localChanges: localChanges)
        try storeFacts(db, HouseholdWorkFacts(view), of: view.household.id)
    }

    /// Writes a household's worklist facts (only when they changed: most writes change none).
    static func storeFacts(_ db: Database, _ facts: HouseholdWorkFacts, of id: EntityID) throws {
        try db.cachedStatement(
            sql: """
                UPDATE households SET home_visit_at = ?1, latest_visit_at = ?2, follow_up = ?3, next_due = ?4
                WHERE id = ?5 AND (home_visit_at IS NOT ?1 OR latest_visit_at IS NOT ?2 OR follow_up IS NOT ?3 OR next_due IS NOT ?4)
                """
        ).execute(arguments: [facts.lastHomeVisitAt, facts.latestVisitAt, facts.followUp, facts.nextDue?.description, id.description])
    }

    /// The worklist facts after one more local write of an entry: a new visit is folded in; a
    /// change to an assistance item reads the household's items again (a few rows, by kind).
    static func extendFacts(_ db: Database, owner: EntityID, with mutation: Mutation, entity: EntityState?) throws {
        switch mutation.kind {
        case .visit where mutation.op != .create || entity == nil:
            // A visit changed (an office's void, a correction): its facts from the household's visits again.
            let visits = try String.fetchAll(
                db.cachedStatement(sql: "SELECT view FROM household_entities WHERE owner = ? AND kind = 'visit' AND view IS NOT NULL ORDER BY position, id"),
                arguments: [owner.description]
            ).map { try decode(EntityState.self, $0) }
            var facts = HouseholdWorkFacts()
            for visit in visits where visit.isVisible { facts.add(visit: visit) }
            try db.cachedStatement(
                sql: """
                    UPDATE households SET home_visit_at = ?1, latest_visit_at = ?2, follow_up = ?3
                    WHERE id = ?4 AND (home_visit_at IS NOT ?1 OR latest_visit_at IS NOT ?2 OR follow_up IS NOT ?3)
                    """
            ).execute(arguments: [facts.lastHomeVisitAt, facts.latestVisitAt, facts.followUp, owner.description])
        case .visit:
            guard let entity else { return }
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT home_visit_at, latest_visit_at, follow_up, next_due FROM households WHERE id = ?"),
                arguments: [owner.description])
            var facts = HouseholdWorkFacts(
                lastHomeVisitAt: row?["home_visit_at"], latestVisitAt: row?["latest_visit_at"], followUp: (row?["follow_up"] as Int? ?? 0) != 0,
                nextDue: (row?["next_due"] as String?).flatMap { try? LocalDate($0) })
            let before = facts
            facts.add(visit: entity)
            if facts != before { try storeFacts(db, facts, of: owner) }
        case .assistance:
            let items = try String.fetchAll(
                db.cachedStatement(sql: "SELECT view FROM household_entities WHERE owner = ? AND kind = 'assistance' AND view IS NOT NULL"),
                arguments: [owner.description]
            ).map { try decode(EntityState.self, $0) }
            let due = HouseholdWorkFacts.nextDue(of: items)?.description
            try db.cachedStatement(sql: "UPDATE households SET next_due = ?1 WHERE id = ?2 AND next_due IS NOT ?1").execute(arguments: [
                due, owner.description,
            ])
        default:
            return
        }
    }

    /// Writes a household's row: the household and aliases (entries stripped) and the list columns.
    private static func storeTop(_ db: Database, _ view: HouseholdAggregate, conflicts: Int, localChanges: Bool) throws {
        var top = view
        top.entities = []
        let household = view.household
        try db.cachedStatement(
            sql: """
                INSERT INTO households (id, view, district, head_name, national_id, address, status, conflicts, local_changes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET view = excluded.view, district = excluded.district,
                    head_name = excluded.head_name, national_id = excluded.national_id, address = excluded.address,
                    status = excluded.status, conflicts = excluded.conflicts, local_changes = excluded.local_changes
                """
        ).execute(arguments: [
            household.id.description, try encode(top), household["district"].stringValue, household["headName"].stringValue,
            household["nationalId"].stringValue, household["address"].stringValue, household["status"].stringValue,
            conflicts, localChanges,
        ])
    }

    /// The position of an entry a local mutation adds to a view: after every entry there (a stored
    /// view numbers its entries from 0, far below 2³²), and after the entries added by earlier
    /// local mutations (lower seqs), as the overlay appends them. Found without reading the
    /// household's other entries (their largest position would need every entry row).
    static func appendedPosition(_ mutation: Mutation) -> Int64 {
        (1 << 32) + mutation.seq
    }

    /// A new local mutation of an entry (not the household) on top of the stored view: the one
    /// entry row it names, and the household's conflict and local-change counts. What
    /// ``refreshView(_:_:)`` would give (the same ``EntityState/applyingEntry(_:to:)`` the overlay runs).
    static func extendEntry(_ db: Database, owner: EntityID, with mutation: Mutation) throws {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT view, position, conflicts FROM household_entities WHERE owner = ? AND id = ? AND view IS NOT NULL"),
            arguments: [owner.description, mutation.entity.description])
        let existing = try (row?["view"] as String?).map { try decode(EntityState.self, $0) }
        var delta = 0
        if let entity = EntityState.applyingEntry(mutation, to: existing), existing == nil || entity != existing {
            let position: Int64 = row?["position"] ?? appendedPosition(mutation)
            let conflicts = entity.conflictCount
            delta = conflicts - ((row?["conflicts"] as Int?) ?? 0)
            try db.cachedStatement(
                sql: """
                    INSERT INTO household_entities (owner, id, position, view, conflicts, kind) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(owner, id) DO UPDATE SET view = excluded.view, conflicts = excluded.conflicts
                    """
            ).execute(arguments: [owner.description, entity.id.description, position, try encode(entity), conflicts, entity.kind.rawValue])
            try extendFacts(db, owner: owner, with: mutation, entity: entity)
        }
        // The row is written only when something listed changes (a visit usually changes neither).
        try db.cachedStatement(sql: "UPDATE households SET conflicts = conflicts + ?, local_changes = 1 WHERE id = ? AND (? <> 0 OR local_changes = 0)")
            .execute(arguments: [delta, owner.description, delta])
    }

    /// A new local mutation on top of a household's stored view, touching only what it changes:
    /// the household row for a household write, one entry for an entry write. The view is a fold
    /// of the outbox over the pulled copy in seq order and the new mutation has the highest seq,
    /// so this gives what ``refreshView(_:_:)`` would (the same ``HouseholdAggregate/apply(_:)``
    /// runs on the household and the one entry it names).
    static func extendView(_ db: Database, _ top: HouseholdAggregate, with mutation: Mutation) throws {
        let owner = top.household.id
        var part = top
        part.entities = []
        let existing = mutation.kind == .household ? nil : try viewEntry(db, owner: owner, mutation.entity)
        if let existing { part.entities = [existing] }
        part.apply(mutation)
        let entityConflicts: Int
        if mutation.kind != .household, mutation.op != .linkDecision, let entity = part.entities.first {
            let position: Int64
            if existing == nil {
                position = appendedPosition(mutation)
            } else {
                position =
                    try Int64.fetchOne(
                        db.cachedStatement(sql: "SELECT position FROM household_entities WHERE owner = ? AND id = ?"),
                        arguments: [owner.description, entity.id.description]) ?? 0
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO household_entities (owner, id, position, view, conflicts, kind) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(owner, id) DO UPDATE SET view = excluded.view, conflicts = excluded.conflicts
                    """
            ).execute(arguments: [owner.description, entity.id.description, position, try encode(entity), entity.conflictCount, entity.kind.rawValue])
            try extendFacts(db, owner: owner, with: mutation, entity: entity)
        }
        entityConflicts =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COALESCE(SUM(conflicts), 0) FROM household_entities WHERE owner = ? AND view IS NOT NULL"),
                arguments: [owner.description]) ?? 0
        let conflicts = part.household.conflicts.count + entityConflicts
        if mutation.kind == .household {
            try storeTop(db, part, conflicts: conflicts, localChanges: true)
        } else {
            try db.cachedStatement(sql: "UPDATE households SET conflicts = ?, local_changes = 1 WHERE id = ?")
                .execute(arguments: [conflicts, owner.description])
        }
    }

    /// Stores a pulled page: aggregates replace the pulled copies, aliases are remembered, removed
    /// households dropped. The texts the page arrived in are stored as they are (they were read and
    /// checked whole); a household whose texts do not match its values is encoded instead.
    static func apply(_ pulled: PulledPage, _ db: Database) throws {
        let page = pulled.page
        for id in page.removed {
            try db.cachedStatement(sql: "DELETE FROM households WHERE id = ?").execute(arguments: [id.description])
            try db.cachedStatement(sql: "DELETE FROM aliases WHERE survivor = ?").execute(arguments: [id.description])
        }
        var hasAliases = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM aliases)") ?? false
        var pending = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE acked <> 3)") ?? false
        let entry = try db.cachedStatement(
            sql: """
                INSERT INTO household_entities (owner, id, position, pulled, view, conflicts, kind) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(owner, id) DO UPDATE SET position = excluded.position, pulled = excluded.pulled, view = excluded.view,
                    conflicts = excluded.conflicts, kind = excluded.kind
                """)
        for (index, aggregate) in page.households.enumerated() {
            let survivor = aggregate.household.id
            let arrived =
                index < pulled.entityTexts.count && pulled.entityTexts[index].count == aggregate.entities.count
                && index < pulled.householdTexts.count && !pulled.householdTexts[index].isEmpty
            if hasAliases || !aggregate.aliases.isEmpty {
                try db.cachedStatement(sql: "DELETE FROM aliases WHERE alias = ? OR survivor = ?").execute(arguments: [
                    survivor.description, survivor.description,
                ])
            }
            for alias in aggregate.aliases {
                hasAliases = true
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO aliases (alias, survivor) VALUES (?, ?)").execute(arguments: [
                    alias.description, survivor.description,
                ])
                try db.cachedStatement(sql: "DELETE FROM households WHERE id = ?").execute(arguments: [alias.description])
            }
            let ids = aggregate.ids.map(\.description)
            var local = false
            if pending {
                // The aggregate was made after every receipt this device has taken (a sync pushes, then
                // pulls), so it already holds the acknowledged work: it needs no overlay any more.
                let marks = databaseQuestionMarks(count: ids.count)
                try keepSettled(db, where: "acked = 1 AND household IN (\(marks))", StatementArguments(ids))
                // Held by a relay (1.8): the relay's copy holds it too; it leaves the overlay and is
                // still sent again until the city's outcome comes back (§19.3).
                try db.execute(sql: "UPDATE outbox SET acked = 3 WHERE acked = 2 AND household IN (\(marks))", arguments: StatementArguments(ids))
                local =
                    try Bool.fetchOne(
                        db, sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE acked <> 3 AND household IN (\(marks)))", arguments: StatementArguments(ids))
                    ?? false
                pending = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE acked <> 3)") ?? false
            }
            // With no local work on it, the view is the pulled copy itself: each part is encoded once
            // and written as both. Only the entries that changed are written (a household pulled again
            // for one new visit writes that visit), so that a pull's pages follow what it brings.
            var stored: [String: (position: Int64, pulled: String?, view: String?, conflicts: Int)] = [:]
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT id, position, pulled, view, conflicts FROM household_entities WHERE owner = ?"),
                arguments: [survivor.description])
            while let row = try rows.next() { stored[row["id"]] = (row["position"], row["pulled"], row["view"], row["conflicts"]) }
            // The server sends a household's entries in the order of their ids: then they all take
            // position 0 (read back by position, then id), so that a new entry moves none of the others.
            let entityIDs = aggregate.entities.map(\.id.description)
            let inIDOrder = zip(entityIDs, entityIDs.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var conflicts = aggregate.household.conflictCount
            for (position, entity) in aggregate.entities.enumerated() {
                let text = arrived ? pulled.entityTexts[index][position] : try encode(entity)
                let entityConflicts = entity.conflictCount
                conflicts += entityConflicts
                let id = entityIDs[position]
                let place = inIDOrder ? 0 : Int64(position)
                if let old = stored.removeValue(forKey: id), old.position == place, old.pulled == text, old.view == text, old.conflicts == entityConflicts {
                    continue
                }
                try entry.execute(arguments: [survivor.description, id, place, text, text, entityConflicts, entity.kind.rawValue])
            }
            for id in stored.keys {
                try db.cachedStatement(sql: "DELETE FROM household_entities WHERE owner = ? AND id = ?").execute(arguments: [survivor.description, id])
            }
            let text: String
            if arrived {
                var writer = JSONTextWriter()
                writer.beginObject()
                writer.key("aliases", first: true)
                writer.array(aggregate.aliases) { $0.string($1.description) }
                writer.key("entities")
                writer.rawJSON("[]")
                writer.key("household")
                writer.rawJSON(pulled.householdTexts[index])
                writer.endObject()
                text = writer.text
            } else {
                var top = aggregate
                top.entities = []
                text = try encode(top)
            }
            let household = aggregate.household
            let listed = [
                household["district"].stringValue, household["headName"].stringValue, household["nationalId"].stringValue,
                household["address"].stringValue, household["status"].stringValue,
            ]
            let facts = HouseholdWorkFacts(aggregate)
            let factColumns: [(any DatabaseValueConvertible)?] = [
                facts.lastHomeVisitAt, facts.latestVisitAt, facts.followUp ? 1 : 0, facts.nextDue?.description,
            ]
            let old = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT pulled, view, conflicts, local_changes, district, head_name, national_id, address, status,
                            home_visit_at, latest_visit_at, follow_up, next_due FROM households WHERE id = ?
                        """), arguments: [survivor.description])
            let sameList = old.map { row in (0..<5).allSatisfy { (row[4 + $0] as String?) == listed[$0] } } ?? false
            let sameFacts =
                old.map { row in
                    (row["home_visit_at"] as String?) == facts.lastHomeVisitAt && (row["latest_visit_at"] as String?) == facts.latestVisitAt
                        && (row["follow_up"] as Int?) == (facts.followUp ? 1 : 0) && (row["next_due"] as String?) == facts.nextDue?.description
                } ?? false
            if let old, sameList, sameFacts, (old["pulled"] as String?) == text, (old["view"] as String?) == text,
                (old["conflicts"] as Int?) == conflicts, (old["local_changes"] as Int?) == 0
            {
                // Pulled again for a change to its entries only: the row stays as it is.
            } else if sameList {
                // The listed columns (and their indexes) stay as they are.
                try db.cachedStatement(
                    sql: """
                        UPDATE households SET pulled = ?, view = ?, conflicts = ?, local_changes = 0,
                            home_visit_at = ?, latest_visit_at = ?, follow_up = ?, next_due = ? WHERE id = ?
                        """
                ).execute(arguments: StatementArguments([text, text, conflicts] + factColumns + [survivor.description]))
            } else {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO households (id, pulled, view, district, head_name, national_id, address, status, conflicts, local_changes,
                            home_visit_at, latest_visit_at, follow_up, next_due)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET pulled = excluded.pulled, view = excluded.view, district = excluded.district,
                            head_name = excluded.head_name, national_id = excluded.national_id, address = excluded.address,
                            status = excluded.status, conflicts = excluded.conflicts, local_changes = 0,
                            home_visit_at = excluded.home_visit_at, latest_visit_at = excluded.latest_visit_at,
                            follow_up = excluded.follow_up, next_due = excluded.next_due
                        """
                ).execute(
                    arguments: StatementArguments(
                        [survivor.description, text, text, listed[0], listed[1], listed[2], listed[3], listed[4], conflicts] + factColumns))
            }
            if local { try refreshView(db, survivor) }
        }
        // Outbox work on households that left the scope stays in the outbox (the server will answer it).
    }

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try WireCoding.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try WireCoding.decode(type, from: Data(text.utf8))
    }

    // MARK: Kept work (protocol 1.7)

    /// Settles acknowledged outbox rows (`condition` on the outbox): they leave the overlay and are
    /// kept, out of every view, for a server restored from an older backup (§8).
    static func keepSettled(_ db: Database, where condition: String, _ arguments: StatementArguments = StatementArguments()) throws {
        let now = Instant.format(Date(), in: .gmt)
        try db.execute(
            sql: "INSERT OR REPLACE INTO kept (seq, household, body, hlc, settled_at) SELECT seq, household, body, hlc, ? FROM outbox WHERE \(condition)",
            arguments: StatementArguments([now]) + arguments)
        try db.execute(sql: "DELETE FROM outbox WHERE \(condition)", arguments: arguments)
    }

    /// The seqs still to declare lost, in order.
    static func lostToDeclare(_ db: Database) throws -> [SeqRange] {
        guard let text = try setting(db, .lostToDeclare) else { return [] }
        return (try? JSONDecoder().decode([SeqRange].self, from: Data(text.utf8))) ?? []
    }

    /// Stores the seqs to declare lost, overlapping and adjacent ranges joined.
    static func setLostToDeclare(_ db: Database, _ ranges: [SeqRange]) throws {
        var joined: [SeqRange] = []
        for range in ranges.filter({ $0.count > 0 }).sorted(by: { $0.from < $1.from }) {
            if let last = joined.last, range.from <= last.through + 1 {
                joined[joined.count - 1].through = max(last.through, range.through)
            } else {
                joined.append(range)
            }
        }
        try set(db, .lostToDeclare, joined.isEmpty ? nil : String(decoding: try JSONEncoder().encode(joined), as: UTF8.self))
    }

    /// The gaps declared and taken by the server.
    static func declaredLost(_ db: Database) throws -> [LostWork] {
        guard let text = try setting(db, .declaredLost) else { return [] }
        return (try? JSONDecoder().decode([LostWork].self, from: Data(text.utf8))) ?? []
    }

    /// Notes the ranges the server took (through `held`, its highest contiguous seq): they leave
    /// the ranges to declare and join the declared ones.
    static func noteDeclared(_ db: Database, held: Int64) throws {
        let pending = try lostToDeclare(db)
        let taken = pending.filter { $0.through <= held }
        guard !taken.isEmpty else { return }
        let now = Instant.format(Date(), in: .gmt)
        let declared = try declaredLost(db) + taken.map { LostWork(from: $0.from, through: $0.through, at: now) }
        try set(db, .declaredLost, String(decoding: try JSONEncoder().encode(declared), as: UTF8.self))
        try setLostToDeclare(db, pending.filter { $0.through > held })
    }
}
