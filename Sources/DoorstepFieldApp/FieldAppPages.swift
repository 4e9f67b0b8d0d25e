import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

/// The parts every page of the field app shares: title, language, navigation, the status line.
struct AppChrome: Sendable {
    struct Link: Sendable {
        var href: String
        var label: String
        var current = false
        var lang: String?
    }

    struct Connection: Sendable {
        /// `online` or `offline` (a CSS class).
        var kind: String
        var text: String
    }

    var lang: String
    var title: String
    var csrf: String
    var enrolled: Bool
    var nav: [Link] = []
    var languageLink: Link
    var flash: String?
    var error: String?
    var refreshSeconds: Int?
    var connection: Connection
    var pendingText: String
    var lastSyncText: String
    var syncRunning: Bool
    /// The laptop was revoked: it syncs no more.
    var revoked = false
}

/// The field app's pages and form actions (see ``FieldApp``).
struct FieldAppPages: Sendable {
    let state: FieldAppState
    static let languageCookie = "doorstep_app_lang"
    /// The Content-Security-Policy of every answer: the inline style by its hash, nothing else.
    static let policy = WebSecurity.contentSecurityPolicy(css: FieldAppTemplates.css)

    /// The templates, parsed once.
    static let library: Result<MustacheLibrary, any Error> = Result {
        var library = MustacheLibrary()
        for (name, text) in FieldAppTemplates.all { try library.register(text, named: name) }
        return library
    }

