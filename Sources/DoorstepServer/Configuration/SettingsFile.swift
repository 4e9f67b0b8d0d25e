import DoorstepCore
import Foundation

/// The server's configuration file (`--config`, usually `/etc/doorstep/server.toml`): the part of
/// TOML a settings file needs, read with errors that name the file and the line.
///
/// Accepted: `# comments`, `[section]` headers, `key = value` and dotted keys (`backup.keep = 14`,
/// the same as `keep = 14` under `[backup]`), basic strings (`"…"` with `\"`, `\\`, `\n`, `\t`,
/// `\uXXXX`), literal strings (`'…'`), whole numbers (`1_000` allowed) and `true`/`false`.
/// Anything else of TOML (arrays, inline tables, dates, multi-line strings, fractions) is refused
/// by name, never guessed. TOMLKit (in the package mirror) reads all of TOML, but through a C++
/// library and its runtime for a dozen keys; this reader is small and says exactly what is wrong.
public struct SettingsFile: Sendable {
    /// A value as the file gives it, with its line.
    public struct Entry: Sendable, Hashable {
        public enum Value: Sendable, Hashable {
            case string(String)
            case integer(Int64)
            case boolean(Bool)
        }

        public var value: Value
        public var line: Int
    }

    /// The file's path, as errors name it.
    public var path: String
    /// Every setting by its full key (`backup.keep`).
    public var entries: [String: Entry]

    /// Reads the file at `path`; throws `invalidValue` naming the file and the line for anything it
    /// cannot read.
    public static func read(_ path: String) throws(DoorstepError) -> SettingsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DoorstepError(.notFound, "cannot read the configuration file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DoorstepError(.invalidValue, "\(path): the configuration file is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Reads settings from text (`path` names it in errors).
    public static func parse(_ text: String, path: String) throws(DoorstepError) -> SettingsFile {
        var entries: [String: Entry] = [:]
        var section: [String] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            func fail(_ message: String) -> DoorstepError {
                DoorstepError(.invalidValue, "\(path) line \(lineNumber): \(message)")
            }
            var line = Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("[") {
                guard !trimmed.hasPrefix("[[") else { throw fail("arrays of tables ([[…]]) are not settings this file takes") }
                guard let close = trimmed.firstIndex(of: "]") else { throw fail("a section header needs its closing ]") }
                let rest = trimmed[trimmed.index(after: close)...].trimmingCharacters(in: .whitespaces)
                guard rest.isEmpty || rest.hasPrefix("#") else { throw fail("text after the section header") }
                section = try keyPath(String(trimmed[trimmed.index(after: trimmed.startIndex)..<close]), fail)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw fail("expected key = value, a [section] or a # comment")
            }
            let key = (section + (try keyPath(String(line[..<equals]), fail))).joined(separator: ".")
            var reader = ValueReader(text: line[line.index(after: equals)...])
            let value = try reader.value(fail)
            guard reader.restIsBlank else { throw fail("text after the value of \(key); a comment starts with #") }
            if let earlier = entries[key] {
                throw fail("\(key) is set twice (first on line \(earlier.line))")
            }
            entries[key] = Entry(value: value, line: lineNumber)
        }
        return SettingsFile(path: path, entries: entries)
    }

    /// A key or section name: bare words of letters, digits, `_` and `-`, joined by dots.
    private static func keyPath(_ text: String, _ fail: (String) -> DoorstepError) throws(DoorstepError) -> [String] {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for part in parts {
            guard !part.isEmpty, part.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") })
            else {
                throw fail("\"\(text.trimmingCharacters(in: .whitespaces).prefix(40))\" is not a key: use letters, digits, _ and -, joined by dots")
            }
        }
        return parts.map { $0.lowercased() }
    }

    /// Reads one value from the text after `=`.
    private struct ValueReader {
        var scalars: [Unicode.Scalar]
        var index = 0

        init(text: Substring) { scalars = Array(text.unicodeScalars) }

        var restIsBlank: Bool {
            var position = index
            while position < scalars.count {
                if scalars[position] == "#" { return true }
                guard scalars[position] == " " || scalars[position] == "\t" else { return false }
                position += 1
            }
            return true
        }

        mutating func skipBlanks() {
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        }

        mutating func value(_ fail: (String) -> DoorstepError) throws(DoorstepError) -> Entry.Value {
            skipBlanks()
            guard index < scalars.count, scalars[index] != "#" else { throw fail("a key needs a value after =") }
            switch scalars[index] {
            case "\"":
                if index + 2 < scalars.count, scalars[index + 1] == "\"", scalars[index + 2] == "\"" {
                    throw fail("multi-line strings (\"\"\") are not settings this file takes")
                }
                index += 1
                var text = String.UnicodeScalarView()
                while index < scalars.count {
                    let scalar = scalars[index]
                    index += 1
                    switch scalar {
                    case "\"": return .string(String(text))
                    case "\\":
                        guard index < scalars.count else { break }
                        let escape = scalars[index]
                        index += 1
                        switch escape {
                        case "\"": text.append("\"")
                        case "\\": text.append("\\")
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "r": text.append("\r")
                        case "u":
                            let digits = String(String.UnicodeScalarView(scalars[index..<min(scalars.count, index + 4)]))
                            guard digits.count == 4, let code = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(code) else {
                                throw fail("\\u needs four hexadecimal digits")
                            }
                            text.append(decoded)
                            index += 4
                        default: throw fail("unknown escape \\\(escape) in a string")
                        }
                    default:
                        guard scalar.value >= 0x20 || scalar == "\t" else { throw fail("a control character in a string") }
                        text.append(scalar)
                    }
                }
                throw fail("a string needs its closing \"")
            case "'":
                index += 1
                var text = String.UnicodeScalarView()
                while index < scalars.count {
                    let scalar = scalars[index]
                    index += 1
                    if scalar == "'" { return .string(String(text)) }
                    text.append(scalar)
                }
                throw fail("a string needs its closing '")
            case "[", "{":
                throw fail("arrays and inline tables are not settings this file takes")
            default:
                var word = String.UnicodeScalarView()
                while index < scalars.count, scalars[index] != " ", scalars[index] != "\t", scalars[index] != "#" {
                    word.append(scalars[index])
                    index += 1
                }
                let text = String(word)
                if text == "true" { return .boolean(true) }
                if text == "false" { return .boolean(false) }
                let digits = text.replacingOccurrences(of: "_", with: "")
                if !text.hasPrefix("_"), !text.hasSuffix("_"), !text.contains("__"),
                    let number = Int64(digits.hasPrefix("+") ? String(digits.dropFirst()) : digits)
                {
                    return .integer(number)
                }
                throw fail("\(text.prefix(40)) is not a value this file takes: a \"string\" in quotes, a whole number, or true/false")
            }
        }
    }
}
