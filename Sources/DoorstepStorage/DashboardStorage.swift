public import DoorstepCore

/// A dashboard session as stored: the SHA-256 of its random id, never the id itself.
public struct DashboardSessionRecord: Hashable, Sendable {
    /// The SHA-256 of the session id (lower-case hex).
    public var idHash: String
    /// The account's name.
    public var account: String
    /// When the session began, in milliseconds since the epoch.
    public var createdAtMillis: Int64
    /// When the session ends, in milliseconds since the epoch.
    public var expiresAtMillis: Int64

    /// A session of `account` from `createdAtMillis` to `expiresAtMillis`, stored by the hash of its id.
    public init(idHash: String, account: String, createdAtMillis: Int64, expiresAtMillis: Int64) {
        self.idHash = idHash
        self.account = account
        self.createdAtMillis = createdAtMillis
        self.expiresAtMillis = expiresAtMillis
    }
}

/// What the office dashboard needs from storage: accounts (with bcrypt password hashes) and
/// sessions. Sessions live in the database, so several server processes share them.
public protocol DashboardStorage: Sendable {
    /// Creates an account; throws `invalidValue` when the name is taken (disabled accounts keep their names).
    func createDashboardAccount(_ account: DashboardAccount, passwordHash: String) async throws
    /// An account and its password hash; `nil` when no account has this name.
    func dashboardAccount(named name: String) async throws -> (account: DashboardAccount, passwordHash: String)?
    /// The accounts of a district (every account for `nil`), by name.
    func dashboardAccounts(district: String?) async throws -> [DashboardAccount]
    /// Disables (`disabled: true`, ending every session of the account at once) or enables an account.
    /// Returns the account, or `nil` when there is none with this name.
    func setDashboardAccountDisabled(named name: String, disabled: Bool, at: String) async throws -> DashboardAccount?
    /// Replaces an account's password hash and ends every session of the account.
    /// Returns the account, or `nil` when there is none with this name.
    func setDashboardPassword(named name: String, passwordHash: String, at: String) async throws -> DashboardAccount?
    /// Stores a new session, and drops sessions that expired before `nowMillis`.
    func createDashboardSession(_ session: DashboardSessionRecord, nowMillis: Int64) async throws
    /// The account of a live session: `nil` when the session is unknown, expired or its account disabled.
    func dashboardSession(idHash: String, nowMillis: Int64) async throws -> DashboardAccount?
    /// Ends a session (signing out). Ending an unknown session does nothing.
    func deleteDashboardSession(idHash: String) async throws
}
