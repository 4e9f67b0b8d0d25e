import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The field app is a web server on the visitor's laptop: only that laptop's browser, holding the
/// secret of the address printed at start, may read or change anything (issue 18, "Security of a
/// local web server"). A real app on a loopback port, a real HTTP client.
struct FieldAppSecurityTests {
    @Test func withoutTheSecret_nothingIsShown_withIt_aStrictCookieLetsTheBrowserIn() async throws {
        try await LiveServer.run { server in
            try await RunningApp.run { app in
                let visitor = try await server.enrolledClient()
                _ = try await visitor.fileHousehold(Samples.household(1, name: "秘密户主"))
                try await visitor.sync()
                try await app.client.enroll(server: server.url, code: try await server.code(), deviceName: "test")
                try await app.client.sync()

                let bare = try await app.browser.get("/")
                #expect(bare.status == 403 && !bare.text.contains("秘密户主"), "no cookie, no key: \(bare.status)")
                let wrong = try await app.browser.get("/?key=not-the-secret")
                #expect(wrong.status == 403 && !wrong.text.contains("秘密户主"))

                let opened = try await app.browser.get("/?key=\(app.secret)&q=abc")
                #expect(opened.status == 303 && opened.location == "/?q=abc", "the key leaves the address: \(opened.location ?? "")")
                let cookie = try #require(opened.headers.first(name: "Set-Cookie"))
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
                let page = try await app.browser.get("/?all=1")
                #expect(page.status == 200 && page.text.contains("秘密户主"), "\(page.status)")

                // Every answer: no script, nothing from elsewhere, never framed, never cached, no CORS.
                let policy = try #require(page.headers.first(name: "Content-Security-Policy"))
                #expect(policy.contains("default-src 'none'") && !policy.contains("script-src") && !policy.contains("unsafe-inline"), "\(policy)")
                #expect(page.headers.first(name: "X-Frame-Options") == "DENY" && page.headers.first(name: "Cache-Control") == "no-store")
                #expect(page.headers.first(name: "Access-Control-Allow-Origin") == nil)
                #expect(!page.text.contains("<script"), "the pages run no script")
            }
        }
    }

    @Test func anotherHostName_isRefused_evenWithTheCookie() async throws {
        try await RunningApp.run { app in
            try await app.signIn()
            #expect(try await app.browser.get("/enroll").status == 200)
            // DNS rebinding: a page of evil.example resolved to 127.0.0.1 reaches the port, under its own name.
            let port = app.url.port ?? 0
            for host in ["evil.example:\(port)", "127.0.0.1:\(port + 1)", "127.0.0.1", "localhost.evil.example:\(port)"] {
                let answer = try await app.browser.get("/enroll", headers: [("Host", host)])
                #expect(answer.status == 421, "\(host): \(answer.status)")
            }
            #expect(try await app.browser.get("/enroll", headers: [("Host", "localhost:\(port)")]).status == 200)
        }
    }

    @Test func aFormWithoutItsToken_isRefused_andChangesNothing() async throws {
        try await LiveServer.run { server in
            try await RunningApp.run { app in
                try await app.client.enroll(server: server.url, code: try await server.code(), deviceName: "test")
                try await app.signIn()
                let fields = Samples.formFields(2)
                let forged = try await app.browser.send(.POST, "/new", form: fields)
                #expect(forged.status == 403, "\(forged.status)")
                let stale = try await app.browser.send(.POST, "/new", form: [("csrf", "guessed")] + fields)
                #expect(stale.status == 403)
                #expect(try await app.client.status().pending == 0, "nothing was filed")
                let filed = try await app.browser.submit("/new", from: "/new", fields)
                #expect(filed.status == 303, "\(filed.status) \(filed.text.prefix(400))")
                #expect(try await app.client.status().pending == 1)
            }
        }
    }

    @Test func theLaunchAddress_worksOnce_theSecretEveryTime_andAnEarlierStartsCookieNever() async throws {
        let folder = Scratch.root.appendingPathComponent("doorstep-app-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/local.sqlite"
        let earlier = try await RunningApp.run(path: path) { app in
            let launch = "/?" + (app.launch.query ?? "")
            #expect(try await app.browser.get(launch).status == 303, "the launched browser gets in")
            #expect(try await app.browser.get("/enroll").status == 200)
            let cookie = app.browser.cookieHeader
            app.browser.forgetCookies()
            #expect(try await app.browser.get(launch).status == 403, "the launch address works once")
            try await app.signIn()
            try await app.signIn()
            #expect(try await app.browser.get("/enroll").status == 200, "the printed address works every time")
            return cookie
        }
        try await RunningApp.run(path: path) { app in
            let old = try await app.browser.get("/enroll", headers: [("Cookie", earlier)])
            #expect(old.status == 403, "a cookie of an earlier start is refused")
        }
    }
}
