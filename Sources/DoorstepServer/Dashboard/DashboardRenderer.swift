import Crypto
import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The parts every dashboard page shares: title, language, account, navigation, messages.
struct PageChrome: Sendable {
    struct Link: Sendable {
        var href: String
        var label: String
        var current = false
        var lang: String?
    }

    var lang: String
    var title: String
    var signedIn = false
    var accountName: String?
    var accountRole: String?
    var scopeName: String?
    var csrf: String?
    var nav: [Link] = []
    var languageLink: Link
    var flash: String?
    var error: String?
}

/// Renders the dashboard's mustache templates (HTML-escaped by default) into responses.
enum DashboardRenderer {
    /// The templates, parsed once.
    static let library: Result<MustacheLibrary, any Error> = Result {
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all { try library.register(text, named: name) }
        return library
    }

    /// The Content-Security-Policy: nothing from elsewhere, no script, only our own style sheet (by its hash).
    static let contentSecurityPolicy: String = {
        let hash = Data(SHA256.hash(data: Data(DashboardTemplates.css.utf8))).base64EncodedString()
        return "default-src 'none'; style-src 'sha256-\(hash)'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }()

    /// Renders a page template with the chrome, the texts of the language and the page's content.
    static func render(_ template: String, chrome: PageChrome, language: Language, content: Any) throws -> String {
        let object: [String: Any] = ["c": chrome, "t": Texts.section("dashboard", language), "p": content]
        guard let text = try library.get().render(object, withTemplate: template) else {
            throw DoorstepError(.internalError, "no dashboard template \(template)")
        }
        return text
    }

    /// An HTML response with the dashboard's security headers.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
        secure(&response)
        return response
    }

    /// Adds the headers every dashboard answer carries: no caching, no framing, no sniffing, no referrer, the CSP.
    static func secure(_ response: inout Response) {
        response.headers[.cacheControl] = "no-store"
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        if let name = HTTPField.Name("X-Content-Type-Options") { response.headers[name] = "nosniff" }
        if let name = HTTPField.Name("X-Frame-Options") { response.headers[name] = "DENY" }
        if let name = HTTPField.Name("Referrer-Policy") { response.headers[name] = "no-referrer" }
    }

    /// A 303 redirect (see other): after a form post, or to the sign-in page.
    static func redirect(_ location: String) -> Response {
        var response = Response.redirect(to: location, type: .normal)
        secure(&response)
        return response
    }
}

/// Links with query strings, percent-encoded.
enum DashboardLinks {
    private static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~/")
        return set
    }()

    /// Percent-encodes a query value (or a path to carry in `next`).
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `path?key=value&…`, leaving out items without a value.
    static func href(_ path: String, _ items: [(String, String?)]) -> String {
        let query = items.compactMap { key, value in value.map { "\(key)=\(encode($0))" } }.joined(separator: "&")
        return query.isEmpty ? path : "\(path)?\(query)"
    }
}
