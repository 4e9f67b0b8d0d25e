import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

@main
struct Doorstep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep",
        abstract: Help.text("help.doorstep.recordHardshipReliefHomeVisits"),
        discussion: Help.text("help.doorstep.visitorsRecordVisitsAndHousehold"),
        version: DoorstepVersion.string,
        subcommands: [
            Enroll.self, App.self, Households.self, Household.self, Visit.self, Assist.self, Sync.self, Status.self,
            EntryCommand<MemberEntry>.self, EntryCommand<LiaisonEntry>.self, EntryCommand<ProblemEntry>.self, Attach.self, Attachments.self,
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
            helpExit(error)
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
        helpExit(error)
        guard code.rawValue == ExitStatus.usage, Usage.language == .chinese else { exit(withError: error) }
        let message = fullMessage(for: error)
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
        let said = Usage.chinese(message) ?? (firstLine.hasPrefix("Error: ") ? String(firstLine.dropFirst(7)) : firstLine)
        let console = Console(language: .chinese, json: false)
        console.note(console.errorLine(code: "usage", message: said))
        console.note("  " + console.t("cli.doorstep.seeHelp"))
        exit(withError: ExitCode(ExitStatus.usage))
    }
}

extension Doorstep {
    /// Prints help (a help request, `doorstep help …`, the version) and exits 0, its headings in
    /// Chinese under a Chinese command line; returns for anything else.
    static func helpExit(_ error: any Error) {
        guard exitCode(for: error) == .success, Usage.language == .chinese else { return }
        print(Usage.chineseHelp(fullMessage(for: error)))
        exit(withError: ExitCode.success)
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
