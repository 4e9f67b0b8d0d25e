import DoorstepCore
import DoorstepStorage
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// `GET /dashboard/signin`: the sign-in form. Signed in already, a 303 to the overview.
    ///
    /// Before there is a session, a random value in a short-lived cookie (HttpOnly, SameSite=Strict)
    /// stands in for it: the form carries the token derived from it, so a sign-in cannot be forged
    /// from another site either.
    func signInPage(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        if try await dashboardViewer(request) != nil { return DashboardRenderer.redirect(safeNext(request.uri.queryParameters.get("next"))) }
        let existing = request.cookies[DashboardSettings.signInCookie]?.value
        let secret = existing.flatMap { $0.count == 43 ? $0 : nil } ?? DashboardSecurity.newSessionID()
        var response = try signInForm(request, secret: secret, name: "", next: request.uri.queryParameters.get("next"), message: nil, status: .ok)
        response.setCookie(DashboardSecurity.cookie(DashboardSettings.signInCookie, secret, maxAge: 3600, path: "/dashboard", request: request))
        rememberLanguage(&response, request)
        return response
    }

    /// Renders the sign-in form with an optional message (a text key).
    func signInForm(_ request: Request, secret: String, name: String, next: String?, message: String?, status: HTTPResponse.Status) throws -> Response {
        let language = dashboardLanguage(request).language
        let texts = Texts.section("dashboard", language)
        let title = texts["signIn.title"] ?? "Sign in"
        var chrome = chrome(title, request: request, viewer: nil, language: language)
        chrome.error = message.flatMap { texts[$0] }
        let content: [String: Any] = [
            "csrf": DashboardSecurity.formToken(for: secret, purpose: "signin"), "name": name, "next": safeNext(next),
        ]
        return DashboardRenderer.html(try DashboardRenderer.render("signin", chrome: chrome, language: language, content: content), status: status)
    }

    /// A place to return to after signing in: a dashboard path of this server, else the overview.
    func safeNext(_ next: String?) -> String {
        guard let next, next == "/" || next.hasPrefix("/dashboard"), !next.hasPrefix("//"), !next.contains("\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/dashboard" }
        return next
    }

    /// `POST /dashboard/signin`: checks the form token, the account's limit (an account that failed
    /// too often is refused without its password being checked: passwords can be guessed), then the
    /// password (bcrypt); starts a session. A right password is accepted whatever others behind the
    /// same address did; a wrong one from an address that failed too often is answered 429.
    func signIn(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let form = try await formFields(request)
        guard let secret = request.cookies[DashboardSettings.signInCookie]?.value, !secret.isEmpty,
            let sent = form["csrf"], DashboardSecurity.constantTimeEqual(sent, DashboardSecurity.formToken(for: secret, purpose: "signin"))
        else {
            return try errorPage(
                DoorstepError(.forbiddenForRole, "the sign-in form is stale or came from elsewhere; open the sign-in page again"),
                request: request, viewer: nil)
        }
        let typed = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let password = form["password"] ?? ""
        let next = form["next"]
        let nowMillis = configuration.clock()
        let window = configuration.authFailureWindowMillis
        let addressKey = "dashboard-addr:\(context.remoteAddress)"
        let accountKey = "dashboard-account:\(typed.prefix(64))"
        if try await storage.authFailures(key: accountKey, nowMillis: nowMillis, windowMillis: window) >= configuration.authFailureLimit {
            context.logger.notice("dashboard sign-in refused: too many failures", metadata: ["key": "account"])
            return try signInForm(request, secret: secret, name: typed, next: next, message: "signIn.rateLimited", status: .tooManyRequests)
        }
        let found = try? DashboardSecurity.normalizeName(typed)
        let stored: (account: DashboardAccount, passwordHash: String)? = if let found { try await storage.dashboardAccount(named: found) } else { nil }
        // A password bcrypt would cut short (over 72 bytes, or with a NUL) never matches; the time spent is the same.
        let usable =
            password.utf8.count <= DashboardSettings.maxPasswordBytes
            && !password.unicodeScalars.contains { $0.properties.generalCategory == .control }
        let matches = try await DashboardSecurity.verifyPassword(usable ? password : "", hash: usable ? stored?.passwordHash : nil)
        guard matches, let account = stored?.account else {
            _ = try await storage.noteAuthFailure(key: accountKey, nowMillis: nowMillis, windowMillis: window)
            let fromAddress = try await storage.noteAuthFailure(key: addressKey, nowMillis: nowMillis, windowMillis: window)
            context.logger.info("dashboard sign-in failed")
            if fromAddress > configuration.authFailureLimit {
                return try signInForm(request, secret: secret, name: typed, next: next, message: "signIn.rateLimited", status: .tooManyRequests)
            }
            return try signInForm(request, secret: secret, name: typed, next: next, message: "signIn.failed", status: .unauthorized)
        }
        guard !account.isDisabled else {
            context.logger.info("dashboard sign-in of a disabled account", metadata: ["account": "\(account.name)"])
            return try signInForm(request, secret: secret, name: typed, next: next, message: "signIn.disabled", status: .forbidden)
        }
        let token = DashboardSecurity.newSessionID()
        try await storage.createDashboardSession(
            DashboardSessionRecord(
                idHash: Secrets.hash(token), account: account.name, createdAtMillis: nowMillis,
                expiresAtMillis: nowMillis + DashboardSettings.sessionLifetimeMillis),
            nowMillis: nowMillis
        )
        context.logger.info("dashboard sign-in", metadata: ["account": "\(account.name)"])
        var response = DashboardRenderer.redirect(safeNext(next))
        response.setCookie(
            DashboardSecurity.cookie(
                DashboardSettings.sessionCookie, token,
                maxAge: Int(DashboardSettings.sessionLifetimeMillis / 1000), request: request))
        response.setCookie(DashboardSecurity.cookie(DashboardSettings.signInCookie, "", maxAge: 0, path: "/dashboard", request: request))
        return response
    }

    /// `POST /dashboard/signout`: ends the session (its row is deleted) and clears the cookie.
    func signOut(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardAction(request) { _, _ in
            if let token = request.cookies[DashboardSettings.sessionCookie]?.value {
                try await storage.deleteDashboardSession(idHash: Secrets.hash(token))
            }
            var response = DashboardRenderer.redirect("/dashboard/signin")
            response.setCookie(DashboardSecurity.cookie(DashboardSettings.sessionCookie, "", maxAge: 0, request: request))
            return response
        }
    }
}
