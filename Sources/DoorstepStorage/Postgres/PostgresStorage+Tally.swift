public import DoorstepCore
import Foundation
import Logging
import PostgresNIO

/// The office tally on PostgreSQL (Rules/TallyRules.swift): the same steps as the SQLite
/// storage's, a chunk at a time under the write lock (any server process may count).
extension PostgresStorage {
    public func refreshTally(city: CityData, engine: MergeEngine, limit: Int) async throws -> (counted: Int, current: Bool) {
        let fingerprint = OfficeTally.fingerprint(city)
        let behind = try await read { connection in try await tallyBehind(connection, fingerprint: fingerprint) }
        guard behind else { return (0, true) }
        var counted = 0
        while counted < limit {
            let size = min(OfficeTally.chunk, limit - counted)
            let (households, current) = try await tallyWrite { connection in
                try await countChunk(connection, city: city, engine: engine, fingerprint: fingerprint, limit: size)
            }
            counted += households
            if current { return (counted, true) }
        }
        return (counted, false)
    }

    private func tallyCursor(_ connection: PostgresConnection) async throws -> Int64 {
        try await Self.meta(connection, OfficeTally.cursorKey, logger).flatMap { Int64($0) } ?? 0
    }

    private func tallyBehind(_ connection: PostgresConnection, fingerprint: String) async throws -> Bool {
        guard try await Self.meta(connection, OfficeTally.fingerprintKey, logger) == fingerprint else { return true }
        let cursor = try await tallyCursor(connection)
        var latest: Int64 = 0
        for try await value in try await connection.query("SELECT COALESCE(MAX(seq), 0) FROM changes", logger: logger).decode(Int64.self) {
            latest = value
        }
        if latest > cursor { return true }
        return try await !tallyComplete(connection)
    }

    /// Whether the kept rows are a whole count (no count of every household under way).
    private func tallyComplete(_ connection: PostgresConnection) async throws -> Bool {
        guard let stored = try await Self.meta(connection, OfficeTally.fingerprintKey, logger) else { return false }
        return try await Self.meta(connection, OfficeTally.completeKey, logger) == stored
    }

    private func countChunk(
        _ connection: PostgresConnection, city: CityData, engine: MergeEngine, fingerprint: String, limit: Int
    ) async throws -> (Int, Bool) {
        var cursor = try await tallyCursor(connection)
        if try await Self.meta(connection, OfficeTally.fingerprintKey, logger) != fingerprint {
            // Other rules or other city data: count every household again from the feed's start.
            for table in ["office_counts", "office_lists", "office_tallies", "office_households"] {
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
            }
            try await Self.setMeta(connection, OfficeTally.fingerprintKey, fingerprint, logger)
            cursor = 0
        }
        var rows: [(Int64, String)] = []
        for try await row in try await connection.query(
            "SELECT seq, household FROM changes WHERE seq > \(cursor) ORDER BY seq LIMIT \(Int64(limit))", logger: logger
        ).decode((Int64, String).self) { rows.append(row) }
        guard let last = rows.last?.0 else {
            try await Self.setMeta(connection, OfficeTally.completeKey, fingerprint, logger)
            return (0, true)
        }
        let changed = rows.compactMap { try? EntityID($0.1) }
        var canonical: [EntityID: EntityID] = [:]
        for try await (id, survivor) in try await connection.query(
            "SELECT id, canonical FROM households WHERE id = ANY(\(Array(Set(changed.map(\.description)))))", logger: logger
        ).decode((String, String).self) {
            if let id = try? EntityID(id), let survivor = try? EntityID(survivor) { canonical[id] = survivor }
        }
        let chunk = OfficeTally.Chunk(changed: changed, canonical: canonical)
        let aggregates = try await PostgresSnapshot(connection: connection, logger: logger, engine: engine).aggregates(chunk.survivors)
        var histories: [EntityID: [StatusChange]] = [:]
        let scope = Set(chunk.survivors)
        for try await (household, old, new, write, at) in try await connection.query(
            """
            SELECT h.canonical, a.old, a.new, a.write_id, a.at FROM households h JOIN audit a ON a.entity = h.id AND a.field = 'status'
            WHERE h.canonical = ANY(\(chunk.survivors.map(\.description))) AND a.kind = 'household' ORDER BY a.id, a.n
            """, logger: logger
        ).decode((String, String, String, String, String).self) {
            if let change = ReportRows.statusChange(household: household, old: old, new: new, write: write, recordedAt: at, in: scope) {
                histories[change.household, default: []].append(change)
            }
        }
        var new: [(EntityID, HouseholdTally?)] = chunk.dropped.map { ($0, nil) }
        for id in chunk.survivors {
            new.append((id, aggregates[id].map { CampaignReport.tally($0, history: histories[id] ?? [], city: city) }))
        }
        var old: [EntityID: HouseholdTally] = [:]
        for try await (household, text) in try await connection.query(
            "SELECT household, tally FROM office_tallies WHERE household = ANY(\(new.map(\.0.description)))", logger: logger
        ).decode((String, String).self) {
            if let id = try? EntityID(household) { old[id] = try StoredJSON.decode(HouseholdTally.self, text) }
        }
        try await write(OfficeTally.Plan(old: old, new: new), connection)
        try await Self.setMeta(connection, OfficeTally.cursorKey, String(last), logger)
        if rows.count < limit { try await Self.setMeta(connection, OfficeTally.completeKey, fingerprint, logger) }
        return (new.count, rows.count < limit)
    }

