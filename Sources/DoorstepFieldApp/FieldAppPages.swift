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
            try await action(request) { try await saveVerification(request, $0, try householdID(context), $1) }
        }
        router.get("sync") { request, _ in try await page(request) { try await syncPage(request, $0) } }
        router.post("sync") { request, _ in try await action(request) { viewer, _ in try await startSync(viewer) } }
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
    func action(_ request: Request, _ body: @escaping (Viewer, WebForm) async throws -> Response) async throws -> Response {
        try await page(request) { viewer in
            let form = try await WebForm.read(request)
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

    func entryID(_ context: BasicRequestContext) throws -> EntityID {
        guard let text = context.parameters.get("entry"), let id = try? EntityID(text) else {
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
        let attention = try await client.worklist(WorklistQuery(reason: .attention, limit: 1)).counts[.attention] ?? 0
        let waiting = max(attention, status.quarantined > 0 ? 1 : 0)
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

    // MARK: Worklist

    func worklistPage(_ request: Request, _ viewer: Viewer) async throws -> Response {
        let language = viewer.language
        let parameters = request.uri.queryParameters
        let q: String? = parameters.get("q").map { String($0) }
        let all = parameters.get("all") == "1"
        let status = parameters.get("status").flatMap { HouseholdStatus(rawValue: String($0)) }
        let reason = parameters.get("reason").flatMap { WorkReason(rawValue: String($0)) }
        let offset = max(0, parameters.get("offset").flatMap { Int(String($0)) } ?? 0)
        let pageSize = 100
        let list = try await client.worklist(
            WorklistQuery(text: q, reason: reason, status: status, needsVisitorOnly: !all, limit: pageSize, offset: offset))
        func link(_ reason: WorkReason?, offset: Int? = nil) -> String {
            var items: [(String, String?)] = [("q", q), ("status", status?.rawValue)]
            items.append(("all", all ? "1" : nil))
            items.append(("reason", reason?.rawValue))
            items.append(("offset", offset.map { String($0) }))
            return WebLinks.href("/", items)
        }
        let items: [[String: Any]] = list.items.map { item in
            present([
                "id": item.household.id.description, "name": item.household.headName, "nationalId": item.household.nationalIdMasked,
                "address": item.household.address, "status": item.household.status?.label(language) ?? "—", "local": item.household.hasLocalChanges,
                "reasons": item.reasons.map { ["key": $0.rawValue, "label": $0.label(language)] },
                "due": item.nextDue.map { t("dueOn", language, ["date": $0.description]) },
            ])
        }
        let reasons: [[String: Any]] = WorkReason.allCases.map { option in
            [
                "key": option.rawValue, "label": option.label(language), "count": list.counts[option] ?? 0, "current": option == reason,
                "href": link(option == reason ? nil : option),
            ]
        }
        let statuses =
            [["value": "", "label": t("anyStatus", language), "selected": status == nil]]
            + HouseholdStatus.allCases.map { ["value": $0.rawValue, "label": $0.label(language), "selected": $0 == status] as [String: Any] }
        let shown = t("shown", language, ["from": "\(list.items.isEmpty ? 0 : offset + 1)", "to": "\(offset + list.items.count)", "of": "\(list.matching)"])
        let content = present([
            "q": q ?? "", "all": all, "statuses": statuses, "reasons": reasons, "items": items, "hasItems": !items.isEmpty,
            "shownText": shown, "nextHref": offset + pageSize < list.matching ? link(reason, offset: offset + pageSize) : nil,
            "emptyText": (q?.isEmpty == false || status != nil || reason != nil) ? t("nothingMatches", language) : t("nothingToDo", language),
        ])
        return try await render("worklist", request, viewer, title: t("nav.worklist", language), current: "worklist", content: content)
    }

    // MARK: Household

    /// The household this laptop shows, or `notFound`.
    func household(_ id: EntityID) async throws -> HouseholdAggregate {
        guard let aggregate = try await client.household(id), aggregate.household.isVisible else {
            throw DoorstepError(.notFound, "no household \(id) on this laptop", zh: "本机没有这一户")
        }
        return aggregate
    }

    /// Who changed a field last and when: this laptop, or another device.
    func changedBy(_ state: EntityState, _ field: String, _ viewer: Viewer) -> String? {
        guard let write = state.heads(field).map(\.write).max() else { return nil }
        let who = write.device == viewer.enrollment?.device ? t("thisLaptop", viewer.language) : t("otherDevice", viewer.language)
        return t("changedBy", viewer.language, ["who": who, "time": values(viewer.language).time(write)])
    }

    /// A conflicted field in words: "two values were written at once: …", and what to do.
    func conflictText(_ state: EntityState, _ field: String, kind: EntityKind, name: String?, _ language: Language) -> String {
        let text = values(language)
        let shown = state.fields[field]?.distinctValues.map { text.text($0, field: field, kind: kind) } ?? []
        let what = kind == .household ? kind.label(ofField: field, language) : "\(kind.label(language))「\(name ?? "")」\(kind.label(ofField: field, language))"
        return t("conflict", language, ["what": what, "values": shown.joined(separator: " | ")])
    }

    func conflicts(_ aggregate: HouseholdAggregate, _ language: Language) -> [[String: String]] {
        var list: [[String: String]] = []
        for state in [aggregate.household] + aggregate.entities.filter(\.isVisible) {
            let name = state["name"].stringValue ?? state["title"].stringValue
            for record in state.conflicts {
                let text =
                    record.reason == .deleteVersusEdit
                    ? t("conflictDeleted", language, ["what": "\(state.kind.label(language))「\(name ?? "")」"])
                    : conflictText(state, record.field, kind: state.kind, name: name, language)
                list.append(["field": record.field, "text": text])
            }
        }
        return list
    }

    /// The sections of entries (members … visits) as tables.
    func sections(_ aggregate: HouseholdAggregate, _ viewer: Viewer, editable: Bool) -> [[String: Any]] {
        let language = viewer.language
        let text = values(language)
        let id = aggregate.household.id
        return [EntityKind.member, .liaison, .problem, .assistance, .visit].map { kind in
            var entries = aggregate.entities.filter { $0.kind == kind && $0.isVisible }
            if kind == .visit { entries.sort { ($0["visitedAt"].stringValue ?? "") > ($1["visitedAt"].stringValue ?? "") } }
            let fields = kind.fields.filter { $0.name != voidedFieldName }
            let rows: [[String: Any]] = entries.map { entry in
                present([
                    "id": entry.id.description, "conflict": !entry.conflicts.isEmpty,
                    "cells": fields.map { text.text(entry[$0.name], field: $0.name, kind: kind) + (entry.fields[$0.name]?.isConflicted == true ? " ⚠" : "") },
                    "editHref": editable && kind.isDeletable ? "/households/\(id)/entries/\(entry.id)" : nil,
                ])
            }
            return present([
                "id": kind.rawValue, "title": kind.listTitle(language), "columns": fields.map { kind.label(ofField: $0.name, language) },
                "rows": rows, "hasRows": !rows.isEmpty,
                "addHref": editable && kind.isDeletable ? "/households/\(id)/entries/new?kind=\(kind.rawValue)" : nil,
            ])
        }
    }

    func facts(_ aggregate: HouseholdAggregate, _ viewer: Viewer) -> [[String: Any]] {
        var text = values(viewer.language)
        text.revealNationalIDs = true
        return EntityKind.household.fields.map { spec in
            let state = aggregate.household
            let conflicted = state.fields[spec.name]?.isConflicted == true
            let shown =
                conflicted
                ? (state.fields[spec.name]?.distinctValues ?? []).map { text.text($0, field: spec.name, kind: .household) }.joined(separator: " | ")
                : text.text(state[spec.name], field: spec.name, kind: .household)
            return present([
                "name": spec.name, "label": EntityKind.household.label(ofField: spec.name, viewer.language), "value": shown,
                "changedBy": changedBy(state, spec.name, viewer),
            ])
        }
    }

    func householdPage(_ request: Request, _ viewer: Viewer, _ id: EntityID) async throws -> Response {
        let aggregate = try await household(id)
        let content: [String: Any] = [
            "id": aggregate.household.id.description, "facts": facts(aggregate, viewer), "sections": sections(aggregate, viewer, editable: true),
            "conflicts": conflicts(aggregate, viewer.language), "local": try await client.summary(of: id)?.hasLocalChanges == true,
        ]
        let title = aggregate.household["headName"].stringValue ?? t("household", viewer.language)
        return try await render("household", request, viewer, title: title, content: content)
    }

    func printPage(_ request: Request, _ viewer: Viewer, _ id: EntityID) async throws -> Response {
        let aggregate = try await household(id)
        let language = viewer.language
        var text = values(language)
        text.revealNationalIDs = true
        let latest = aggregate.entities.filter { $0.kind == .visit && $0.isVisible && !$0.isVoided }
            .max { ($0["visitedAt"].stringValue.flatMap(Instant.parse) ?? .distantPast) < ($1["visitedAt"].stringValue.flatMap(Instant.parse) ?? .distantPast) }
        let visit: [[String: String]] =
            latest.map { visit in
                EntityKind.visit.fields.filter { $0.name != voidedFieldName }.map { spec in
                    ["label": EntityKind.visit.label(ofField: spec.name, language), "value": text.text(visit[spec.name], field: spec.name, kind: .visit)]
                }
            } ?? []
        let content: [String: Any] = [
            "id": aggregate.household.id.description,
            "facts": EntityKind.household.fields.map { spec in
                [
                    "label": EntityKind.household.label(ofField: spec.name, language),
                    "value": text.text(aggregate.household[spec.name], field: spec.name, kind: .household),
                ]
            },
            "sections": sections(aggregate, viewer, editable: false).filter { ($0["id"] as? String) != "visit" },
            "visit": visit, "hasVisit": !visit.isEmpty,
            "printedText": t("printedAt", language, ["time": text.time(Date(timeIntervalSince1970: Double(state.configuration.client.clock()) / 1000))]),
        ]
        let title = t("sheetTitle", language) + " · " + (aggregate.household["headName"].stringValue ?? "")
        return try await render("print", request, viewer, title: title, content: content)
    }

    // MARK: Editing

    /// The household fields a visitor edits on the household form (status is the office's, the district the city's).
    static let editableHouseholdFields = EntityKind.household.fields.filter { $0.name != "status" && $0.name != "district" }

    func formFields(_ viewer: Viewer) -> FormFields { FormFields(language: viewer.language, city: city) }

    func editPage(_ request: Request, _ viewer: Viewer, _ id: EntityID, form: WebForm?, problems: [String: String]) async throws -> Response {
        let aggregate = try await household(id)
        let fields = Self.editableHouseholdFields.map { spec in
            formFields(viewer).field(
                spec, of: .household, current: aggregate.household, typed: form.map { $0.values(spec.name) }.flatMap { $0.isEmpty ? nil : $0 },
                problem: problems[spec.name], changedBy: conflictOrChange(aggregate.household, spec.name, kind: .household, viewer))
        }
        let content: [String: Any] = ["fields": fields, "action": "/households/\(id)/edit", "back": "/households/\(id)"]
        let title = t("editTitle", viewer.language, ["name": aggregate.household["headName"].stringValue ?? ""])
        return try await render(
            "edit", request, viewer, title: title, status: problems.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(fields, problems, viewer), content: content)
    }

    /// What the banner of a refused form says: that nothing was saved, and each problem with its
    /// field's label (the fields may be further down the page); `nil` when there is none.
    func problemSummary(_ fields: [FormField], _ problems: [String: String], _ viewer: Viewer) -> String? {
        guard !problems.isEmpty else { return nil }
        let named = Set(fields.map(\.name))
        let listed =
            fields.compactMap { field in field.problem.map { "\(field.label)：\($0)" } }
            + problems.filter { !named.contains($0.key) }.map(\.value).sorted()
        return t("fixProblems", viewer.language) + " " + listed.joined(separator: Texts.text("list.semicolon", viewer.language))
    }

    /// Under a field: its conflict in words, or who changed it last.
    func conflictOrChange(_ state: EntityState, _ field: String, kind: EntityKind, _ viewer: Viewer) -> String? {
        if state.fields[field]?.isConflicted == true {
            return conflictText(state, field, kind: kind, name: nil, viewer.language) + " " + t("settleHint", viewer.language)
        }
        return changedBy(state, field, viewer)
    }

    func editHousehold(_ request: Request, _ viewer: Viewer, _ id: EntityID, _ form: WebForm) async throws -> Response {
        let aggregate = try await household(id)
        let reading = formFields(viewer).read(Self.editableHouseholdFields, of: .household, from: form, current: aggregate.household)
        guard reading.problems.isEmpty else { return try await editPage(request, viewer, id, form: form, problems: reading.problems) }
        guard !reading.values.isEmpty else { return done("/households/\(id)", "nothingChanged") }
        do {
            try await client.editHousehold(id, set: reading.values, bases: reading.bases)
        } catch let error as DoorstepError {
            return try await editPage(request, viewer, id, form: form, problems: [error.details.field ?? "": error.explained(viewer.language)])
        }
        return done("/households/\(id)", "saved")
    }

    func entryKind(_ request: Request, entry: EntityState?) throws -> EntityKind {
        if let entry {
            // Visits are events, kept as recorded (an office voids a mistaken one); a household has its own form.
            guard entry.kind.isDeletable else {
                throw DoorstepError(
                    .invalidOperation, "a \(entry.kind.rawValue) is not changed on this form", zh: "\(entry.kind.label(.chinese))记录不能在这里修改")
            }
            return entry.kind
        }
        guard let text = request.uri.queryParameters.get("kind"), let kind = EntityKind(rawValue: String(text)), kind.isDeletable else {
            throw DoorstepError(
                .invalidValue, "choose what to add: a member, a liaison, a problem or an assistance item", zh: "请选择要添加的内容：家庭成员、联系人、问题或帮扶事项")
        }
        return kind
    }

    func entryPage(
        _ request: Request, _ viewer: Viewer, _ id: EntityID, entry entryID: EntityID?, form: WebForm?, problems: [String: String]
    ) async throws -> Response {
        let aggregate = try await household(id)
        let entry = try entryID.map { entryID in
            guard let entry = aggregate.entities.first(where: { $0.id == entryID && $0.isVisible }) else {
                throw DoorstepError(.notFound, "no entry \(entryID) in this household", zh: "这一户没有这条记录")
            }
            return entry
        }
        let kind = try entryKind(request, entry: entry)
        let fields = kind.fields.map { spec in
            formFields(viewer).field(
                spec, of: kind, current: entry, typed: form.map { $0.values(spec.name) }.flatMap { $0.isEmpty ? nil : $0 },
                problem: problems[spec.name], changedBy: entry.flatMap { conflictOrChange($0, spec.name, kind: kind, viewer) })
        }
        let base = "/households/\(id)/entries/"
        let action = entry.map { base + $0.id.description } ?? base + "new?kind=\(kind.rawValue)"
        var content: [String: Any] = ["fields": fields, "action": action, "back": "/households/\(id)"]
        if let entry { content["removeAction"] = base + entry.id.description + "/remove" } else { content["nonce"] = state.newNonce() }
        let title = t(entry == nil ? "addTitle" : "changeTitle", viewer.language, ["kind": kind.label(viewer.language)])
        return try await render(
            "edit", request, viewer, title: title, status: problems.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(fields, problems, viewer), content: content)
    }

    func saveEntry(_ request: Request, _ viewer: Viewer, _ id: EntityID, entry entryID: EntityID?, _ form: WebForm) async throws -> Response {
        let aggregate = try await household(id)
        let entry = entryID.flatMap { entryID in aggregate.entities.first { $0.id == entryID && $0.isVisible } }
        if entryID != nil && entry == nil { throw DoorstepError(.notFound, "no such entry in this household", zh: "这一户没有这条记录") }
        let kind = try entryKind(request, entry: entry)
        if entry == nil, !state.claim(nonce: form["nonce"]) { return done("/households/\(id)", "alreadySaved") }
        let builder = formFields(viewer)
        var reading = builder.read(kind.fields, of: kind, from: form, current: entry)
        if entry == nil { reading.problems.merge(builder.missing(kind.fields, of: kind, in: reading.values, problems: reading.problems)) { first, _ in first } }
        guard reading.problems.isEmpty else { return try await entryPage(request, viewer, id, entry: entryID, form: form, problems: reading.problems) }
        do {
            if let entry {
                guard !reading.values.isEmpty else { return done("/households/\(id)", "nothingChanged") }
                try await client.editEntry(entry.id, in: id, set: reading.values, bases: reading.bases)
            } else {
                try await client.addEntry(kind, to: id, reading.values)
            }
        } catch let error as DoorstepError {
            return try await entryPage(request, viewer, id, entry: entryID, form: form, problems: [error.details.field ?? "": error.explained(viewer.language)])
        }
        return done("/households/\(id)", "saved")
    }

    func removeEntry(_ viewer: Viewer, _ id: EntityID, entry: EntityID) async throws -> Response {
        try await client.removeEntry(entry, in: id)
        return done("/households/\(id)", "removed")
    }

    // MARK: Home verification

    /// The visit's fields on the form (`voided` is the office's).
    static let visitFields = EntityKind.visit.fields.filter { $0.name != voidedFieldName }
    static let problemFields = EntityKind.problem.fields
    static let assistanceFields = EntityKind.assistance.fields

    func verifyPage(_ request: Request, _ viewer: Viewer, _ id: EntityID, form: WebForm?, problems: [String: String]) async throws -> Response {
        let aggregate = try await household(id)
        let builder = formFields(viewer)
        let now = JSONValue.string(Instant.format(Date(timeIntervalSince1970: Double(state.configuration.client.clock()) / 1000), in: builder.zone))
        let defaults: [String: JSONValue] = [
            // The visitor's own name as typed at the last verification of this run (never the laptop's name).
            "visitedAt": now, "mode": "atHome", "visitor": state.visitorName.withLock { $0 }.map(JSONValue.string) ?? .null,
        ]
        func typed(_ name: String) -> [String]? { form.map { $0.values(name) }.flatMap { $0.isEmpty ? nil : $0 } }
        let visit = Self.visitFields.map { spec in
            builder.field(
                spec, of: .visit, name: "visit." + spec.name, value: defaults[spec.name] ?? .null, typed: typed("visit." + spec.name),
                problem: problems["visit." + spec.name])
        }
        let facts = Self.editableHouseholdFields.map { spec in
            builder.field(
                spec, of: .household, name: "fact." + spec.name, current: aggregate.household, typed: typed("fact." + spec.name),
                problem: problems["fact." + spec.name], changedBy: conflictOrChange(aggregate.household, spec.name, kind: .household, viewer))
        }
        let problem = Self.problemFields.map { spec in
            builder.field(spec, of: .problem, name: "problem." + spec.name, typed: typed("problem." + spec.name), problem: problems["problem." + spec.name])
        }
        let assistance = Self.assistanceFields.map { spec in
            builder.field(
                spec, of: .assistance, name: "assistance." + spec.name, typed: typed("assistance." + spec.name), problem: problems["assistance." + spec.name])
        }
        let content: [String: Any] = [
            "id": id.description, "visit": visit, "facts": facts, "problem": problem, "assistance": assistance, "nonce": state.newNonce(),
        ]
        let title = t("verifyTitle", viewer.language, ["name": aggregate.household["headName"].stringValue ?? ""])
        return try await render(
            "verify", request, viewer, title: title, status: problems.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(visit + facts + problem + assistance, problems, viewer), content: content)
    }

    func saveVerification(_ request: Request, _ viewer: Viewer, _ id: EntityID, _ form: WebForm) async throws -> Response {
        let aggregate = try await household(id)
        guard state.claim(nonce: form["nonce"]) else { return done("/households/\(id)", "alreadySaved") }
        let builder = formFields(viewer)
        var problems: [String: String] = [:]
        let visit = builder.read(Self.visitFields, of: .visit, from: form, prefix: "visit.")
        let facts = builder.read(Self.editableHouseholdFields, of: .household, from: form, prefix: "fact.", current: aggregate.household)
        let problem = builder.read(Self.problemFields, of: .problem, from: form, prefix: "problem.")
        let assistance = builder.read(Self.assistanceFields, of: .assistance, from: form, prefix: "assistance.")
        for part in [visit, facts, problem, assistance] { problems.merge(part.problems) { first, _ in first } }
        var newEntries: [HomeVerification.NewEntry] = []
        // A new item is one whose fields were filled in (an empty block adds nothing).
        let blocks: [(EntityKind, FormFields.Reading, String, [FieldSpec])] = [
            (.problem, problem, "problem.", Self.problemFields), (.assistance, assistance, "assistance.", Self.assistanceFields),
        ]
        for (kind, part, prefix, specs) in blocks where !part.values.isEmpty || !part.problems.isEmpty {
            problems.merge(builder.missing(specs, of: kind, in: part.values, prefix: prefix, problems: problems)) { first, _ in first }
            newEntries.append(HomeVerification.NewEntry(kind: kind, fields: part.values))
        }
        problems.merge(builder.missing(Self.visitFields, of: .visit, in: visit.values, prefix: "visit.", problems: problems)) { first, _ in first }
        guard problems.isEmpty else { return try await verifyPage(request, viewer, id, form: form, problems: problems) }
        do {
            try await client.recordVerification(
                HomeVerification(visit: visit.values, householdChanges: facts.values, householdBases: facts.bases, newEntries: newEntries), for: id)
        } catch let error as DoorstepError {
            let field = error.details.field.map { name -> String in
                let kind = error.details.kind ?? "visit"
                return (kind == "household" ? "fact." : kind + ".") + name
            }
            return try await verifyPage(request, viewer, id, form: form, problems: [field ?? "": error.explained(viewer.language)])
        }
        if let name = visit.values["visitor"]?.stringValue { state.visitorName.withLock { $0 = name } }
        return done("/households/\(id)", "verified")
    }

    // MARK: New household

    /// The fields of a new household's form (the district is the visitor's; the status is `candidate`).
    static let newHouseholdFields = EntityKind.household.fields.filter { $0.name != "status" && $0.name != "district" }
    /// What a new household's form starts with (as the library files it when nothing is said).
    static let newHouseholdDefaults: [String: JSONValue] = ["epidemicAffected": false]

    func newPage(_ request: Request, _ viewer: Viewer, form: WebForm?, problems: [String: String], matches: [HouseholdSummary]) async throws -> Response {
        let builder = formFields(viewer)
        let fields = Self.newHouseholdFields.map { spec in
            builder.field(
                spec, of: .household, value: Self.newHouseholdDefaults[spec.name] ?? .null,
                typed: form.map { $0.values(spec.name) }.flatMap { $0.isEmpty ? nil : $0 }, problem: problems[spec.name])
        }
        let matchRows: [[String: String]] = matches.map {
            [
                "id": $0.id.description, "name": $0.headName, "nationalId": $0.nationalIdMasked, "address": $0.address,
                "status": $0.status?.label(viewer.language) ?? "—",
            ]
        }
        let content: [String: Any] = ["fields": fields, "matches": matchRows, "hasMatches": !matches.isEmpty, "nonce": state.newNonce()]
        return try await render(
            "new", request, viewer, title: t("nav.new", viewer.language), current: "new",
            status: problems.isEmpty && matches.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(fields, problems, viewer), content: content)
    }

    func fileNew(_ request: Request, _ viewer: Viewer, _ form: WebForm) async throws -> Response {
        guard state.claim(nonce: form["nonce"]) else { return done("/", "alreadySaved") }
        let builder = formFields(viewer)
        let reading = builder.read(Self.newHouseholdFields, of: .household, from: form)
        let values = reading.values
        let missing = reading.problems.merging(builder.missing(Self.newHouseholdFields, of: .household, in: values, problems: reading.problems)) {
            first, _ in first
        }
        guard missing.isEmpty else { return try await newPage(request, viewer, form: form, problems: missing, matches: []) }
        let force = form["force"] == "1"
        // Duplicates are stopped at the door: the same national ID on this laptop opens that file.
        if !force, let number = values["nationalId"]?.stringValue {
            let matches = try await client.households(withNationalID: number)
            if !matches.isEmpty { return try await newPage(request, viewer, form: form, problems: [:], matches: matches) }
        }
        let id: EntityID
        do {
            id = try await client.fileHousehold(values, allowingSameNationalID: force)
        } catch let error as DoorstepError {
            return try await newPage(request, viewer, form: form, problems: [error.details.field ?? "": error.explained(viewer.language)], matches: [])
        }
        return done("/households/\(id)", "filed")
    }

    // MARK: Enrollment

    func enrollPage(_ request: Request, _ viewer: Viewer, form: WebForm?, problems: [String: String]) async throws -> Response {
        if viewer.enrollment != nil { return WebSecurity.redirect("/", policy: Self.policy) }
        let language = viewer.language
        let fields = [("server", "http://", 200), ("code", "", 20), ("name", "", 60)].map { name, placeholder, length in
            FormField(
                name: name, label: t("enroll.\(name)", language), required: true, value: form?[name] ?? "",
                maxLength: length, placeholder: placeholder.isEmpty ? nil : placeholder, hint: t("enroll.\(name)Hint", language),
                problem: problems[name])
        }
        return try await render(
            "enroll", request, viewer, title: t("enrollTitle", language), status: problems.isEmpty ? .ok : .unprocessableContent,
            content: ["fields": fields])
    }

    func enroll(_ request: Request, _ viewer: Viewer, _ form: WebForm) async throws -> Response {
        let language = viewer.language
        var problems: [String: String] = [:]
        let address = (form["server"] ?? "").trimmingCharacters(in: .whitespaces)
        let server = URL(string: address).flatMap { $0.scheme == "http" || $0.scheme == "https" ? $0 : nil }
        if server == nil || address.isEmpty { problems["server"] = t("enroll.badServer", language) }
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
        if code.isEmpty { problems["code"] = t("enroll.noCode", language) }
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        if name.isEmpty { problems["name"] = t("enroll.noName", language) }
        guard problems.isEmpty, let server else { return try await enrollPage(request, viewer, form: form, problems: problems) }
        do {
            try await client.enroll(server: server, code: code, deviceName: name)
        } catch let error as DoorstepError {
            let field = error.code == .invalidEnrollmentCode ? "code" : "server"
            return try await enrollPage(request, viewer, form: form, problems: [field: error.explained(language)])
        }
        await checkReachability()
        return done("/", "enrolled")
    }

    // MARK: Sync

    func startSync(_ viewer: Viewer) async throws -> Response {
        let state = state
        state.sync.start(client) { outcome in
            let online: Bool
            switch outcome {
            case .done: online = true
            case .failed(let error): online = error.code != .serverUnreachable
            case .cancelled: return
            }
            state.reachability.withLock { $0 = (online, Date()) }
        }
        return WebSecurity.redirect("/sync", policy: Self.policy)
    }

    func syncPage(_ request: Request, _ viewer: Viewer) async throws -> Response {
        let language = viewer.language
        let snapshot = state.sync.snapshot
        var content: [String: Any] = ["running": snapshot.running]
        if snapshot.running {
            let progress = snapshot.progress
            let phase = progress?.phase ?? .pushing
            if phase == .pulling {
                content["phaseText"] = t("pulling", language, ["count": "\(progress?.done ?? 0)"])
            } else if (progress?.total ?? 0) == 0 {
                content["phaseText"] = t("connecting", language)
            } else {
                content["phaseText"] = t("pushing", language, ["done": "\(progress?.done ?? 0)", "total": "\(progress?.total ?? 0)"])
            }
            content["done"] = progress?.done ?? 0
            if phase == .pushing { content["total"] = progress?.total ?? 0 }
            let bytes = progress?.bytes ?? 0
            let seconds = snapshot.started.map { Date().timeIntervalSince($0) } ?? 0
            content["bytesText"] = t("bytes", language, ["kib": "\(bytes / 1024)", "seconds": "\(Int(seconds))"])
            if phase == .pushing, let total = progress?.total, let done = progress?.done, done > 0, total > done, seconds > 1 {
                let left = seconds / Double(done) * Double(total - done)
                content["etaText"] = t("timeLeft", language, ["seconds": "\(Int(left.rounded(.up)))"])
            }
        } else if let outcome = snapshot.outcome {
            switch outcome {
            case .done(let summary):
                let rows: [(String, Int)] = [
                    ("pushed", summary.pushed), ("alreadyApplied", summary.alreadyApplied), ("conflicts", summary.conflicts),
                    ("quarantined", summary.quarantined), ("pulledHouseholds", summary.pulledHouseholds),
                ]
                var summaryContent: [String: Any] = [
                    "rows": rows.map { ["key": $0.0, "label": t("summary.\($0.0)", language), "value": "\($0.1)"] }
                        + [["key": "seconds", "label": t("summary.seconds", language), "value": String(format: "%.1f", summary.seconds)]]
                ]
                if summary.conflicts > 0 || summary.quarantined > 0 { summaryContent["attentionHref"] = "/attention" }
                content["summary"] = summaryContent
            case .failed(let error) where error.code == .deviceRevoked:
                content["revoked"] = true
                let bundle = try await client.enrollment?.revokedBundle
                content["revokedText"] = bundle.map { t("revokedWithBundle", language, ["path": $0]) } ?? t("revokedNoBundle", language)
            case .failed(let error):
                content["failure"] = error.explained(language)
            case .cancelled:
                content["failure"] = t("syncCancelled", language)
            }
        }
        if try await client.enrollment?.revokedAt != nil, content["revoked"] == nil {
            content["revoked"] = true
            let bundle = try await client.enrollment?.revokedBundle
            content["revokedText"] = bundle.map { t("revokedWithBundle", language, ["path": $0]) } ?? t("revokedNoBundle", language)
        }
        return try await render(
            "sync", request, viewer, title: t("nav.sync", language), current: "sync", refresh: snapshot.running ? 1 : nil, content: content)
    }

    // MARK: Attention

    func attentionPage(_ request: Request, _ viewer: Viewer, problems: [String: String], form: WebForm?) async throws -> Response {
        let language = viewer.language
        let waiting = try await client.worklist(WorklistQuery(reason: .attention, needsVisitorOnly: true, limit: 1000))
        var conflictRows: [[String: String]] = []
        for item in waiting.items where item.household.conflicts > 0 {
            guard let aggregate = try await client.household(item.household.id) else { continue }
            for conflict in conflicts(aggregate, language) {
                conflictRows.append(["household": item.household.id.description, "name": item.household.headName, "text": conflict["text"] ?? ""])
            }
        }
        var refused: [[String: Any]] = []
        let builder = formFields(viewer)
        for item in try await client.quarantine() {
            let mutation = item.mutation
            let name = try await client.household(item.household)?.household["headName"].stringValue ?? ""
            let specs = mutation.fields.compactMap { write in mutation.kind.field(write.field) }
            let fields = specs.map { spec in
                builder.field(
                    spec, of: mutation.kind, name: "\(item.seq).\(spec.name)", value: mutation.fields.first { $0.field == spec.name }?.value ?? .null,
                    typed: form.map { $0.values("\(item.seq).\(spec.name)") }.flatMap { $0.isEmpty ? nil : $0 },
                    problem: problems["\(item.seq).\(spec.name)"])
            }
            refused.append([
                "seq": "\(item.seq)", "household": item.household.description, "name": name,
                "what": mutation.op.label(language) + mutation.kind.label(language), "reason": item.explanation(language), "fields": fields,
            ])
        }
        let content: [String: Any] = [
            "conflicts": conflictRows, "hasConflicts": !conflictRows.isEmpty, "refused": refused, "hasRefused": !refused.isEmpty,
        ]
        return try await render(
            "attention", request, viewer, title: t("nav.attention", language), current: "attention",
            status: problems.isEmpty ? .ok : .unprocessableContent, content: content)
    }

    func resend(_ request: Request, _ viewer: Viewer, _ seq: Int64, _ form: WebForm) async throws -> Response {
        guard let item = try await client.quarantine().first(where: { $0.seq == seq }) else {
            throw DoorstepError(.notFound, "nothing refused with seq \(seq)", zh: "没有这条被退回的修改")
        }
        let specs = item.mutation.fields.compactMap { item.mutation.kind.field($0.field) }
        let refused = Dictionary(item.mutation.fields.map { ($0.field, $0.value) }, uniquingKeysWith: { first, _ in first })
        let reading = formFields(viewer).read(specs, of: item.mutation.kind, from: form, prefix: "\(seq).")
        guard reading.problems.isEmpty else { return try await attentionPage(request, viewer, problems: reading.problems, form: form) }
        var changes = reading.values.filter { refused[$0.key] != $0.value }
        // A control emptied: the value is taken out (the form sends what it showed filled in).
        for spec in specs where refused[spec.name] != .null && changes[spec.name] == nil {
            let sent = form.values("\(seq).\(spec.name)")
            // A set's boxes come after an empty marker: emptied only when no box is checked.
            if !sent.isEmpty, sent.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                if case .termSet = spec.type { changes[spec.name] = .array([]) } else { changes[spec.name] = .null }
            }
        }
        do {
            try await client.resend(seq, with: changes)
        } catch let error as DoorstepError {
            return try await attentionPage(request, viewer, problems: ["\(seq).\(error.details.field ?? "")": error.explained(viewer.language)], form: form)
        }
        return done("/attention", "resent")
    }
}
