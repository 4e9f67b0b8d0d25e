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
                format.t("户", "household"), format.t("类型", "kind"), format.t("编号", "entity"),
                format.t("字段", "field"), format.t("旗区", "district"), format.t("值", "values"),
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
                format.t("冲突", "Conflicts") + " (\(queue.conflicts.count))\n" + table.render()
                    + "\n"
                    + format.t(
                        "处理：doorstep review confirm 编号 字段，或 doorstep review overturn 编号 字段 值",
                        "Decide: doorstep review confirm ENTITY FIELD, or doorstep review overturn ENTITY FIELD VALUE"))
        }
        if !queue.duplicates.isEmpty {
            var table = Table(titles: [format.t("保留户", "survivor"), format.t("重复户", "alias"), format.t("旗区", "district")])
            for duplicate in queue.duplicates {
                table.add([household(duplicate.survivor), household(duplicate.alias), format.district(duplicate.district)])
            }
            parts.append(format.t("重复档案（同一身份证号）", "Duplicates (same national ID)") + " (\(queue.duplicates.count))\n" + table.render())
        }
        let held = queue.rejections.filter { $0.mutation != nil }
        let refused = queue.rejections.filter { $0.mutation == nil }
        if !held.isEmpty {
            parts.append(
                format.t("被撤销设备留待审核的修改", "Changes held from revoked devices") + " (\(held.count))\n"
                    + held.map(heldChange).joined(separator: "\n")
                    + "\n"
                    + format.t(
                        "采纳：doorstep review accept 设备:序号；不予采纳：doorstep review dismiss 设备:序号 --reason 理由",
                        "Accept: doorstep review accept DEVICE:SEQ; set aside: doorstep review dismiss DEVICE:SEQ --reason TEXT"))
        }
        if !refused.isEmpty {
            var table = Table([
                .init(title: format.t("设备", "device")), .init(title: format.t("序号", "seq"), numeric: true),
                .init(title: format.t("户", "household")), .init(title: format.t("类型", "kind")), .init(title: format.t("代码", "code")),
                .init(title: format.t("说明", "reason"), maxWidth: 60), .init(title: format.t("时间", "at")),
            ])
            for rejection in refused {
                let reason = language == .chinese ? (Strings.chineseHint(rejection.code) ?? rejection.reason) : rejection.reason
                table.add([
                    Format.short(rejection.device), String(rejection.seq), household(rejection.household),
                    Strings.kind(rejection.kind, language), rejection.code.rawValue, reason, format.time(rejection.at),
                ])
            }
            parts.append(
                format.t("被拒绝的修改", "Refused changes") + " (\(refused.count))\n" + table.render()
                    + "\n"
                    + format.t(
                        "由原设备修正后重发；已处理的可移出：doorstep review dismiss 设备:序号 --reason 理由",
                        "Their devices fix and resend them; to clear one: doorstep review dismiss DEVICE:SEQ --reason TEXT"))
        }
        if !queue.clockFlaggedDevices.isEmpty {
            var table = Table(titles: [format.t("设备", "device"), format.t("名称", "name"), format.t("旗区", "district")])
            for device in queue.clockFlaggedDevices {
                table.add([Format.short(device.id), device.name, format.district(device.district)])
            }
            parts.append(format.t("时钟过快的设备", "Devices with a clock ahead") + " (\(queue.clockFlaggedDevices.count))\n" + table.render())
        }
        if parts.isEmpty && !onlyNonEmpty { return format.t("没有待审核的事项。", "Nothing waits for review.") }
        return parts.joined(separator: "\n\n")
    }

    /// A held change in full: who made it and when, what it does, every value it writes.
    func heldChange(_ rejection: ReviewQueue.Rejection) -> String {
        guard let mutation = rejection.mutation else { return "" }
        let language = format.language
        let written = format.time(Date(timeIntervalSince1970: Double(mutation.hlc.wallMillis) / 1000))
        var lines = [
            "- \(Format.short(rejection.device)):\(rejection.seq)  \(Strings.operation(mutation.op, language))\(Strings.kind(mutation.kind, language))  "
                + format.t("户 ", "household ") + household(mutation.household) + "  " + format.t("写于 ", "written ") + written
        ]
        let order = Dictionary(mutation.kind.fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        for write in mutation.fields.sorted(by: { (order[$0.field] ?? .max) < (order[$1.field] ?? .max) }) {
            let label = write.field == deletedFieldName ? format.t("删除", "deleted") : Strings.field(write.field, of: mutation.kind, language)
            lines.append("    \(label): \(format.value(write.value, field: write.field, kind: mutation.kind))")
        }
        return lines.joined(separator: "\n")
    }
}
