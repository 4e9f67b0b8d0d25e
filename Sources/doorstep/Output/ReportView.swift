import DoorstepCore
import Foundation

/// The campaign report as terminal tables, and as a CSV file for Excel.
struct ReportView {
    let format: Format

    private var language: Language { format.language }
    private func t(_ zh: String, _ en: String) -> String { format.t(zh, en) }

    private func rate(_ ratio: CampaignReport.Ratio) -> String {
        "\(Format.percent(ratio.perMille)) (\(ratio.numerator)/\(ratio.denominator))"
    }

    private func name(_ section: CampaignReport.Section) -> String {
        section.district.map { "\(section.name.text(language)) \($0)" } ?? t("合计", "Total")
    }

    func render(_ report: CampaignReport) -> String {
        var parts: [String] = []
        var title = "\(report.campaign.name.text(language)) · \(t("截至", "as of")) \(report.today)"
        if let stage = report.stage {
            title +=
                " · \(stage.name.text(language))"
                + t(
                    "（\(stage.start) 至 \(stage.end)，剩 \(stage.daysLeft) 天）",
                    " (\(stage.start) to \(stage.end), \(stage.daysLeft) days left)")
        }
        parts.append(title)
        if let end = report.campaign.end, end < report.today {
            // No campaign is under way: say so, rather than show last year's title as if current.
            parts.append(
                t(
                    "注意：今天不在任何督查考核周期内。以下是已于 \(end) 结束的「\(report.campaign.name.zh)」的数字；"
                        + "今年的周期由管理员在服务器上定义（doorstep-server --campaigns 文件，见 README）。",
                    "Note: no campaign is under way today. These are the figures of \(report.campaign.name.en), which ended on \(end); "
                        + "this year's campaign is defined on the server by its administrator (doorstep-server --campaigns FILE, see the README)."))
        } else if let start = report.campaign.start, report.today < start {
            parts.append(t("注意：「\(report.campaign.name.zh)」于 \(start) 开始，尚未开始。", "Note: \(report.campaign.name.en) starts on \(start); it has not begun."))
        }
        let sections = report.districts + [report.total]

        var files = Table(
            [.init(title: t("旗区", "district")), .init(title: t("户数", "households"), numeric: true)]
                + HouseholdStatus.allCases.map { Table.Column(title: $0.label(language), numeric: true) }
                + [.init(title: t("活动后新增", "new since start"), numeric: true)])
        for section in sections {
            let counts = HouseholdStatus.allCases.map { "\(section.filesByStatus.now[$0]) / \(section.filesByStatus.atStart[$0])" }
            files.add([name(section), String(section.households)] + counts + [String(section.filesByStatus.createdSinceStart)])
        }
        parts.append(t("档案状态（现在 / 活动开始时）", "Files by status (now / at the campaign's start)") + "\n" + files.render())

        var progress = Table([
            .init(title: t("旗区", "district")), .init(title: t("走访覆盖率", "visit coverage"), numeric: true),
            .init(title: t("脱困率", "exit rate"), numeric: true), .init(title: t("解困脱困率", "resolved rate"), numeric: true),
            .init(title: t("帮扶 完成/进行/逾期", "aid done/open/overdue"), numeric: true), .init(title: t("错", "wrong"), numeric: true),
            .init(title: t("重复", "twice"), numeric: true), .init(title: t("待审核 冲突/重复/拒绝", "review c/d/r"), numeric: true),
            .init(title: t("低于低保", "below minimum"), numeric: true),
        ])
        for section in sections {
            let aid = section.assistance
            let review = section.review
            progress.add([
                name(section), rate(section.visitCoverage.rate), rate(section.exitRate), rate(section.resolvedRate),
                "\(aid.done)/\(aid.open)/\(aid.overdue)", String(section.wrong), String(section.twice),
                "\(review.conflicts)/\(review.duplicates)/\(review.rejections)", String(section.belowMinimumLiving),
            ])
        }
        parts.append(t("进度", "Progress") + "\n" + progress.render())

        var causes = Table([.init(title: t("主要致困原因", "primary cause")), .init(title: t("户数", "households"), numeric: true)])
        for cause in HardshipCause.allCases {
            causes.add([cause.label(language), String(report.total.causes[cause.rawValue] ?? 0)])
        }
        parts.append(t("致困原因（合计，不含已销档）", "Causes (total, closed files excluded)") + "\n" + causes.render())

        for (title, list) in [
            (t("漏访", "Missed (not visited at home)"), report.total.visitCoverage.missed),
            (t("错档（走访结论不符合条件但仍在档）", "Wrong (not eligible, still filed)"), report.total.wrongHouseholds),
        ] where !list.isEmpty {
            var table = Table(titles: [t("户", "household"), t("户主", "head"), t("身份证号", "national ID"), t("状态", "status")])
            for item in list { table.add([Format.short(item.household), item.headName ?? "-", item.nationalId, format.status(item.status)]) }
            parts.append("\(title) (\(list.count))\n" + table.render())
        }

        if !report.total.devices.isEmpty {
            var table = Table(titles: [
                t("设备", "device"), t("名称", "name"), t("旗区", "district"), t("上次同步", "last sync"), t("状态", "state"),
                t("时钟", "clock"),
            ])
            for device in report.total.devices {
                let state = device.revokedAt.map { t("已撤销 ", "revoked ") + format.time($0) } ?? t("有效", "active")
                table.add([
                    Format.short(device.id), device.name, format.district(device.district), format.time(device.lastSyncAt), state,
                    device.clockFlagged ? t("过快", "ahead") : "",
                ])
            }
            parts.append(t("设备", "Devices") + "\n" + table.render())
        }
        return parts.joined(separator: "\n\n")
    }

