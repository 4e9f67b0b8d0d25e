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

    func validate() throws {
        if let today, (try? LocalDate(today)) == nil {
            throw Usage.error("cli.report.todayTakesADateYyyy", ["today": "\(today)"])
        }
    }

    func run() async throws {
        let console = global.console
        let session = try await global.office()
        let report = try await session.client.report(district: try global.district(district), campaign: campaign, today: today)
        let view = ReportView(format: global.format)
        try console.output(report) { view.render(report) }
        if let csv {
            try Files.write(view.csv(report), to: csv, console: console)
            console.note(console.t("cli.report.wroteUtf8WithBom", ["csv": "\(csv)"]))
        }
    }
}