    var client: FieldClient { state.client }
    var city: CityData { state.configuration.client.city }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try await page(request) { try await worklistPage(request, $0) } }
        router.get("enroll") { request, _ in try await page(request) { try await enrollPage(request, $0, form: nil, problems: [:]) } }
        router.post("enroll") { request, _ in try await action(request) { try await enroll(request, $0, $1) } }
        router.get("new") { request, _ in try await page(request) { try await newPage(request, $0, form: nil, problems: [:], matches: []) } }
        router.post("new") { request, _ in try await action(request) { try await fileNew(request, $0, $1) } }
        router.get("households/:id") { request, context in
            try await page(request) { try await householdPage(request, $0, try householdID(context)) }
        }
        router.get("households/:id/attachments/:attachment") { request, context in
            try await page(request) { _ in try await attachmentFile(try householdID(context), try entryID(context, "attachment")) }
        }
        router.get("households/:id/print") { request, context in
            try await page(request) { try await printPage(request, $0, try householdID(context)) }
        }
        router.get("households/:id/edit") { request, context in
            try await page(request) { try await editPage(request, $0, try householdID(context), form: nil, problems: [:]) }
        }
        router.post("households/:id/edit") { request, context in
            try await action(request) { try await editHousehold(request, $0, try householdID(context), $1) }
        }
        router.get("households/:id/entries/new") { request, context in
            try await page(request) { try await entryPage(request, $0, try householdID(context), entry: nil, form: nil, problems: [:]) }
        }
        router.post("households/:id/entries/new") { request, context in
            try await action(request) { try await saveEntry(request, $0, try householdID(context), entry: nil, $1) }
        }
        router.get("households/:id/entries/:entry") { request, context in
            try await page(request) {
                try await entryPage(request, $0, try householdID(context), entry: try entryID(context), form: nil, problems: [:])
            }
        }
        router.post("households/:id/entries/:entry") { request, context in
            try await action(request) { try await saveEntry(request, $0, try householdID(context), entry: try entryID(context), $1) }
        }
        router.post("households/:id/entries/:entry/remove") { request, context in
            try await action(request) { viewer, _ in try await removeEntry(viewer, try householdID(context), entry: try entryID(context)) }
        }
        router.get("households/:id/verify") { request, context in
            try await page(request) { try await verifyPage(request, $0, try householdID(context), form: nil, problems: [:]) }
        }
        router.post("households/:id/verify") { request, context in
            try await action(request, fileLimit: Self.documentsLimit) { try await saveVerification(request, $0, try householdID(context), $1) }
        }
        router.get("sync") { request, _ in try await page(request) { try await syncPage(request, $0) } }
        router.post("sync") { request, _ in try await action(request) { viewer, _ in try await startSync(viewer) } }
        router.post("sync/server") { request, _ in try await action(request) { try await moveServer(request, $0, $1) } }
        router.post("sync/cancel") { request, _ in
            try await action(request) { _, _ in
                state.sync.cancel()
                return WebSecurity.redirect("/sync", policy: Self.policy)
            }
        }
        router.get("attention") { request, _ in try await page(request) { try await attentionPage(request, $0, problems: [:], form: nil) } }
        router.post("attention/:seq/resend") { request, context in
            try await action(request) { try await resend(request, $0, try seq(context), $1) }
        }
        router.post("attention/:seq/discard") { request, context in
            try await action(request) { viewer, _ in
                try await client.discard(try seq(context))
                return done("/attention", "discarded")
            }
        }
    }

    /// The most a home verification's form may carry with its documents: six files of the
    /// largest size and the form around them.
    static let documentsLimit = 6 * Int(AttachmentFile.maxBytes) + 1024 * 1024

    // MARK: Plumbing

    /// Who is looking: the language and the enrollment.
    struct Viewer: Sendable {
        var language: Language
        var remember: Bool
        var enrollment: Enrollment?
        /// The token the session's forms carry.
        var csrf: String
    }

    /// Runs a page: not enrolled, to the enrollment page; errors as pages; the language remembered.
    func page(_ request: Request, _ body: (Viewer) async throws -> Response) async throws -> Response {
        let (language, remember) = WebLanguage.of(request, cookie: Self.languageCookie, acceptLanguage: false)
        let session = request.cookies[state.cookieName]?.value ?? ""
        let viewer = Viewer(language: language, remember: remember, enrollment: try await client.enrollment, csrf: state.formToken(for: session))
        var response: Response
        do {
            if viewer.enrollment == nil && request.uri.path != "/enroll" {
                response = WebSecurity.redirect("/enroll", policy: Self.policy)
            } else {
                response = try await body(viewer)
            }
        } catch let error as DoorstepError {
            response = try await message(
                request, viewer, title: Texts.text("app.errorTitle", language), text: error.explained(language), status: Self.status(of: error))
        }
        if remember {
            response.setCookie(WebSecurity.cookie(Self.languageCookie, language.rawValue, maxAge: 365 * 86_400, request: request))
        }
        return response
    }

    /// Runs a form action: the form must carry the token (else 403 and nothing changes).
    func action(_ request: Request, fileLimit: Int = 0, _ body: @escaping (Viewer, WebForm) async throws -> Response) async throws -> Response {
        try await page(request) { viewer in
            let form = try await WebForm.read(request, fileLimit: fileLimit)
            guard let sent = form["csrf"], WebSecurity.constantTimeEqual(sent, viewer.csrf) else {
                throw DoorstepError(
                    .forbiddenForRole, "the form's security token is missing or stale; reload the page and try again",
                    zh: "这个表单已经过期（例如走访助手重新启动过）。请刷新页面后重新填写提交")
            }
            return try await body(viewer, form)
        }
    }

    /// The HTTP status of a page that shows an error.
    static func status(of error: DoorstepError) -> HTTPResponse.Status {
        switch error.code {
        case .notFound: .notFound
        case .forbiddenForRole, .deviceRevoked: .forbidden
        case .payloadTooLarge: .contentTooLarge
        case .internalError: .internalServerError
        case .serverUnreachable: .badGateway
        default: .unprocessableContent
        }
    }

    /// Text with the app's headers (the answers given before a page can be: a wrong host, no key).
    static func plain(_ text: String, status: HTTPResponse.Status) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        WebSecurity.secure(&response, policy: policy)
        return response
    }

    func householdID(_ context: BasicRequestContext) throws -> EntityID {
        guard let text = context.parameters.get("id"), let id = try? EntityID(text) else {
            throw DoorstepError(.notFound, "no such household on this laptop", zh: "本机没有这一户")
        }
        return id
    }

    func entryID(_ context: BasicRequestContext, _ parameter: String = "entry") throws -> EntityID {
        guard let text = context.parameters.get(parameter), let id = try? EntityID(text) else {
            throw DoorstepError(.notFound, "no such entry on this laptop", zh: "本机没有这一条记录")
        }
        return id
    }

    func seq(_ context: BasicRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("seq"), let seq = Int64(text) else {
            throw DoorstepError(.notFound, "no such refused change", zh: "没有这条被退回的修改")
        }
        return seq
    }

    /// A 303 to `path` with a "done" note.
    func done(_ path: String, _ key: String) -> Response {
        WebSecurity.redirect(WebLinks.href(path, [("done", key)]), policy: Self.policy)
    }

    /// A template's content without its absent values (an absent key is an empty section; a stored
    /// `nil` would be a present one).
    func present(_ values: [String: Any?]) -> [String: Any] { values.compactMapValues { $0 } }

    func t(_ key: String, _ language: Language, _ values: [String: String] = [:]) -> String {
        Texts.text("app.\(key)", language, values)
    }

    func values(_ language: Language) -> ValueText {
        ValueText(language: language, city: city, moneyStyle: .words, none: "—")
    }

    /// Renders a page.
    func render(
        _ template: String, _ request: Request, _ viewer: Viewer, title: String, current: String? = nil, refresh: Int? = nil,
        status: HTTPResponse.Status = .ok, error: String? = nil, content: [String: Any]
    ) async throws -> Response {
        let language = viewer.language
        var chrome = try await chrome(request, viewer, title: title, current: current)
        chrome.refreshSeconds = refresh
        if let error { chrome.error = error }
        let object: [String: Any] = ["c": chrome, "t": Texts.section("app", language), "p": content]
        guard let text = try Self.library.get().render(object, withTemplate: template) else {
            throw DoorstepError(.internalError, "no field app template \(template)")
        }
        return WebSecurity.html(text, status: status, policy: Self.policy)
    }

    func message(_ request: Request, _ viewer: Viewer, title: String, text: String, status: HTTPResponse.Status = .ok) async throws -> Response {
        try await render("message", request, viewer, title: title, status: status, content: ["text": text])
    }

    func chrome(_ request: Request, _ viewer: Viewer, title: String, current: String?) async throws -> AppChrome {
        let language = viewer.language
        let other: Language = language == .chinese ? .english : .chinese
        var items: [(String, String?)] = []
        for (key, value) in request.uri.queryParameters where key != "lang" && key != "done" {
            items.append((String(key), String(value)))
        }
        items.append(("lang", other.rawValue))
        let status = try await client.status()
        let snapshot = state.sync.snapshot
        let reachability = state.reachability.withLock { $0 }
        let connection: AppChrome.Connection
        switch reachability.online {
        case true?: connection = .init(kind: "online", text: t("online", language))
        case false?:
            connection = .init(
                kind: "offline", text: t("offline", language, ["time": reachability.at.map { values(language).time($0) } ?? "—"]))
        case nil: connection = .init(kind: "offline", text: t("notChecked", language))
        }
        let unsent = status.pending + status.awaitingConfirmation
        var chrome = AppChrome(
            lang: language == .chinese ? "zh-CN" : "en", title: title, csrf: viewer.csrf, enrolled: viewer.enrollment != nil,
            languageLink: .init(
                href: WebLinks.href(request.uri.path, items), label: Texts.text("language.name", other), lang: other == .chinese ? "zh-CN" : "en"),
            connection: connection,
            pendingText: status.pending == 0 ? t("allSent", language) : t("unsentCount", language, ["count": "\(status.pending)"]),
            lastSyncText: status.lastSyncAt.map { t("lastSync", language, ["time": values(language).time($0)]) } ?? t("neverSynced", language),
            syncRunning: snapshot.running)
        if unsent > status.pending, status.pending == 0 { chrome.pendingText = t("awaitingPull", language, ["count": "\(unsent)"]) }
        if let error = status.lastSyncError, !snapshot.running {
            // Stored as `code: message` (the message in English): said by its code in the page's language.
            let code = String(error.prefix { $0 != ":" })
            let said = Texts.name("error.code.\(code)")?.text(language) ?? t("syncFailedPlain", language)
            chrome.lastSyncText += " · " + t("lastSyncFailed", language, ["error": said])
        }
        chrome.revoked = viewer.enrollment?.revokedAt != nil
        // Households with a conflict or a refused write (a refused write to a household the laptop
        // does not show, such as a refused creation, counts on its own).
        let waiting = status.needingAttention
        chrome.nav = [("worklist", "/"), ("new", "/new"), ("attention", "/attention"), ("sync", "/sync")].map { key, path in
            var label = t("nav.\(key)", language)
            if key == "attention", waiting > 0 { label += " (\(waiting))" }
            return AppChrome.Link(href: path, label: label, current: key == current)
        }
        if let done = request.uri.queryParameters.get("done") { chrome.flash = Texts.name("app.done.\(done)")?.text(language) }
        return chrome
    }

    /// Asks the server whether it answers (a short timeout), for the status line.
    func checkReachability() async {
        guard let enrollment = try? await client.enrollment else { return }
        let online = (try? await client.serverInfo(at: enrollment.server)) != nil
        state.reachability.withLock { $0 = (online, Date()) }
    }
}
