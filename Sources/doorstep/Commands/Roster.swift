import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Roster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare with the civil-affairs roster (数据比对).",
        discussion: """
            Example:
              doorstep roster compare minzheng-2020-04.csv --district 150602
            """,
        subcommands: [Compare.self]
    )
}

extension Roster {
    struct Compare: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match a roster CSV with the files on record by national ID; changes nothing.",
            discussion: """
                Lists roster people with no file, files the roster does not list, disagreements (name; \
                an allowance paid to a household out of hardship or closed) and unreadable rows. \
                With --json: the server's RosterReport, keys inRosterNotOnFile, onFileNotInRoster, \
                disagreements, rosterRows, invalidRows, rowsOutsideScope.

                Example:
                  doorstep roster compare minzheng-2020-04.csv --district 150602
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The roster, a CSV file (national ID, name, allowance, …).")
        var file: String

        @Option(help: "Only this district (an office sees its own).")
        var district: String?

        func run() async throws {
            let console = global.console
            let data = try Files.read(file, console: console)
            let session = try await global.office()
            let report = try await session.client.compareRoster(data, district: try global.district(district))
            try console.output(report) { render(report) }
        }

        private func render(_ report: RosterReport) -> String {
            let console = global.console
            let format = global.format
            var parts: [String] = []
            var facts = FactList()
            facts.add(console.t("名单行数", "roster rows"), String(report.rosterRows))
            facts.add(console.t("名单有、档案无", "in roster, not on file"), String(report.inRosterNotOnFile.count))
            facts.add(console.t("档案有、名单无", "on file, not in roster"), String(report.onFileNotInRoster.count))
            facts.add(console.t("不一致", "disagreements"), String(report.disagreements.count))
            facts.add(console.t("无法读取的行", "unreadable rows"), String(report.invalidRows.count))
            facts.add(console.t("范围外的行", "rows outside the scope"), String(report.rowsOutsideScope))
            parts.append(console.t("比对结果（未修改任何数据）：", "Comparison (nothing was changed):") + "\n" + facts.render(indent: "  "))
            if !report.inRosterNotOnFile.isEmpty {
                var table = Table(titles: [
                    console.t("行", "line"), console.t("身份证号", "national ID"), console.t("姓名", "name"),
                    console.t("低保金", "allowance"), console.t("旗区", "district"),
                ])
                for person in report.inRosterNotOnFile {
                    table.add([
                        String(person.line), person.nationalIdMasked, person.name, person.allowanceFen.map(format.money) ?? "-",
                        format.district(person.district),
                    ])
                }
                parts.append(console.t("名单有、档案无", "In the roster, not on file") + "\n" + table.render())
            }
            if !report.onFileNotInRoster.isEmpty {
                var table = Table(titles: [
                    console.t("户", "household"), console.t("户主", "head"), console.t("身份证号", "national ID"), console.t("状态", "status"),
                    console.t("旗区", "district"),
                ])
                for household in report.onFileNotInRoster {
                    table.add([
                        Format.short(household.household), household.headName ?? "-", household.nationalIdMasked, format.status(household.status),
                        format.district(household.district),
                    ])
                }
                parts.append(console.t("档案有、名单无", "On file, not in the roster") + "\n" + table.render())
            }
            if !report.disagreements.isEmpty {
                var table = Table(titles: [
                    console.t("行", "line"), console.t("户", "household"), console.t("身份证号", "national ID"),
                    console.t("项目", "field"), console.t("档案", "on file"), console.t("名单", "roster"),
                ])
                for item in report.disagreements {
                    let onFile = item.field == "status" ? format.value(item.onFile, field: "status", kind: .household) : format.describe(item.onFile)
                    let inRoster =
                        item.field == "status" ? (item.inRoster.intValue.map(format.money) ?? format.describe(item.inRoster)) : format.describe(item.inRoster)
                    table.add([
                        String(item.line), Format.short(item.household), item.nationalIdMasked, Strings.field(item.field, of: .household, console.language),
                        onFile, inRoster,
                    ])
                }
                parts.append(console.t("不一致", "Disagreements") + "\n" + table.render())
            }
            if !report.invalidRows.isEmpty {
                var table = Table(titles: [console.t("行", "line"), console.t("说明", "problem")])
                for row in report.invalidRows { table.add([String(row.line), row.message]) }
                parts.append(console.t("无法读取的行", "Unreadable rows") + "\n" + table.render())
            }
            return parts.joined(separator: "\n\n")
        }
    }
}
