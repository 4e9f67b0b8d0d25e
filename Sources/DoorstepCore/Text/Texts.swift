import Foundation
import Synchronization

/// The one table of the words people read, in Simplified Chinese and English, keyed by
/// identifier: `Resources/texts.json`, shared by the CLI, the dashboard and the term labels.
///
/// Keys are dotted: `kind.visit`, `kinds.visit` (a list's title), `field.household.nationalId`,
/// `term.cause.illness`, `operation.create`, `dashboard.…`, `cli.…` (messages), `help.…` (the
/// CLI's help). A text may hold named placeholders, `{count}`, filled by `text(_:_:_:)`.
public enum Texts {
    /// The text of `key` in `language`, its `{name}` placeholders filled from `values`; the key
    /// itself when the table has no such text (a test holds that every key used exists).
    public static func text(_ key: String, _ language: Language, _ values: [String: String] = [:]) -> String {
        guard let name = table[key] else { return key }
        return fill(name.text(language), values)
    }

    /// Both texts of `key`, or `nil` when the table has none.
    public static func name(_ key: String) -> LocalizedName? { table[key] }

    /// The texts under a prefix in one language, keyed without it: `section("dashboard", .chinese)`
    /// maps `signIn` to 登录 (for templates that read `{{t.signIn}}`).
    public static func section(_ prefix: String, _ language: Language) -> [String: String] {
        let cacheKey = prefix + "|" + language.rawValue
        if let made = sections.withLock({ $0[cacheKey] }) { return made }
        let start = prefix + "."
        var texts: [String: String] = [:]
        for (key, name) in table where key.hasPrefix(start) {
            texts[String(key.dropFirst(start.count))] = name.text(language)
        }
        sections.withLock { $0[cacheKey] = texts }
        return texts
    }

    /// Sections already made (a page asks for its section several times; the table never changes).
    private static let sections = Mutex<[String: [String: String]]>([:])

    /// Every key of the table.
    public static var keys: [String] { table.keys.sorted() }

    /// `text` with each `{name}` replaced by its value, in one pass (a value is never read
    /// again); unknown placeholders stay as written.
    static func fill(_ text: String, _ values: [String: String]) -> String {
        guard !values.isEmpty, text.contains("{") else { return text }
        var result = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { return result + rest[open...] }
            let name = String(rest[rest.index(after: open)..<close])
            result += values[name] ?? String(rest[open...close])
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// The table, read once; empty if the resource does not decode (a test holds that it does).
    static let table: [String: LocalizedName] = (try? JSONDecoder().decode([String: LocalizedName].self, from: Data(PackageResources.texts_json))) ?? [:]
}
