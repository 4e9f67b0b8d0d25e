import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

@main
struct Doorstep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep",
        abstract: "Record hardship-relief home visits offline and sync them with a Doorstep server.",
        discussion: """
            Visitors record visits and household facts on their laptop, offline, and sync at day end. \
            Offices review conflicts and duplicates, decide statuses, import files and run reports, \
            with an office device (enrolled with an office code) or a token (--token or DOORSTEP_TOKEN).

            Messages and tables follow --lang zh|en, else the locale (LC_ALL, LANG). Errors are one line \
            on stderr: "错误 [code]: message" / "error [code]: message", the code from protocol/README.md. \
            With --json, stdout holds one JSON document (keys sorted; each command's help lists them).

            Exit codes (the same for every command):
              0   success
              1   refused or failed: the server refused it, a file could not be read,
                  nothing matched (the error line says why)
              3   the server could not be reached (serverUnreachable): sync, upload, report,
                  review and every other command that needs it; the work is kept on this
                  device, and office commands did nothing
              4   the quarantine is not empty after a sync: run `doorstep quarantine list`
              5   this device's access was revoked (deviceRevoked)
              64  usage error: an unknown option, a missing argument, options that exclude
                  each other
              65  a value is not valid (a typed amount, date, national ID, phone, district,
                  term; codes invalidValue, missingField, unknownField, invalidNationalId,
                  invalidPhone, negativeAmount, unknownDistrict), found on this computer or
                  by the server; nothing was changed

            Examples:
              doorstep enroll --server https://doorstep.example.cn --code 7KQ2-9M4P
              doorstep household new
              doorstep visit record 1a2b3c4d --conclusion eligible --verified income,cause
              doorstep sync
              doorstep status --lang en
            """,
        version: DoorstepVersion.string,
        subcommands: [
            Enroll.self, Households.self, Household.self, Visit.self, Assist.self, Sync.self, Status.self,
            EntryCommand<MemberEntry>.self, EntryCommand<LiaisonEntry>.self, EntryCommand<ProblemEntry>.self,
            Quarantine.self, BundleCommand.self, Upload.self, ServerCommand.self, Admin.self, Review.self, Roster.self, Report.self,
        ]
    )

    /// Parses, runs, and turns errors into one line and an exit code (ArgumentParser's own for usage).
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            usageExit(error)
        }
        do {
            var runnable = command
            if var asynchronous = runnable as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try runnable.run()
            }
        } catch let error as DoorstepError {
            let console = (command as? any DoorstepCommand)?.global.console ?? Console(language: Console.environmentLanguage, json: false)
            console.note(console.errorLine(error))
            exit(withError: ExitCode(ExitStatus.code(for: error)))
        } catch let error where error is ExitCode || error is CleanExit || error is ValidationError {
            usageExit(error)
        } catch {
            // Help and usage (a `HelpCommand`, a group without a subcommand) are the parser's to print.
            guard let console = (command as? any DoorstepCommand)?.global.console else { exit(withError: error) }
            console.note(console.errorLine(error))
            exit(withError: ExitCode(ExitStatus.failure))
        }
    }
}

extension Doorstep {
    /// Exits for a parse or usage error (64), help or an exit code, as ArgumentParser does, but
    /// with the usage error in Chinese under a Chinese command line: `错误 [usage]: …`.
    static func usageExit(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        guard code.rawValue == ExitStatus.usage, Usage.language == .chinese else { exit(withError: error) }
        let message = fullMessage(for: error)
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
        let said = Usage.chinese(message) ?? (firstLine.hasPrefix("Error: ") ? String(firstLine.dropFirst(7)) : firstLine)
        let console = Console(language: .chinese, json: false)
        console.note(console.errorLine(code: "usage", message: said))
        console.note("  " + console.t("用法见 --help", "see --help"))
        exit(withError: ExitCode(ExitStatus.usage))
    }
}

/// The exit codes (documented in the root command's help).
enum ExitStatus {
    static let failure: Int32 = 1
    static let syncIncomplete: Int32 = 3
    static let quarantineNotEmpty: Int32 = 4
    static let deviceRevoked: Int32 = 5
    static let usage: Int32 = 64
    static let invalidValue: Int32 = 65

    static func code(for error: DoorstepError) -> Int32 {
        switch error.code {
        case .serverUnreachable: syncIncomplete
        case .deviceRevoked: deviceRevoked
        case .invalidValue, .missingField, .unknownField, .invalidNationalId, .invalidPhone, .negativeAmount, .unknownDistrict: invalidValue
        default: failure
        }
    }
}
