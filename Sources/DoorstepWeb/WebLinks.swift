import Foundation

/// Links with query strings, percent-encoded.
public enum WebLinks {
    private static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~/")
        return set
    }()

    /// Percent-encodes a query value (or a path to carry in `next`).
    public static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `path?key=value&…`, leaving out items without a value.
    public static func href(_ path: String, _ items: [(String, String?)]) -> String {
        let query = items.compactMap { key, value in value.map { "\(key)=\(encode($0))" } }.joined(separator: "&")
        return query.isEmpty ? path : "\(path)?\(query)"
    }
}
