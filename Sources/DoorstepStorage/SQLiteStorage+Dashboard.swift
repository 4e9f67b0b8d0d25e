public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    static let accountColumns = "name, password_hash, role, district, created_by, created_at, password_changed_at, disabled_at"

    static func account(_ row: Row) -> DashboardAccount? {
        guard let role = Role(rawValue: row["role"]) else { return nil }
        return DashboardAccount(
            name: row["name"], role: role, district: row["district"], createdBy: row["created_by"],
            createdAt: row["created_at"], passwordChangedAt: row["password_changed_at"], disabledAt: row["disabled_at"])
    }

    static func account(_ db: Database, named name: String) throws -> DashboardAccount? {
        try Row.fetchOne(db, sql: "SELECT \(accountColumns) FROM dashboard_accounts WHERE name = ?", arguments: [name]).flatMap(account)
    }

    public func createDashboardAccount(_ account: DashboardAccount, passwordHash: String) async throws {
        try await pool.write { db in
            if try Self.account(db, named: account.name) != nil {
                throw DoorstepError(.invalidValue, "an account named \(account.name) exists already (disabled accounts keep their names)")
            }
            try db.execute(
                sql: """
                    INSERT INTO dashboard_accounts (name, password_hash, role, district, created_by, created_at, password_changed_at, disabled_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    account.name, passwordHash, account.role.rawValue, account.district, account.createdBy,
                    account.createdAt, account.passwordChangedAt, account.disabledAt,
                ]
            )
        }
    }

    public func dashboardAccount(named name: String) async throws -> (account: DashboardAccount, passwordHash: String)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.accountColumns) FROM dashboard_accounts WHERE name = ?", arguments: [name]),
                let account = Self.account(row)
            else { return nil }
            return (account, row["password_hash"])
        }
    }

    public func dashboardAccounts(district: String?) async throws -> [DashboardAccount] {
        try await pool.read { db in
            if let district {
                return try Row.fetchAll(
                    db, sql: "SELECT \(Self.accountColumns) FROM dashboard_accounts WHERE district = ? ORDER BY name", arguments: [district]
                )
                .compactMap(Self.account)
            }
            return try Row.fetchAll(db, sql: "SELECT \(Self.accountColumns) FROM dashboard_accounts ORDER BY name").compactMap(Self.account)
        }
    }

    public func setDashboardAccountDisabled(named name: String, disabled: Bool, at: String) async throws -> DashboardAccount? {
        try await pool.write { db in
            guard try Self.account(db, named: name) != nil else { return nil }
            if disabled {
                try db.execute(sql: "UPDATE dashboard_accounts SET disabled_at = COALESCE(disabled_at, ?) WHERE name = ?", arguments: [at, name])
                try db.execute(sql: "DELETE FROM dashboard_sessions WHERE account = ?", arguments: [name])
            } else {
                try db.execute(sql: "UPDATE dashboard_accounts SET disabled_at = NULL WHERE name = ?", arguments: [name])
            }
            return try Self.account(db, named: name)
        }
    }

    public func setDashboardPassword(named name: String, passwordHash: String, at: String) async throws -> DashboardAccount? {
        try await pool.write { db in
            guard try Self.account(db, named: name) != nil else { return nil }
            try db.execute(
                sql: "UPDATE dashboard_accounts SET password_hash = ?, password_changed_at = ? WHERE name = ?",
                arguments: [passwordHash, at, name])
            try db.execute(sql: "DELETE FROM dashboard_sessions WHERE account = ?", arguments: [name])
            return try Self.account(db, named: name)
        }
    }

    public func createDashboardSession(_ session: DashboardSessionRecord, nowMillis: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM dashboard_sessions WHERE expires_at <= ?", arguments: [nowMillis])
            try db.execute(
                sql: "INSERT INTO dashboard_sessions (id_hash, account, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [session.idHash, session.account, session.createdAtMillis, session.expiresAtMillis]
            )
        }
    }

    public func dashboardSession(idHash: String, nowMillis: Int64) async throws -> DashboardAccount? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.accountColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                    FROM dashboard_sessions s JOIN dashboard_accounts a ON a.name = s.account
                    WHERE s.id_hash = ? AND s.expires_at > ? AND a.disabled_at IS NULL
                    """,
                arguments: [idHash, nowMillis]
            ).flatMap(Self.account)
        }
    }

    public func deleteDashboardSession(idHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM dashboard_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }
}
