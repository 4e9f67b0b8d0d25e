public import DoorstepCore
import Foundation
import Logging
import PostgresNIO

/// Dashboard accounts and sessions on PostgreSQL (shared by every server process).
extension PostgresStorage {
    typealias AccountRow = (String, String, String, String?, String, String, String, String?)
    static let accountColumns = "name, password_hash, role, district, created_by, created_at, password_changed_at, disabled_at"

    static func accounts(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws -> [(DashboardAccount, String)] {
        var result: [(DashboardAccount, String)] = []
        for try await row in try await connection.query(query, logger: logger).decode(AccountRow.self) {
            guard let role = Role(rawValue: row.2) else { continue }
            result.append(
                (
                    DashboardAccount(
                        name: row.0, role: role, district: row.3, createdBy: row.4, createdAt: row.5,
                        passwordChangedAt: row.6, disabledAt: row.7), row.1
                ))
        }
        return result
    }

    static func account(_ connection: PostgresConnection, named name: String, _ logger: Logger) async throws -> (DashboardAccount, String)? {
        try await accounts(
            connection,
            "SELECT name, password_hash, role, district, created_by, created_at, password_changed_at, disabled_at FROM dashboard_accounts WHERE name = \(name)",
            logger
        ).first
    }

    public func createDashboardAccount(_ account: DashboardAccount, passwordHash: String) async throws {
        try await lightWrite { connection in
            if try await Self.account(connection, named: account.name, logger) != nil {
                throw DoorstepError(.invalidValue, "an account named \(account.name) exists already (disabled accounts keep their names)")
            }
            try await connection.query(
                """
                INSERT INTO dashboard_accounts (name, password_hash, role, district, created_by, created_at, password_changed_at, disabled_at)
                VALUES (\(account.name), \(passwordHash), \(account.role.rawValue), \(account.district), \(account.createdBy),
                        \(account.createdAt), \(account.passwordChangedAt), \(account.disabledAt))
                """, logger: logger)
        }
    }

    public func dashboardAccount(named name: String) async throws -> (account: DashboardAccount, passwordHash: String)? {
        try await read { connection in
            guard let (account, hash) = try await Self.account(connection, named: name, logger) else { return nil }
            return (account, hash)
        }
    }

    public func dashboardAccounts(district: String?) async throws -> [DashboardAccount] {
        try await read { connection in
            try await Self.accounts(
                connection,
                """
                SELECT name, password_hash, role, district, created_by, created_at, password_changed_at, disabled_at FROM dashboard_accounts
                WHERE \(district == nil) OR district = \(district ?? "") ORDER BY name
                """, logger
            ).map(\.0)
        }
    }

    public func setDashboardAccountDisabled(named name: String, disabled: Bool, at: String) async throws -> DashboardAccount? {
        try await lightWrite { connection in
            guard try await Self.account(connection, named: name, logger) != nil else { return nil }
            if disabled {
                try await connection.query("UPDATE dashboard_accounts SET disabled_at = COALESCE(disabled_at, \(at)) WHERE name = \(name)", logger: logger)
                try await connection.query("DELETE FROM dashboard_sessions WHERE account = \(name)", logger: logger)
            } else {
                try await connection.query("UPDATE dashboard_accounts SET disabled_at = NULL WHERE name = \(name)", logger: logger)
            }
            return try await Self.account(connection, named: name, logger)?.0
        }
    }

    public func setDashboardPassword(named name: String, passwordHash: String, at: String) async throws -> DashboardAccount? {
        try await lightWrite { connection in
            guard try await Self.account(connection, named: name, logger) != nil else { return nil }
            try await connection.query(
                "UPDATE dashboard_accounts SET password_hash = \(passwordHash), password_changed_at = \(at) WHERE name = \(name)", logger: logger)
            try await connection.query("DELETE FROM dashboard_sessions WHERE account = \(name)", logger: logger)
            return try await Self.account(connection, named: name, logger)?.0
        }
    }

    public func createDashboardSession(_ session: DashboardSessionRecord, nowMillis: Int64) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM dashboard_sessions WHERE expires_at <= \(nowMillis)", logger: logger)
            try await connection.query(
                """
                INSERT INTO dashboard_sessions (id_hash, account, created_at, expires_at)
                VALUES (\(session.idHash), \(session.account), \(session.createdAtMillis), \(session.expiresAtMillis))
                """, logger: logger)
        }
    }

    public func dashboardSession(idHash: String, nowMillis: Int64) async throws -> DashboardAccount? {
        try await read { connection in
            try await Self.accounts(
                connection,
                """
                SELECT a.name, a.password_hash, a.role, a.district, a.created_by, a.created_at, a.password_changed_at, a.disabled_at
                FROM dashboard_sessions s JOIN dashboard_accounts a ON a.name = s.account
                WHERE s.id_hash = \(idHash) AND s.expires_at > \(nowMillis) AND a.disabled_at IS NULL
                """, logger
            ).first?.0
        }
    }

    public func deleteDashboardSession(idHash: String) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM dashboard_sessions WHERE id_hash = \(idHash)", logger: logger)
        }
    }
}
