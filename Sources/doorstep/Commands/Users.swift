import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Admin {
    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.users.dashboardAccountsAddListDisable"),
            discussion: Help.text("help.users.theOfficeDashboardHttpsServer"),
            subcommands: [Add.self, List.self, Disable.self, Enable.self, Password.self],
            defaultSubcommand: List.self
        )
    }
}

extension Admin.Users {
    struct Add: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.users.createADashboardAccountAn"),
            discussion: Help.text("help.users.theNameHas2To")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.users.theSignInNameE"))
        var name: String

        @Option(help: .text("help.users.officeOneDistrictOrCity"))
        var role: String = "office"

        @Option(help: .text("help.users.theOfficeAccountDistrictCode"))
        var district: String?

        @Flag(name: .customLong("password-stdin"), help: .text("help.users.readThePasswordFromThe"))
        var passwordStdin = false

        func run() async throws {
            let console = global.console
            guard
                let role = Role.allCases.first(where: {
                    $0 != .visitor && ($0.rawValue == role || $0.chineseLabel == role || $0.englishLabel == role.lowercased())
                })
            else {
                throw DoorstepError(.invalidValue, "--role must be office or city")
            }
            let district = try global.district(self.district)
            let session = try await global.office()
            let password = try PasswordInput.read(fromStdin: passwordStdin, console: console)
            let account = try await session.client.createUser(name: name, password: password, role: role, district: district)
            let format = global.format
            try console.output(account) {
                var facts = Strings.accountFacts(account, format: format)
                facts.add(console.t("cli.users.signInAt"), session.server.appendingPathComponent("dashboard/signin").absoluteString)
                return console.t("cli.users.dashboardAccountCreated") + "\n" + facts.render(indent: "  ")
            }
        }
    }

    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.users.listTheDashboardAccountsAn"),
            discussion: Help.text("help.users.withJsonAnArrayKeys")
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.devices.onlyThisDistrictTheCity"))
        var district: String?

        func run() async throws {
            let district = try global.district(self.district)
            let session = try await global.office()
            let accounts = try await session.client.users(district: district)
            let console = global.console
            let format = global.format
            try console.output(accounts) {
                guard !accounts.isEmpty else { return console.t("cli.users.noDashboardAccounts") }
                var table = Table(titles: [
                    console.t("cli.common.name2"), console.t("cli.common.role"), console.t("cli.common.district"), console.t("cli.users.createdBy"),
                    console.t("cli.users.created"), console.t("cli.users.passwordSet"), console.t("cli.common.state"),
                ])
                for account in accounts {
                    table.add([
                        account.name, account.role.label(console.language), account.district.map(format.district) ?? console.t("cli.common.everyDistrict"),
                        account.createdBy, format.time(account.createdAt), format.time(account.passwordChangedAt),
                        Strings.accountState(account, format: format),
                    ])
                }
                return table.render()
            }
        }
    }

    struct Disable: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.users.disableADashboardAccountIts"),
            discussion: Help.text("help.users.theAccountKeepsItsName")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.users.theAccountSignInName"))
        var name: String

        func run() async throws {
            let session = try await global.office()
            let account = try await session.client.disableUser(name)
            let console = global.console
            try console.output(account) {
                console.t(
                    "cli.users.disabledDashboardAccountItsSessions", ["name": "\(account.name)"])
            }
        }
    }

    struct Enable: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.users.enableADisabledDashboardAccount"),
            discussion: Help.text("help.users.withJsonTheAccountKeys")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.users.theAccountSignInName"))
        var name: String

        func run() async throws {
            let session = try await global.office()
            let account = try await session.client.enableUser(name)
            let console = global.console
            try console.output(account) {
                console.t(
                    "cli.users.enabledDashboardAccountItSigns", ["name": "\(account.name)"])
            }
        }
    }

    struct Password: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.users.setADashboardAccountPassword"),
            discussion: Help.text("help.users.theNewPasswordAtLeast")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.users.theAccountSignInName"))
        var name: String

        @Flag(name: .customLong("password-stdin"), help: .text("help.users.readThePasswordFromThe"))
        var passwordStdin = false

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let password = try PasswordInput.read(fromStdin: passwordStdin, console: console)
            let account = try await session.client.setPassword(name, password: password)
            try console.output(account) {
                console.t(
                    "cli.users.setANewPasswordFor", ["name": "\(account.name)"])
                    + (account.isDisabled ? console.t("cli.users.theAccountIsStillDisabled") : "")
            }
        }
    }
}

/// Where a password comes from: never a command-line flag (it would stay in the shell's history
/// and in `ps`), but stdin (`--password-stdin`), `DOORSTEP_PASSWORD`, or a prompt on a terminal
/// that does not echo what is typed.
enum PasswordInput {
    /// The environment variable a script may set instead.
    static let environmentVariable = "DOORSTEP_PASSWORD"

    /// The password: stdin's first line with `fromStdin`, else `DOORSTEP_PASSWORD`, else typed
    /// twice at a hidden prompt when stdin is a terminal; `missingField` otherwise.
    static func read(fromStdin: Bool, console: Console) throws -> String {
        if fromStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw console.failure(
                    "missingField", "cli.error.missingField.noPasswordOnStdin")
            }
            return line
        }
        if let password = ProcessInfo.processInfo.environment[environmentVariable], !password.isEmpty {
            return password
        }
        guard Console.stdinIsTerminal else {
            throw console.failure(
                "missingField", "cli.error.missingField.aPasswordIsNeeded", ["environmentVariable": "\(environmentVariable)"])
        }
        for _ in 0..<3 {
            let first = try hidden(console.t("cli.users.newPasswordNotShown"), console)
            if first.isEmpty { continue }
            let second = try hidden(console.t("cli.users.typeItAgain"), console)
            if first == second { return first }
            console.note(console.t("cli.users.theTwoPasswordsDifferType"))
        }
        throw console.failure("invalidValue", "cli.error.invalidValue.thePasswordsTypedDid")
    }

    /// One line from the terminal with its echo turned off (and back on, even after Ctrl-C).
    static func hidden(_ prompt: String, _ console: Console) throws -> String {
        Console.write(prompt, to: .standardError)
        var original = termios()
        let canHide = tcgetattr(STDIN_FILENO, &original) == 0
        if canHide {
            savedTerminal = original
            var quiet = original
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ECHONL)
            signal(SIGINT) { _ in
                var restore = savedTerminal
                tcsetattr(STDIN_FILENO, TCSANOW, &restore)
                _exit(130)
            }
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if canHide {
                tcsetattr(STDIN_FILENO, TCSANOW, &original)
                signal(SIGINT, SIG_DFL)
            }
        }
        guard let line = readLine(strippingNewline: true) else {
            throw DoorstepError(.init("inputEnded"), "the input ended before the password was typed")
        }
        return line
    }
}

/// The terminal's settings while a password is typed, for the Ctrl-C handler to put back.
nonisolated(unsafe) private var savedTerminal = termios()
