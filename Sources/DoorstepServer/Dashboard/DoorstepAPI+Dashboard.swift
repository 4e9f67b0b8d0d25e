import DoorstepCore
import DoorstepStorage
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Who is looking at the dashboard, in which language, over which district.
struct DashboardViewer: Sendable {
    var account: DashboardAccount
    /// The session's form token, for the hidden field of every form.
    var csrf: String
    var language: Language
    /// The district in view: an office's own; the one the city picked (`?district=`), or `nil` for all.
    var district: String?

    var principal: Principal { account.principal }
    /// The name written in the change history for the account's decisions.
    var actor: String { "dashboard:\(account.name)" }
}

extension DoorstepAPI {
    /// The office dashboard: HTML pages at `/` and `/dashboard/…` (its JSON account endpoints are
    /// office routes under `/v1`, added with the API's).
    func addDashboardRoutes(to router: Router<DoorstepRequestContext>) {
        router.get("/") { request, context in try await overviewPage(request, context) }
        router.get("dashboard") { request, context in try await overviewPage(request, context) }
        router.get("dashboard/signin") { request, context in try await signInPage(request, context) }
        router.post("dashboard/signin") { request, context in try await signIn(request, context) }
        router.post("dashboard/signout") { request, context in try await signOut(request, context) }
        router.get("dashboard/review") { request, context in try await reviewPage(request, context) }
        router.post("dashboard/review/confirm") { request, context in try await reviewAction(request, context, .confirm) }
        router.post("dashboard/review/overturn") { request, context in try await reviewAction(request, context, .overturn) }
        router.post("dashboard/review/unlink") { request, context in try await reviewAction(request, context, .unlink) }
        router.post("dashboard/review/held/accept") { request, context in try await heldAction(request, context, accept: true) }
        router.post("dashboard/review/held/dismiss") { request, context in try await heldAction(request, context, accept: false) }
        router.get("dashboard/households") { request, context in try await householdsPage(request, context) }
        router.get("dashboard/households/:id") { request, context in try await householdPage(request, context) }
        router.post("dashboard/households/:id/status") { request, context in try await householdStatus(request, context) }
        router.get("dashboard/households/:id/export/:table") { request, context in try await householdExport(request, context) }
        router.get("dashboard/households/:id/attachments/:attachment") { request, context in try await attachmentFile(request, context) }
        router.get("dashboard/compare") { request, context in try await comparePage(request, context) }
        router.post("dashboard/compare") { request, context in try await compare(request, context) }
        router.get("dashboard/export/:table") { request, context in try await export(request, context) }
    }

    // MARK: Language

    /// The language: `?lang=` (remembered in a cookie), else the cookie, else `Accept-Language`; Chinese by default.
    func dashboardLanguage(_ request: Request) -> (language: Language, remember: Bool) {
        WebLanguage.of(request, cookie: DashboardSettings.languageCookie)
    }

    /// Sets the language cookie when the request chose a language with `?lang=`.
    func rememberLanguage(_ response: inout Response, _ request: Request) {
        let (language, remember) = dashboardLanguage(request)
        guard remember else { return }
        response.setCookie(WebSecurity.cookie(DashboardSettings.languageCookie, language.rawValue, maxAge: 365 * 86_400, request: request))
    }

    // MARK: Sessions

    /// The viewer of a request with a live session; `nil` when signed out (no cookie, unknown, expired or disabled).
    func dashboardViewer(_ request: Request) async throws -> DashboardViewer? {
        guard let token = request.cookies[DashboardSettings.sessionCookie]?.value, !token.isEmpty, token.count <= 100,
            let account = try await storage.dashboardSession(idHash: Secrets.hash(token), nowMillis: configuration.clock())
        else { return nil }
        var district = account.district
        if account.role == .city, let picked = request.uri.queryParameters.get("district"), configuration.city.district(picked) != nil {
            district = picked
        }
        return DashboardViewer(
            account: account, csrf: DashboardSecurity.formToken(for: token, purpose: "form"),
            language: dashboardLanguage(request).language, district: district)
    }

    /// Where a signed-out request goes: the sign-in page, which returns to this page afterwards.
    func signInRedirect(_ request: Request) -> Response {
        let query = request.uri.query.map { "?" + $0 } ?? ""
        let next = request.method == .get ? request.uri.path + query : "/dashboard"
        return DashboardRenderer.redirect(WebLinks.href("/dashboard/signin", [("next", next)]))
    }

