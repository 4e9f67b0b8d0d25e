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
                    WHERE a.kind = 'household' AND a.field = 'status' ORDER BY a.id, a.n
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

// MARK: The office tally

extension SQLiteStorage {
    public func refreshTally(city: CityData, engine: MergeEngine, limit: Int) async throws -> (counted: Int, current: Bool) {
        let fingerprint = OfficeTally.fingerprint(city)
        let behind = try await pool.read { db in try Self.tallyBehind(db, fingerprint: fingerprint) }
        guard behind else { return (0, true) }
        var counted = 0
        while counted < limit {
            let size = min(OfficeTally.chunk, limit - counted)
            let (households, current) = try await pool.write { db in
                try Self.countChunk(db, city: city, engine: engine, fingerprint: fingerprint, limit: size)
            }
            counted += households
            if current { return (counted, true) }
        }
        return (counted, false)
    }

    /// Whether the tally was counted under other rules or lags the change feed.
    static func tallyBehind(_ db: Database, fingerprint: String) throws -> Bool {
        guard try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [OfficeTally.fingerprintKey]) == fingerprint else {
            return true
        }
        let cursor = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [OfficeTally.cursorKey]).flatMap { Int64($0) } ?? 0
        let latest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM changes") ?? 0
        if latest > cursor { return true }
        return try !tallyComplete(db)
    }

    /// Counts the households of the feed's next rows after the tally's cursor; whether it reached the feed's end.
    static func countChunk(_ db: Database, city: CityData, engine: MergeEngine, fingerprint: String, limit: Int) throws -> (Int, Bool) {
        var cursor = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [OfficeTally.cursorKey]).flatMap { Int64($0) } ?? 0
        if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [OfficeTally.fingerprintKey]) != fingerprint {
            // Other rules or other city data: count every household again from the feed's start.
            try db.execute(sql: "DELETE FROM office_counts; DELETE FROM office_lists; DELETE FROM office_tallies; DELETE FROM office_households")
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [OfficeTally.fingerprintKey, fingerprint])
            cursor = 0
        }
        let rows = try Row.fetchAll(db, sql: "SELECT seq, household FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit])
        guard let last = rows.last?["seq"] as Int64? else {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [OfficeTally.completeKey, fingerprint])
            return (0, true)
        }
        var changed: [EntityID] = []
        for row in rows { if let id = try? EntityID(row["household"] as String) { changed.append(id) } }
        var canonical: [EntityID: EntityID] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT id, canonical FROM households WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [try StoredJSON.encode(Array(Set(changed.map(\.description))))])
        {
            if let id = try? EntityID(row["id"] as String), let survivor = try? EntityID(row["canonical"] as String) { canonical[id] = survivor }
        }
        let chunk = OfficeTally.Chunk(changed: changed, canonical: canonical)
        let store = SQLiteMergeStore(db: db, engine: engine, actor: nil, now: "")
        var new: [(EntityID, HouseholdTally?)] = chunk.dropped.map { ($0, nil) }
        for id in chunk.survivors {
            let tally = try store.aggregate(id).map { aggregate in
                CampaignReport.tally(aggregate, history: try statusHistory(db, survivor: id), city: city)
            }
            new.append((id, tally))
        }
        var old: [EntityID: HouseholdTally] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT household, tally FROM office_tallies WHERE household IN (SELECT value FROM json_each(?))",
            arguments: [try StoredJSON.encode(new.map(\.0.description))])
        {
            if let id = try? EntityID(row["household"] as String) { old[id] = try StoredJSON.decode(HouseholdTally.self, row["tally"]) }
        }
        try write(OfficeTally.Plan(old: old, new: new), db)
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [OfficeTally.cursorKey, String(last)])
        if rows.count < limit {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [OfficeTally.completeKey, fingerprint])
        }
        return (new.count, rows.count < limit)
    }

    /// Whether the kept rows are a whole count (no count of every household under way).
    static func tallyComplete(_ db: Database) throws -> Bool {
        guard let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [OfficeTally.fingerprintKey]) else {
            return false
        }
        return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [OfficeTally.completeKey]) == stored
    }

    /// A survivor's status changes, its aliases' included, in the order they were recorded.
    static func statusHistory(_ db: Database, survivor: EntityID) throws -> [StatusChange] {
        let scope: Set<EntityID> = [survivor]
        return try Row.fetchAll(
            db,
            sql: """
                SELECT a.old AS old, a.new AS new, a.write_id AS write_id, a.at AS at
                FROM households h JOIN audit a ON a.entity = h.id AND a.field = 'status'
                WHERE h.canonical = ? AND a.kind = 'household' ORDER BY a.id, a.n
                """, arguments: [survivor.description]
        ).compactMap { row in
            ReportRows.statusChange(
                household: survivor.description, old: row["old"], new: row["new"], write: row["write_id"], recordedAt: row["at"], in: scope)
        }
    }

    /// Writes a tally plan.
    private static func write(_ plan: OfficeTally.Plan, _ db: Database) throws {
        for (counter, change) in plan.orderedCounters {
            try db.execute(
                sql: """
                    INSERT INTO office_counts (scope, district, key, value) VALUES (?, ?, ?, ?)
                    ON CONFLICT (scope, district, key) DO UPDATE SET value = value + excluded.value
                    """, arguments: [counter.scope, counter.district, counter.key, change])
        }
        try db.execute(sql: "DELETE FROM office_counts WHERE value = 0")
        for (listing, household) in plan.unlisted {
            try db.execute(
                sql: "DELETE FROM office_lists WHERE scope = ? AND list = ? AND district = ? AND household = ?",
                arguments: [listing.scope, listing.list.rawValue, listing.district, household.description])
        }
        for row in plan.listed {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO office_lists (scope, list, district, household, national_id, status, head_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    row.listing.scope, row.listing.list.rawValue, row.listing.district, row.household.description, row.reference.nationalId,
                    row.reference.status?.rawValue, row.reference.headName,
                ])
        }
        for (household, tally) in plan.tallies {
            guard let tally else {
                try db.execute(sql: "DELETE FROM office_tallies WHERE household = ?", arguments: [household.description])
                try db.execute(sql: "DELETE FROM office_households WHERE household = ?", arguments: [household.description])
                continue
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO office_tallies (household, tally) VALUES (?, ?)", arguments: [household.description, try StoredJSON.encode(tally)])
            try db.execute(
                sql: "INSERT OR REPLACE INTO office_households (household, district, head_name, national_id, status) VALUES (?, ?, ?, ?, ?)",
                arguments: [household.description, tally.district, tally.headName ?? "", tally.nationalId, tally.status?.rawValue])
        }
    }

    public func reportTallies(district: String?, campaign: String, listLimit: Int?) async throws -> ReportTallies {
        try await pool.read { db in
            let filter = district == nil ? "" : " AND district = ?"
            let only: [(any DatabaseValueConvertible)?] = district.map { [$0] } ?? []
            var tallies = ReportTallies()
            tallies.complete = try Self.tallyComplete(db)
            for row in try Row.fetchAll(
                db, sql: "SELECT district, key, value FROM office_counts WHERE scope IN ('', ?)\(filter)",
                arguments: StatementArguments([campaign] + only))
            {
                tallies.counts[row["district"], default: [:]][row["key"]] = row["value"]
            }
            let districts = district.map { [$0] } ?? Array(tallies.counts.keys)
            for code in districts {
                for list in CampaignReport.TallyList.allCases {
                    let refs = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT household, national_id, status, head_name FROM office_lists
                            WHERE scope = ? AND list = ? AND district = ? ORDER BY household LIMIT ?
                            """, arguments: [list == .missed ? campaign : "", list.rawValue, code, listLimit ?? -1]
                    ).compactMap(Self.reference)
                    if !refs.isEmpty { tallies.lists[code, default: [:]][list] = refs }
                }
            }
            tallies.devices = try Row.fetchAll(
                db, sql: "SELECT \(Self.deviceColumns) FROM devices WHERE token_hash NOT LIKE 'server:%'\(filter) ORDER BY id",
                arguments: StatementArguments(only)
            ).compactMap(Self.deviceRecord).map(ReportRows.device)
            for row in try Row.fetchAll(
                db, sql: "SELECT district, COUNT(*) AS n FROM conflicts WHERE district IS NOT NULL\(filter) GROUP BY district",
                arguments: StatementArguments(only))
            {
                tallies.pendingReview[row["district"], default: ReviewCounts()].conflicts = row["n"]
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT district, COUNT(*) AS n FROM rejections WHERE district IS NOT NULL AND closed_at IS NULL\(filter) GROUP BY district",
                arguments: StatementArguments(only))
            {
                tallies.pendingReview[row["district"], default: ReviewCounts()].rejections = row["n"]
            }
            OfficeTally.countDuplicates(&tallies)
            return tallies
        }
    }

    /// A list row as a report names it.
    private static func reference(_ row: Row) -> CampaignReport.HouseholdRef? {
        guard let id = try? EntityID(row["household"] as String) else { return nil }
        return CampaignReport.HouseholdRef(
            household: id, nationalId: row["national_id"], status: (row["status"] as String?).flatMap(HouseholdStatus.init(rawValue:)),
            headName: row["head_name"])
    }

    public func weeklyTallies(district: String?) async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT key, SUM(value) AS n FROM office_counts WHERE scope = '' AND key >= 'week.' AND key < 'week/'\(district == nil ? "" : " AND district = ?") GROUP BY key",
                arguments: StatementArguments(district.map { [$0] } ?? []))
            {
                counts[row["key"]] = row["n"]
            }
            return counts
        }
    }

    public func householdsPage(_ query: HouseholdsQuery) async throws -> HouseholdsPage {
        try await pool.read { db in
            // A household without a district is in no office's list.
            var conditions = ["district <> ''"]
            var arguments: [(any DatabaseValueConvertible)?] = []
            if let district = query.district {
                conditions.append("district = ?")
                arguments.append(district)
            }
            if let status = query.status {
                conditions.append("status = ?")
                arguments.append(status.rawValue)
            }
            if let patterns = OfficeTally.searchPatterns(query.search) {
                // SQLite's LIKE ignores the case of ASCII letters: no upper() per row.
                conditions.append("(head_name LIKE ? ESCAPE '\\' OR national_id LIKE ? ESCAPE '\\')")
                arguments.append(contentsOf: [patterns.name, patterns.nationalId])
            }
            let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            var pageConditions = conditions
            var pageArguments = arguments
            if let after = query.after {
                pageConditions.append("(district, head_name, household) > (?, ?, ?)")
                pageArguments += [after.district, after.headName ?? "", after.id.description]
            }
            let pageFilter = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
            let households = try Row.fetchAll(
                db,
                sql: """
                    SELECT household, district, head_name, national_id, status FROM office_households\(pageFilter)
                    ORDER BY district, head_name, household LIMIT ? OFFSET ?
                    """, arguments: StatementArguments(pageArguments + [query.limit, query.offset])
            ).compactMap { row -> ShownHousehold? in
                guard let id = try? EntityID(row["household"] as String) else { return nil }
                let name: String = row["head_name"]
                return ShownHousehold(
                    id: id, district: row["district"], nationalId: row["national_id"], headName: name.isEmpty ? nil : name,
                    status: (row["status"] as String?).flatMap(HouseholdStatus.init(rawValue:)))
            }
            // A first page that is not full holds every match (a search, mostly): no second scan to count them.
            let complete = try Self.tallyComplete(db)
            guard query.counted else { return HouseholdsPage(households: households, total: 0, complete: complete) }
            let total =
                try OfficeTally.knownTotal(query, page: households.count)
                ?? Int.fetchOne(db, sql: "SELECT COUNT(*) FROM office_households\(filter)", arguments: StatementArguments(arguments)) ?? 0
            return HouseholdsPage(households: households, total: total, complete: complete)
        }
    }
}
