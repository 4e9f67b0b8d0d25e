/// The HTTP content codings of protocol 1.5 (`protocol/README.md` §18): which answers are
/// compressed, and what a request's headers allow.
public enum ContentCoding {
    /// Answers at most this long are sent as they are: compressing them gains less than it costs.
    public static let minimumBytes = 1024

    /// What a client says it reads, on every request: zstd first, gzip for a server without it.
    public static let acceptEncoding = "zstd, gzip"

    /// The coding to answer a request with, by its `Accept-Encoding` (RFC 9110 §12.5.3): the one
    /// with the highest `q` above 0 among zstd and gzip (zstd on a tie; `*` stands for either not
    /// named); `nil` when it accepts neither.
    public static func preferred(_ header: String?) -> ContentEncoding? {
        guard let header else { return nil }
        var named: [ContentEncoding: Double] = [:]
        var star: Double?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingSpaces.lowercased() }
            guard let name = parts.first, !name.isEmpty else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            switch name {
            case "zstd": named[.zstd] = quality
            case "gzip", "x-gzip": named[.gzip] = quality
            case "*": star = quality
            default: break
            }
        }
        var best: (ContentEncoding, Double)?
        for coding in ContentEncoding.allCases {
            let quality = named[coding] ?? star ?? 0
            if quality > 0, quality > (best?.1 ?? 0) { best = (coding, quality) }
        }
        return best?.0
    }

    /// What a request body's `Content-Encoding` says: as it is, a coding this build reads, or one
    /// it does not (several codings included).
    public enum RequestCoding: Equatable, Sendable {
        case identity
        case coded(ContentEncoding)
        case unsupported(String)
    }

    /// Reads a `Content-Encoding` header's value.
    public static func requestCoding(_ header: String?) -> RequestCoding {
        guard let header else { return .identity }
        let codings = header.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty && $0 != "identity" }
        switch codings.count {
        case 0: return .identity
        case 1 where codings[0] == "gzip" || codings[0] == "x-gzip": return .coded(.gzip)
        case 1 where codings[0] == "zstd": return .coded(.zstd)
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
