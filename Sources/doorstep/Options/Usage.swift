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
    static func error(_ key: String, _ values: [String: String] = [:]) -> ValidationError {
        ValidationError(Texts.text(key, language, values))
    }

    /// ArgumentParser's message for a usage error, said in Chinese where it is one it writes often.
    static func chinese(_ message: String) -> String? {
        let patterns: [(String, String)] = [
            (#"^Error: Missing expected argument '(.+)'$"#, "missingArgument"),
            (#"^Error: Unknown option '([^']+)'\. Did you mean '([^']+)'\?$"#, "unknownOptionDidYouMean"),
            (#"^Error: Unknown option '(.+)'$"#, "unknownOption"), (#"^Error: Unexpected argument '(.+)'$"#, "unexpectedArgument"),
            (#"^Error: Missing value for '(.+)'$"#, "missingValue"), (#"^Error: The value '(.+)' is invalid for '(.+)'$"#, "invalidValue"),
            (#"^Error: Unknown subcommand '(.+)'$"#, "unknownSubcommand"),
        ]
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
        for (pattern, key) in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: firstLine, range: NSRange(firstLine.startIndex..., in: firstLine))
            else { continue }
            var values: [String: String] = [:]
            for group in 1..<match.numberOfRanges {
                if let range = Range(match.range(at: group), in: firstLine) { values[String(group)] = String(firstLine[range]) }
            }
            return Texts.text("cli.usage.\(key)", .chinese, values)
        }
        return nil
    }
}

extension Usage {
    /// ArgumentParser's help with its own words (headings, the help and version options, the
    /// hint for subcommands, defaults and values) said in Chinese; ours are already from the table.
    static func chineseHelp(_ help: String) -> String {
        // Each pattern's groups fill the text's {1}, {2}.
        let patterns: [(String, String)] = [
            (#"(?m)^OVERVIEW: "#, "overview"), (#"(?m)^USAGE: "#, "usage"), (#"(?m)^ARGUMENTS:$"#, "arguments"),
            (#"(?m)^OPTIONS:$"#, "options"), (#"(?m)^SUBCOMMANDS:$"#, "subcommands"),
            (#"Show help information\."#, "helpOption"), (#"Show the version\."#, "versionOption"),
            (#"\(values: ([^;)]*); default: ([^)]*)\)"#, "valuesAndDefault"), (#"\(values: ([^)]*)\)"#, "values"),
            (#"\(default: ([^)]*)\)"#, "default"), (#"See '(.+) <subcommand>' for detailed help\."#, "seeSubcommand"),
        ]
        var text = help
        for (pattern, key) in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
                guard let whole = Range(match.range, in: text) else { continue }
                var values: [String: String] = [:]
                for group in 1..<match.numberOfRanges {
                    if let range = Range(match.range(at: group), in: text) { values[String(group)] = String(text[range]) }
                }
                text.replaceSubrange(whole, with: Texts.text("help.parser.\(key)", .chinese, values))
            }
        }
        return text
    }
}

/// The CLI's help, from the table of texts (`help.…` keys) in the command line's language:
/// `--lang`, else the locale, read before ArgumentParser builds the help.
enum Help {
    /// The help text of `key`, its `{name}` placeholders filled from `values`.
    static func text(_ key: String, _ values: [String: String] = [:]) -> String { Texts.text(key, Usage.language, values) }
}

extension ArgumentHelp {
    /// An argument's help from the table of texts.
    static func text(_ key: String) -> ArgumentHelp { ArgumentHelp(Help.text(key)) }
}
