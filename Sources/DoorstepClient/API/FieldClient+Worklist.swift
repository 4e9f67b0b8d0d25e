public import DoorstepCore
import Foundation
import GRDB

/// What a worklist shows: an optional search and filters.
public struct WorklistQuery: Sendable, Hashable {
    /// A part of the head's name, the national ID (full, or its last digits) or the address.
    public var text: String?
    /// Only households with this reason.
    public var reason: WorkReason?
    public var status: HouseholdStatus?
    /// Only households that need the visitor (the default); `false` searches every household on the laptop.
    public var needsVisitorOnly: Bool
    public var limit: Int
    public var offset: Int

    public init(
        text: String? = nil, reason: WorkReason? = nil, status: HouseholdStatus? = nil, needsVisitorOnly: Bool = true, limit: Int = 100,
        offset: Int = 0
    ) {
        self.text = text
        self.reason = reason
        self.status = status
        self.needsVisitorOnly = needsVisitorOnly
        self.limit = limit
        self.offset = offset
    }
}

/// One household of a worklist, with why it is there.
public struct WorklistItem: Sendable, Hashable, Codable {
    public var household: HouseholdSummary
    /// Its reasons, most pressing first (none when a search shows every household).
    public var reasons: [WorkReason]
    /// The earliest due date of its open assistance items.
    public var nextDue: LocalDate?
    /// When it was last visited at home (RFC 3339, UTC).
    public var lastHomeVisitAt: String?
}

/// A visitor's worklist: the households of the district that need them, and how many for each reason.
public struct Worklist: Sendable, Hashable, Codable {
    public var items: [WorklistItem]
    /// Households matching the search, for each reason (the search's text and status applied, not its reason).
    public var counts: [WorkReason: Int]
    /// Households matching the whole query (for paging).
    public var matching: Int
    /// The local date the reasons are as of.
    public var today: LocalDate
    /// When the current stage (or campaign) began: home visits before it do not count (RFC 3339, UTC).
    public var stageStart: String?
}

extension FieldClient {
    /// The worklist as of `today` (by default the laptop's date in the city's time zone), read from
    /// the laptop alone: works offline. One indexed query; no visit or item is read.
    public func worklist(_ query: WorklistQuery = WorklistQuery(), today: LocalDate? = nil) async throws -> Worklist {
        let city = configuration.city
        let zone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current
        let day = today ?? LocalDate(Date(timeIntervalSince1970: Double(configuration.clock()) / 1000), in: zone)
        let stageStart = WorkReason.stageStart(city: city, campaigns: try await storedCampaigns(), today: day)
        let horizon = day.adding(days: WorkReason.dueWithinDays).description
        return try await pool.read { db in
            var conditions: [String] = []
            var arguments: [(any DatabaseValueConvertible)?] = []
            if let text = query.text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                let pattern = "%" + text.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "").uppercased() + "%"
                conditions.append("(head_name LIKE ? OR national_id LIKE ? OR address LIKE ?)")
                arguments += [pattern, pattern, pattern]
            }
            if let status = query.status {
                conditions.append("status = ?")
                arguments.append(status.rawValue)
            }
            // The reasons as columns (r_notVerified …), for the households the search matches; every
            // column read is in the index households_worklist, so no household's stored text is read.
            let reasons = """
                SELECT id, head_name, national_id, address, district, status, conflicts, local_changes, next_due, home_visit_at,
                    (?1 IS NOT NULL AND status IN ('candidate', 'filed') AND (home_visit_at IS NULL OR home_visit_at < ?1)) AS r_notVerified,
                    (follow_up <> 0) AS r_followUp,
                    (next_due IS NOT NULL AND next_due <= ?2) AS r_assistanceDue,
                    (conflicts > 0 OR id IN (
                        SELECT COALESCE((SELECT survivor FROM aliases WHERE alias = q.household), q.household) FROM quarantine q
                    )) AS r_attention
                FROM households INDEXED BY households_worklist \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                """
            let base = StatementArguments([stageStart, horizon] + arguments)
            let any = "(r_notVerified OR r_followUp OR r_assistanceDue OR r_attention)"
            var filter: [String] = []
            if query.needsVisitorOnly { filter.append(any) }
            if let reason = query.reason { filter.append("r_\(reason.rawValue)") }
            let whereClause = filter.isEmpty ? "" : "WHERE " + filter.joined(separator: " AND ")
            // The counts and the matching total in one pass.
            let countRow = try Row.fetchOne(
                db,
                sql: """
                    WITH w AS (\(reasons))
                    SELECT SUM(r_notVerified) AS notVerified, SUM(r_followUp) AS followUp, SUM(r_assistanceDue) AS assistanceDue,
                        SUM(r_attention) AS attention, SUM(\(filter.isEmpty ? "1" : filter.joined(separator: " AND "))) AS matching
                    FROM w
                    """, arguments: base)
            var counts: [WorkReason: Int] = [:]
            for reason in WorkReason.allCases { counts[reason] = (countRow?[reason.rawValue] as Int?) ?? 0 }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    WITH w AS (\(reasons))
                    SELECT id, head_name, national_id, address, district, status, conflicts, local_changes, next_due, home_visit_at,
                        r_notVerified, r_followUp, r_assistanceDue, r_attention
                    FROM w \(whereClause)
                    ORDER BY r_attention DESC, r_assistanceDue DESC, next_due, r_followUp DESC, head_name, id LIMIT ? OFFSET ?
                    """,
                arguments: base + [max(1, min(query.limit, 1000)), max(0, query.offset)])
            let items = rows.compactMap { row -> WorklistItem? in
                guard let id = try? EntityID(row["id"] as String) else { return nil }
                let nationalID = (row["national_id"] as String?) ?? ""
                let summary = HouseholdSummary(
                    id: id, headName: row["head_name"] ?? "", nationalIdMasked: (try? NationalID(nationalID).masked) ?? "",
                    address: row["address"] ?? "", district: row["district"] ?? "",
                    status: (row["status"] as String?).flatMap(HouseholdStatus.init(rawValue:)),
                    conflicts: row["conflicts"], hasLocalChanges: (row["local_changes"] as Int) > 0)
                let reasons = [WorkReason.attention, .assistanceDue, .followUp, .notVerified].filter { (row["r_\($0.rawValue)"] as Int? ?? 0) != 0 }
                return WorklistItem(
                    household: summary, reasons: reasons, nextDue: (row["next_due"] as String?).flatMap { try? LocalDate($0) },
                    lastHomeVisitAt: row["home_visit_at"])
            }
            return Worklist(items: items, counts: counts, matching: (countRow?["matching"] as Int?) ?? 0, today: day, stageStart: stageStart)
        }
    }
}
