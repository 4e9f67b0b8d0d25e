import Foundation

/// A closed set of domain values with a stable wire name and labels in Chinese and English.
///
/// The raw value is the wire form (protocol, database, CLI flags); labels are for people.
public protocol DomainTerm: RawRepresentable, CaseIterable, Codable, Hashable, Sendable
where RawValue == String {
    /// The term's name in the table of texts: its labels are `term.<textKey>.<case>`.
    static var textKey: String { get }
}

extension DomainTerm {
    /// The label in the given language, from the table of texts (`Texts`).
    public func label(_ language: Language) -> String {
        Texts.text("term.\(Self.textKey).\(rawValue)", language)
    }

    /// The label in Simplified Chinese, as the offices say it.
    public var chineseLabel: String { label(.chinese) }

    /// The label in English.
    public var englishLabel: String { label(.english) }

    /// The wire names of all cases, for messages such as "expected one of …".
    public static var wireNames: [String] { allCases.map(\.rawValue) }
}

/// The two languages Doorstep speaks to people.
public enum Language: String, Sendable, CaseIterable, Codable {
    case chinese = "zh"
    case english = "en"

    /// Picks the language from a locale or `Accept-Language` string such as `zh_CN.UTF-8`,
    /// `zh-CN,zh;q=0.9` or `en-US`; Chinese is the default when nothing matches.
    public static func from(locale: String?) -> Language {
        guard let locale = locale?.lowercased(), !locale.isEmpty else { return .chinese }
        for part in locale.split(separator: ",") {
            let tag =
                part.split(separator: ";").first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if tag.hasPrefix("zh") { return .chinese }
            if tag.hasPrefix("en") || tag == "c" || tag == "posix" || tag.hasPrefix("c.") { return .english }
        }
        return .chinese
    }
}