    /// Writes a tally plan, a statement per table whatever the chunk's size.
    private func write(_ plan: OfficeTally.Plan, _ connection: PostgresConnection) async throws {
        let counters = plan.orderedCounters
        if !counters.isEmpty {
            try await connection.query(
                """
                INSERT INTO office_counts (scope, district, key, value)
                SELECT * FROM UNNEST(\(counters.map(\.0.scope)), \(counters.map(\.0.district)), \(counters.map(\.0.key)), \(counters.map { Int64($0.1) }))
                ON CONFLICT (scope, district, key) DO UPDATE SET value = office_counts.value + EXCLUDED.value
                """, logger: logger)
            try await connection.query("DELETE FROM office_counts WHERE value = 0", logger: logger)
        }
        if !plan.unlisted.isEmpty {
            let rows = plan.unlisted
            try await connection.query(
                """
                DELETE FROM office_lists o USING UNNEST(\(rows.map(\.listing.scope)), \(rows.map(\.listing.list.rawValue)),
                    \(rows.map(\.listing.district)), \(rows.map(\.household.description))) AS gone(scope, list, district, household)
                WHERE o.scope = gone.scope AND o.list = gone.list AND o.district = gone.district AND o.household = gone.household
                """, logger: logger)
        }
        if !plan.listed.isEmpty {
            let rows = plan.listed
            try await connection.query(
                """
                INSERT INTO office_lists (scope, list, district, household, national_id, status, head_name)
                SELECT scope, list, district, household, national_id, NULLIF(status, ''), NULLIF(head_name, '')
                FROM UNNEST(\(rows.map(\.listing.scope)), \(rows.map(\.listing.list.rawValue)), \(rows.map(\.listing.district)),
                    \(rows.map(\.household.description)), \(rows.map(\.reference.nationalId)), \(rows.map { $0.reference.status?.rawValue ?? "" }),
                    \(rows.map { $0.reference.headName ?? "" })) AS r(scope, list, district, household, national_id, status, head_name)
                ON CONFLICT (scope, list, district, household) DO UPDATE
                SET national_id = EXCLUDED.national_id, status = EXCLUDED.status, head_name = EXCLUDED.head_name
                """, logger: logger)
        }
        let gone = plan.tallies.filter { $0.tally == nil }.map(\.household.description)
        if !gone.isEmpty {
            try await connection.query("DELETE FROM office_tallies WHERE household = ANY(\(gone))", logger: logger)
            try await connection.query("DELETE FROM office_households WHERE household = ANY(\(gone))", logger: logger)
        }
        let kept = plan.tallies.compactMap { entry in entry.tally.map { (entry.household, $0) } }
        if !kept.isEmpty {
            try await connection.query(
                """
                INSERT INTO office_tallies (household, tally) SELECT * FROM UNNEST(\(kept.map(\.0.description)), \(try kept.map { try StoredJSON.encode($0.1) }))
                ON CONFLICT (household) DO UPDATE SET tally = EXCLUDED.tally
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO office_households (household, district, head_name, national_id, status)
                SELECT household, district, head_name, NULLIF(national_id, ''), NULLIF(status, '')
                FROM UNNEST(\(kept.map(\.0.description)), \(kept.map(\.1.district)), \(kept.map { $0.1.headName ?? "" }),
                    \(kept.map { $0.1.nationalId ?? "" }), \(kept.map { $0.1.status?.rawValue ?? "" })) AS r(household, district, head_name, national_id, status)
                ON CONFLICT (household) DO UPDATE
                SET district = EXCLUDED.district, head_name = EXCLUDED.head_name, national_id = EXCLUDED.national_id, status = EXCLUDED.status
                """, logger: logger)
        }
    }

