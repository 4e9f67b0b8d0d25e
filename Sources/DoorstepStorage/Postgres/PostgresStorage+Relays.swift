public import DoorstepCore
import Logging
import PostgresNIO

extension PostgresStorage {
    static let relayColumns = "id, name, district, created_at, created_by, revoked_at, last_contact_at"

    static func relays(_ connection: PostgresConnection, _ filter: String, _ arguments: [String], _ logger: Logger) async throws -> [RelayRecord] {
        var bindings = PostgresBindings()
        for argument in arguments { bindings.append(argument) }
        let query = PostgresQuery(unsafeSQL: "SELECT \(relayColumns) FROM relays \(filter) ORDER BY created_at, id", binds: bindings)
        var records: [RelayRecord] = []
        for try await row in try await connection.query(query, logger: logger).decode((String, String, String, String, String, String?, String?).self) {
            records.append(
                RelayRecord(id: row.0, name: row.1, district: row.2, createdAt: row.3, createdBy: row.4, revokedAt: row.5, lastContactAt: row.6))
        }
        return records
    }

    public func insertRelay(_ relay: RelayRecord, tokenHash: String) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO relays (id, name, district, token_hash, created_at, created_by)
                VALUES (\(relay.id), \(relay.name), \(relay.district), \(tokenHash), \(relay.createdAt), \(relay.createdBy))
                """, logger: logger)
        }
    }

    public func relay(tokenHash: String) async throws -> RelayRecord? {
        try await read { connection in try await Self.relays(connection, "WHERE token_hash = $1", [tokenHash], logger).first }
    }

    public func relays(district: String?) async throws -> [RelayRecord] {
        try await read { connection in
            if let district {
                try await Self.relays(connection, "WHERE district = $1", [district], logger)
            } else {
                try await Self.relays(connection, "", [], logger)
            }
        }
    }

    public func revokeRelay(_ id: String, at: String, scope: Principal) async throws -> RelayRecord? {
        try await transaction { connection in
            guard let record = try await Self.relays(connection, "WHERE id = $1", [id], logger).first, scope.covers(district: record.district) else {
                return nil
            }
            try await connection.query("UPDATE relays SET revoked_at = COALESCE(revoked_at, \(at)) WHERE id = \(id)", logger: logger)
            return try await Self.relays(connection, "WHERE id = $1", [id], logger).first
        }
    }

    public func noteRelayContact(_ id: String, at: String) async throws {
        try await transaction { connection in
            try await connection.query("UPDATE relays SET last_contact_at = \(at) WHERE id = \(id)", logger: logger)
        }
    }

    public func relayCodes(relay: String, now: String) async throws -> [RelayCode] {
        try await read { connection in
            var codes: [RelayCode] = []
            for try await (hash, role, expires) in try await connection.query(
                "SELECT code_hash, role, expires_at FROM enrollment_codes WHERE relay = \(relay) AND used_at IS NULL AND expires_at > \(now) ORDER BY code_hash",
                logger: logger
            ).decode((String, String, String).self) {
                if let role = Role(rawValue: role) { codes.append(RelayCode(codeHash: hash, role: role, expiresAt: expires)) }
            }
            return codes
        }
    }

    public func deviceCredentials(district: String) async throws -> [RelayDevice] {
        try await read { connection in
            let records = try await Self.devices(connection, "WHERE district = $1 AND token_hash NOT LIKE 'server:%'", [district], logger)
            var hashes: [String: String] = [:]
            for try await (id, hash) in try await connection.query(
                "SELECT id, token_hash FROM devices WHERE district = \(district)", logger: logger
            ).decode((String, String).self) {
                hashes[id] = hash
            }
            return records.compactMap { record in hashes[record.id.rawValue].map { RelayDevice(device: record, tokenHash: $0) } }
        }
    }
}
