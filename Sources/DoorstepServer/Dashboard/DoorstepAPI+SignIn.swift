import DoorstepCore
import DoorstepStorage
import DoorstepWeb
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
        response.setCookie(WebSecurity.cookie(DashboardSettings.signInCookie, secret, maxAge: 3600, path: "/dashboard", request: request))
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

    /// `POST /dashboard/signin`: checks the form token, then the password (bcrypt), in its turn when
    /// the address or the account has failed too often (``GuessThrottle``); starts a session. A
    /// right password is accepted whatever others did; a wrong one past a limit is answered 429.
    func signIn(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let form = try await formFields(request)
        guard let secret = request.cookies[DashboardSettings.signInCookie]?.value, !secret.isEmpty,
            let sent = form["csrf"], WebSecurity.constantTimeEqual(sent, DashboardSecurity.formToken(for: secret, purpose: "signin"))
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
        let found = try? DashboardSecurity.normalizeName(typed)
        let stored: (account: DashboardAccount, passwordHash: String)? = if let found { try await storage.dashboardAccount(named: found) } else { nil }
        // Failures count per address, per account and address, and per account from anywhere (a
        // name that is no account counts under one key, so invented names add no rows). A key over
        // its limit slows the checks under it (one a turn); it never refuses a right password.
        let account = stored.map { "account:\($0.account.name)" } ?? "account:?"
        let keys = [
            ("dashboard-addr:\(context.remoteAddress)", configuration.authFailureLimit),
            ("dashboard-\(account)|\(context.remoteAddress)", configuration.authFailureLimit),
            ("dashboard-\(account)", 5 * configuration.authFailureLimit),
        ]
        for (key, limit) in keys {
            guard try await isOverLimit(key, limit: limit) else { continue }
            guard await throttle.turn(key) else {
                context.logger.notice(
                    "dashboard sign-in refused: too many waiting", metadata: ["key": "\(key.hasPrefix("dashboard-addr") ? "address" : "account")"])
                var refused = try signInForm(request, secret: secret, name: typed, next: next, message: "signIn.rateLimited", status: .tooManyRequests)
                refused.headers[.retryAfter] = String(max(1, window / 1000))
                return refused
            }
        }
        // A password bcrypt would cut short (over 72 bytes, or with a NUL) never matches; the time spent is the same.
        let usable =
            password.utf8.count <= DashboardSettings.maxPasswordBytes
            && !password.unicodeScalars.contains { $0.properties.generalCategory == .control }
        let matches = try await DashboardSecurity.verifyPassword(usable ? password : "", hash: usable ? stored?.passwordHash : nil)
        guard matches, let account = stored?.account else {
            var over = false
            for (key, limit) in keys {
                over = try await storage.noteAuthFailure(key: key, nowMillis: nowMillis, windowMillis: window) > limit || over
            }
            context.logger.info("dashboard sign-in failed")
            if over {
                var refused = try signInForm(request, secret: secret, name: typed, next: next, message: "signIn.rateLimited", status: .tooManyRequests)
                refused.headers[.retryAfter] = String(max(1, window / 1000))
                return refused
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
            WebSecurity.cookie(
                DashboardSettings.sessionCookie, token,
                maxAge: Int(DashboardSettings.sessionLifetimeMillis / 1000), request: request))
        response.setCookie(WebSecurity.cookie(DashboardSettings.signInCookie, "", maxAge: 0, path: "/dashboard", request: request))
        return response
    }

    /// `POST /dashboard/signout`: ends the session (its row is deleted) and clears the cookie.
    func signOut(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardAction(request) { _, _ in
            if let token = request.cookies[DashboardSettings.sessionCookie]?.value {
                try await storage.deleteDashboardSession(idHash: Secrets.hash(token))
            }
            var response = DashboardRenderer.redirect("/dashboard/signin")
            response.setCookie(WebSecurity.cookie(DashboardSettings.sessionCookie, "", maxAge: 0, request: request))
            return response
        }
    }
}
