public import DoorstepCore
import Foundation
public import Hummingbird

/// The fields of an HTML form (`application/x-www-form-urlencoded`), in the order sent: a name
/// may repeat (a set of check boxes).
public struct WebForm: Sendable {
    public private(set) var pairs: [(name: String, value: String)]

    public init(pairs: [(name: String, value: String)] = []) { self.pairs = pairs }

    /// Parses `a=1&b=two+words`; empty names are left out.
    public init(parsing text: String) {
        var pairs: [(name: String, value: String)] = []
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            pairs.append((name, parts.count > 1 ? decode(parts[1]) : ""))
        }
        self.pairs = pairs
    }

    /// Reads a request's form body, at most `limit` bytes (64 KiB by default).
    public static func read(_ request: Request, limit: Int = 64 * 1024) async throws -> WebForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw DoorstepError(.payloadTooLarge, "the form is larger than \(limit / 1024) KiB", zh: "表单内容太多（超过 \(limit / 1024) KB），请分几次填写")
        }
        return WebForm(parsing: String(buffer: buffer))
    }

    /// The first value sent under `name`.
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value sent under `name`, in order.
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// The first value of each name.
    public var first: [String: String] {
        var fields: [String: String] = [:]
        for pair in pairs where fields[pair.name] == nil { fields[pair.name] = pair.value }
        return fields
    }
}

/// The language of a page: `?lang=` (to be remembered in a cookie), else the cookie, else
/// `Accept-Language` (where `acceptLanguage`); Chinese by default.
public enum WebLanguage {
    public static func of(_ request: Request, cookie: String, acceptLanguage: Bool = true) -> (language: Language, remember: Bool) {
        if let text = request.uri.queryParameters.get("lang"), let language = Language(rawValue: text) { return (language, true) }
        if let text = request.cookies[cookie]?.value, let language = Language(rawValue: text) { return (language, false) }
        return (acceptLanguage ? Language.from(locale: request.headers[.acceptLanguage]) : .chinese, false)
    }
}
