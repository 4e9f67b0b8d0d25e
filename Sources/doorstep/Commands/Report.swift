import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Report: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.report.theCampaignReportFilesBy"),
        discussion: Help.text("help.report.anOfficeSeesItsDistrict")
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: .text("help.report.onlyThisDistrictCode"))
    var district: String?

    @Option(help: .text("help.report.theCampaignIdDefaultThe"))
    var campaign: String?

    @Option(help: .text("help.report.reportAsOfThisDay"))
    var today: String?

    @Option(help: ArgumentHelp(Help.text("help.report.alsoWriteTheReportTo"), valueName: "file"))
    var csv: String?

    @Option(name: .customLong("weeks-csv"), help: ArgumentHelp(Help.text("help.report.weeksCsv"), valueName: "file"))
    var weeksCSV: String?

    @Option(help: .text("help.report.lists"))
    var lists: Int = 20

    func validate() throws {
        if let today, (try? LocalDate(today)) == nil {
            throw Usage.error("cli.report.todayTakesADateYyyy", ["today": "\(today)"])
        }
    }

    func run() async throws {
        let console = global.console
        let session = try await global.office()
        var report = try await session.client.report(district: try global.district(district), campaign: campaign, today: today, lists: max(0, lists))
        report.limitLists(to: lists)  // a server before 1.6 lists every household
        let view = ReportView(format: global.format)
        try console.output(report) { view.render(report) }
        if let csv {
            try Files.write(view.csv(report), to: csv, console: console)
            console.note(console.t("cli.report.wroteUtf8WithBom", ["csv": "\(csv)"]))
        }
        if let weeksCSV {
            try Files.write(view.weeksCSV(report), to: weeksCSV, console: console)
            console.note(console.t("cli.report.wroteUtf8WithBom", ["csv": "\(weeksCSV)"]))
        }
    }
}
