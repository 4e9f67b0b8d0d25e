import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `doorstep admin users …`: dashboard accounts, managed from the command line against a live server.
@Suite(.serialized)
struct UserCommandTests {
    static func admin(_ server: LiveServer) -> [String] { OfficeCommandTests.admin(server) }

    /// An office device of Dongsheng (150602), enrolled through the CLI: its commands use its own token.
    static func officeDevice(_ server: LiveServer) async throws -> CLI {
        let office = CLI()
        let code = try await server.code(district: "150602", role: .office)
        let enrolled = try await office.run("enroll", "--server", server.url.absoluteString, "--code", code)
        #expect(enrolled.status == 0, "\(enrolled)")
        return office
    }

    @Test func add_list_officeSeesItsOwnDistrict_citySeesAll() async throws {
        try await LiveServer.run { server in
            let city = CLI()
            let added = try await city.run(
                ["admin", "users", "add", "wang.li", "--district", "150602", "--password-stdin", "--json"] + Self.admin(server),
                stdin: "a long passphrase\n")
            #expect(added.status == 0, "\(added)")
            let account = try added.json(DashboardAccount.self)
            #expect(account.name == "wang.li" && account.role == .office && account.district == "150602" && account.disabledAt == nil)
            #expect(try added.json()["password"] == nil && !added.stdout.contains("passphrase"), "never the password: \(added)")

            let office = try await Self.officeDevice(server)
            // An office's own district is the default; the password may come from the environment (scripts).
            let own = try await office.run(["admin", "users", "add", "li.office", "--json"], environment: ["DOORSTEP_PASSWORD": "another passphrase"])
            #expect(own.status == 0, "\(own)")
            #expect(try own.json(DashboardAccount.self).district == "150602")
            #expect(try own.json(DashboardAccount.self).createdBy.hasPrefix("device:"))
            let kang = try await city.run(
                ["admin", "users", "add", "kang.office", "--district", "150603"] + Self.admin(server),
                environment: ["DOORSTEP_PASSWORD": "kangbashi passphrase"])
            #expect(kang.status == 0 && kang.stdout.contains("已创建工作台账号") && kang.stdout.contains("康巴什区 150603"), "\(kang)")
            #expect(kang.stdout.contains("\(server.url.absoluteString)/dashboard/signin"), "\(kang)")
            let boss = try await city.run(
                ["admin", "users", "add", "city.zhao", "--role", "city", "--json"] + Self.admin(server),
                environment: ["DOORSTEP_PASSWORD": "the city's passphrase"])
            #expect(try boss.json(DashboardAccount.self).role == .city && boss.json(DashboardAccount.self).district == nil, "\(boss)")

            let seen = try await office.run("admin", "users", "list", "--json").json([DashboardAccount].self)
            #expect(seen.map(\.name) == ["li.office", "wang.li"], "an office sees its own district's office accounts only")
            let all = try await city.run(["admin", "users", "list", "--json"] + Self.admin(server)).json([DashboardAccount].self)
            #expect(all.map(\.name) == ["city.zhao", "kang.office", "li.office", "wang.li"])
            let kangbashi = try await city.run(["admin", "users", "list", "--district", "150603", "--json"] + Self.admin(server)).json([DashboardAccount].self)
            #expect(kangbashi.map(\.name) == ["kang.office"])
            let table = try await office.run("admin", "users", "list", "--lang", "en")
            #expect(
                table.status == 0 && table.stdout.contains("wang.li") && table.stdout.contains("active")
                    && table.stdout.contains("Dongsheng 150602") && !table.stdout.contains("kang.office"), "\(table)")

            // An office cannot reach beyond its district, nor create a city account.
            let elsewhere = try await office.run(
                ["admin", "users", "add", "zhang.office", "--district", "150603"], environment: ["DOORSTEP_PASSWORD": "a long passphrase"])
            #expect(elsewhere.status == 1 && elsewhere.errorLines.count == 1 && elsewhere.stderr.contains("[outOfScope]"), "\(elsewhere)")
            let promote = try await office.run(
                ["admin", "users", "add", "zhang.city", "--role", "city"], environment: ["DOORSTEP_PASSWORD": "a long passphrase"])
            #expect(promote.status == 1 && promote.stderr.contains("[forbiddenForRole]"), "\(promote)")
            let other = try await office.run("admin", "users", "disable", "kang.office")
            #expect(other.status == 1 && other.stderr.contains("[notFound]"), "\(other)")
            let taken = try await city.run(
                ["admin", "users", "add", "wang.li", "--district", "150602"] + Self.admin(server),
                environment: ["DOORSTEP_PASSWORD": "a long passphrase"])
            #expect(taken.status == 65 && taken.errorLines.count == 1, "\(taken)")
        }
    }

    @Test func passwords_neverFromAFlag_shortOnesRefused_noneWithoutATerminal() async throws {
        try await LiveServer.run { server in
            let city = CLI(lang: "en_US.UTF-8")
            let flag = try await city.run(["admin", "users", "add", "wang.li", "--district", "150602", "--password", "a long passphrase"] + Self.admin(server))
            #expect(flag.status == 64, "no --password option: \(flag)")
            let none = try await city.run(["admin", "users", "add", "wang.li", "--district", "150602"] + Self.admin(server))
            #expect(
                none.status == 65 && none.errorLines.count == 1 && none.stderr.contains("[missingField]") && none.stderr.contains("--password-stdin"), "\(none)"
            )
            let empty = try await city.run(["admin", "users", "add", "wang.li", "--district", "150602", "--password-stdin"] + Self.admin(server), stdin: "")
            #expect(empty.status == 65 && empty.stderr.contains("[missingField]"), "\(empty)")
            let short = try await city.run(
                ["admin", "users", "add", "wang.li", "--district", "150602", "--password-stdin"] + Self.admin(server), stdin: "short\n")
            #expect(short.status == 65 && short.errorLines.count == 1 && short.stderr.contains("[invalidValue]"), "\(short)")
            let badName = try await city.run(
                ["admin", "users", "add", "王", "--district", "150602", "--password-stdin"] + Self.admin(server), stdin: "a long passphrase\n")
            #expect(badName.status == 65 && badName.stderr.contains("[invalidValue]"), "\(badName)")
            #expect(try await server.admin.users().isEmpty)
        }
    }

    @Test func disable_thenSignInFails_enable_thenPasswordReset() async throws {
        try await LiveServer.run { server in
            let office = try await Self.officeDevice(server)
            #expect(try await office.run(["admin", "users", "add", "wang.li", "--password-stdin"], stdin: "a long passphrase\n").status == 0)
            #expect(try await DashboardSignIn.status(server, "wang.li", "a long passphrase") == .signedIn)

            let disabled = try await office.run("admin", "users", "disable", "wang.li", "--json")
            #expect(disabled.status == 0, "\(disabled)")
            #expect(try disabled.json(DashboardAccount.self).disabledAt != nil)
            #expect(try await DashboardSignIn.status(server, "wang.li", "a long passphrase") == .refused(403), "a disabled account cannot sign in")
            let listed = try await office.run("admin", "users", "list")
            #expect(listed.stdout.contains("已停用"), "\(listed)")

            let enabled = try await office.run("admin", "users", "enable", "wang.li")
            #expect(enabled.status == 0 && enabled.stdout.contains("已启用"), "\(enabled)")
            #expect(try await DashboardSignIn.status(server, "wang.li", "a long passphrase") == .signedIn)

            let before = try #require(try await server.admin.users().first).passwordChangedAt
            let reset = try await office.run(["admin", "users", "password", "wang.li", "--password-stdin", "--json"], stdin: "a brand new passphrase\n")
            #expect(reset.status == 0, "\(reset)")
            #expect(try reset.json(DashboardAccount.self).passwordChangedAt >= before && reset.json(DashboardAccount.self).disabledAt == nil)
            #expect(try await DashboardSignIn.status(server, "wang.li", "a long passphrase") == .refused(401), "the old password no longer works")
            #expect(try await DashboardSignIn.status(server, "wang.li", "a brand new passphrase") == .signedIn)
        }
    }

    @Test func password_typedTwiceAtAHiddenPrompt_onATerminal() async throws {
        try await LiveServer.run { server in
            let city = CLI()
            #expect(
                try await city.run(
                    ["admin", "users", "add", "wang.li", "--district", "150602", "--password-stdin"] + Self.admin(server),
                    stdin: "a long passphrase\n"
                ).status == 0)
            let typed = "typed at the terminal\ntyped at the terminal\n"
            guard let result = try await city.runInTerminal(["admin", "users", "password", "wang.li"] + Self.admin(server), stdin: typed) else { return }
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("新密码") && result.stdout.contains("再输入一次"), "the prompts: \(result)")
            #expect(try await DashboardSignIn.status(server, "wang.li", "typed at the terminal") == .signedIn)

            let differ = try await city.runInTerminal(
                ["admin", "users", "password", "wang.li"] + Self.admin(server),
                stdin: (1...3).map { "passphrase one \($0)\npassphrase two \($0)\n" }.joined())
            #expect(differ?.status == 65 && differ?.stdout.contains("错误 [invalidValue]: 两次输入的密码不一致") == true, "\(String(describing: differ))")
            #expect(try await DashboardSignIn.status(server, "wang.li", "typed at the terminal") == .signedIn, "unchanged")
        }
    }
}

