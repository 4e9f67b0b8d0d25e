import Foundation
import Testing

/// Every command the issue names exists, with an example in its help.
struct CommandHelpTests {
    static let commands: [[String]] = [
        [], ["enroll"], ["households", "list"], ["households", "search"], ["households", "show"], ["household", "new"],
        ["household", "edit"], ["household", "status"], ["visit", "record"], ["assist", "add"], ["assist", "update"], ["sync"],
        ["status"], ["quarantine", "list"], ["quarantine", "fix"], ["quarantine", "drop"], ["bundle", "export"], ["upload"],
        ["admin", "enroll-code"], ["admin", "import"], ["admin", "devices", "list"], ["admin", "devices", "revoke"],
        ["admin", "users", "add"], ["admin", "users", "list"], ["admin", "users", "disable"], ["admin", "users", "enable"],
        ["admin", "users", "password"],
        ["review", "list"], ["review", "show"], ["review", "confirm"], ["review", "overturn"], ["review", "unlink"],
        ["roster", "compare"], ["report"],
    ]

    @Test(arguments: commands)
    func everyCommand_hasHelpWithAnExample(_ command: [String]) async throws {
        let result = try await CLI(lang: "en_US.UTF-8").run(command + ["--help"], withDatabase: false)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Example"), "\(command): \(result)")
        #expect(result.stdout.contains("doorstep \(command.joined(separator: " "))"), "\(command): \(result)")
        if !command.isEmpty {
            #expect(result.stdout.contains("--json") && result.stdout.contains("--lang"), "the global options: \(result)")
        }
    }

    @Test func rootHelp_documentsTheExitCodes() async throws {
        let result = try await CLI().run(["--help"], withDatabase: false)
        for code in ["0   success", "1   refused or failed", "3   the server could not be reached", "4   the quarantine is not empty",
                     "5   this device's access was revoked", "64  usage", "65  a value is not valid"] {
            #expect(result.stdout.contains(code), "\(code)")
        }
    }
}
