import DoorstepCore
import Foundation
import GRDB

/// Keys of the settings table.
enum SettingKey: String {
    case device, token, server, role, district, deviceName
    case serverPublicKey, serverKeyID, signingKey
    case hlc, cursor, nextSeq, lastSyncAt, lastSyncError
}

/// The local SQLite file: the pulled scope, each household's view (pulled state with the
/// device's own unsynced work on top), the outbox and the quarantine.
///
/// Every method takes the transaction's `Database`; the caller decides the transaction.
enum LocalStore {
    static func setting(_ db: Database, _ key: SettingKey) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key.rawValue])
    }

    static func set(_ db: Database, _ key: SettingKey, _ value: String?) throws {
        if let value {
            try db.execute(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", arguments: [key.rawValue, value])
        } else {
            try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [key.rawValue])
        }
    }

    static func survivor(_ db: Database, of id: EntityID) throws -> EntityID {
        try String.fetchOne(db.cachedStatement(sql: "SELECT survivor FROM aliases WHERE alias = ?"), arguments: [id.description]).flatMap { try? EntityID($0) } ?? id
    }

    static func pulled(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT pulled FROM households WHERE id = ?"), arguments: [id.description])
            .map { try decode(HouseholdAggregate.self, $0) }
    }

    static func view(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        let survivor = try survivor(db, of: id)
        return try String.fetchOne(db.cachedStatement(sql: "SELECT view FROM households WHERE id = ?"), arguments: [survivor.description])
            .map { try decode(HouseholdAggregate.self, $0) }
    }

    /// The outbox mutations (pending and acknowledged) that touch a household, in seq order.
    static func outbox(_ db: Database, household ids: [EntityID]) throws -> [Mutation] {
        guard !ids.isEmpty else { return [] }
        return try String.fetchAll(db, sql: "SELECT body FROM outbox WHERE household IN (\(databaseQuestionMarks(count: ids.count))) ORDER BY seq",
                                   arguments: StatementArguments(ids.map(\.description)))
            .map { try decode(Mutation.self, $0) }
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
        try storeView(db, base.applying(local), localChanges: local.count)
    }

    /// Writes a household's view and its list columns; the pulled copy is left as it is (a household
    /// only made on this device gets a row with no pulled copy).
    static func storeView(_ db: Database, _ view: HouseholdAggregate, localChanges: Int) throws {
        let household = view.household
        try db.cachedStatement(sql: """
            INSERT INTO households (id, view, district, head_name, national_id, address, status, conflicts, local_changes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET view = excluded.view, district = excluded.district,
                head_name = excluded.head_name, national_id = excluded.national_id, address = excluded.address,
                status = excluded.status, conflicts = excluded.conflicts, local_changes = excluded.local_changes
            """).execute(arguments: [
                household.id.description, try encode(view), household["district"].stringValue, household["headName"].stringValue,
                household["nationalId"].stringValue, household["address"].stringValue, household["status"].stringValue,
                view.conflicts.count, localChanges,
            ])
    }

    /// A new local mutation on top of a household's stored view: the view is a fold of the outbox
    /// over the pulled copy in seq order, and the new mutation has the highest seq, so applying it
    /// to the stored view gives what ``refreshView(_:_:)`` would, without decoding the pulled copy
    /// and the outbox again.
    static func extendView(_ db: Database, _ view: HouseholdAggregate, with mutation: Mutation) throws {
        let count = try Int.fetchOne(db.cachedStatement(sql: "SELECT local_changes FROM households WHERE id = ?"), arguments: [view.household.id.description]) ?? 0
        try storeView(db, view.applying([mutation]), localChanges: count + 1)
    }

    /// Stores a pulled page: aggregates replace the pulled copies, aliases are remembered, removed households dropped.
    static func apply(_ page: PullPage, _ db: Database) throws {
        for id in page.removed {
            try db.cachedStatement(sql: "DELETE FROM households WHERE id = ?").execute(arguments: [id.description])
            try db.cachedStatement(sql: "DELETE FROM aliases WHERE survivor = ?").execute(arguments: [id.description])
        }
        let hasAliases = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM aliases)") ?? false
        var pending = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM outbox)") ?? false
        for aggregate in page.households {
            let survivor = aggregate.household.id
            if hasAliases || !aggregate.aliases.isEmpty {
                try db.cachedStatement(sql: "DELETE FROM aliases WHERE alias = ? OR survivor = ?").execute(arguments: [survivor.description, survivor.description])
            }
            for alias in aggregate.aliases {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO aliases (alias, survivor) VALUES (?, ?)").execute(arguments: [alias.description, survivor.description])
                try db.cachedStatement(sql: "DELETE FROM households WHERE id = ?").execute(arguments: [alias.description])
            }
            let ids = aggregate.ids.map(\.description)
            var local = false
            if pending {
                // The aggregate was made after every receipt this device has taken (a sync pushes, then
                // pulls), so it already holds the acknowledged work: it needs no overlay any more.
                let marks = databaseQuestionMarks(count: ids.count)
                try db.execute(sql: "DELETE FROM outbox WHERE acked = 1 AND household IN (\(marks))", arguments: StatementArguments(ids))
                local = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE household IN (\(marks)))", arguments: StatementArguments(ids)) ?? false
                pending = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM outbox)") ?? false
            }
            // With no local work on it, the view is the pulled copy itself: one encoding, one write.
            let text = try encode(aggregate)
            let household = aggregate.household
            try db.cachedStatement(sql: """
                INSERT INTO households (id, pulled, view, district, head_name, national_id, address, status, conflicts, local_changes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                ON CONFLICT(id) DO UPDATE SET pulled = excluded.pulled, view = excluded.view, district = excluded.district,
                    head_name = excluded.head_name, national_id = excluded.national_id, address = excluded.address,
                    status = excluded.status, conflicts = excluded.conflicts, local_changes = 0
                """).execute(arguments: [
                    survivor.description, text, text, household["district"].stringValue, household["headName"].stringValue,
                    household["nationalId"].stringValue, household["address"].stringValue, household["status"].stringValue,
                    aggregate.conflicts.count,
                ])
            if local { try refreshView(db, survivor) }
        }
        // Outbox work on households that left the scope stays in the outbox (the server will answer it).
    }

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try WireCoding.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
