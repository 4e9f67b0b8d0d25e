import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// A visitor's day through the field app's pages, as a browser sends them: enroll, sync, find a
/// household, a home verification with corrections and a new assistance item (typed the way
/// people type: `2600元`), a duplicate caught before filing, a conflict shown in words, sync
/// again, and the server holds it all. A real server and a real app, both on loopback.
@Suite(.serialized)
struct FieldAppDayTests {
    /// Polls the sync page until the sync ends; its text.
    static func waitForSync(_ app: RunningApp) async throws -> String {
        for _ in 0..<400 {
            let page = try await app.browser.get("/sync")
            if !page.text.contains(#"data-sync="running""#) { return page.text }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the sync did not end")
        return ""
    }

    static func enroll(_ app: RunningApp, _ server: LiveServer) async throws {
        try await app.signIn()
        let start = try await app.browser.get("/")
        #expect(start.status == 303 && start.location == "/enroll", "a laptop not enrolled starts on the enrollment page")
        let code = try await server.code()
        let enrolled = try await app.browser.submit(
            "/enroll", from: "/enroll", [("server", server.url.absoluteString), ("code", code), ("name", "张三的笔记本")])
        #expect(enrolled.status == 303, "\(enrolled.status) \(enrolled.text.prefix(300))")
        let synced = try await app.browser.submit("/sync", from: "/", [])
        #expect(synced.status == 303)
        let result = try await waitForSync(app)
        #expect(result.contains(#"data-sync="summary""#), "\(result.prefix(2000))")
    }

    /// Yesterday at 10:30 in the city's time, as a datetime-local control sends it.
    static var yesterday: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
        let day = calendar.dateComponents([.year, .month, .day], from: Date().addingTimeInterval(-86_400))
        func two(_ n: Int?) -> String { (n ?? 0) < 10 ? "0\(n ?? 0)" : "\(n ?? 0)" }
        return "\(day.year ?? 2026)-\(two(day.month))-\(two(day.day))T10:30"
    }

    static func verification(income: String) -> [(String, String)] {
        [
            ("visit.visitedAt", yesterday), ("visit.visitor", "张三"), ("visit.mode", "atHome"), ("visit.verified", "income"),
            ("visit.verified", "members"), ("visit.conclusion", "eligible"), ("visit.observedIncomeFen", income),
            ("fact.monthlyIncomeFen", income), ("fact.phone", "13912345678"),
            ("assistance.category", "employment"), ("assistance.measure", "推荐到物业公司上岗"), ("assistance.leadDepartment", "humanResources"),
            ("assistance.dueDate", "2030-03-01"), ("assistance.status", "planned"),
        ]
    }

    @Test func aVisitorsDay_verifyWithCorrectionsAndANewItem_thenSync_theServerHoldsIt() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            let target = try await colleague.fileHousehold(Samples.household(11, name: "赵某某"))
            _ = try await colleague.fileHousehold(Samples.household(12, name: "钱某某"))
            try await colleague.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                let list = try await app.browser.get("/")
                #expect(list.status == 200 && list.text.contains("赵某某") && list.text.contains("本阶段尚未入户核实"), "\(list.text.prefix(3000))")
                #expect(list.text.contains(#"data-count="notVerified">2<"#), "two households wait for a home visit")
                let digits = String(Samples.nationalID(11).suffix(4))
                let found = try await app.browser.get("/?q=\(digits)&all=1")
                #expect(found.text.contains("赵某某") && !found.text.contains("钱某某"), "found by the ID's last digits")

                let path = "/households/\(target)/verify"
                let refused = try await app.browser.submit(path, from: path, Self.verification(income: "两千"))
                #expect(refused.status == 422 && refused.text.contains(#"aria-invalid="true""#), "\(refused.status)")
                #expect(refused.text.contains("两千"), "what was typed is shown again to be corrected")
                #expect(try await app.client.status().pending == 0, "nothing saved")

                let saved = try await app.browser.submit(path, from: path, Self.verification(income: "2600元"))
                #expect(saved.status == 303 && saved.location == "/households/\(target)?done=verified", "\(saved.status) \(saved.text.prefix(2000))")
                #expect(try await app.client.status().pending == 3, "the correction, the item and the visit, saved at once")
                let page = try await app.browser.get(saved.location ?? "")
                #expect(page.text.contains("2600.00 元") && page.text.contains("推荐到物业公司上岗") && page.text.contains("入户核实已保存"))
                let after = try await app.browser.get("/")
                #expect(!after.text.contains("赵某某"), "verified at home: off the worklist")

                _ = try await app.browser.submit("/sync", from: "/", [])
                let result = try await Self.waitForSync(app)
                #expect(result.contains(#"data-figure="pushed">3<"#), "\(result.prefix(2000))")
                let held = try await server.admin.household(target)
                #expect(held.household["monthlyIncomeFen"] == 260_000 && held.household["phone"] == "13912345678")
                #expect(held.entities.filter { $0.kind == .visit }.count == 1 && held.entities.filter { $0.kind == .assistance }.count == 1)
            }
        }
    }

    @Test func aNationalIDOnTheLaptop_isCaughtBeforeFiling_andOffersThatFile() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            let existing = try await colleague.fileHousehold(Samples.household(21, name: "孙某某"))
            try await colleague.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                let typed = Samples.formFields(21, name: "孙某")
                let caught = try await app.browser.submit("/new", from: "/new", typed)
                #expect(caught.status == 422 && caught.text.contains(#"data-match="\#(existing)""#), "\(caught.text.prefix(2000))")
                #expect(try await app.client.status().pending == 0)
                let forced = try await app.browser.submit("/new", from: "/new", typed + [("force", "1")])
                #expect(forced.status == 303, "a separate household may still be filed, on purpose")
                #expect(try await app.client.status().pending == 1)
                let missing = try await app.browser.submit("/new", from: "/new", [("headName", "周某")])
                #expect(missing.status == 422 && missing.text.contains("身份证号"), "every missing field is named")
            }
        }
    }

    /// A write the server refused waits on the attention page, explained in Chinese, in a form
    /// with what was sent: fixed and resent from there it reaches the server; another is dropped.
    @Test func aRefusedWrite_isFixedAndResent_fromTheAttentionPage_orDropped() async throws {
        try await LiveServer.run { server in
            let city = try await server.enrolledClient(district: "150602", role: .city)
            let colleague = try await server.enrolledClient()
            let moved = try await colleague.fileHousehold(Samples.household(41, name: "郑某某"))
            let other = try await colleague.fileHousehold(Samples.household(42, name: "冯某某"))
            try await colleague.sync()
            try await city.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                // The city moves one household to Kangbashi while the laptop, not yet told, edits it twice.
                try await city.editHousehold(moved, set: ["district": "150603"])
                try await city.sync()
                let edit = "/households/\(moved)/edit"
                #expect(try await app.browser.submit(edit, from: edit, [("phone", "13912345678")]).status == 303)
                #expect(try await app.browser.submit(edit, from: edit, [("address", "东胜区 幸福路 41 号")]).status == 303)
                let otherEdit = "/households/\(other)/edit"
                #expect(try await app.browser.submit(otherEdit, from: otherEdit, [("phone", "13912345670")]).status == 303)
                _ = try await app.browser.submit("/sync", from: "/", [])
                let result = try await Self.waitForSync(app)
                #expect(result.contains(#"data-figure="quarantined">2<"#) && result.contains(#"href="/attention""#), "\(result.prefix(2000))")
                let refused = try await app.client.quarantine()
                #expect(refused.count == 2 && refused.allSatisfy { $0.code == .outOfScope })
                let (phone, address) = (try #require(refused.first), try #require(refused.last))

                let page = try await app.browser.get("/attention")
                #expect(page.text.contains(#"data-refused="\#(phone.seq)""#) && page.text.contains(#"data-refused="\#(address.seq)""#))
                #expect(page.text.contains(phone.explanation(.chinese)), "the reason in Chinese: \(phone.explanation(.chinese))")
                #expect(page.text.contains(#"name="\#(phone.seq).phone" value="13912345678""#), "the form shows what was sent")
                let nav = try await app.browser.get("/")
                #expect(nav.text.contains("待处理 (1)"), "the navigation counts the household waiting")

                // A fix typed badly is refused beside its field, and nothing changes.
                let resend = "/attention/\(phone.seq)/resend"
                let bad = try await app.browser.submit(resend, from: "/attention", [("\(phone.seq).phone", "139-abc")])
                #expect(bad.status == 422 && bad.text.contains(#"aria-invalid="true""#) && bad.text.contains("139-abc"))
                #expect(try await app.client.quarantine().count == 2)

                // The city moves it back; the visitor resends the fix, which now applies.
                try await city.editHousehold(moved, set: ["district": "150602"])
                try await city.sync()
                _ = try await app.browser.submit("/sync", from: "/", [])
                _ = try await Self.waitForSync(app)
                let fixed = try await app.browser.submit(resend, from: "/attention", [("\(phone.seq).phone", "13912345679")])
                #expect(fixed.status == 303, "\(fixed.status) \(fixed.text.prefix(1000))")
                let dropped = try await app.browser.submit("/attention/\(address.seq)/discard", from: "/attention", [])
                #expect(dropped.status == 303)
                #expect(try await app.client.quarantine().isEmpty)
                #expect(try await app.client.status().pending == 1, "the fix waits to be sent; the dropped write is gone")
                _ = try await app.browser.submit("/sync", from: "/", [])
                let sent = try await Self.waitForSync(app)
                #expect(sent.contains(#"data-figure="pushed">1<"#) && sent.contains(#"data-figure="quarantined">0<"#), "\(sent.prefix(2000))")
                try await city.sync()
                let held = try #require(try await city.household(moved))
                #expect(held.household["phone"] == "13912345679")
                #expect(held.household["address"] == Samples.household(41)["address"], "the dropped address was never sent")
            }
        }
    }

    @Test func aConflictWithAColleague_isShownInWords_andSettledAtTheDoor() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            let household = try await colleague.fileHousehold(Samples.household(31, name: "吴某某"))
            try await colleague.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                try await colleague.editHousehold(household, set: ["address": "东胜区 北园街 1 号"])
                try await colleague.sync()
                let edit = "/households/\(household)/edit"
                let saved = try await app.browser.submit(edit, from: edit, [("address", "东胜区 南园街 2 号")])
                #expect(saved.status == 303)
                _ = try await app.browser.submit("/sync", from: "/", [])
                _ = try await Self.waitForSync(app)
                let page = try await app.browser.get("/households/\(household)")
                #expect(page.text.contains("住址同时被改成了不同的值") && page.text.contains("北园街") && page.text.contains("南园街"), "\(page.text.prefix(3000))")
                let attention = try await app.browser.get("/attention")
                #expect(attention.text.contains(#"data-conflict="\#(household)""#))
                let settled = try await app.browser.submit(edit, from: edit, [("address", "东胜区 北园街 1 号")])
                #expect(settled.status == 303)
                _ = try await app.browser.submit("/sync", from: "/", [])
                _ = try await Self.waitForSync(app)
                #expect(try await server.admin.household(household).household.fields["address"]?.isConflicted == false)
            }
        }
    }

    @Test func aRevokedLaptop_seesItOnTheSyncPage_withWhereItsWorkWasSaved() async throws {
        try await LiveServer.run { server in
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                _ = try await app.browser.submit("/new", from: "/new", Samples.formFields(41))
                let device = try #require(try await app.client.enrollment?.device)
                _ = try await server.admin.revoke(device: device)
                _ = try await app.browser.submit("/sync", from: "/", [])
                let result = try await Self.waitForSync(app)
                #expect(result.contains(#"data-sync="revoked""#) && result.contains(".dsbundle"), "\(result.prefix(2000))")
            }
        }
    }

    /// Photos taken at the door go with the home verification in one save (a multipart form): a
    /// file that is no proof is refused next to its control and nothing is saved; the photo is
    /// shown on the household page, synced after the mutations, and the server serves its bytes.
    @Test func photosAtTheDoor_areSavedWithTheVerification_andReachTheServer() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            let target = try await colleague.fileHousehold(Samples.household(21, name: "孙某某"))
            try await colleague.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                let path = "/households/\(target)/verify"
                let form = try await app.browser.get(path)
                #expect(form.text.contains(#"enctype="multipart/form-data""#) && form.text.contains(#"type="file""#))
                #expect(form.text.contains(#"accept="image/jpeg,image/png,image/heic,application/pdf" multiple"#))
                let photo = Data([0xFF, 0xD8, 0xFF, 0xE0] + Array("孙某某的收入证明".utf8) + Array(repeating: 0x37, count: 50_000))
                let text = Data("不是照片".utf8)
                let fields = Self.verification(income: "2600元") + [("documentCaption", "收入证明")]
                let refused = try await app.browser.submitWithFiles(
                    path, from: path, fields, files: [("documents", "收入证明.jpg", "image/jpeg", photo), ("documents", "假照片.jpg", "image/jpeg", text)])
                #expect(refused.status == 422 && refused.text.contains("「假照片.jpg」没有保存"), "\(refused.text.prefix(3000))")
                #expect(try await app.client.status().pending == 0, "nothing saved")

                // A body cut short (no closing boundary) loses no file without a word: refused whole.
                let cut = try await app.browser.submitWithFiles(
                    path, from: path, fields, files: [("documents", "收入证明.jpg", "image/jpeg", photo)], cutShort: true)
                #expect(cut.status == 422 && cut.text.contains("表单没有完整送到"), "\(cut.status) \(cut.text.prefix(1000))")
                #expect(try await app.client.status().pending == 0, "nothing saved")

                let saved = try await app.browser.submitWithFiles(
                    path, from: path, fields, files: [("documents", "收入证明.jpg", "image/jpeg", photo)])
                #expect(saved.status == 303, "\(saved.status) \(saved.text.prefix(2000))")
                #expect(try await app.client.status().pending == 4, "the correction, the item, the visit and the photo, saved at once")
                let page = try await app.browser.get("/households/\(target)")
                #expect(page.text.contains("收入证明.jpg") && page.text.contains("data-attachment="), "\(page.text.prefix(4000))")
                let attachment = try #require(try await app.client.attachments(of: target).first)
                let shown = try await app.browser.get("/households/\(target)/attachments/\(attachment.id)")
                #expect(shown.status == 200 && shown.headers.first(name: "Content-Type") == "image/jpeg")
                #expect(shown.headers.first(name: "X-Content-Type-Options") == "nosniff")

                _ = try await app.browser.submit("/sync", from: "/", [])
                let result = try await Self.waitForSync(app)
                #expect(result.contains(#"data-figure="pushed">4<"#), "\(result.prefix(2000))")
                let held = try await server.admin.household(target)
                let visit = try #require(held.entities.first { $0.kind == .visit })
                #expect(held.entities.first { $0.kind == .attachment }?["of"] == .string(visit.id.description), "the photo belongs to the visit")
                #expect(try await app.client.attachments(of: target).first?.onServer == true)
            }
        }
    }

    /// The server moved (its old address no longer answers): the failed sync says so and opens a
    /// form for the new address; an address that is no address, or another server, is refused next
    /// to the field and changes nothing; the same server at its new address is kept and the next
    /// sync goes there.
    @Test func aServerThatMoved_isFollowedFromTheSyncPage_afterTheNewAddressIsChecked() async throws {
        try await LiveServer.run { server in
            try await LiveServer.run { other in
                let oldAddressAnswers = Switch()
                let transport: @Sendable (URL) -> any SyncTransport = { url in
                    let base = ClientConfiguration.platformTransport(url)
                    return url.host == "127.0.0.1" && url.port == server.url.port ? Gone(base: base, answers: oldAddressAnswers) : base
                }
                try await RunningApp.run(transport: transport) { app in
                    try await Self.enroll(app, server)
                    _ = try await app.browser.submit("/new", from: "/new", Samples.formFields(42))
                    oldAddressAnswers.on.withLock { $0 = false }
                    _ = try await app.browser.submit("/sync", from: "/", [])
                    let failed = try await Self.waitForSync(app)
                    #expect(failed.contains(#"data-sync="failed""#) && failed.contains("「服务器地址」"), "\(failed.prefix(2000))")
                    #expect(failed.contains(#"<details data-sync="server" open>"#), "the new-address form is open after the failure")

                    let notAnAddress = try await app.browser.submit("/sync/server", from: "/sync", [("server", "服务器")])
                    #expect(notAnAddress.status == 422 && notAnAddress.text.contains("请填写服务器地址") && notAnAddress.text.contains("服务器"))
                    let another = try await app.browser.submit("/sync/server", from: "/sync", [("server", other.url.absoluteString)])
                    #expect(another.status == 422 && another.text.contains("另一台服务器"), "\(another.text.prefix(2000))")
                    #expect(try await app.client.enrollment?.server == server.url, "nothing changed")

                    let alias = try #require(URL(string: server.url.absoluteString.replacingOccurrences(of: "127.0.0.1", with: "localhost")))
                    let moved = try await app.browser.submit("/sync/server", from: "/sync", [("server", alias.absoluteString)])
                    #expect(moved.status == 303 && moved.location?.contains("done=serverMoved") == true, "\(moved.status) \(moved.text.prefix(500))")
                    #expect(try await app.client.enrollment?.server == alias)
                    let after = try await app.browser.get(try #require(moved.location))
                    #expect(after.text.contains("已改用新地址") && !after.text.contains(#"data-sync="failed""#), "the old failure is forgotten")

                    _ = try await app.browser.submit("/sync", from: "/", [])
                    let synced = try await Self.waitForSync(app)
                    #expect(synced.contains(#"data-figure="pushed">1<"#), "\(synced.prefix(2000))")
                    #expect(try await app.client.status().pending == 0)
                }
            }
        }
    }

    final class Switch: Sendable {
        let on = Mutex(true)
    }

    /// A transport whose address stops answering when told (a server that moved away).
    struct Gone: SyncTransport {
        let base: any SyncTransport
        let answers: Switch
        func send(_ request: TransportRequest) async throws -> TransportResponse {
            guard answers.on.withLock({ $0 }) else { throw URLError(.cannotConnectToHost) }
            return try await base.send(request)
        }
    }

    /// A form filled in before a sync brought a colleague's change: what the visitor left as it
    /// was is not written over the colleague's value, and what they changed stands beside it as a
    /// conflict (the form says which heads it showed), not over it unseen.
    @Test func aFormFromBeforeASync_neitherUndoesAColleaguesChange_norHidesIt() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            let household = try await colleague.fileHousehold(Samples.household(51, name: "郑某某"))
            try await colleague.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                let edit = "/households/\(household)/edit"
                let stale = try await app.browser.get(edit)
                let shown = try #require(stale.hidden("was.address")), base = try #require(stale.hidden("base.address"))
                let token = try #require(stale.csrf)
                try await colleague.editHousehold(household, set: ["address": "东胜区 北园街 9 号", "phone": "13911112222"])
                try await colleague.sync()
                _ = try await app.browser.submit("/sync", from: "/", [])
                _ = try await Self.waitForSync(app)
                // The stale form, unchanged: nothing is written.
                let untouched = try await app.browser.send(
                    .POST, edit, form: [("csrf", token), ("address", shown), ("was.address", shown), ("base.address", base)])
                #expect(untouched.location?.contains("nothingChanged") == true, "\(untouched.status) \(untouched.location ?? "")")
                #expect(try await app.client.household(household)?.household["address"] == "东胜区 北园街 9 号")
                // The stale form, changed: a conflict with the colleague's value, not a silent overwrite.
                let changed = try await app.browser.send(
                    .POST, edit, form: [("csrf", token), ("address", "东胜区 南园街 4 号"), ("was.address", shown), ("base.address", base)])
                #expect(changed.status == 303)
                _ = try await app.browser.submit("/sync", from: "/", [])
                _ = try await Self.waitForSync(app)
                let held = try await server.admin.household(household)
                #expect(held.household.fields["address"]?.isConflicted == true, "both values stand: the office sees the conflict")
                #expect(held.household["phone"] == "13911112222", "the colleague's phone is untouched")
            }
        }
    }

    @Test func aDoubleSubmittedVerification_isSavedOnce_andAVisitIsNotEditedAsAnEntry() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            let household = try await colleague.fileHousehold(Samples.household(52, name: "冯某某"))
            try await colleague.sync()
            try await RunningApp.run { app in
                try await Self.enroll(app, server)
                let path = "/households/\(household)/verify"
                let form = try await app.browser.get(path)
                let fields = [("csrf", try #require(form.csrf)), ("nonce", try #require(form.hidden("nonce")))] + Self.verification(income: "2600元")
                let first = try await app.browser.send(.POST, path, form: fields)
                let second = try await app.browser.send(.POST, path, form: fields)
                #expect(first.location?.contains("verified") == true && second.location?.contains("alreadySaved") == true)
                #expect(try await app.client.status().pending == 3, "one verification, not two")
                let next = try await app.browser.get(path)
                #expect(next.text.contains(#"name="visit.visitor" value="张三""#), "the next form starts with the name the visitor typed")
                let visit = try #require(try await app.client.household(household)?.entities.first { $0.kind == .visit })
                let entry = try await app.browser.get("/households/\(household)/entries/\(visit.id)")
                #expect(entry.status == 422 && !entry.text.contains("name=\"was."), "a visit is kept as recorded")
            }
        }
    }
}
