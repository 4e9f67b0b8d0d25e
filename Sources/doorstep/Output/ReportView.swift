import DoorstepCore
import Foundation

/// The campaign report as terminal tables, and as a CSV file for Excel.
struct ReportView {
    let format: Format

    private var language: Language { format.language }
    private func t(_ key: String, _ values: [String: String] = [:]) -> String { format.t(key, values) }

    private func rate(_ ratio: CampaignReport.Ratio) -> String {
        "\(Format.percent(ratio.perMille)) (\(ratio.numerator)/\(ratio.denominator))"
    }

    private func name(_ section: CampaignReport.Section) -> String {
        section.district.map { "\(section.name.text(language)) \($0)" } ?? t("cli.reportView.total")
    }

    func render(_ report: CampaignReport) -> String {
        var parts: [String] = []
        var title = "\(report.campaign.name.text(language)) · \(t("cli.reportView.asOf")) \(report.today)"
        if let stage = report.stage {
            title +=
                " · \(stage.name.text(language))"
                + t(
                    "cli.reportView.toDaysLeft", ["daysLeft": "\(stage.daysLeft)", "end": "\(stage.end)", "start": "\(stage.start)"])
        }
        parts.append(title)
        if let end = report.campaign.end, end < report.today {
            // No campaign is under way: say so, rather than show last year's title as if current.
            parts.append(
                t("cli.reportView.noCampaignUnderWay", ["end": "\(end)", "campaign": report.campaign.name.text(language)]))
        } else if let start = report.campaign.start, report.today < start {
            parts.append(t("cli.reportView.campaignNotBegun", ["start": "\(start)", "campaign": report.campaign.name.text(language)]))
        }
        let sections = report.districts + [report.total]

        var files = Table(
            [.init(title: t("cli.common.district")), .init(title: t("cli.reportView.households"), numeric: true)]
                + HouseholdStatus.allCases.map { Table.Column(title: $0.label(language), numeric: true) }
                + [.init(title: t("cli.reportView.newSinceStart"), numeric: true)])
        for section in sections {
            let counts = HouseholdStatus.allCases.map { "\(section.filesByStatus.now[$0]) / \(section.filesByStatus.atStart[$0])" }
            files.add([name(section), String(section.households)] + counts + [String(section.filesByStatus.createdSinceStart)])
        }
        parts.append(t("cli.reportView.filesByStatusNowAt") + "\n" + files.render())

        var progress = Table([
            .init(title: t("cli.common.district")), .init(title: t("cli.reportView.visitCoverage"), numeric: true),
            .init(title: t("cli.reportView.exitRate"), numeric: true), .init(title: t("cli.reportView.resolvedRate"), numeric: true),
            .init(title: t("cli.reportView.aidDoneOpenOverdue"), numeric: true), .init(title: t("cli.reportView.wrong2"), numeric: true),
            .init(title: t("cli.reportView.twice"), numeric: true), .init(title: t("cli.reportView.reviewCDR"), numeric: true),
            .init(title: t("cli.reportView.belowMinimum"), numeric: true),
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
        parts.append(t("cli.reportView.progress") + "\n" + progress.render())

        var causes = Table([.init(title: t("cli.reportView.primaryCause")), .init(title: t("cli.reportView.households"), numeric: true)])
        for cause in HardshipCause.allCases {
            causes.add([cause.label(language), String(report.total.causes[cause.rawValue] ?? 0)])
        }
        parts.append(t("cli.reportView.causesTotalClosedFilesExcluded") + "\n" + causes.render())

        if let total = report.total.weeks, total.contains(where: { $0.visits + $0.outOfHardship + $0.safetyNet > 0 }) {
            var weeks = Table([
                .init(title: t("cli.reportView.week")), .init(title: t("cli.reportView.homeVisits"), numeric: true),
                .init(title: HouseholdStatus.outOfHardship.label(language), numeric: true),
                .init(title: HouseholdStatus.safetyNet.label(language), numeric: true),
            ])
            for week in total where week.week <= report.today {
                weeks.add([week.week.description, String(week.visits), String(week.outOfHardship), String(week.safetyNet)])
            }
            parts.append(t("cli.reportView.weeks") + "\n" + weeks.render())
        }

        for (title, list, total) in [
            (t("cli.reportView.missedNotVisitedAtHome"), report.total.visitCoverage.missed, report.total.visitCoverage.missedCount),
            (t("cli.reportView.wrongNotEligibleStillFiled"), report.total.wrongHouseholds, report.total.wrong),
        ] where !list.isEmpty {
            var table = Table(titles: [t("cli.common.household"), t("cli.common.head"), t("cli.common.nationalId"), t("cli.common.status")])
            for item in list { table.add([Format.short(item.household), item.headName ?? "-", item.nationalId, format.status(item.status)]) }
            let count = list.count < total ? t("cli.reportView.firstOf", ["total": "\(total)", "shown": "\(list.count)"]) : "\(list.count)"
            parts.append("\(title) (\(count))\n" + table.render())
        }

        if !report.total.devices.isEmpty {
            var table = Table(titles: [
                t("cli.common.device"), t("cli.common.name"), t("cli.common.district"), t("cli.common.lastSync"), t("cli.common.state"),
                t("cli.reportView.clock"),
            ])
            for device in report.total.devices {
                let state = device.revokedAt.map { t("cli.common.revoked") + format.time($0) } ?? t("cli.common.active")
                table.add([
                    Format.short(device.id), device.name, format.district(device.district), format.time(device.lastSyncAt), state,
                    device.clockFlagged ? t("cli.reportView.ahead") : "",
                ])
            }
            parts.append(t("cli.reportView.devices") + "\n" + table.render())
        }
        return parts.joined(separator: "\n\n")
    }

    /// The campaign week by week: a row per district and week, then the total's weeks, as
    /// ``csv(_:)`` writes its file.
    func weeksCSV(_ report: CampaignReport) -> Data {
        var rows = [
            [
                t("cli.reportView.districtCode"), t("cli.common.district"), t("cli.reportView.week"), t("cli.reportView.homeVisits"),
                HouseholdStatus.outOfHardship.label(language), HouseholdStatus.safetyNet.label(language),
            ]
        ]
        for section in report.districts + [report.total] {
            for week in section.weeks ?? [] {
                rows.append([
                    section.district ?? "", section.district == nil ? t("cli.reportView.total") : section.name.text(language), week.week.description,
                    String(week.visits), String(week.outOfHardship), String(week.safetyNet),
                ])
            }
        }
        return CSVWriter.document(rows)
    }

    /// One row per district and the total: UTF-8 with a byte-order mark and CRLF lines, so that
    /// Excel (as set up in China) opens it with the Chinese intact; the header in the chosen language.
    func csv(_ report: CampaignReport) -> Data {
        var header = [t("cli.reportView.districtCode"), t("cli.common.district"), t("cli.reportView.households")]
        for status in HouseholdStatus.allCases {
            let label = status.label(language)
            header += [t("cli.reportView.statusNow", ["status": label]), t("cli.reportView.statusAtStart", ["status": label])]
        }
        header += [t("cli.reportView.newSinceStart")]
        for rate in ["coverage", "exit", "resolved"] {
            header += [t("cli.reportView.csv.\(rate)Count"), t("cli.reportView.csv.\(rate)Base"), t("cli.reportView.csv.\(rate)Rate")]
        }
        header += [
            t("cli.reportView.aidDone"), t("cli.reportView.aidOpen"), t("cli.reportView.aidOverdue"), t("cli.reportView.aidCancelled"),
            t("cli.reportView.wrong"), t("cli.reportView.twice"), t("cli.reportView.reviewConflicts"), t("cli.reportView.reviewDuplicates"),
            t("cli.reportView.reviewRejections"), t("cli.reportView.belowMinimumLiving"),
        ]
        header += HardshipCause.allCases.map { t("cli.reportView.causeColumn", ["cause": $0.label(language)]) }

        var rows = [header]
        for section in report.districts + [report.total] {
            var row = [section.district ?? "", section.district == nil ? t("cli.reportView.total") : section.name.text(language), String(section.households)]
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
