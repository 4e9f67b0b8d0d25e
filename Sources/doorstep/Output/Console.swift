import DoorstepCore
import Foundation

/// Where a command writes: data and results on stdout, prompts, progress and errors on stderr,
/// in the chosen language; with `--json`, stdout holds one JSON document and nothing else.
struct Console: Sendable {
    let language: Language
    let json: Bool

    /// The text of `key` in the table of texts (`Texts`), in the console's language, with its
    /// `{name}` placeholders filled from `values`.
    func t(_ key: String, _ values: [String: String] = [:]) -> String { Texts.text(key, language, values) }

    /// A line of output on stdout (not in JSON mode: use `emit`).
    func say(_ text: String) {
        guard !json else { return }
        Self.write(text + "\n", to: .standardOutput)
    }

    /// A note for the person on stderr (hints, "run sync next"), kept out of stdout's data.
    func note(_ text: String) {
        Self.write(text + "\n", to: .standardError)
    }

    /// Prints a value as pretty, key-sorted JSON on stdout.
    func emit(_ value: some Encodable) throws {
        var data = try WireCoding.encode(value, pretty: true)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    /// Prints either the JSON value or the human text.
    func output(_ value: some Encodable, human: () -> String) throws {
        if json { try emit(value) } else { say(human()) }
    }

    /// The one-line error: `错误 [invalidNationalId]: …` / `error [invalidNationalId]: …`.
    func errorLine(code: String, message: String) -> String {
        let flat = message.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return "\(t("cli.console.error")) [\(code)]: \(flat)"
    }

    static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(text.utf8))
    }

    /// Whether stdin is a terminal (prompts are offered only then, or with `--interactive`).
    static var stdinIsTerminal: Bool { isatty(0) == 1 }

    /// Whether stderr is a terminal (a redrawn progress bar only then).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// The language named by the environment (`LC_ALL`, then `LC_MESSAGES`, then `LANG`).
    static var environmentLanguage: Language {
        let environment = ProcessInfo.processInfo.environment
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        return Language.from(locale: locale)
    }
}