/// Signs in to the dashboard as a browser would: the sign-in page (its cookie and form token), then the form.
enum DashboardSignIn {
    enum Outcome: Equatable {
        case signedIn
        case refused(Int)
    }

    static func status(_ server: LiveServer, _ name: String, _ password: String) async throws -> Outcome {
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let url = server.url.appendingPathComponent("dashboard/signin")
        var page = URLRequest(url: url)
        page.httpShouldHandleCookies = false
        let (body, response) = try await session.data(for: page)
        let headers = (response as? HTTPURLResponse)?.allHeaderFields ?? [:]
        let setCookie = headers.first { ($0.key as? String)?.lowercased() == "set-cookie" }?.value as? String ?? ""
        let cookie = try #require(between(setCookie, "doorstep_signin=", ";"), "the sign-in cookie: \(setCookie)")
        let csrf = try #require(between(String(decoding: body, as: UTF8.self), "name=\"csrf\" value=\"", "\""))
        var post = URLRequest(url: url)
        post.httpMethod = "POST"
        post.httpShouldHandleCookies = false
        post.setValue("doorstep_signin=\(cookie)", forHTTPHeaderField: "Cookie")
        post.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let form = ["csrf": csrf, "name": name, "password": password]
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        post.httpBody = Data(form.utf8)
        let (_, answer) = try await session.data(for: post)
        let status = (answer as? HTTPURLResponse)?.statusCode ?? 0
        // 303 to the dashboard (or, when the redirect is followed, the page it leads to).
        return status == 303 || status == 200 ? .signedIn : .refused(status)
    }

    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let from = text.range(of: start) else { return nil }
        let rest = text[from.upperBound...]
        return String(rest[..<(rest.range(of: end)?.lowerBound ?? rest.endIndex)])
    }
}
