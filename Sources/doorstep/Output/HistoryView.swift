import DoorstepCore
import Foundation

/// A household's change history as a table, newest last: when, who, from which device, what
/// changed from what to what, and which writes settled a conflict (by an office, or by a visitor
/// who re-verified it at the door).
struct HistoryView {
    let format: Format
    var reveal = false
    /// The devices known by name and role (an office's district; a visitor's own laptop).
    var devices: [DeviceID: (name: String, role: Role)] = [:]

    func render(_ entries: [AuditEntry]) -> String {
        guard !entries.isEmpty else { return format.t("cli.history.empty") }
        let language = format.language
        let names = devices.mapValues(\.name)
        var table = Table([
            .init(title: format.t("cli.common.at")), .init(title: format.t("cli.history.who"), maxWidth: 24),
            .init(title: format.t("cli.common.device")), .init(title: format.t("cli.common.kind")),
            .init(title: format.t("cli.common.field")), .init(title: format.t("cli.history.old"), maxWidth: 30),
            .init(title: format.t("cli.history.new"), maxWidth: 60),
        ])
        var settled = 0
        for entry in entries {
            let note = entry.settledNoteKey(writerRole: entry.writer.flatMap { devices[$0]?.role }).map { Texts.text($0, language) } ?? ""
            if !note.isEmpty { settled += 1 }
            table.add([
                format.time(entry.at), entry.who(names: names, language), Format.short(entry.device), Strings.kind(entry.kind, language),
                field(entry), show(entry.old, entry), show(entry.new, entry) + note,
            ])
        }
        var text = format.t("cli.history.title", ["count": "\(entries.count)"]) + "\n" + table.render()
        if settled > 0 { text += "\n" + format.t("cli.history.settledNote", ["count": "\(settled)"]) }
        return text
    }

    private func field(_ entry: AuditEntry) -> String {
        if entry.field.hasPrefix("link:") { return format.t("cli.history.link", ["household": String(entry.field.dropFirst(5).prefix(8))]) }
        if entry.field == deletedFieldName { return format.t("cli.reviewView.deleted") }
        return Strings.field(entry.field, of: entry.kind, format.language)
    }

    private func show(_ value: JSONValue, _ entry: AuditEntry) -> String {
        guard entry.field.hasPrefix("link:") else { return format.value(value, field: entry.field, kind: entry.kind, reveal: reveal) }
        switch value.stringValue {
        case "linked"?: return format.t("cli.history.linked")
        case "unlinked"?: return format.t("cli.history.unlinked")
        default: return format.describe(value)
        }
    }
}
