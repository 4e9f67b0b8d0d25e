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
        ["admin", "users", "password"], ["admin", "campaigns", "list"], ["admin", "campaigns", "set"], ["admin", "campaigns", "remove"],
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

    /// Under a Chinese locale (or `--lang zh`) every help is Chinese: our texts from the table, and
    /// ArgumentParser's own headings and options said again in Chinese.
    @Test(arguments: commands)
    func everyCommand_hasChineseHelp(_ command: [String]) async throws {
        let result = try await CLI(lang: "zh_CN.UTF-8").run(command + ["--help"], withDatabase: false)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("示例") && result.stdout.contains("用法：") && result.stdout.contains("选项："), "\(command): \(result)")
        #expect(result.stdout.contains("doorstep \(command.joined(separator: " "))"), "\(command): \(result)")
        for english in ["USAGE:", "OPTIONS:", "OVERVIEW:", "ARGUMENTS:", "SUBCOMMANDS:", "Show help information", "Example", "(default:"] {
            #expect(!result.stdout.contains(english), "\(command): \(english) in \(result.stdout)")
        }
        // The first line (the overview) is a Chinese sentence.
        let overview = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(overview.unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF }, "\(command): \(overview)")
        let switched = try await CLI(lang: "en_US.UTF-8").run(command + ["--help", "--lang", "zh"], withDatabase: false)
        #expect(switched.stdout == result.stdout, "--lang zh says the same as a Chinese locale")
    }

    @Test func rootHelp_documentsTheExitCodes_inBothLanguages() async throws {
        let english = try await CLI(lang: "en_US.UTF-8").run(["--help"], withDatabase: false)
        for code in [
            "0   success", "1   refused or failed", "3   the server could not be reached", "4   the quarantine is not empty",
            "5   this device's access was revoked", "64  usage", "65  a value is not valid",
        ] {
            #expect(english.stdout.contains(code), "\(code)")
        }
        let chinese = try await CLI(lang: "zh_CN.UTF-8").run(["--help"], withDatabase: false)
        for code in ["0   成功", "3   无法连接服务器", "5   本设备的访问权限已被撤销", "64  用法错误", "65  某个值无效"] {
            #expect(chinese.stdout.contains(code), "\(code) in \(chinese.stdout)")
        }
    }

    @Test func usageErrors_speakTheCommandLinesLanguage_andExit64() async throws {
        let zh = try await CLI(lang: "zh_CN.UTF-8").run(["household", "new", "--bogus"], withDatabase: false)
        #expect(zh.status == 64 && zh.errorLines == ["错误 [usage]: 没有这个选项：--bogus；是否想用 --notes？"], "\(zh)")
        let ours = try await CLI(lang: "zh_CN.UTF-8").run(["visit", "void", "abcd1234"], withDatabase: false)
        #expect(ours.status == 64 && ours.errorLines.first == "错误 [usage]: 作废请给出 --reason 理由，恢复请用 --restore", "\(ours)")
        let missing = try await CLI(lang: "zh_CN.UTF-8").run(["review", "accept"], withDatabase: false)
        #expect(missing.status == 64 && missing.errorLines.first?.hasPrefix("错误 [usage]: 缺少参数") == true, "\(missing)")
        let en = try await CLI(lang: "zh_CN.UTF-8").run(["household", "new", "--bogus", "--lang", "en"], withDatabase: false)
        #expect(en.status == 64 && en.stderr.contains("Unknown option '--bogus'"), "\(en)")
    }
}
