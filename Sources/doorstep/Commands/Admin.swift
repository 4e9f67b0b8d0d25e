import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Office administration: enrollment codes, importing files, devices, dashboard accounts.",
        discussion: """
            These commands need an office device (enrolled with an office code) or a token: \
            --token / DOORSTEP_TOKEN with --server.

            Examples:
              doorstep admin enroll-code --district 150602 --role visitor
              doorstep admin users add wang.li --district 150602
            """,
        subcommands: [EnrollCode.self, Import.self, Devices.self, Users.self]
    )
}

extension Admin {
    struct EnrollCode: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll-code",
            abstract: "Issue a one-time enrollment code for a visitor's or an office's device.",
            discussion: """
                Prints the code, its expiry, and the one command the visitor types on the new device. \
                With --json: keys code, expiresAt, district, role, server, command.

                Examples:
                  doorstep admin enroll-code --district 150602 --role visitor
                  doorstep admin enroll-code --district 150602 --role office --hours 4 \\
                    --server https://doorstep.example.cn --token …
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The district the device will serve (code, e.g. 150602); omit for a city device.")
        var district: String?

        @Option(help: "visitor, office (or city, with the city's token).")
        var role: String = "visitor"

        @Option(help: "Hours until the code expires (default: the server's).")
        var hours: Int?

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
            let code = try await session.client.createEnrollmentCode(district: district, role: role, expiresInHours: hours)
            let insecure = session.server.scheme == "http" && !GlobalOptions.isLoopback(session.server)
            let command = "doorstep enroll --server \(session.server.absoluteString) --code \(code.code)" + (insecure ? " --insecure" : "")
            let result = Result(
                code: code.code, expiresAt: code.expiresAt, district: code.district, role: code.role,
                server: session.server.absoluteString, command: command)
            let format = global.format
            try console.output(result) {
                var facts = FactList()
                facts.add(console.t("登记码", "code"), code.code)
                facts.add(console.t("有效期至", "expires"), format.time(code.expiresAt))
                facts.add(console.t("角色", "role"), code.role.label(console.language))
                facts.add(console.t("旗区", "district"), code.district.map(format.district) ?? console.t("全市", "every district"))
                return facts.render() + "\n" + console.t("在新设备上运行：", "On the new device, run:") + "\n  " + command
            }
        }
    }

    struct Import: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import existing household files (CSV as Excel saves it, or JSON).",
            discussion: """
                The content type comes from the extension: .csv or .json. --check is a dry run that lists \
                every row's problem with its line number. A file with problems imports nothing unless \
                --accept-valid (then the valid rows are imported and the others listed). Exits 1 when \
                problems were found and nothing was imported because of them. \
                With --json: the server's report, keys imported, skipped, dryRun, errors [{line, field, \
                code, message}], error (when the file was refused as a whole).

                Examples:
                  doorstep admin import households.csv --check
                  doorstep admin import households.csv --accept-valid
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The file: .csv or .json.")
        var file: String

        @Flag(help: "Dry run: check every row, import nothing.")
        var check = false

        @Flag(name: .customLong("accept-valid"), help: "Import the valid rows even when others have problems.")
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
                throw Usage.error("文件名须以 .csv 或 .json 结尾", "the file must end in .csv or .json")
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
            let imported = report.dryRun ? console.t("可导入", "would import") : console.t("已导入", "imported")
            facts.add(imported, console.t("\(report.imported) 户", "\(report.imported)"))
            facts.add(console.t("已在档（跳过）", "already on file (skipped)"), console.t("\(report.skipped) 户", "\(report.skipped)"))
            facts.add(console.t("问题", "problems"), console.t("\(report.errors.count) 处", "\(report.errors.count)"))
            var text =
                (report.dryRun ? console.t("检查结果（未导入任何数据）：", "Check (nothing imported):") : console.t("导入结果：", "Import:"))
                + "\n" + facts.render(indent: "  ")
            if !report.errors.isEmpty {
                var table = Table([
                    .init(title: console.t("行", "line"), numeric: true), .init(title: console.t("字段", "field")),
                    .init(title: console.t("代码", "code")), .init(title: console.t("说明", "message")),
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
            abstract: "The enrolled devices: list them, revoke one.",
            discussion: """
                Example:
                  doorstep admin devices revoke 3f2a9c1e
                """,
            subcommands: [List.self, Revoke.self],
            defaultSubcommand: List.self
        )
    }
}
