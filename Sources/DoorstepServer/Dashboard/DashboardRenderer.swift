import Crypto
import DoorstepCore
import DoorstepWeb
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
    static let contentSecurityPolicy = WebSecurity.contentSecurityPolicy(css: DashboardTemplates.css)

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
        WebSecurity.html(text, status: status, policy: contentSecurityPolicy)
    }

    /// Adds the headers every dashboard answer carries: no caching, no framing, no sniffing, no referrer, the CSP.
    static func secure(_ response: inout Response) {
        WebSecurity.secure(&response, policy: contentSecurityPolicy)
    }

    /// A 303 redirect (see other): after a form post, or to the sign-in page.
    static func redirect(_ location: String) -> Response {
        WebSecurity.redirect(location, policy: contentSecurityPolicy)
    }
}