    /// Runs a page for a signed-in viewer: signed out, a 303 to the sign-in page; errors become HTML error pages.
    func dashboardPage(_ request: Request, _ body: (DashboardViewer) async throws -> Response) async throws -> Response {
        guard let viewer = try await dashboardViewer(request) else { return signInRedirect(request) }
        var response: Response
        do {
            response = try await body(viewer)
        } catch let error as DoorstepError {
            response = try errorPage(error, request: request, viewer: viewer)
        }
        rememberLanguage(&response, request)
        return response
    }

    /// Runs a form action for a signed-in viewer whose form carries the session's token; otherwise
    /// 403 and nothing changes. Signed out, a 303 to the sign-in page.
    func dashboardAction(_ request: Request, _ body: (DashboardViewer, [String: String]) async throws -> Response) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let form = try await formFields(request)
            try checkFormToken(form["csrf"], expected: viewer.csrf)
            return try await body(viewer, form)
        }
    }

    /// Throws `forbiddenForRole` (403) unless the form token matches, compared in constant time.
    func checkFormToken(_ sent: String?, expected: String) throws(DoorstepError) {
        guard let sent, WebSecurity.constantTimeEqual(sent, expected) else {
            throw DoorstepError(.forbiddenForRole, "the form's security token is missing or stale; reload the page and try again")
        }
    }

    // MARK: Forms

    /// The fields of an `application/x-www-form-urlencoded` body (at most 64 KiB); the first value of a repeated name wins.
    func formFields(_ request: Request) async throws -> [String: String] {
        try await WebForm.read(request).first
    }

    // MARK: Pages

    /// The chrome of a page for a signed-in viewer (or, with `nil`, for the sign-in page).
    func chrome(_ title: String, request: Request, viewer: DashboardViewer?, language: Language, current: String? = nil) -> PageChrome {
        let texts = Texts.section("dashboard", language)
        let other: Language = language == .chinese ? .english : .chinese
        var items: [(String, String?)] = []
        for (key, value) in request.uri.queryParameters where key != "lang" && key != "done" && key != "error" {
            items.append((String(key), String(value)))
        }
        items.append(("lang", other.rawValue))
        var chrome = PageChrome(
            lang: language == .chinese ? "zh-CN" : "en", title: title,
            languageLink: .init(
                href: WebLinks.href(request.uri.path, items), label: Texts.text("language.name", other),
                lang: other == .chinese ? "zh-CN" : "en")
        )
        if let done = request.uri.queryParameters.get("done") { chrome.flash = texts["done." + done] }
        if let code = request.uri.queryParameters.get("error") {
            chrome.error = (texts["error." + code] ?? texts["error.refused"] ?? "").replacingOccurrences(of: "%@", with: code)
        }
        guard let viewer else { return chrome }
        chrome.signedIn = true
        chrome.accountName = viewer.account.name
        chrome.accountRole = viewer.account.role.label(language)
        chrome.scopeName = districtName(viewer.district, language)
        chrome.csrf = viewer.csrf
        let scope: [(String, String?)] = [("district", viewer.account.role == .city ? viewer.district : nil)]
        chrome.nav = [("overview", "/dashboard"), ("review", "/dashboard/review"), ("households", "/dashboard/households"), ("compare", "/dashboard/compare")]
            .map { key, path in PageChrome.Link(href: WebLinks.href(path, scope), label: texts["nav." + key] ?? key, current: key == current) }
        return chrome
    }

    /// A district's name, or the whole city's for `nil`.
    func districtName(_ code: String?, _ language: Language) -> String {
        guard let code else { return configuration.city.city.name.text(language) }
        return configuration.city.district(code)?.name.text(language) ?? code
    }

    /// The district picker of the city's pages: every district, the chosen one selected.
    func districtOptions(_ viewer: DashboardViewer) -> [[String: Any]] {
        guard viewer.account.role == .city else { return [] }
        return configuration.city.districts.map { district in
            ["code": district.code, "name": district.name.text(viewer.language), "selected": district.code == viewer.district]
        }
    }

    /// An error as an HTML page with the error's HTTP status.
    func errorPage(_ error: DoorstepError, request: Request, viewer: DashboardViewer?) throws -> Response {
        let language = viewer?.language ?? dashboardLanguage(request).language
        let texts = Texts.section("dashboard", language)
        let status = error.code.httpStatus
        let key = status == .notFound ? "notFound" : status == .forbidden ? "forbidden" : status == .tooManyRequests ? "rateLimited" : "failed"
        let title = texts["errorPage." + key] ?? key
        let page = try DashboardRenderer.render(
            "error", chrome: chrome(title, request: request, viewer: viewer, language: language),
            language: language, content: ["message": error.message, "code": error.code.rawValue])
        return DashboardRenderer.html(page, status: status)
    }
}
