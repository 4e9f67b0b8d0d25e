public import DoorstepCore
import GRDB

extension SQLiteStorage {
    static let relayColumns = "id, name, district, created_at, created_by, revoked_at, last_contact_at"

    static func relayRecord(_ row: Row) -> RelayRecord {
        RelayRecord(
            id: row["id"], name: row["name"], district: row["district"], createdAt: row["created_at"], createdBy: row["created_by"],
            revokedAt: row["revoked_at"], lastContactAt: row["last_contact_at"])
    }

    public func insertRelay(_ relay: RelayRecord, tokenHash: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO relays (id, name, district, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [relay.id, relay.name, relay.district, tokenHash, relay.createdAt, relay.createdBy])
        }
    }

    public func relay(tokenHash: String) async throws -> RelayRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.relayColumns) FROM relays WHERE token_hash = ?", arguments: [tokenHash]).map(Self.relayRecord)
        }
    }

    public func relays(district: String?) async throws -> [RelayRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.relayColumns) FROM relays WHERE ? IS NULL OR district = ? ORDER BY created_at, id", arguments: [district, district]
            ).map(Self.relayRecord)
        }
    }

    public func revokeRelay(_ id: String, at: String, scope: Principal) async throws -> RelayRecord? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.relayColumns) FROM relays WHERE id = ?", arguments: [id]),
                scope.covers(district: Self.relayRecord(row).district)
            else { return nil }
            try db.execute(sql: "UPDATE relays SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [at, id])
            return try Row.fetchOne(db, sql: "SELECT \(Self.relayColumns) FROM relays WHERE id = ?", arguments: [id]).map(Self.relayRecord)
        }
    }

    public func noteRelayContact(_ id: String, at: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE relays SET last_contact_at = ? WHERE id = ?", arguments: [at, id])
        }
    }

    public func relayCodes(relay: String, now: String) async throws -> [RelayCode] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT code_hash, role, expires_at FROM enrollment_codes WHERE relay = ? AND used_at IS NULL AND expires_at > ? ORDER BY code_hash",
                arguments: [relay, now]
            ).compactMap { row in Role(rawValue: row["role"]).map { RelayCode(codeHash: row["code_hash"], role: $0, expiresAt: row["expires_at"]) } }
        }
    }

    public func deviceCredentials(district: String) async throws -> [RelayDevice] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Self.deviceColumns), token_hash FROM devices WHERE district = ? AND token_hash NOT LIKE 'server:%' ORDER BY enrolled_at, id",
                arguments: [district]
            ).compactMap { row in Self.deviceRecord(row).map { RelayDevice(device: $0, tokenHash: row["token_hash"]) } }
        }
    }
}
