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
            abstract: "Dashboard accounts: add, list, disable, enable, set a password.",
            discussion: """
                The office dashboard (https://SERVER/dashboard) is for office and city staff. An office \
                manages its own district's office accounts; the city (its admin token) manages all, and \
                creates city accounts. Passwords are typed at a hidden prompt, read from stdin with \
                --password-stdin, or taken from DOORSTEP_PASSWORD (for scripts); never from a flag.

                Example:
                  doorstep admin users add wang.li --district 150602
                """,
            subcommands: [Add.self, List.self, Disable.self, Enable.self, Password.self],
            defaultSubcommand: List.self
        )
    }
}

extension Admin.Users {
    struct Add: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a dashboard account (an office's, or with the city's token, a city's).",
            discussion: """
                The name has 2 to 64 characters of a-z, 0-9, '.', '_' and '-'. The password (at least \
                10 characters) is asked twice at a hidden prompt; or --password-stdin reads one line, \
                or DOORSTEP_PASSWORD holds it. With an office's token the district defaults to the \
                office's own. With --json: the account, keys name, role, district, createdBy, \
                createdAt, passwordChangedAt (never the password).

                Examples:
                  doorstep admin users add wang.li --district 150602
                  printf '%s\\n' "$PASSWORD" | doorstep admin users add city.zhao --role city --password-stdin \\
                    --server https://doorstep.example.cn --token …
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The sign-in name, e.g. wang.li.")
        var name: String

        @Option(help: "office (one district) or city (every district; the city's token only).")
        var role: String = "office"

        @Option(help: "The office account's district (code, e.g. 150602); default: the office's own.")
        var district: String?

        @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of stdin.")
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
                facts.add(console.t("登录地址", "sign in at"), session.server.appendingPathComponent("dashboard/signin").absoluteString)
                return console.t("已创建看板账号：", "Dashboard account created:") + "\n" + facts.render(indent: "  ")
            }
        }
    }

    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the dashboard accounts (an office sees its district's; the city sees all, or names one).",
            discussion: """
                With --json: an array, keys name, role, district, createdBy, createdAt, passwordChangedAt, \
                disabledAt (present only when disabled).

                Example:
                  doorstep admin users list --district 150602
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this district (the city's token sees every district).")
        var district: String?

        func run() async throws {
            let district = try global.district(self.district)
            let session = try await global.office()
            let accounts = try await session.client.users(district: district)
            let console = global.console
            let format = global.format
            try console.output(accounts) {
                guard !accounts.isEmpty else { return console.t("没有看板账号。", "No dashboard accounts.") }
                var table = Table(titles: [
                    console.t("账号", "name"), console.t("角色", "role"), console.t("旗区", "district"), console.t("创建人", "created by"),
                    console.t("创建时间", "created"), console.t("密码设置时间", "password set"), console.t("状态", "state"),
                ])
                for account in accounts {
                    table.add([
                        account.name, account.role.label(console.language), account.district.map(format.district) ?? console.t("全市", "every district"),
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
            abstract: "Disable a dashboard account: its sessions end at once and it can no longer sign in.",
            discussion: """
                The account keeps its name and history; `admin users enable` lets it sign in again. \
                With --json: the account (keys as in `admin users list`).

                Example:
                  doorstep admin users disable wang.li
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The account's sign-in name.")
        var name: String

        func run() async throws {
            let session = try await global.office()
            let account = try await session.client.disableUser(name)
            let console = global.console
            try console.output(account) {
                console.t(
                    "已停用看板账号「\(account.name)」：它的会话已全部结束，不能再登录。",
                    "Disabled dashboard account \"\(account.name)\": its sessions have ended and it can no longer sign in.")
            }
        }
    }

    struct Enable: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled dashboard account again.",
            discussion: """
                With --json: the account (keys as in `admin users list`).

                Example:
                  doorstep admin users enable wang.li
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The account's sign-in name.")
        var name: String

        func run() async throws {
            let session = try await global.office()
            let account = try await session.client.enableUser(name)
            let console = global.console
            try console.output(account) {
                console.t(
                    "已启用看板账号「\(account.name)」，可以用原密码登录。",
                    "Enabled dashboard account \"\(account.name)\"; it signs in with its password.")
            }
        }
    }

    struct Password: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a dashboard account's password (a forgotten or leaked one).",
            discussion: """
                The new password (at least 10 characters) is asked twice at a hidden prompt; or \
                --password-stdin reads one line, or DOORSTEP_PASSWORD holds it. The account's sessions \
                end at once; a disabled account stays disabled. With --json: the account (keys as in \
                `admin users list`).

                Example:
                  doorstep admin users password wang.li
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The account's sign-in name.")
        var name: String

        @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of stdin.")
        var passwordStdin = false

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let password = try PasswordInput.read(fromStdin: passwordStdin, console: console)
            let account = try await session.client.setPassword(name, password: password)
            try console.output(account) {
                console.t(
                    "已为看板账号「\(account.name)」设置新密码；它此前的会话已全部结束。",
                    "Set a new password for dashboard account \"\(account.name)\"; its sessions have ended.")
                    + (account.isDisabled ? console.t("该账号仍处于停用状态。", " The account is still disabled.") : "")
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
                    "missingField", "标准输入中没有密码（--password-stdin 读取第一行）",
                    "no password on stdin (--password-stdin reads its first line)")
            }
            return line
        }
        if let password = ProcessInfo.processInfo.environment[environmentVariable], !password.isEmpty {
            return password
        }
        guard Console.stdinIsTerminal else {
            throw console.failure(
                "missingField", "需要密码：在终端中运行以输入密码，或使用 --password-stdin 或环境变量 \(environmentVariable)",
                "a password is needed: run this in a terminal to type it, or use --password-stdin or \(environmentVariable)")
        }
        for _ in 0..<3 {
            let first = try hidden(console.t("新密码（输入时不显示）：", "New password (not shown): "), console)
            if first.isEmpty { continue }
            let second = try hidden(console.t("再输入一次：", "Type it again: "), console)
            if first == second { return first }
            console.note(console.t("两次输入的密码不一致，请重新输入。", "The two passwords differ; type them again."))
        }
        throw console.failure("invalidValue", "两次输入的密码不一致", "the passwords typed did not match")
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
