import ArgumentParser
import DoorstepCore
import Foundation

/// Usage errors (exit 64) in the language of the command line: `--lang` when given, else the
/// locale, as every other message. ArgumentParser's own messages are English; the common ones
/// are said again in Chinese under a Chinese locale, the rest keep their English text on a line
/// of its own.
enum Usage {
    /// The language named by `--lang zh|en` on the command line, else by the environment.
    static var language: Language {
        let arguments = CommandLine.arguments
        if let index = arguments.firstIndex(of: "--lang"), index + 1 < arguments.count {
            return arguments[index + 1].lowercased() == "en" ? .english : .chinese
        }
        if let given = arguments.first(where: { $0.hasPrefix("--lang=") }) {
            return given.dropFirst(7).lowercased() == "en" ? .english : .chinese
        }
        return Console.environmentLanguage
    }

    /// A usage error of our own, in the command line's language.
    static func error(_ zh: String, _ en: String) -> ValidationError {
        ValidationError(language == .chinese ? zh : en)
    }

    /// ArgumentParser's message for a usage error, said in Chinese where it is one it writes often.
    static func chinese(_ message: String) -> String? {
        let patterns: [(String, (String) -> String)] = [
            (#"^Error: Missing expected argument '(.+)'$"#, { "缺少参数 \($0)" }),
            (#"^Error: Unknown option '([^']+)'\. Did you mean '([^']+)'\?$"#, { "没有这个选项：\($0)" }),
            (#"^Error: Unknown option '(.+)'$"#, { "没有这个选项：\($0)" }),
            (#"^Error: Unexpected argument '(.+)'$"#, { "多余的参数：\($0)" }),
            (#"^Error: Missing value for '(.+)'$"#, { "\($0) 后面缺少值" }),
            (#"^Error: The value '(.+)' is invalid for '(.+)'$"#, { "参数值无效：\($0)" }),
            (#"^Error: Unknown subcommand '(.+)'$"#, { "没有这个命令：\($0)" }),
        ]
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
        for (pattern, say) in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: firstLine, range: NSRange(firstLine.startIndex..., in: firstLine))
            else { continue }
            let groups = (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: firstLine).map { String(firstLine[$0]) } }
            if pattern.contains("Did you mean") && groups.count == 2 { return say(groups[0]) + "；是否想用 \(groups[1])？" }
            return say(groups.joined(separator: "（") + (groups.count > 1 ? "）" : ""))
        }
        return nil
    }
}
