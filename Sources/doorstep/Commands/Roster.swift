import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Roster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.roster.compareWithTheCivilAffairs"),
        discussion: Help.text("help.roster.exampleDoorstepRosterCompareMinzheng"),
        subcommands: [Compare.self]
    )
}

extension Roster {
    struct Compare: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.roster.matchARosterCsvWith"),
            discussion: Help.text("help.roster.listsRosterPeopleWithNo")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.roster.theRosterACsvFile"))
        var file: String

        @Option(help: .text("help.roster.onlyThisDistrictAnOffice"))
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
            facts.add(console.t("cli.roster.rosterRows"), String(report.rosterRows))
            facts.add(console.t("cli.roster.inRosterNotOnFile"), String(report.inRosterNotOnFile.count))
            facts.add(console.t("cli.roster.onFileNotInRoster"), String(report.onFileNotInRoster.count))
            facts.add(console.t("cli.roster.disagreements2"), String(report.disagreements.count))
            facts.add(console.t("cli.roster.unreadableRows2"), String(report.invalidRows.count))
            facts.add(console.t("cli.roster.rowsOutsideTheScope"), String(report.rowsOutsideScope))
            parts.append(console.t("cli.roster.comparisonNothingWasChanged") + "\n" + facts.render(indent: "  "))
            if !report.inRosterNotOnFile.isEmpty {
                var table = Table(titles: [
                    console.t("cli.common.line"), console.t("cli.common.nationalId"), console.t("cli.roster.name"),
                    console.t("cli.roster.allowance"), console.t("cli.common.district"),
                ])
                for person in report.inRosterNotOnFile {
                    table.add([
                        String(person.line), person.nationalIdMasked, person.name, person.allowanceFen.map(format.money) ?? "-",
                        format.district(person.district),
                    ])
                }
                parts.append(console.t("cli.roster.inTheRosterNotOn") + "\n" + table.render())
            }
            if !report.onFileNotInRoster.isEmpty {
                var table = Table(titles: [
                    console.t("cli.common.household"), console.t("cli.common.head"), console.t("cli.common.nationalId"), console.t("cli.common.status"),
                    console.t("cli.common.district"),
                ])
                for household in report.onFileNotInRoster {
                    table.add([
                        Format.short(household.household), household.headName ?? "-", household.nationalIdMasked, format.status(household.status),
                        format.district(household.district),
                    ])
                }
                parts.append(console.t("cli.roster.onFileNotInThe") + "\n" + table.render())
            }
            if !report.disagreements.isEmpty {
                var table = Table(titles: [
                    console.t("cli.common.line"), console.t("cli.common.household"), console.t("cli.common.nationalId"),
                    console.t("cli.roster.field"), console.t("cli.roster.onFile"), console.t("cli.roster.roster"),
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
                parts.append(console.t("cli.roster.disagreements") + "\n" + table.render())
            }
            if !report.invalidRows.isEmpty {
                var table = Table(titles: [console.t("cli.common.line"), console.t("cli.roster.problem")])
                for row in report.invalidRows { table.add([String(row.line), row.message]) }
                parts.append(console.t("cli.roster.unreadableRows") + "\n" + table.render())
            }
            return parts.joined(separator: "\n\n")
        }
    }
}
