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
        try String.fetchOne(db, sql: "SELECT survivor FROM aliases WHERE alias = ?", arguments: [id.description]).flatMap { try? EntityID($0) } ?? id
    }

    static func pulled(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        try String.fetchOne(db, sql: "SELECT pulled FROM households WHERE id = ?", arguments: [id.description])
            .map { try decode(HouseholdAggregate.self, $0) }
    }

    static func view(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        let survivor = try survivor(db, of: id)
        return try String.fetchOne(db, sql: "SELECT view FROM households WHERE id = ?", arguments: [survivor.description])
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
        let aliases = try String.fetchAll(db, sql: "SELECT alias FROM aliases WHERE survivor = ?", arguments: [survivor.description]).compactMap { try? EntityID($0) }
        let local = try outbox(db, household: [survivor] + aliases)
        var base = pulled
        if base == nil, let creation = local.first(where: { $0.kind == .household && $0.op == .create && $0.entity == survivor }) {
            base = HouseholdAggregate(household: EntityState(kind: .household, id: survivor, household: survivor, created: creation.writeID))
        }
        guard let base else {
            try db.execute(sql: "DELETE FROM households WHERE id = ?", arguments: [survivor.description])
            return
        }
        let view = base.applying(local)
        let household = view.household
        try db.execute(
            sql: """
                INSERT INTO households (id, pulled, view, district, head_name, national_id, address, status, conflicts, local_changes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET pulled = excluded.pulled, view = excluded.view, district = excluded.district,
                    head_name = excluded.head_name, national_id = excluded.national_id, address = excluded.address,
                    status = excluded.status, conflicts = excluded.conflicts, local_changes = excluded.local_changes
                """,
            arguments: [
                survivor.description, try pulled.map(encode), try encode(view), household["district"].stringValue,
                household["headName"].stringValue, household["nationalId"].stringValue, household["address"].stringValue,
                household["status"].stringValue, view.conflicts.count, local.count,
            ]
        )
    }

    /// Stores a pulled page: aggregates replace the pulled copies, aliases are remembered, removed households dropped.
    static func apply(_ page: PullPage, _ db: Database) throws {
        for id in page.removed {
            try db.execute(sql: "DELETE FROM households WHERE id = ?", arguments: [id.description])
            try db.execute(sql: "DELETE FROM aliases WHERE survivor = ?", arguments: [id.description])
        }
        for aggregate in page.households {
            let survivor = aggregate.household.id
            try db.execute(sql: "DELETE FROM aliases WHERE alias = ?", arguments: [survivor.description])
            try db.execute(sql: "DELETE FROM aliases WHERE survivor = ?", arguments: [survivor.description])
            for alias in aggregate.aliases {
                try db.execute(sql: "INSERT OR REPLACE INTO aliases (alias, survivor) VALUES (?, ?)", arguments: [alias.description, survivor.description])
                try db.execute(sql: "DELETE FROM households WHERE id = ?", arguments: [alias.description])
            }
            try db.execute(
                sql: "INSERT INTO households (id, pulled, view) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET pulled = excluded.pulled",
                arguments: [survivor.description, try encode(aggregate), try encode(aggregate)]
            )
            // The aggregate was made after every receipt this device has taken (a sync pushes, then
            // pulls), so it already holds the acknowledged work: it needs no overlay any more.
            let ids = aggregate.ids.map(\.description)
            try db.execute(sql: "DELETE FROM outbox WHERE acked = 1 AND household IN (\(databaseQuestionMarks(count: ids.count)))",
                           arguments: StatementArguments(ids))
            try refreshView(db, survivor)
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
