/// The HTTP content codings of protocol 1.5 (`protocol/README.md` §18): which answers are
/// compressed, and what a request's headers allow.
public enum ContentCoding {
    /// Answers at most this long are sent as they are: compressing them gains less than it costs.
    public static let minimumBytes = 1024

    /// Whether an `Accept-Encoding` header's value accepts gzip: listed (or `*`) with a `q` above 0.
    public static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Bool?
        var star: Bool?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingSpaces.lowercased() }
            guard let name = parts.first, !name.isEmpty else { continue }
            var accepted = true
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                accepted = (Double(parameter.dropFirst(2)) ?? 0) > 0
            }
            switch name {
            case "gzip", "x-gzip": gzip = accepted
            case "*": star = accepted
            default: break
            }
        }
        return gzip ?? star ?? false
    }

    /// What a request body's `Content-Encoding` says: as it is, gzip, or a coding this server does
    /// not read (several codings included).
    public enum RequestCoding: Equatable, Sendable {
        case identity
        case gzip
        case unsupported(String)
    }

    /// Reads a `Content-Encoding` header's value.
    public static func requestCoding(_ header: String?) -> RequestCoding {
        guard let header else { return .identity }
        let codings = header.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty && $0 != "identity" }
        switch codings.count {
        case 0: return .identity
        case 1 where codings[0] == "gzip" || codings[0] == "x-gzip": return .gzip
        default: return .unsupported(header)
        }
    }

    /// Whether an answer of this `Content-Type` is text that compresses (JSON, CSV, YAML, HTML,
    /// CSS, JavaScript, SVG, plain text); never files' bytes (images, PDF) or bundles.
    public static func isCompressible(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";").first.map { $0.trimmingSpaces.lowercased() } ?? ""
        if type.hasPrefix("text/") { return true }
        switch type {
        case "application/json", "application/problem+json", "application/yaml", "application/x-yaml",
            "application/javascript", "application/xml", "image/svg+xml", "application/x-ndjson":
            return true
        default:
            return type.hasSuffix("+json")
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