    /// One row per district and the total: UTF-8 with a byte-order mark and CRLF lines, so that
    /// Excel (as set up in China) opens it with the Chinese intact; the header in the chosen language.
    func csv(_ report: CampaignReport) -> Data {
        var header = [t("旗区代码", "district code"), t("旗区", "district"), t("户数", "households")]
        for status in HouseholdStatus.allCases {
            header += [t("\(status.chineseLabel)（现在）", "\(status.englishLabel) (now)"), t("\(status.chineseLabel)（开始时）", "\(status.englishLabel) (at start)")]
        }
        header += [t("活动后新增", "new since start")]
        for (zh, en) in [("走访覆盖", "visit coverage"), ("脱困", "exit"), ("解困脱困", "resolved")] {
            header += [t("\(zh)户数", "\(en) count"), t("\(zh)基数", "\(en) base"), t("\(zh)率(%)", "\(en) rate (%)")]
        }
        header += [
            t("帮扶已完成", "aid done"), t("帮扶进行中", "aid open"), t("帮扶逾期", "aid overdue"), t("帮扶已取消", "aid cancelled"),
            t("错档", "wrong"), t("重复", "twice"), t("待审核冲突", "review conflicts"), t("待审核重复", "review duplicates"),
            t("被拒绝修改", "review rejections"), t("低于低保标准", "below minimum living"),
        ]
        header += HardshipCause.allCases.map { t("致困原因：\($0.chineseLabel)", "cause: \($0.englishLabel)") }

        var rows = [header]
        for section in report.districts + [report.total] {
            var row = [section.district ?? "", section.district == nil ? t("合计", "Total") : section.name.text(language), String(section.households)]
            for status in HouseholdStatus.allCases {
                row += [String(section.filesByStatus.now[status]), String(section.filesByStatus.atStart[status])]
            }
            row.append(String(section.filesByStatus.createdSinceStart))
            for ratio in [section.visitCoverage.rate, section.exitRate, section.resolvedRate] {
                row += [String(ratio.numerator), String(ratio.denominator), ratio.perMille.map { "\($0 / 10).\($0 % 10)" } ?? ""]
            }
            row += [
                section.assistance.done, section.assistance.open, section.assistance.overdue, section.assistance.cancelled,
                section.wrong, section.twice, section.review.conflicts, section.review.duplicates, section.review.rejections,
                section.belowMinimumLiving,
            ].map(String.init)
            row += HardshipCause.allCases.map { String(section.causes[$0.rawValue] ?? 0) }
            rows.append(row)
        }
        return CSVWriter.document(rows)
    }
}
