public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    /// Reads the report's inputs in one read transaction (see ``ReportStorage/reportInputs(district:engine:)``).
    ///
    /// A status change's instant is its write's clock stamp, but never later than when the server
    /// recorded it: a household identified offline before the campaign began existed at its start,
    /// even if it synced later. Changes written to an alias are reported under its survivor.
    public func reportInputs(district: String?, engine: MergeEngine) async throws -> ReportInputs {
        try await pool.read { db in
            let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: "")
            let filter = district == nil ? "" : " AND district = ?"
            let arguments: StatementArguments = district.map { [$0] } ?? []

            let survivorIDs = try String.fetchAll(db, sql: "SELECT id FROM households WHERE id = canonical\(filter) ORDER BY id", arguments: arguments)
                .compactMap { try? EntityID($0) }
            var households: [HouseholdAggregate] = []
            for id in survivorIDs {
                if let aggregate = try store.aggregate(id) { households.append(aggregate) }
            }
            let inScope = Set(households.map(\.household.id))

            let historyRows = try Row.fetchAll(db, sql: """
                SELECT h.canonical AS household, a.old AS old, a.new AS new, a.write_id AS write_id, a.at AS at
                FROM audit a JOIN households h ON h.id = a.entity
                WHERE a.kind = 'household' AND a.field = 'status' ORDER BY a.id
                """)
            let history = historyRows.compactMap { row -> StatusChange? in
                guard let household = try? EntityID(row["household"] as String), inScope.contains(household),
                    let to = Self.status(row["new"]), let at = Self.changeInstant(write: row["write_id"], recorded: row["at"])
                else { return nil }
                return StatusChange(household: household, at: at, from: Self.status(row["old"]), to: to)
            }

            let devices = try Row.fetchAll(
                db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE token_hash NOT LIKE 'server:%'\(filter) ORDER BY id", arguments: arguments
            ).compactMap(Self.deviceRecord).map { record in
                ReportDevice(id: record.id, name: record.name, district: record.district,
                             lastSyncAt: Self.latest(record.lastPushAt, record.lastPullAt), clockFlagged: record.clockSkew,
                             revokedAt: record.revokedAt)
            }

            var review: [String: ReviewCounts] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT district, COUNT(*) AS n FROM conflicts WHERE district IS NOT NULL\(filter) GROUP BY district", arguments: arguments) {
                review[row["district"], default: ReviewCounts()].conflicts = row["n"]
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT s.district AS district, COUNT(*) AS n FROM households a JOIN households s ON s.id = a.canonical
                WHERE a.id <> a.canonical AND s.district IS NOT NULL\(district == nil ? "" : " AND s.district = ?") GROUP BY s.district
                """, arguments: arguments) {
                review[row["district"], default: ReviewCounts()].duplicates = row["n"]
            }
            for row in try Row.fetchAll(db, sql: "SELECT district, COUNT(*) AS n FROM rejections WHERE district IS NOT NULL AND closed_at IS NULL\(filter) GROUP BY district", arguments: arguments) {
                review[row["district"], default: ReviewCounts()].rejections = row["n"]
            }
            return ReportInputs(households: households, statusHistory: history, devices: devices, pendingReview: review)
        }
    }

    /// A status from an audit column (JSON text).
    static func status(_ text: String?) -> HouseholdStatus? {
        guard let text, let value = try? StoredJSON.decode(JSONValue.self, text) else { return nil }
        return value.stringValue.flatMap(HouseholdStatus.init(rawValue:))
    }

    /// The earlier of a write's clock stamp and the time the server recorded it, RFC 3339 in UTC.
    static func changeInstant(write: String, recorded: String) -> String? {
        let recordedAt = Instant.parse(recorded)
        let stampedAt = (try? WriteID(write)).map { Date(timeIntervalSince1970: Double($0.hlc.wallMillis) / 1000) }
        guard let instant = [recordedAt, stampedAt].compactMap({ $0 }).min() else { return nil }
        return Instant.format(instant, in: .gmt)
    }

    /// The later of two RFC 3339 instants, either of which may be missing.
    static func latest(_ first: String?, _ second: String?) -> String? {
        guard let first else { return second }
        guard let second else { return first }
        guard let a = Instant.parse(first), let b = Instant.parse(second) else { return max(first, second) }
        return a >= b ? first : second
    }
}
