import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.admin.officeAdministrationEnrollmentCodesImporting"),
        discussion: Help.text("help.admin.theseCommandsNeedAnOffice"),
        subcommands: [EnrollCode.self, Import.self, Devices.self, Users.self, Campaigns.self, Relays.self]
    )
}

extension Admin {
    struct EnrollCode: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll-code",
            abstract: Help.text("help.admin.issueAOneTimeEnrollment"),
            discussion: Help.text("help.admin.printsTheCodeItsExpiry")
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.admin.theDistrictTheDeviceWill"))
        var district: String?

        @Option(help: .text("help.admin.visitorOfficeOrCityWith"))
        var role: String = "visitor"

        @Option(help: .text("help.admin.hoursUntilTheCodeExpires"))
        var hours: Int?

        @Option(help: .text("help.admin.relayCode"))
        var relay: String?

        /// The `--json` answer.
        struct Result: Encodable {
            var code: String
            var expiresAt: String
            var district: String?
            var role: Role
            var server: String
            /// The command to type on the new device.
            var command: String
        }

        func run() async throws {
            let console = global.console
            guard let role = Role.allCases.first(where: { $0.rawValue == role || $0.chineseLabel == role || $0.englishLabel == role.lowercased() }) else {
                throw DoorstepError(.invalidValue, "--role must be one of: visitor, office, city")
            }
            let district = try global.district(self.district)
            let session = try await global.office()
            let code = try await session.client.createEnrollmentCode(district: district, role: role, expiresInHours: hours, relay: relay)
            let insecure = session.server.scheme == "http" && !GlobalOptions.isLoopback(session.server)
            // A relay's code is typed at the relay (its address on the office's network), not the city's.
            let command =
                relay == nil
                ? "doorstep enroll --server \(session.server.absoluteString) --code \(code.code)" + (insecure ? " --insecure" : "")
                : "doorstep enroll --server http://RELAY-ADDRESS:8080 --code \(code.code)"
            let result = Result(
                code: code.code, expiresAt: code.expiresAt, district: code.district, role: code.role,
                server: session.server.absoluteString, command: command)
            let format = global.format
            try console.output(result) {
                var facts = FactList()
                facts.add(console.t("cli.admin.code"), code.code)
                facts.add(console.t("cli.admin.expires"), format.time(code.expiresAt))
                facts.add(console.t("cli.common.role"), code.role.label(console.language))
                facts.add(console.t("cli.common.district"), code.district.map(format.district) ?? console.t("cli.common.everyDistrict"))
                return facts.render() + "\n" + console.t("cli.admin.onTheNewDeviceRun") + "\n  " + command
            }
        }
    }

    struct Import: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.admin.importExistingHouseholdFilesCsv"),
            discussion: Help.text("help.admin.theContentTypeComesFrom")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.admin.theFileCsvOrJson"))
        var file: String

        @Flag(help: .text("help.admin.dryRunCheckEveryRow"))
        var check = false

        @Flag(name: .customLong("accept-valid"), help: .text("help.admin.importTheValidRowsEven"))
        var acceptValid = false

        func run() async throws {
            let console = global.console
            let lowered = file.lowercased()
            let type: String
            if lowered.hasSuffix(".csv") {
                type = "text/csv"
            } else if lowered.hasSuffix(".json") {
                type = "application/json"
            } else {
                throw Usage.error("cli.admin.theFileMustEndIn")
            }
            let data = try Files.read(file, console: console)
            let session = try await global.office()
            let report = try await session.client.importHouseholds(data, contentType: type, check: check, acceptValid: acceptValid)
            try console.output(report) { render(report) }
            if let refusal = report.error {
                throw DoorstepError(refusal.code, refusal.message, zh: refusal.messageZh)
            }
            if !report.errors.isEmpty && !acceptValid { throw ExitCode(ExitStatus.failure) }
        }

        private func render(_ report: ImportReport) -> String {
            let console = global.console
            var facts = FactList()
            let imported = report.dryRun ? console.t("cli.admin.wouldImport") : console.t("cli.admin.imported")
            facts.add(imported, console.t("cli.admin.nImported", ["imported": "\(report.imported)"]))
            facts.add(console.t("cli.admin.alreadyOnFileSkipped"), console.t("cli.admin.nSkipped", ["skipped": "\(report.skipped)"]))
            facts.add(console.t("cli.admin.problems"), console.t("cli.admin.nCount", ["count": "\(report.errors.count)"]))
            var text =
                (report.dryRun ? console.t("cli.admin.checkNothingImported") : console.t("cli.admin.import"))
                + "\n" + facts.render(indent: "  ")
            if !report.errors.isEmpty {
                var table = Table([
                    .init(title: console.t("cli.common.line"), numeric: true), .init(title: console.t("cli.common.field")),
                    .init(title: console.t("cli.common.code")), .init(title: console.t("cli.admin.message")),
                ])
                for issue in report.errors {
                    let field = issue.field.map { "\(Strings.field($0, of: .household, console.language)) [\($0)]" } ?? "-"
                    table.add([String(issue.line), field, issue.code.rawValue, issue.message(console.language)])
                }
                text += "\n\n" + table.render()
            }
            return text
        }
    }

    struct Devices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.admin.theEnrolledDevicesListThem"),
            discussion: Help.text("help.admin.exampleDoorstepAdminDevicesRevoke"),
            subcommands: [List.self, Revoke.self],
            defaultSubcommand: List.self
        )
    }
}
