import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Report: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: "The campaign report (督查考核): files by status, visit coverage, exit rates, assistance.",
        discussion: """
            An office sees its district, the city every district (or the one it names). --today asks \
            "as of" another day (it picks the stage and which items are overdue). --csv also writes one \
            row per district and the total to a CSV file, UTF-8 with a byte-order mark so that Excel \
            opens it with the Chinese intact; its header follows --lang. \
            With --json: the protocol's CampaignReport, keys campaign, today, stage, districts, total \
            (each section: district, name, households, filesByStatus, visitCoverage, exitRate, \
            resolvedRate, assistance, causes, wrong, wrongHouseholds, twice, review, \
            belowMinimumLiving, devices, clockFlaggedDevices; rates as numerator, denominator, perMille).

            Examples:
              doorstep report --district 150602
              doorstep report --today 2020-05-31 --csv report-2020-05-31.csv
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only this district (code).")
    var district: String?

    @Option(help: "The campaign's id (default: the one under way, else the latest).")
    var campaign: String?

    @Option(help: "Report as of this day, YYYY-MM-DD (default: today in the city's time zone).")
    var today: String?

    @Option(help: ArgumentHelp("Also write the report to this CSV file (UTF-8 with BOM, for Excel).", valueName: "file"))
    var csv: String?

    func validate() throws {
        if let today, (try? LocalDate(today)) == nil {
            throw Usage.error("--today 应为日期，如 2020-04-12，不能是 \(today)", "--today takes a date YYYY-MM-DD, not \(today)")
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
            console.note(console.t("已写入 \(csv)（UTF-8 带 BOM，可用 Excel 打开）。", "Wrote \(csv) (UTF-8 with BOM, opens in Excel)."))
        }
    }
}
