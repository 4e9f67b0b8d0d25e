import Crypto
public import DoorstepCore
public import Foundation
import GRDB
import Synchronization

/// The field client: a visitor's (or an office's) local copy of its district, written offline and
/// synced with the server when a network appears.
///
/// Every write is validated by DoorstepCore's rules, then commits with its outbox entry in one
/// SQLite transaction (`synchronous=FULL`): once a call returns, the work survives a crash or
/// a flat battery.
public final class FieldClient: Sendable {
    let pool: DatabasePool
    let checkpointer: Checkpointer
    let syncGate = SyncGate()
    /// When the folder of files was last swept of strays (at most once an hour).
    let lastStraySweep = Mutex<Date?>(nil)
    public let configuration: ClientConfiguration

    /// Opens (or creates) the local database.
    public init(configuration: ClientConfiguration) throws {
        self.configuration = configuration
        let path = configuration.databasePath
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        for file in [path, path + "-wal", path + "-shm"] where !FileManager.default.fileExists(atPath: file) {
            // Created owner-only before SQLite opens them: the file holds IDs, incomes and the device's keys.
            _ = FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        var database = Configuration()
        database.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")  // see Checkpointer
            // Once checkpointed, the WAL is cut back to this size when it restarts (else its file,
            // which Checkpointer watches, would stay at its largest).
            try db.execute(sql: "PRAGMA journal_size_limit = \(Checkpointer.threshold / 4)")
        }
        database.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: database)
        // GRDB sets `synchronous = NORMAL` on the writer when it turns WAL on, after prepareDatabase:
        // FULL again, or a commit would not be on disk when the call returns.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        checkpointer = Checkpointer(path: path)
        try ClientSchema.migrator.migrate(pool)
    }

    // MARK: Enrollment

    /// Enrolls this device with a one-time code from the office: makes its signing key, registers
    /// it, and keeps the token, the server's address and its bundle key.
    @discardableResult
    public func enroll(server: URL, code: String, deviceName: String) async throws -> Enrollment {
        try checkTransport(server)
        if try await enrollment != nil {
            throw DoorstepError(.invalidOperation, "this database is already enrolled; use a new database for another enrollment")
        }
        let key = Curve25519.Signing.PrivateKey()
        let api = ServerAPI(
            transport: configuration.transport(server), token: nil, retry: configuration.retry, compression: configuration.compresses(with: server))
        let body = try WireCoding.encode(
            EnrollRequest(code: code, deviceName: deviceName, publicSigningKey: key.publicKey.rawRepresentation.base64EncodedString()))
        let answer = try await api.call("POST", "/v1/enroll", body: body, as: EnrollResponse.self)
        let signingKey = key.rawRepresentation.base64EncodedString()
        try await pool.write { db in
            try LocalStore.set(db, .device, answer.device.rawValue)
            try LocalStore.set(db, .token, answer.token)
            try LocalStore.set(db, .server, server.absoluteString)
            try LocalStore.set(db, .role, answer.role.rawValue)
            try LocalStore.set(db, .district, answer.district)
            try LocalStore.set(db, .deviceName, deviceName)
            try LocalStore.set(db, .serverPublicKey, answer.serverPublicKey)
            try LocalStore.set(db, .serverKeyID, answer.serverKeyID)
            try LocalStore.set(db, .signingKey, signingKey)
            try LocalStore.set(db, .hlc, answer.serverClock.description)
            try LocalStore.set(db, .nextSeq, "1")
            try LocalStore.set(db, .cursor, "")
            // A new server: what it reads is asked again at the first sync.
            try LocalStore.set(db, .serverRevision, nil)
        }
        return Enrollment(device: answer.device, server: server, role: answer.role, district: answer.district, deviceName: deviceName)
    }

    /// The enrollment, or `nil` before `enroll`.
    public var enrollment: Enrollment? {
        get async throws {
            try await pool.read { db in try Self.enrollment(db) }
        }
    }

    static func enrollment(_ db: Database) throws -> Enrollment? {
        enrollment(try LocalStore.settings(db))
    }

    static func enrollment(_ settings: [SettingKey: String]) -> Enrollment? {
        guard let device = settings[.device].flatMap({ try? DeviceID($0) }),
            let server = settings[.server].flatMap(URL.init(string:)),
            let role = settings[.role].flatMap(Role.init(rawValue:))
        else { return nil }
        return Enrollment(
            device: device, server: server, role: role, district: settings[.district], deviceName: settings[.deviceName] ?? "",
            revokedAt: settings[.revokedAt], revokedBundle: settings[.revokedBundle])
    }

    func checkTransport(_ server: URL) throws {
        try configuration.checkTransport(server)
    }

    // MARK: Reading

    /// The households in scope matching a query, by head's name.
    public func households(matching query: HouseholdQuery = HouseholdQuery()) async throws -> [HouseholdSummary] {
        try await pool.read { db in try Self.summaries(db, query) }
    }

    static func summaries(_ db: Database, _ query: HouseholdQuery) throws -> [HouseholdSummary] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let text = query.text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let pattern = "%" + text.replacingOccurrences(of: "%", with: "").uppercased() + "%"
            conditions.append("(head_name LIKE ? OR national_id LIKE ? OR address LIKE ?)")
            arguments += [pattern, pattern, pattern]
        }
        if let status = query.status { conditions.append("status = ?"); arguments.append(status.rawValue) }
        if let district = query.district { conditions.append("district = ?"); arguments.append(district) }
        if let nationalID = query.nationalID { conditions.append("national_id = ?"); arguments.append(nationalID) }
        if let id = query.id { conditions.append("id = ?"); arguments.append(id.description) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT id, head_name, national_id, address, district, status, conflicts, local_changes FROM households \(filter) ORDER BY head_name, id LIMIT ?",
            arguments: StatementArguments(arguments + [max(1, min(query.limit, 100_000))])
        )
        return rows.compactMap { row in
            guard let id = try? EntityID(row["id"] as String) else { return nil }
            let nationalID = (row["national_id"] as String?) ?? ""
            return HouseholdSummary(
                id: id, headName: row["head_name"] ?? "", nationalIdMasked: (try? NationalID(nationalID).masked) ?? "",
                address: row["address"] ?? "", district: row["district"] ?? "",
                status: (row["status"] as String?).flatMap(HouseholdStatus.init(rawValue:)),
                conflicts: row["conflicts"], hasLocalChanges: (row["local_changes"] as Int) > 0
            )
        }
    }

    /// The entries (members, items, visits) on this device whose id starts with `prefix` (at least
    /// four characters), each with its household: how a person names an entry by the characters lists show.
    public func entries(withIDPrefix prefix: String) async throws -> [(household: EntityID, entry: EntityID)] {
        let typed = prefix.trimmingCharacters(in: .whitespaces).lowercased()
        guard typed.count >= 4, typed.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return [] }
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT owner, id FROM household_entities WHERE id >= ? AND id < ? ORDER BY id LIMIT 100",
                arguments: [typed, typed + "\u{FFFF}"]
            )
            .compactMap { row in
                guard let household = try? EntityID(row["owner"] as String), let entry = try? EntityID(row["id"] as String) else { return nil }
                return (household, entry)
            }
        }
    }

    /// The list entry of one household (by any of its ids), or `nil` when this device holds none.
    public func summary(of id: EntityID) async throws -> HouseholdSummary? {
        try await pool.read { db in
            try Self.summaries(db, HouseholdQuery(id: try LocalStore.survivor(db, of: id), limit: 1)).first
        }
    }

    /// One household (by any of its ids) with its members, lists and visits, as this device shows it.
    public func household(_ id: EntityID) async throws -> HouseholdAggregate? {
        try await pool.read { db in try LocalStore.view(db, id) }
    }

    /// Watches a query: yields the matching households now and after every change (a write, a sync).
    public func observeHouseholds(_ query: HouseholdQuery = HouseholdQuery()) -> LocalObservation<[HouseholdSummary]> {
        LocalObservation(base: ValueObservation.tracking { db in try Self.summaries(db, query) }.values(in: pool))
    }

    /// Watches one household (`nil` while this device holds none with that id).
    public func observeHousehold(_ id: EntityID) -> LocalObservation<HouseholdAggregate?> {
        LocalObservation(base: ValueObservation.tracking { db in try LocalStore.view(db, id) }.values(in: pool))
    }

    /// Pending work, quarantine, enrollment and last sync.
    public func status() async throws -> ClientStatus {
        try await pool.read { db in
            ClientStatus(
                enrollment: try Self.enrollment(db),
                pending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE acked IN (0, 2, 3)") ?? 0,
                awaitingConfirmation: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE acked = 1") ?? 0,
                quarantined: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") ?? 0,
                households: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM households") ?? 0,
                needingAttention: try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM (
                            SELECT id FROM households WHERE conflicts > 0
                            UNION SELECT COALESCE((SELECT survivor FROM aliases WHERE alias = q.household), q.household) FROM quarantine q
                        )
                        """) ?? 0,
                lastSyncAt: try LocalStore.setting(db, .lastSyncAt),
                lastSyncError: try LocalStore.setting(db, .lastSyncError),
                kept: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM kept") ?? 0,
                lost: try LocalStore.declaredLost(db)
            )
        }
    }
}
