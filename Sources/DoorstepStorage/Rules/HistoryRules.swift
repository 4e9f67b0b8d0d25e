import DoorstepCore

/// A household's history (``ServerStorage/history(of:)``): which rows of the audit belong to it.
///
/// A write is filed under the survivor of its time, so while households were linked their writes
/// sit under another id. The history reads the rows filed under every household ever linked with
/// the group, however indirectly (national IDs in common: a household keeps every ID it held;
/// offices' link decisions), and keeps those of the group's own entities: after an unlink each
/// side shows its own writes, and only those.
struct HouseholdHistory {
    /// The household asked for, its survivor and the survivor's link members.
    let group: Set<String>
    /// Every household whose filed rows are read, growing as ``add(_:)`` is given what storage found.
    private(set) var filed: Set<String>
    /// The households to ask storage about next (their links and shared national IDs); empty when
    /// the closure is complete.
    private(set) var frontier: [String]

    /// The history of `household`, whose survivor is `survivor` (itself when unlinked or unknown)
    /// with link members `members`.
    init(of household: EntityID, survivor: String?, members: [String]) {
        let survivor = survivor ?? household.description
        group = Set(members + [survivor, household.description])
        filed = group
        frontier = Array(group)
    }

    /// Adds the households storage found linked to the ``frontier`` (by a link decision either
    /// way, or by a national ID one of them holds); the new ones become the next frontier.
    mutating func add(_ found: [String]) {
        frontier = found.filter { filed.insert($0).inserted }
    }

    /// An audit row as storage reads it, with the household its entity belongs to now.
    struct Row {
        var filedUnder: String
        var owner: String?
        var entity: String
        var kind: String
        var field: String
        var old: String
        var new: String
        var write: String
        var device: String
        var seq: Int64
        var actor: String?
        var at: String
        var origin: String?
        var settled = false
    }

    /// The entries of the group among rows filed under ``filed``, in the audit's order: writes to
    /// the group's own entities, and link decisions (field `link:<other>`), which belong to both
    /// households they name.
    func entries(_ rows: [Row]) -> [AuditEntry] {
        rows.compactMap { row -> AuditEntry? in
            guard group.contains(row.owner ?? row.filedUnder) || (row.field.hasPrefix("link:") && group.contains(String(row.field.dropFirst(5)))),
                let entity = try? EntityID(row.entity), let kind = EntityKind(rawValue: row.kind), let device = try? DeviceID(row.device)
            else { return nil }
            return AuditEntry(
                entity: entity, kind: kind, field: row.field,
                old: (try? StoredJSON.decode(JSONValue.self, row.old)) ?? .null, new: (try? StoredJSON.decode(JSONValue.self, row.new)) ?? .null,
                write: row.write, device: device, seq: row.seq, actor: row.actor ?? "", at: row.at,
                origin: row.origin.flatMap { try? StoredJSON.decode(AuditOrigin.self, $0) },
                settledConflict: row.settled ? true : nil
            )
        }
    }
}
