import DoorstepCore
import Foundation
import GRDB

/// What the relay's devices pull: the city's copies with the relay's unsettled work over them (§19.3).
extension RelayStore {
    // MARK: Pulls by the relay's devices

    /// One page of the relay's feed after `cursor`: households as the relay shows them, as JSON
    /// (the city's copy's bytes as they are kept when nothing of the relay's is shown over it),
    /// and those the city linked away or that left the district.
    func page(after cursor: Int64, limit: Int) throws -> (households: [[UInt8]], removed: [EntityID], next: Int64, hasMore: Bool) {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT household, seq, removed FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit + 1])
            var households: [[UInt8]] = []
            var removed: [EntityID] = []
            var next = cursor
            for row in rows.prefix(limit) {
                next = row["seq"]
                guard let id = try? EntityID(row["household"] as String) else { continue }
                if !(row["removed"] as Bool), let json = try Self.shownJSON(db, id) {
                    households.append(json)
                } else if try row["removed"] as Bool || Self.refusedFiling(db, id) {
                    // Linked away or out of the district at the city, or filed here and refused there.
                    removed.append(id)
                }
                // Else not known here yet (its copy comes with the relay's next pull): nothing said of it.
            }
            return (households, removed, next, rows.count > limit)
        }
    }

    /// A household as the relay shows it, as JSON: the city's copy's bytes when no unsettled work of
    /// the relay's devices is shown over it (most of a district), else ``shown(_:_:)`` encoded.
    static func shownJSON(_ db: Database, _ id: EntityID) throws -> [UInt8]? {
        let ids = [id.description] + (try String.fetchAll(db, sql: "SELECT alias FROM aliases WHERE survivor = ?", arguments: [id.description]))
        let overlaid =
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM mutations WHERE settled = 0 AND shown IS NOT NULL
                        AND household IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", "))))
                    """, arguments: StatementArguments(ids)) ?? false
        if !overlaid, let stored = try Data.fetchOne(db, sql: "SELECT aggregate FROM city_households WHERE id = ?", arguments: [id.description]) {
            return [UInt8](stored)
        }
        return try shown(db, id).map { [UInt8](try WireCoding.encode($0)) }
    }

    /// An attachment of the district as the relay shows it (the city's copy, or a creation held
    /// here); `nil` when it is not in the relay's view, or deleted.
    func attachment(_ id: EntityID) throws -> EntityState? {
        try pool.read { db in
            let households =
                try String.fetchAll(
                    db, sql: "SELECT id FROM city_households WHERE instr(CAST(aggregate AS TEXT), ?) > 0", arguments: [id.description])
                + String.fetchAll(
                    db, sql: "SELECT DISTINCT household FROM mutations WHERE shown IS NOT NULL AND json_extract(body, '$.entity') = ?",
                    arguments: [id.description])
            for household in Set(households).compactMap({ try? EntityID($0) }) {
                if let found = try Self.shown(db, household)?.entities.first(where: { $0.id == id && $0.kind == .attachment }) {
                    return found.isDeleted ? nil : found
                }
            }
            return nil
        }
    }

    /// Whether a household was filed here and the city refused its filing.
    static func refusedFiling(_ db: Database, _ id: EntityID) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM mutations WHERE household = ? AND json_extract(body, '$.entity') = ?
                    AND json_extract(body, '$.op') = 'create' AND json_extract(outcome, '$.outcome') = 'rejected')
                """, arguments: [id.description, id.description]) ?? false
    }

    /// A household as the relay shows it: the city's copy with the unsettled valid mutations of
    /// the relay's devices applied in the order they arrived; `nil` when neither exists.
    static func shown(_ db: Database, _ id: EntityID) throws -> HouseholdAggregate? {
        var aggregate = try Data.fetchOne(db, sql: "SELECT aggregate FROM city_households WHERE id = ?", arguments: [id.description])
            .map { try WireCoding.decode(HouseholdAggregate.self, from: $0) }
        let ids = [id] + (aggregate?.aliases ?? [])
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let overlay = try String.fetchAll(
            db, sql: "SELECT shown FROM mutations WHERE settled = 0 AND shown IS NOT NULL AND household IN (\(placeholders)) ORDER BY arrival",
            arguments: StatementArguments(ids.map(\.description))
        ).map { try WireCoding.decode(Mutation.self, from: Data($0.utf8)) }
        if aggregate == nil {
            // Filed on the district's LAN and not yet at the city: its creation is the start.
            guard let creation = overlay.first(where: { $0.kind == .household && $0.op == .create && $0.entity == id }),
                let state = EntityState.applyingEntry(creation, to: nil)
            else { return nil }
            aggregate = HouseholdAggregate(household: state)
            return aggregate?.applying(overlay.filter { $0 != creation })
        }
        return aggregate?.applying(overlay)
    }
}
