import Crypto
import DoorstepCore
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// The office dashboard: accounts, sessions, form tokens, rate limits, every page and action.
@Suite struct DashboardTests {
    static let password = "correct horse battery"

    init() { DashboardSettings.passwordCost = 4 }

    /// Every row of a table as text, on whichever backend the test server uses (SQLite or PostgreSQL).
    static func rows(_ server: TestServer, _ table: String) async throws -> String {
        if let url = try await server.resolvedConfiguration().databaseURL { return try await TestDatabase.dump(url: url, tables: [table]) }
        return try await DatabaseQueue(path: server.configuration.databasePath).read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map(\.description).joined(separator: "\n")
        }
    }

    /// Creates a dashboard account through the JSON API with the admin token.
    static func account(_ session: Session, _ name: String, role: Role = .office, district: String? = "150602") async throws {
        let response = try await session.call(
            .post, "/v1/admin/users", token: session.adminToken,
            json: [
                "name": .string(name), "password": .string(password), "role": .string(role.rawValue), "district": district.map(JSONValue.string) ?? .null,
            ])
        #expect(response.status == .created, "\(response.text)")
    }

    /// A Dongsheng (150602) world: a filed household with a member, a visit and an overdue assistance item;
    /// a household with an address conflict; a candidate filed twice (a duplicate link); a rejected change;
    /// a Kangbashi (150603) household.
    struct Seeded: Sendable {
        var filed, conflicted, other: EntityID
        var first, second: TestDevice
        var f1, f2: MutationFactory
    }

    static func seed(_ session: Session, _ server: TestServer) async throws -> Seeded {
        let first = try await session.enroll(district: "150602", role: .visitor)
        let second = try await session.enroll(district: "150602", role: .visitor)
        let kangbashi = try await session.enroll(district: "150603", role: .visitor)
        let (f1, f2, f3) = (
            MutationFactory(device: first.id, clock: server.clock), MutationFactory(device: second.id, clock: server.clock),
            MutationFactory(device: kangbashi.id, clock: server.clock)
        )
        let filed = EntityID.random(), conflicted = EntityID.random(), other = EntityID.random()
        let filing = f1.make(.create, .household, entity: filed, fields: Sample.household(nationalID: Sample.nationalID(1)))
        let creation = f1.make(.create, .household, entity: conflicted, fields: Sample.household(nationalID: Sample.nationalID(2)))
        _ = try await session.pushOK(
            first,
            [
                filing, creation, f1.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(4))),
                f1.make(
                    .create, .member, entity: EntityID.random(), household: filed,
                    fields: [
                        FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "spouse"),
                        FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "unemployed"),
                    ]),
                f1.make(.create, .visit, entity: EntityID.random(), household: filed, fields: Sample.visit(day: 3)),
                f1.make(
                    .create, .assistance, entity: EntityID.random(), household: filed,
                    fields: [
                        FieldWrite(field: "category", value: "employment"), FieldWrite(field: "measure", value: "岗位推荐"),
                        FieldWrite(field: "leadDepartment", value: "humanResources"), FieldWrite(field: "dueDate", value: "2020-04-01"),
                        FieldWrite(field: "status", value: "planned"),
                    ]),
            ])
        // A visitor may not change a status: rejected, logged for review.
        _ = try await session.pushOK(first, [f1.make(.update, .household, entity: filed, fields: [FieldWrite(field: "status", value: "closed", base: [])])])
        #expect(try await session.call(.post, "/v1/households/\(filed)/status", token: session.adminToken, json: ["to": "filed"]).status == .ok)
        server.clock.advance(1000)
        _ = try await session.pushOK(
            second, [f2.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(4)))])
        _ = try await session.pushOK(
            first, [f1.make(.update, .household, entity: conflicted, fields: [FieldWrite(field: "address", value: "林荫路 3 号", base: [creation.writeID])])])
        _ = try await session.pushOK(
            second, [f2.make(.update, .household, entity: conflicted, fields: [FieldWrite(field: "address", value: "林荫路 5 号", base: [creation.writeID])])])
        _ = try await session.pushOK(
            kangbashi,
            [f3.make(.create, .household, entity: other, fields: Sample.household(nationalID: Sample.nationalID(3, region: "150603"), district: "150603"))])
        return Seeded(filed: filed, conflicted: conflicted, other: other, first: first, second: second, f1: f1, f2: f2)
    }

    @Test func signedOutIsRedirectedToSignIn() async throws {
        try await TestServer().test { session in
            let browser = Browser(session)
            for path in [
                "/", "/dashboard", "/dashboard/review", "/dashboard/households", "/dashboard/households/\(EntityID.random())",
                "/dashboard/compare", "/dashboard/export/missed",
            ] {
                let response = try await browser.get(path)
                #expect(response.status == .seeOther, "\(path)")
                #expect(response.headers[.location]?.hasPrefix("/dashboard/signin?next=") == true, "\(path)")
            }
            let post = try await browser.post("/dashboard/review/confirm", ["csrf": "x", "entity": "y", "field": "address"])
            #expect(post.status == .seeOther && post.headers[.location]?.hasPrefix("/dashboard/signin") == true)
            let page = try await browser.get("/dashboard/signin")
            #expect(page.status == .ok && page.text.contains("<html lang=\"zh-CN\">") && page.text.contains("登录"))
            #expect(page.text.contains("<label for=\"password\">") && page.text.contains("name=\"viewport\""))
        }
    }

    @Test func accountEndpointsKeepOfficesInTheirDistrict() async throws {
        let server = TestServer()
        try await server.test { session in
            try await Self.account(session, "city.lead", role: .city, district: nil)
            let office = try await session.enroll(district: "150602", role: .office)
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            func create(
                _ token: String, _ name: String, role: String = "office", district: String? = nil, password: String = Self.password
            ) async throws -> TestResponse {
                try await session.call(
                    .post, "/v1/admin/users", token: token,
                    json: [
                        "name": .string(name), "password": .string(password), "role": .string(role), "district": district.map(JSONValue.string) ?? .null,
                    ])
            }
            let created = try await create(office.token, "Dongsheng.Wang")
            #expect(created.status == .created, "\(created.text)")
            let account = try created.json(DashboardAccount.self)
            #expect(account.name == "dongsheng.wang" && account.district == "150602" && account.role == .office && !created.text.contains("password\""))
            #expect(try await create(office.token, "kangbashi.li", district: "150603").errorCode == "outOfScope")
            #expect(try await create(office.token, "city.two", role: "city").errorCode == "forbiddenForRole")
            #expect(try await create(visitor.token, "visitor.made").errorCode == "forbiddenForRole")
            #expect(try await create(session.adminToken, "short.pw", district: "150602", password: "short").errorCode == "invalidValue")
            #expect(try await create(session.adminToken, "dongsheng.wang", district: "150602").errorCode == "invalidValue")
            #expect(try await create(session.adminToken, "kangbashi.li", district: "150603").status == .created)
            let listed = try await session.call(.get, "/v1/admin/users", token: office.token).json([String: [DashboardAccount]].self)
            #expect(listed["users"]?.map(\.name) == ["dongsheng.wang"])
            #expect(try await session.call(.get, "/v1/admin/users", token: session.adminToken).json([String: [DashboardAccount]].self)["users"]?.count == 3)
            #expect(try await session.call(.post, "/v1/admin/users/kangbashi.li/disable", token: office.token).status == .notFound)
            #expect(
                try await session.call(.post, "/v1/admin/users/city.lead/password", token: office.token, json: ["password": "another long one"]).status
                    == .notFound)
            let disabled = try await session.call(.post, "/v1/admin/users/dongsheng.wang/disable", token: office.token)
            #expect(try disabled.status == .ok && disabled.json(DashboardAccount.self).disabledAt != nil)
            #expect(try await session.call(.post, "/v1/admin/users/dongsheng.wang/enable", token: office.token).json(DashboardAccount.self).disabledAt == nil)
            // Stored as a bcrypt hash only.
            let accounts = try await Self.rows(server, "dashboard_accounts")
            #expect(accounts.components(separatedBy: "$2b$04$").count == 4 && !accounts.contains(Self.password))
        }
    }

    @Test func signInStartsAStoredSessionWithAStrictCookie() async throws {
        let server = TestServer()
        let cookie = try await server.test { session in
            try await Self.account(session, "wang")
            let browser = Browser(session)
            let response = try await browser.signIn("wang", Self.password, headers: [.init("X-Forwarded-Proto") ?? .via: "https"])
            #expect(response.status == .seeOther && response.headers[.location] == "/dashboard")
            let setCookie = response.headers[values: .setCookie].first { $0.hasPrefix("doorstep_session=") } ?? ""
            for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] { #expect(setCookie.contains(attribute), "\(setCookie)") }
            let token = try #require(browser.cookies["doorstep_session"])
            #expect(token.count >= 22)
            let stored = try await Self.rows(server, "dashboard_sessions")
            #expect(stored.contains(Secrets.hash(token)) && !stored.contains(token))
            let overview = try await browser.get("/")
            #expect(overview.status == .ok && overview.text.contains("data-account=\"wang\""))
            #expect(overview.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(!overview.text.contains("src=\"http") && !overview.text.contains("href=\"http") && !overview.text.contains("<script"))
            // Without TLS the cookie is not marked Secure.
            let plain = try await Browser(session).signIn("wang", Self.password)
            #expect(plain.headers[values: .setCookie].first { $0.hasPrefix("doorstep_session=") }?.contains("Secure") == false)
            return token
        }
        // Another server process on the same database knows the session: it lives in the database.
        try await server.test { session in
            let browser = Browser(session)
            browser.cookies["doorstep_session"] = cookie
            #expect(try await browser.get("/dashboard").status == .ok)
            let signOut = try await browser.post("/dashboard/signout", ["csrf": try #require(browser.csrf(try await browser.get("/dashboard").text))])
            #expect(signOut.status == .seeOther)
            browser.cookies["doorstep_session"] = cookie
            #expect(try await browser.get("/dashboard").status == .seeOther)
            // Sessions expire.
            _ = try await browser.signIn("wang", Self.password)
            server.clock.advance(DashboardSettings.sessionLifetimeMillis + 1)
            #expect(try await browser.get("/dashboard").status == .seeOther)
        }
    }

    @Test func disabledAccountsAndOldPasswordsCannotSignIn() async throws {
        try await TestServer().test { session in
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            #expect(try await session.call(.post, "/v1/admin/users/wang/disable", token: session.adminToken).status == .ok)
            #expect(try await browser.get("/dashboard").status == .seeOther, "disabling ends the session at once")
            let refused = try await Browser(session).signIn("wang", Self.password)
            #expect(refused.status == .forbidden && !refused.headers[values: .setCookie].contains { $0.hasPrefix("doorstep_session=") })
            #expect(refused.text.contains("该账号已停用"))
            #expect(try await session.call(.post, "/v1/admin/users/wang/enable", token: session.adminToken).status == .ok)
            #expect(
                try await session.call(.post, "/v1/admin/users/wang/password", token: session.adminToken, json: ["password": "a new passphrase"]).status == .ok)
            #expect(try await Browser(session).signIn("wang", Self.password).status == .unauthorized)
            #expect(try await Browser(session).signIn("wang", "a new passphrase").status == .seeOther)
            // A sign-in form that did not come from this server's page is refused.
            #expect(
                try await Browser(session).post("/dashboard/signin", ["name": "wang", "password": "a new passphrase", "csrf": "forged"]).status == .forbidden)
        }
    }

    /// §11: wrong passwords past the limit are answered 429 (with Retry-After) and each further
    /// check waits its turn; the right password is still accepted, from the same address, for the
    /// same account: a guesser cannot lock the account's owner out.
    @Test func repeatedWrongPasswordsAreSlowed_butTheRightOneIsAccepted() async throws {
        let server = TestServer {
            $0.authFailureLimit = 3
            $0.authThrottleMillis = 40
        }
        try await server.test { session in
            try await Self.account(session, "wang")
            for _ in 0..<3 { #expect(try await Browser(session).signIn("wang", "wrong password!").status == .unauthorized) }
            let limited = try await Browser(session).signIn("wang", "wrong password!")
            #expect(limited.status == .tooManyRequests && limited.text.contains("登录失败次数过多"))
            #expect(limited.headers[.retryAfter] != nil)
            let start = ContinuousClock.now
            for _ in 0..<3 { #expect(try await Browser(session).signIn("wang", "still wrong!").status == .tooManyRequests) }
            #expect(ContinuousClock.now - start >= .milliseconds(2 * 40), "each check over the limit waits its turn")
            #expect(try await Browser(session).signIn("wang", Self.password).status == .seeOther)
            // An invented name counts under one key, not one row a name.
            for n in 0..<5 { _ = try await Browser(session).signIn("nobody\(n)", "wrong password!") }
            #expect(try await Browser(session).signIn("wang", Self.password).status == .seeOther)
        }
    }

    @Test func overviewShowsTheReportsNumbers() async throws {
        let server = TestServer()
        try await server.test { session in
            _ = try await Self.seed(session, server)
            try await Self.account(session, "city", role: .city, district: nil)
            try await Self.account(session, "wang")
            for (name, district) in [("city", nil), ("wang", "150602"), ("city", "150602")] as [(String, String?)] {
                let query = district.map { "?district=\($0)" } ?? ""
                let report = try await session.call(.get, "/v1/reports\(query)", token: session.adminToken).json(CampaignReport.self)
                let section = district == nil ? report.total : try #require(report.districts.first)
                let browser = Browser(session)
                _ = try await browser.signIn(name, Self.password)
                let html = try await browser.get("/dashboard\(name == "city" ? query : "")").text
                let expected: [String: String] = [
                    "households": "\(section.households)", "wrong": "\(section.wrong)", "twice": "\(section.twice)",
                    "missed": "\(section.visitCoverage.missed.count)", "conflicts": "\(section.review.conflicts)",
                    "duplicates": "\(section.review.duplicates)", "rejections": "\(section.review.rejections)",
                    "assistanceDone": "\(section.assistance.done)", "assistanceOpen": "\(section.assistance.open)",
                    "assistanceOverdue": "\(section.assistance.overdue)", "belowMinimumLiving": "\(section.belowMinimumLiving)",
                    "coverage": "\(section.visitCoverage.rate.numerator)/\(section.visitCoverage.rate.denominator)",
                    "exitRate": "\(section.exitRate.numerator)/\(section.exitRate.denominator)",
                    "resolvedRate": "\(section.resolvedRate.numerator)/\(section.resolvedRate.denominator)",
                    "daysLeft": "\(report.stage?.daysLeft ?? -1)", "status-filed": "\(section.filesByStatus.now.filed)",
                    "status-candidate": "\(section.filesByStatus.now.candidate)", "causes-illness": "\(section.causes["illness"] ?? -1)",
                ]
                for (figure, value) in expected { #expect(Browser.figure(figure, in: html) == value, "\(name) \(district ?? "city"): \(figure)") }
                #expect(html.contains("<svg class=\"chart\"") && html.contains("<svg class=\"progress\"") && html.contains("精准识别"))
            }
            // English by Accept-Language, or by the switch (remembered in a cookie).
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            #expect(try await browser.get("/dashboard", headers: [.acceptLanguage: "en-US,en;q=0.9"]).text.contains("Files by status"))
            let switched = try await browser.get("/dashboard?lang=en")
            #expect(switched.text.contains("<html lang=\"en\">") && browser.cookies["doorstep_lang"] == "en")
            #expect(try await browser.get("/dashboard/review").text.contains("Review queue"))
            #expect(!switched.text.contains("data-figure=\"campaignOver\""), "the 2020 campaign is under way on the test clock")
            // Years later, with no campaign defined for them: the overview says so.
            server.clock.advance(6 * 365 * 86_400_000)
            let again = Browser(session)
            _ = try await again.signIn("wang", Self.password)
            let later = try await again.get("/dashboard").text
            #expect(later.contains("data-figure=\"campaignOver\"") && later.contains("没有正在进行的攻坚行动"), "\(later)")
        }
    }

    @Test func anotherDistrictsHouseholdIsNotFound() async throws {
        let server = TestServer()
        try await server.test { session in
            let seeded = try await Self.seed(session, server)
            try await Self.account(session, "wang")
            try await Self.account(session, "city", role: .city, district: nil)
            let office = Browser(session)
            _ = try await office.signIn("wang", Self.password)
            #expect(try await office.get("/dashboard/households/\(seeded.other)").status == .notFound)
            #expect(try await office.get("/dashboard/households/\(seeded.other)/export/history").status == .notFound)
            let csrf = try #require(office.csrf(try await office.get("/dashboard").text))
            #expect(try await office.post("/dashboard/households/\(seeded.other)/status", ["csrf": csrf, "to": "filed"]).status == .notFound)
            #expect(try await office.get("/dashboard/households").text.contains(seeded.other.description) == false)
            let city = Browser(session)
            _ = try await city.signIn("city", Self.password)
            #expect(try await city.get("/dashboard/households/\(seeded.other)").status == .ok)
        }
    }

    @Test func householdPageShowsEverythingAndDecidesStatus() async throws {
        let server = TestServer()
        try await server.test { session in
            let seeded = try await Self.seed(session, server)
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            let page = try await browser.get("/dashboard/households/\(seeded.filed)")
            for text in ["户主姓名", "王某某", "李某", "配偶", "入户核实", "岗位推荐", "修改记录", "在档"] {
                #expect(page.text.contains(text), "\(text)")
            }
            #expect(Browser.figure("status", in: page.text) == "在档")
            let csrf = try #require(browser.csrf(page.text))
            let decided = try await browser.post("/dashboard/households/\(seeded.filed)/status", ["csrf": csrf, "to": "outOfHardship"])
            #expect(decided.status == .seeOther && decided.headers[.location] == "/dashboard/households/\(seeded.filed)?done=status")
            let after = try await session.call(.get, "/v1/households/\(seeded.filed)", token: session.adminToken).json(HouseholdAggregate.self)
            #expect(after.household["status"] == "outOfHardship")
            let history = try await browser.get("/dashboard/households/\(seeded.filed)?done=status").text
            #expect(history.contains("wang（工作台）") && history.contains("状态已更新"))
            let illegal = try await browser.post("/dashboard/households/\(seeded.filed)/status", ["csrf": csrf, "to": "candidate"])
            #expect(illegal.headers[.location]?.contains("error=illegalTransition") == true)
        }
    }

    @Test func reviewConfirmAndOverturnDecideThroughStorage() async throws {
        let server = TestServer()
        try await server.test { session in
            let seeded = try await Self.seed(session, server)
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            let page = try await browser.get("/dashboard/review")
            #expect(page.text.contains("林荫路 3 号") && page.text.contains("林荫路 5 号") && page.text.contains("test laptop"))
            #expect(page.text.contains("data-table=\"duplicates\"") && page.text.contains("data-table=\"rejections\""))
            // The visitor's refused status change: its reason explained in Chinese from its details.
            #expect(page.text.contains("变更困难户状态是旗区工会的决定"), "\(page.text)")
            let csrf = try #require(browser.csrf(page.text))
            let conflict = ["csrf": csrf, "household": seeded.conflicted.description, "entity": seeded.conflicted.description, "field": "address"]
            func heads() async throws -> [Head] {
                try await session.call(.get, "/v1/households/\(seeded.conflicted)", token: session.adminToken).json(HouseholdAggregate.self).household.heads(
                    "address")
            }
            // Confirm: the shown value stays, over every head.
            let shown = try #require(try await heads().last)
            let confirmed = try await browser.post("/dashboard/review/confirm", conflict)
            #expect(confirmed.status == .seeOther && confirmed.headers[.location] == "/dashboard/review?done=confirm")
            #expect(try await heads().map(\.value) == [shown.value])
            #expect(try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self).conflicts.isEmpty)
            // Two laptops edit again from the confirmed value: overturn to the head that is not shown.
            let base = try await heads().map(\.write)
            server.clock.advance(1000)
            _ = try await session.pushOK(
                seeded.first,
                [seeded.f1.make(.update, .household, entity: seeded.conflicted, fields: [FieldWrite(field: "address", value: "林荫路 7 号", base: base)])])
            _ = try await session.pushOK(
                seeded.second,
                [seeded.f2.make(.update, .household, entity: seeded.conflicted, fields: [FieldWrite(field: "address", value: "林荫路 9 号", base: base)])])
            let hidden = try #require(try await heads().first)
            #expect(try await browser.get("/dashboard/review").text.contains("林荫路 7 号"))
            var overturn = conflict
            overturn["head"] = hidden.write.description
            let overturned = try await browser.post("/dashboard/review/overturn", overturn)
            #expect(overturned.status == .seeOther && overturned.headers[.location] == "/dashboard/review?done=overturn")
            #expect(try await heads().map(\.value) == [hidden.value])
            // A stale form (the head is gone) changes nothing and says so.
            #expect(try await browser.post("/dashboard/review/overturn", overturn).headers[.location] == "/dashboard/review?error=stale")
            let history = try await session.call(.get, "/v1/households/\(seeded.conflicted)/history", token: session.adminToken).text
            #expect(history.contains("dashboard:wang"))
            // Unlink the duplicate.
            let queue = try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self)
            let link = try #require(queue.duplicates.first)
            let unlinked = try await browser.post(
                "/dashboard/review/unlink", ["csrf": csrf, "survivor": link.survivor.description, "alias": link.alias.description])
            #expect(unlinked.headers[.location] == "/dashboard/review?done=unlink")
            #expect(try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self).duplicates.isEmpty)
        }
    }

    @Test func typedOverturnReadsMoneyInYuan_andHeldChangesAreAcceptedOrSetAsideFromTheReviewPage() async throws {
        let server = TestServer()
        try await server.test { session in
            let seeded = try await Self.seed(session, server)
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            // A money conflict, overturned with a value typed as a clerk types it.
            let base = try await session.call(.get, "/v1/households/\(seeded.conflicted)", token: session.adminToken).json(HouseholdAggregate.self)
                .household.heads("monthlyIncomeFen").map(\.write)
            server.clock.advance(1000)
            _ = try await session.pushOK(
                seeded.first,
                [
                    seeded.f1.make(
                        .update, .household, entity: seeded.conflicted,
                        fields: [FieldWrite(field: "monthlyIncomeFen", value: 100_000, base: base)])
                ])
            _ = try await session.pushOK(
                seeded.second,
                [
                    seeded.f2.make(
                        .update, .household, entity: seeded.conflicted,
                        fields: [FieldWrite(field: "monthlyIncomeFen", value: 110_000, base: base)])
                ])
            let page = try await browser.get("/dashboard/review")
            #expect(page.text.contains("name=\"value\"") && page.text.contains("（元）"))
            let csrf = try #require(browser.csrf(page.text))
            let form = ["csrf": csrf, "household": seeded.conflicted.description, "entity": seeded.conflicted.description, "field": "monthlyIncomeFen"]
            let before = try await server.dumpDomainTables()
            var bad = form
            bad["value"] = "1,50"
            #expect(try await browser.post("/dashboard/review/overturn", bad).headers[.location] == "/dashboard/review?error=invalidValue")
            #expect(try await server.dumpDomainTables() == before, "a value not understood decides nothing")
            var typed = form
            typed["value"] = "２６００元"
            let overturned = try await browser.post("/dashboard/review/overturn", typed)
            #expect(overturned.headers[.location] == "/dashboard/review?done=overturn")
            let income = try await session.call(.get, "/v1/households/\(seeded.conflicted)", token: session.adminToken).json(HouseholdAggregate.self)
                .household.heads("monthlyIncomeFen").map(\.value)
            #expect(income == [.int(260_000)])

            // A revoked laptop's bundle: its two changes wait on the page in full, with both actions.
            let (laptop, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let work = BundleWork(visitor: laptop, clock: server.clock)
            #expect(try await session.call(.post, "/v1/admin/devices/\(laptop.id)/revoke", token: session.adminToken).status == .ok)
            #expect(try await session.upload(try key.seal(work.batches, by: laptop), token: session.adminToken).status == .ok)
            let held = try await browser.get("/dashboard/review")
            #expect(
                held.text.contains("被撤销设备留待审核的修改") && held.text.contains("data-held=\"\(laptop.id)/1\"")
                    && held.text.contains("走访员甲") && held.text.contains("¥900.00"), "\(held.text)")
            let heldCsrf = try #require(browser.csrf(held.text))
            for seq in 1...2 {
                let accepted = try await browser.post("/dashboard/review/held/accept", ["csrf": heldCsrf, "device": laptop.id.rawValue, "seq": String(seq)])
                #expect(accepted.headers[.location] == "/dashboard/review?done=accepted")
            }
            let noReason = try await browser.post("/dashboard/review/held/dismiss", ["csrf": heldCsrf, "device": laptop.id.rawValue, "seq": "3", "reason": ""])
            #expect(noReason.headers[.location] == "/dashboard/review?error=missingField")
            let dismissed = try await browser.post(
                "/dashboard/review/held/dismiss",
                ["csrf": heldCsrf, "device": laptop.id.rawValue, "seq": "3", "reason": "收入待复核"])
            #expect(dismissed.headers[.location] == "/dashboard/review?done=dismissed")
            let household = try await session.call(.get, "/v1/households/\(work.household)", token: session.adminToken).json(HouseholdAggregate.self)
            #expect(household.entities.map(\.id) == [work.visit] && household.household["monthlyIncomeFen"] == .int(120_000))
            let queue = try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self)
            #expect(!queue.rejections.contains { $0.device == laptop.id })
            let history = try await session.history(of: work.household, token: session.adminToken)
            #expect(history.contains { $0.actor == "dashboard:wang" && $0.origin?.device == laptop.id })
        }
    }

    @Test func aFormPostWithoutTheTokenIsRefusedAndChangesNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let seeded = try await Self.seed(session, server)
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            let before = try await server.dumpDomainTables()
            let fields = ["household": seeded.conflicted.description, "entity": seeded.conflicted.description, "field": "address"]
            #expect(try await browser.post("/dashboard/review/confirm", fields).status == .forbidden)
            var forged = fields
            forged["csrf"] = DashboardSecurity.formToken(for: "someone else's session", purpose: "form")
            #expect(try await browser.post("/dashboard/review/confirm", forged).status == .forbidden)
            #expect(try await browser.post("/dashboard/households/\(seeded.filed)/status", ["to": "closed"]).status == .forbidden)
            #expect(try await browser.post("/dashboard/signout", [:]).status == .forbidden)
            #expect(try await server.dumpDomainTables() == before)
            #expect(try await browser.get("/dashboard").status == .ok, "the session survives a refused post")
        }
    }

    @Test func csvExportsStartWithTheByteOrderMark() async throws {
        let server = TestServer()
        try await server.test { session in
            let seeded = try await Self.seed(session, server)
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            for path in [
                "/dashboard/export/missed", "/dashboard/export/devices", "/dashboard/export/households", "/dashboard/export/conflicts",
                "/dashboard/export/rejections", "/dashboard/export/status", "/dashboard/households/\(seeded.filed)/export/history",
            ] {
                let response = try await browser.get(path)
                #expect(response.status == .ok && response.headers[.contentType] == "text/csv; charset=utf-8", "\(path)")
                #expect(Array(response.body.readableBytesView.prefix(3)) == [0xEF, 0xBB, 0xBF], "\(path)")
            }
            let households = try await browser.get("/dashboard/export/households").text
            #expect(households.contains("户主姓名") && households.contains("150602********") && !households.contains(Sample.nationalID(1)))
            #expect(try await browser.get("/dashboard/export/nothing").status == .notFound)
        }
    }

    @Test func rosterComparisonUploadShowsTheMismatches() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            _ = try await RosterTests.seed(session, office: office)
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            let form = try await browser.get("/dashboard/compare")
            #expect(form.text.contains("enctype=\"multipart/form-data\"") && form.text.contains("<label for=\"roster\">"))
            let csrf = try #require(browser.csrf(form.text))
            let roster = Data(RosterTests.roster.utf8)
            let shown = try await browser.upload("/dashboard/compare", fields: ["csrf": csrf, "format": "html"], file: roster)
            #expect(shown.status == .ok)
            let expected = ["rows": "10", "notOnFile": "1", "notInRoster": "1", "disagreements": "2", "invalid": "3", "outside": "1"]
            for (figure, value) in expected { #expect(Browser.figure(figure, in: shown.text) == value, "\(figure)") }
            let csv = try await browser.upload("/dashboard/compare", fields: ["csrf": csrf, "format": "csv"], file: roster)
            #expect(Array(csv.body.readableBytesView.prefix(3)) == [0xEF, 0xBB, 0xBF] && csv.text.contains("信息不一致"))
            #expect(try await browser.upload("/dashboard/compare", fields: ["format": "html"], file: roster).status == .forbidden)
        }
    }

    @Test func pagesEscapeWhatUsersTyped() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let id = EntityID.random()
            var fields = Sample.household(nationalID: Sample.nationalID(5))
            fields[0] = FieldWrite(field: "headName", value: "<script>alert(1)</script>")
            _ = try await session.pushOK(
                visitor, [MutationFactory(device: visitor.id, clock: server.clock).make(.create, .household, entity: id, fields: fields)])
            try await Self.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", Self.password)
            for path in ["/dashboard/households/\(id)", "/dashboard/households"] {
                let text = try await browser.get(path).text
                #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !text.contains("<script>"), "\(path)")
            }
            // An empty table says so instead of showing an empty grid.
            let review = try await browser.get("/dashboard/review").text
            #expect(review.contains("暂无记录。") && !review.contains("data-table=\"rejections\""))
        }
    }

    @Test func everyTemplateParsesAndNamesKnownTexts() throws {
        _ = try DashboardRenderer.library.get()
        let keys = Set(Texts.section("dashboard", .chinese).keys)
        for (name, text) in DashboardTemplates.all {
            var rest = Substring(text)
            while let start = rest.range(of: "t.") {
                let key = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber }
                if rest[..<start.lowerBound].hasSuffix("{{") || rest[..<start.lowerBound].hasSuffix("{{#") || rest[..<start.lowerBound].hasSuffix("{{^") {
                    #expect(keys.contains(String(key)), "template \(name) uses an unknown text t.\(key)")
                }
                rest = rest[start.upperBound...]
            }
            #expect(!text.contains("{{{") && !text.contains("{{&"), "template \(name) must not bypass HTML escaping")
        }
        #expect(!DashboardTemplates.css.contains("{{") && !DashboardTemplates.css.contains("url("))
    }
}
