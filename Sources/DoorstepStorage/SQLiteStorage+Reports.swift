public import DoorstepCore
import Foundation
import GRDB

extension SQLiteStorage {
    /// Reads the report's inputs in one read transaction (see ``ReportStorage/reportInputs(district:engine:)``):
    /// status changes as ``ReportRows/statusChange(household:old:new:write:recordedAt:in:)`` reads them,
    /// those written to an alias reported under its survivor.
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

            let historyRows = try Row.fetchAll(
                db,
                sql: """
                    SELECT h.canonical AS household, a.old AS old, a.new AS new, a.write_id AS write_id, a.at AS at
                    FROM audit a JOIN households h ON h.id = a.entity
                    WHERE a.kind = 'household' AND a.field = 'status' ORDER BY a.id
                    """)
            let history = historyRows.compactMap { row in
                ReportRows.statusChange(
                    household: row["household"], old: row["old"], new: row["new"], write: row["write_id"], recordedAt: row["at"], in: inScope)
            }

            let devices = try Row.fetchAll(
                db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE token_hash NOT LIKE 'server:%'\(filter) ORDER BY id", arguments: arguments
            ).compactMap(Self.deviceRecord).map(ReportRows.device)

            var review: [String: ReviewCounts] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT district, COUNT(*) AS n FROM conflicts WHERE district IS NOT NULL\(filter) GROUP BY district", arguments: arguments)
            {
                review[row["district"], default: ReviewCounts()].conflicts = row["n"]
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT s.district AS district, COUNT(*) AS n FROM households a JOIN households s ON s.id = a.canonical
                    WHERE a.id <> a.canonical AND s.district IS NOT NULL\(district == nil ? "" : " AND s.district = ?") GROUP BY s.district
                    """, arguments: arguments)
            {
                review[row["district"], default: ReviewCounts()].duplicates = row["n"]
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT district, COUNT(*) AS n FROM rejections WHERE district IS NOT NULL AND closed_at IS NULL\(filter) GROUP BY district",
                arguments: arguments)
            {
                review[row["district"], default: ReviewCounts()].rejections = row["n"]
            }
            return ReportInputs(households: households, statusHistory: history, devices: devices, pendingReview: review)
        }
    }
}
