import DoorstepClient
import DoorstepCore

/// A household for people: its facts with labels, then members, liaisons, the problem and
/// assistance lists, visits, and every open conflict with all its values.
struct HouseholdView {
    let format: Format
    /// Show national ID numbers whole (`--reveal`); masked otherwise.
    var reveal = false

    private var language: Language { format.language }

    func summaries(_ households: [HouseholdSummary]) -> String {
        var table = Table([
            .init(title: format.t("cli.common.id")), .init(title: format.t("cli.common.head")),
            .init(title: format.t("cli.common.nationalId")), .init(title: format.t("cli.common.district")),
            .init(title: format.t("cli.common.status")), .init(title: format.t("cli.common.conflicts"), numeric: true),
            .init(title: format.t("cli.householdView.unsynced")), .init(title: format.t("cli.householdView.address"), maxWidth: 30),
        ])
        for household in households {
            table.add([
                Format.short(household.id), household.headName, household.nationalIdMasked, format.district(household.district),
                format.status(household.status), household.conflicts > 0 ? String(household.conflicts) : "",
                household.hasLocalChanges ? "*" : "", household.address,
            ])
        }
        return table.render() + "\n" + format.t("cli.householdView.household", ["count": "\(households.count)"])
    }

    func render(_ aggregate: HouseholdAggregate) -> String {
        let household = aggregate.household
        var parts: [String] = []
        let status = household["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
        parts.append("\(household["headName"].stringValue ?? "-") · \(format.status(status)) · \(format.t("cli.common.id")) \(household.id)")
        var facts = FactList()
        for spec in EntityKind.household.fields where spec.name != "headName" {
            facts.add(
                Strings.field(spec.name, of: .household, language), format.value(household[spec.name], field: spec.name, kind: .household, reveal: reveal))
        }
        if !aggregate.aliases.isEmpty {
            facts.add(format.t("cli.householdView.linkedDuplicates"), aggregate.aliases.map(\.description).joined(separator: ", "))
        }
        parts.append(facts.render(indent: "  "))

        let sections: [(EntityKind, [String])] = [
            (.member, ["name", "relation", "nationalId", "birthDate", "health", "employment"]),
            (.liaison, ["name", "level", "organization", "phone"]),
            (.problem, ["category", "description", "status"]),
            (.assistance, ["category", "measure", "leadDepartment", "dueDate", "status", "amountFen"]),
            (.visit, ["visitedAt", "visitor", "mode", "verified", "conclusion", "proposedStatus", "observedIncomeFen"]),
            (.attachment, ["fileName", "caption", "mediaType", "size", "of"]),
        ]
        for (kind, fields) in sections {
            var entries = aggregate.entities.filter { $0.kind == kind && $0.isVisible }
            if kind == .visit { entries.sort { ($0["visitedAt"].stringValue ?? "") > ($1["visitedAt"].stringValue ?? "") } }
            guard !entries.isEmpty else { continue }
            var section = "\(Strings.section(kind, language)) (\(entries.count))\n" + table(entries, kind: kind, fields: fields)
            if kind == .visit {
                // Notes in full (a table cell would cut them), and why a voided visit was voided.
                let lines = entries.compactMap { visit -> String? in
                    var said: [String] = []
                    if let reason = visit[voidedFieldName].stringValue { said.append(format.t("cli.householdView.voided") + reason) }
                    if let notes = visit["notes"].stringValue, !notes.isEmpty {
                        said.append(Strings.field("notes", of: .visit, language) + format.t("cli.householdView.colon") + notes)
                    }
                    return said.isEmpty ? nil : "  \(Format.short(visit.id))  " + said.joined(separator: format.t("cli.householdView.semicolon"))
                }
                if !lines.isEmpty { section += "\n" + lines.joined(separator: "\n") }
            }
            parts.append(section)
        }
        let conflicts = aggregate.conflicts
        if !conflicts.isEmpty {
            parts.append(format.t("cli.householdView.openConflicts") + " (\(conflicts.count))\n" + self.conflicts(conflicts))
        }
        return parts.joined(separator: "\n\n")
    }

    private func table(_ entries: [EntityState], kind: EntityKind, fields: [String]) -> String {
        var table = Table(
            [Table.Column(title: format.t("cli.common.id"))]
                + fields.map {
                    Table.Column(title: Strings.field($0, of: kind, language), numeric: kind.field($0)?.type == .money, maxWidth: 28)
                })
        for entry in entries {
            let id =
                Format.short(entry.id) + (entry.isDeleted ? format.t("cli.householdView.deleted") : "")
                + (entry.isVoided ? format.t("cli.householdView.void") : "")
            table.add([id] + fields.map { format.value(entry[$0], field: $0, kind: kind, reveal: reveal) })
        }
        return table.render()
    }

    /// Each conflict with every value written, who wrote it and when; `>` marks the value shown.
    func conflicts(_ conflicts: [ConflictRecord]) -> String {
        conflicts.map { conflict in
            let reason =
                conflict.reason == .deleteVersusEdit
                ? format.t("cli.householdView.deletedWhileEdited") : format.t("cli.householdView.editedAtTheSameTime")
            let title =
                "\(Strings.kind(conflict.kind, language)) \(conflict.entity) · \(Strings.field(conflict.field, of: conflict.kind, language)) [\(conflict.field)] · \(reason)"
            var table = Table(titles: [
                "", format.t("cli.householdView.value"), format.t("cli.common.device"), format.t("cli.householdView.time"), format.t("cli.householdView.write"),
            ])
            let shown = conflict.shown?.write
            for head in conflict.heads {
                let value =
                    conflict.reason == .deleteVersusEdit
                    ? (head.value == .bool(true) && !head.covers.isEmpty ? format.t("cli.householdView.delete") : format.describe(head.value))
                    : format.value(head.value, field: conflict.field, kind: conflict.kind, reveal: reveal)
                table.add([
                    head.write == shown ? ">" : "", value,
                    Format.short(head.write.device), format.time(head.write), head.write.description,
                ])
            }
            return title + "\n" + table.render()
        }.joined(separator: "\n\n")
    }
}
