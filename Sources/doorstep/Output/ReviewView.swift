import DoorstepCore
import Foundation

/// The review queue as tables.
struct ReviewView {
    let format: Format
    /// The head's name of each household the queue names, where known: shown beside its id.
    var names: [EntityID: String] = [:]

    /// A household as the tables show it: its first characters and its head's name.
    func household(_ id: EntityID?) -> String {
        guard let id else { return "-" }
        return [Format.short(id), names[id]].compactMap { $0 }.joined(separator: " ")
    }

    func render(_ queue: ReviewQueue, onlyNonEmpty: Bool = false) -> String {
        let language = format.language
        var parts: [String] = []
        if !queue.conflicts.isEmpty {
            var table = Table(titles: [
                format.t("cli.common.household"), format.t("cli.common.kind"), format.t("cli.reviewView.entity"),
                format.t("cli.common.field"), format.t("cli.common.district"), format.t("cli.reviewView.values"),
            ])
            for conflict in queue.conflicts {
                let record = conflict.record
                let values = record.heads.map { format.value($0.value, field: record.field, kind: record.kind) }
                table.add([
                    household(record.household), Strings.kind(record.kind, language), Format.short(record.entity),
                    "\(Strings.field(record.field, of: record.kind, language)) [\(record.field)]", format.district(conflict.district),
                    values.joined(separator: " | "),
                ])
            }
            parts.append(
                format.t("cli.reviewView.conflicts") + " (\(queue.conflicts.count))\n" + table.render()
                    + "\n"
                    + format.t(
                        "cli.reviewView.decideDoorstepReviewConfirmEntity"))
        }
        if !queue.duplicates.isEmpty {
            var table = Table(titles: [format.t("cli.reviewView.survivor"), format.t("cli.reviewView.alias"), format.t("cli.common.district")])
            for duplicate in queue.duplicates {
                table.add([household(duplicate.survivor), household(duplicate.alias), format.district(duplicate.district)])
            }
            parts.append(format.t("cli.reviewView.duplicatesSameNationalId") + " (\(queue.duplicates.count))\n" + table.render())
        }
        let held = queue.rejections.filter { $0.mutation != nil }
        let refused = queue.rejections.filter { $0.mutation == nil }
        if !held.isEmpty {
            parts.append(
                format.t("cli.reviewView.changesHeldFromRevokedDevices") + " (\(held.count))\n"
                    + held.map(heldChange).joined(separator: "\n")
                    + "\n"
                    + format.t(
                        "cli.reviewView.acceptDoorstepReviewAcceptDevice"))
        }
        if !refused.isEmpty {
            var table = Table([
                .init(title: format.t("cli.common.device")), .init(title: format.t("cli.common.seq"), numeric: true),
                .init(title: format.t("cli.common.household")), .init(title: format.t("cli.common.kind")), .init(title: format.t("cli.common.code")),
                .init(title: format.t("cli.common.reason"), maxWidth: 60), .init(title: format.t("cli.common.at")),
            ])
            for rejection in refused {
                let reason = rejection.explanation(language)
                table.add([
                    Format.short(rejection.device), String(rejection.seq), household(rejection.household),
                    Strings.kind(rejection.kind, language), rejection.code.rawValue, reason, format.time(rejection.at),
                ])
            }
            parts.append(
                format.t("cli.reviewView.refusedChanges") + " (\(refused.count))\n" + table.render()
                    + "\n"
                    + format.t(
                        "cli.reviewView.theirDevicesFixAndResend"))
        }
        if !queue.clockFlaggedDevices.isEmpty {
            var table = Table(titles: [format.t("cli.common.device"), format.t("cli.common.name"), format.t("cli.common.district")])
            for device in queue.clockFlaggedDevices {
                table.add([Format.short(device.id), device.name, format.district(device.district)])
            }
            parts.append(format.t("cli.reviewView.devicesWithAClockAhead") + " (\(queue.clockFlaggedDevices.count))\n" + table.render())
        }
        if parts.isEmpty && !onlyNonEmpty { return format.t("cli.reviewView.nothingWaitsForReview") }
        return parts.joined(separator: "\n\n")
    }

    /// A held change in full: who made it and when, what it does, every value it writes.
    func heldChange(_ rejection: ReviewQueue.Rejection) -> String {
        guard let mutation = rejection.mutation else { return "" }
        let language = format.language
        let written = format.time(Date(timeIntervalSince1970: Double(mutation.hlc.wallMillis) / 1000))
        var lines = [
            "- \(Format.short(rejection.device)):\(rejection.seq)  \(Strings.operation(mutation.op, language))\(Strings.kind(mutation.kind, language))  "
                + format.t("cli.reviewView.household") + household(mutation.household) + "  " + format.t("cli.reviewView.written") + written
        ]
        let order = Dictionary(mutation.kind.fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        for write in mutation.fields.sorted(by: { (order[$0.field] ?? .max) < (order[$1.field] ?? .max) }) {
            let label = write.field == deletedFieldName ? format.t("cli.reviewView.deleted") : Strings.field(write.field, of: mutation.kind, language)
            lines.append("    \(label): \(format.value(write.value, field: write.field, kind: mutation.kind))")
        }
        return lines.joined(separator: "\n")
    }
}