    public func reportTallies(district: String?, campaign: String, listLimit: Int?) async throws -> ReportTallies {
        try await readSnapshot { connection in
            let all = district == nil, only = district ?? ""
            var tallies = ReportTallies()
            tallies.complete = try await tallyComplete(connection)
            for try await (code, key, value) in try await connection.query(
                "SELECT district, key, value FROM office_counts WHERE scope IN ('', \(campaign)) AND (\(all) OR district = \(only))", logger: logger
            ).decode((String, String, Int64).self) { tallies.counts[code, default: [:]][key] = Int(value) }
            for code in district.map({ [$0] }) ?? Array(tallies.counts.keys) {
                for list in CampaignReport.TallyList.allCases {
                    var refs: [CampaignReport.HouseholdRef] = []
                    for try await (household, nationalId, status, headName) in try await connection.query(
                        """
                        SELECT household, national_id, status, head_name FROM office_lists
                        WHERE scope = \(list == .missed ? campaign : "") AND list = \(list.rawValue) AND district = \(code)
                        ORDER BY household LIMIT \(listLimit.map { Int64($0) })
                        """, logger: logger
                    ).decode((String, String, String?, String?).self) {
                        guard let id = try? EntityID(household) else { continue }
                        refs.append(
                            CampaignReport.HouseholdRef(
                                household: id, nationalId: nationalId, status: status.flatMap(HouseholdStatus.init(rawValue:)), headName: headName))
                    }
                    if !refs.isEmpty { tallies.lists[code, default: [:]][list] = refs }
                }
            }
            let filter = district.map { _ in "WHERE token_hash NOT LIKE 'server:%' AND district = $1" } ?? "WHERE token_hash NOT LIKE 'server:%'"
            tallies.devices = try await Self.devices(connection, filter, district.map { [$0] } ?? [], logger).map(ReportRows.device)
            for try await (area, count) in try await connection.query(
                "SELECT district, COUNT(*) FROM conflicts WHERE district IS NOT NULL AND (\(all) OR district = \(only)) GROUP BY district", logger: logger
            ).decode((String, Int64).self) { tallies.pendingReview[area, default: ReviewCounts()].conflicts = Int(count) }
            for try await (area, count) in try await connection.query(
                """
                SELECT district, COUNT(*) FROM rejections WHERE district IS NOT NULL AND closed_at IS NULL AND (\(all) OR district = \(only)) GROUP BY district
                """, logger: logger
            ).decode((String, Int64).self) { tallies.pendingReview[area, default: ReviewCounts()].rejections = Int(count) }
            OfficeTally.countDuplicates(&tallies)
            return tallies
        }
    }

    public func weeklyTallies(district: String?) async throws -> [String: Int] {
        try await read { connection in
            var counts: [String: Int] = [:]
            for try await (key, value) in try await connection.query(
                """
                SELECT key, SUM(value)::BIGINT FROM office_counts
                WHERE scope = '' AND key COLLATE "C" >= 'week.' AND key COLLATE "C" < 'week/' AND (\(district == nil) OR district = \(district ?? "")) GROUP BY key
                """, logger: logger
            ).decode((String, Int64).self) { counts[key] = Int(value) }
            return counts
        }
    }

    public func householdsPage(_ query: HouseholdsQuery) async throws -> HouseholdsPage {
        try await readSnapshot { connection in
            let patterns = OfficeTally.searchPatterns(query.search)
            let anyDistrict = query.district == nil, district = query.district ?? ""
            let anyStatus = query.status == nil, status = query.status?.rawValue ?? ""
            let anyText = patterns == nil, name = patterns?.name ?? "", nationalId = patterns?.nationalId ?? ""
            var households: [ShownHousehold] = []
            for try await (id, code, headName, number, shown) in try await connection.query(
                """
                SELECT household, district, head_name, national_id, status FROM office_households
                WHERE district <> '' AND (\(anyDistrict) OR district = \(district)) AND (\(anyStatus) OR status = \(status))
                AND (\(anyText) OR head_name ILIKE \(name) ESCAPE '\\' OR national_id LIKE \(nationalId) ESCAPE '\\')
                AND (\(query.after == nil) OR (district, head_name, household) > (\(query.after?.district ?? ""), \(query.after?.headName ?? ""), \(query.after?.id.description ?? "")))
                ORDER BY district, head_name, household LIMIT \(Int64(query.limit)) OFFSET \(Int64(query.offset))
                """, logger: logger
            ).decode((String, String, String, String?, String?).self) {
                guard let household = try? EntityID(id) else { continue }
                households.append(
                    ShownHousehold(
                        id: household, district: code, nationalId: number, headName: headName.isEmpty ? nil : headName,
                        status: shown.flatMap(HouseholdStatus.init(rawValue:))))
            }
            let complete = try await tallyComplete(connection)
            guard query.counted else { return HouseholdsPage(households: households, total: 0, complete: complete) }
            // A first page that is not full holds every match (a search, mostly): no second scan to count them.
            if let total = OfficeTally.knownTotal(query, page: households.count) {
                return HouseholdsPage(households: households, total: total, complete: complete)
            }
            var total = 0
            for try await count in try await connection.query(
                """
                SELECT COUNT(*) FROM office_households WHERE district <> '' AND (\(anyDistrict) OR district = \(district)) AND (\(anyStatus) OR status = \(status))
                AND (\(anyText) OR head_name ILIKE \(name) ESCAPE '\\' OR national_id LIKE \(nationalId) ESCAPE '\\')
                """, logger: logger
            ).decode(Int64.self) { total = Int(count) }
            return HouseholdsPage(households: households, total: total, complete: complete)
        }
    }
}
