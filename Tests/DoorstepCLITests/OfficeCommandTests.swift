import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// The office's commands, run as real `doorstep` processes against a live server.
@Suite(.serialized)
struct OfficeCommandTests {
    /// `--server URL --token ADMIN`: the city's admin token, from any machine.
    static func admin(_ server: LiveServer) -> [String] {
        ["--server", server.url.absoluteString, "--token", server.adminToken]
    }

    @Test func adminEnrollCode_printsTheCommand_enrollWorksOnce_thenRevokeStopsTheDevice() async throws {
        try await LiveServer.run { server in
            let office = CLI()
            let issued = try await office.run(["admin", "enroll-code", "--district", "150602", "--role", "visitor", "--json"] + Self.admin(server))
            #expect(issued.status == 0, "\(issued)")
            let code = try #require(try issued.json()["code"]?.stringValue)
            #expect(try issued.json()["command"] == .string("doorstep enroll --server \(server.url.absoluteString) --code \(code)"))
            #expect(try issued.json()["expiresAt"]?.stringValue?.isEmpty == false)
            let human = try await office.run(["admin", "enroll-code", "--district", "150602", "--role", "office"] + Self.admin(server))
            #expect(human.stdout.contains("登记码") && human.stdout.contains("有效期至") && human.stdout.contains("旗区工会"), "\(human)")
            #expect(human.stdout.contains("doorstep enroll --server \(server.url.absoluteString) --code "), "\(human)")

            let visitor = CLI()
            #expect(try await visitor.run("enroll", "--server", server.url.absoluteString, "--code", code).status == 0)
            let again = try await CLI().run("enroll", "--server", server.url.absoluteString, "--code", code)
            #expect(again.status == 1 && again.errorLines.count == 1 && again.stderr.contains("[invalidEnrollmentCode]"), "\(again)")

            let devices = try await office.run(["admin", "devices", "list", "--json"] + Self.admin(server))
            let records = try devices.json([DeviceRecord].self)
            let device = try #require(records.first { $0.name == ProcessInfo.processInfo.hostName && $0.role == .visitor })
            let table = try await office.run(["admin", "devices", "list", "--lang", "en"] + Self.admin(server))
            #expect(table.stdout.contains(String(device.id.rawValue.prefix(8))) && table.stdout.contains("active"), "\(table)")

            _ = try await VisitorCommandTests.fileHousehold(visitor, 5)
            let revoke = try await office.run(["admin", "devices", "revoke", String(device.id.rawValue.prefix(8))] + Self.admin(server))
            #expect(revoke.status == 0, "\(revoke)")
            let sync = try await visitor.run("sync")
            #expect(sync.status == 5, "\(sync)")
            #expect(sync.errorLines.count == 1 && sync.stderr.contains("[deviceRevoked]"), "\(sync)")
            let saved = try FileManager.default.contentsOfDirectory(atPath: visitor.folder).filter { $0.contains(".revoked-") && $0.hasSuffix(".dsbundle") }
            #expect(saved.count == 1, "the unsynced work was saved beside the database")
        }
    }

    /// The year's campaign from the command line, stages by their Chinese names and dates as
    /// people type them; the report follows it at once, and removing it brings the old one back.
    @Test func adminCampaigns_setWithChineseStages_listReportAndRemove() async throws {
        try await LiveServer.run { server in
            let city = CLI()
            let set = try await city.run(
                [
                    "admin", "campaigns", "set", "2027", "--name", "2027年城镇困难职工解困脱困", "--name-en", "2027 relief",
                    "--stage", "精准识别=2026-12-01..2027年2月28日", "--stage", "精准施策=２０２７-３-１~2027/6/30",
                    "--stage", "exit=2027-07-01至2027-09-30",
                ] + Self.admin(server))
            #expect(set.status == 0 && set.stdout.contains("已存储攻坚行动 2027") && set.stdout.contains("精准识别 2026-12-01 至 2027-02-28"), "\(set)")
            let listed = try await city.run(["admin", "campaigns", "list", "--json"] + Self.admin(server))
            let campaigns = try listed.json([Campaign].self)
            let stored = try #require(campaigns.first { $0.id == "2027" })
            #expect(stored.stages.map(\.stage) == [.identification, .measures, .exit])
            #expect(stored.stages[1].start.description == "2027-03-01" && stored.stages[1].end.description == "2027-06-30")
            let report = try await city.run(["report", "--json"] + Self.admin(server))
            #expect(try report.json(CampaignReport.self).campaign.id == "2027", "\(report)")

            let overlapping = try await city.run(
                [
                    "admin", "campaigns", "set", "2028", "--name", "2028", "--stage", "精准识别=2028-03-01..2028-04-30",
                    "--stage", "精准施策=2028-04-15..2028-06-30",
                ] + Self.admin(server))
            #expect(overlapping.status == 1 && overlapping.errorLines.first?.contains("[invalidCityData]") == true, "\(overlapping)")
            let badStage = try await city.run(
                ["admin", "campaigns", "set", "2028", "--name", "2028", "--stage", "精准帮扶=2028-03-01..2028-04-30"] + Self.admin(server))
            #expect(badStage.status == 65 && badStage.stderr.contains("没有「精准帮扶」这个阶段"), "\(badStage)")
            let noStage = try await city.run(["admin", "campaigns", "set", "2028", "--name", "2028"] + Self.admin(server))
            #expect(noStage.status == 64, "\(noStage)")

            let otherFile = Scratch.root.appendingPathComponent("campaign-\(UUID().uuidString).json")
            try WireCoding.encode(stored).write(to: otherFile)
            defer { try? FileManager.default.removeItem(at: otherFile) }
            let wrongID = try await city.run(["admin", "campaigns", "set", "2028", "--file", otherFile.path] + Self.admin(server))
            #expect(wrongID.status == 65 && wrongID.stderr.contains("不是 2028"), "the file's id must be the one named: \(wrongID)")

            let office = CLI()
            let enrolled = try await office.run(
                "enroll", "--server", server.url.absoluteString, "--code", try await server.code(district: "150627", role: .office))
            #expect(enrolled.status == 0, "\(enrolled)")
            let refused = try await office.run("admin", "campaigns", "set", "2029", "--name", "x", "--stage", "exit=2029-01-01..2029-02-01")
            #expect(refused.status == 1 && refused.stderr.contains("[forbiddenForRole]"), "\(refused)")
            let seen = try await office.run("admin", "campaigns", "list")
            #expect(seen.status == 0 && seen.stdout.contains("2027年城镇困难职工解困脱困"), "\(seen)")

            #expect(try await city.run(["admin", "campaigns", "remove", "2027"] + Self.admin(server)).status == 0)
            let after = try await city.run(["report", "--json"] + Self.admin(server))
            #expect(try after.json(CampaignReport.self).campaign.id == "2020")
            let notice = try await city.run(["report"] + Self.admin(server))
            #expect(notice.stdout.contains("doorstep admin campaigns set"), "the report says how to define this year's campaign: \(notice)")
        }
    }

    @Test func reviewConfirm_afterTwoDatabasesEditTheSameFieldOffline() async throws {
        try await LiveServer.run { server in
            let a = try await VisitorCommandTests.enrolled(server)
            let b = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(a, 6)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)
            #expect(try await a.run("household", "edit", household, "--phone", "13912345678").status == 0)
            #expect(try await b.run("household", "edit", household, "--phone", "13987654321").status == 0)
            #expect(try await a.run("sync").status == 0)
            let second = try await b.run("sync", "--json")
            #expect(try second.syncJSON().summary.conflicts == 1, "\(second)")

            let office = CLI()
            let queue = try await office.run(["review", "list", "--json"] + Self.admin(server)).json(ReviewQueue.self)
            let conflict = try #require(queue.conflicts.first?.record)
            #expect(conflict.field == "phone" && conflict.heads.count == 2)
            let show = try await office.run(["review", "show", String(household.prefix(8)), "--lang", "en"] + Self.admin(server))
            #expect(show.status == 0, "\(show)")
            #expect(show.stdout.contains("13912345678") && show.stdout.contains("13987654321") && show.stdout.contains("Open conflicts (1)"), "\(show)")
            let list = try await office.run(["review", "list"] + Self.admin(server))
            #expect(list.stdout.contains("冲突 (1)") && list.stdout.contains("联系电话"), "\(list)")
            #expect(list.stdout.contains("\(household.prefix(8)) 王某某"), "the head's name beside the id: \(list)")

            let confirm = try await office.run(["review", "confirm", String(conflict.entity.description.prefix(8)), "phone", "--json"] + Self.admin(server))
            #expect(confirm.status == 0, "\(confirm)")
            #expect(try confirm.json()["outcome"] != "rejected")
            let after = try await office.run(["review", "list", "--json"] + Self.admin(server)).json(ReviewQueue.self)
            #expect(after.conflicts.isEmpty)
            #expect(try await a.run("sync").status == 0)
            let shown = try await a.run("households", "show", household, "--json").json(HouseholdAggregate.self)
            #expect(shown.conflicts.isEmpty && shown.household["phone"] == conflict.shown?.value)
        }
    }

    /// §6.3: a visitor who re-verified a conflicted phone number at the door settles the conflict;
    /// the household's history says so to the office (by the visitor's laptop, in the field), and
    /// to the visitor, in Chinese and in English.
    @Test func householdsHistory_showsWhoSettledAConflict_inTheField() async throws {
        try await LiveServer.run { server in
            let a = try await VisitorCommandTests.enrolled(server)
            let b = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(a, 7)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)
            #expect(try await a.run("household", "edit", household, "--phone", "13912345678").status == 0)
            #expect(try await b.run("household", "edit", household, "--phone", "13987654321").status == 0)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)
            #expect(try await a.run("sync").status == 0)
            // At the door, the visitor finds the right number and writes it over both.
            #expect(try await a.run("household", "edit", household, "--phone", "13911112222").status == 0)
            #expect(try await a.run("sync").status == 0)

            let office = CLI()
            let entries = try await office.run(["households", "history", household, "--json"] + Self.admin(server)).json([AuditEntry].self)
            let settling = try #require(entries.first { $0.settledConflict == true })
            #expect(settling.field == "phone" && settling.new == "13911112222")
            #expect(settling.writer == settling.device && settling.actor == "device:\(settling.device)", "a push names its device")
            let table = try await office.run(["households", "history", household] + Self.admin(server))
            #expect(table.status == 0, "\(table)")
            #expect(table.stdout.contains("修改记录") && table.stdout.contains("张三的笔记本") && table.stdout.contains("联系电话"), "\(table)")
            #expect(table.stdout.contains("走访人员现场核实后解决了冲突") && table.stdout.contains("其中 1 条修改解决了冲突"), "\(table)")
            let english = try await a.run("households", "history", String(household.prefix(8)), "--lang", "en")
            #expect(english.status == 0 && english.stdout.contains("settled in the field by a visitor"), "\(english)")
            let unknown = try await a.run("households", "history", "ffffffff")
            #expect(unknown.status != 0 && unknown.errorLines.count == 1, "\(unknown)")
        }
    }

    @Test func report_csvHasBOM_headerInTheChosenLanguage_andTheNumbers() async throws {
        try await LiveServer.run { server in
            let visitor = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(visitor, 7)
            #expect(try await visitor.run("visit", "record", household, "--date", "2020-04-12", "--conclusion", "eligible").status == 0)
            #expect(try await visitor.run("sync").status == 0)

            let office = CLI()
            let path = office.folder + "/report.csv"
            let report = try await office.run(["report", "--district", "150602", "--today", "2020-04-15", "--csv", path] + Self.admin(server))
            #expect(report.status == 0, "\(report)")
            #expect(report.stdout.contains("走访覆盖率") && report.stdout.contains("东胜区 150602") && report.stdout.contains("合计"), "\(report)")
            let data = try #require(FileManager.default.contents(atPath: path))
            #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF], "UTF-8 byte-order mark first, for Excel")
            let lines = String(decoding: data.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first?.hasPrefix("旗区代码,旗区,户数,待核实（现在）") == true, "\(lines)")
            let header = try #require(lines.first?.components(separatedBy: ","))
            let dongsheng = try #require(lines.first { $0.hasPrefix("150602,") }?.components(separatedBy: ","))
            #expect(dongsheng[1] == "东胜区" && dongsheng[2] == "1")
            let candidates = try #require(header.firstIndex(of: "待核实（现在）"))
            #expect(dongsheng[candidates] == "1")
            // Created today, the household was not on file in the 2020 identification stage: no coverage base.
            let base = try #require(header.firstIndex(of: "走访覆盖基数"))
            #expect(dongsheng[base] == "0" && dongsheng[base + 1] == "", "\(lines)")
            let illness = try #require(header.firstIndex(of: "致困原因：因病"))
            #expect(dongsheng[illness] == "1")
            #expect(lines.last?.hasPrefix(",合计,1,") == true)

            let english = office.folder + "/report-en.csv"
            #expect(try await office.run(["report", "--today", "2020-04-15", "--csv", english, "--lang", "en"] + Self.admin(server)).status == 0)
            let text = String(decoding: try #require(FileManager.default.contents(atPath: english)).dropFirst(3), as: UTF8.self)
            #expect(text.hasPrefix("district code,district,households,candidate (now)"))
            let json = try await office.run(["report", "--today", "2020-04-15", "--json"] + Self.admin(server)).json(CampaignReport.self)
            #expect(json.total.households == 1 && json.today.description == "2020-04-15")
            // Years later, with no campaign defined for now: the report says so.
            let later = try await office.run(["report", "--today", "2026-12-04"] + Self.admin(server))
            #expect(later.stdout.contains("今天没有正在进行的攻坚行动") && later.stdout.contains("2020-09-30"), "\(later)")
            let during = try await office.run(["report", "--today", "2020-04-15"] + Self.admin(server))
            #expect(!during.stdout.contains("今天没有正在进行的攻坚行动"), "\(during)")
        }
    }

    @Test func bundleExport_thenUploadFromAnotherMachine_isIdempotent() async throws {
        try await LiveServer.run { server in
            let visitor = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(visitor, 8)
            let file = visitor.folder + "/work.dsbundle"
            let export = try await visitor.run("bundle", "export", "--out", file, "--json")
            #expect(export.status == 0, "\(export)")
            #expect(try export.json()["written"] == true && export.json()["mutations"] == 1)

            let office = CLI()
            let upload = try await office.run(["upload", file, "--json"] + Self.admin(server))
            #expect(upload.status == 0, "\(upload)")
            let first = try #require(try upload.json([[String: JSONValue]].self).first)
            #expect(first["applied"] == 1 && first["alreadyApplied"] == 0)
            let again = try await office.run(["upload", file] + Self.admin(server))
            #expect(again.status == 0 && again.stdout.contains("此前已上传过"), "\(again)")

            let admin = try server.admin
            #expect(try await admin.household(try EntityID(household)).household["headName"] == "王某某")
            let sync = try await visitor.run("sync", "--json")
            #expect(try sync.syncJSON().summary.alreadyApplied == 1, "\(sync)")
            let empty = try await visitor.run("bundle", "export", "--out", visitor.folder + "/none.dsbundle", "--json")
            #expect(try empty.json()["written"] == false)
            let bad = try await office.run(["upload", visitor.database] + Self.admin(server))
            #expect(bad.status == 1 && bad.stderr.contains("[bundleInvalid]"), "\(bad)")
        }
    }

    @Test func adminImportCheck_listsEveryRowProblemByLine_thenRosterCompare() async throws {
        try await LiveServer.run { server in
            let office = CLI()
            let file = office.folder + "/files.csv"
            try FileManager.default.createDirectory(atPath: office.folder, withIntermediateDirectories: true)
            let rows = [
                "户主姓名,身份证号,住址,旗区,档案级别,主要致困原因,困难程度,技能水平,家庭月收入(分),受疫情影响",
                "赵某,\(Sample.nationalID(20)),东胜区 1 号,150602,national,illness,general,none,80000,false",
                "钱某,\(Sample.wrongNationalID(21)),东胜区 2 号,150602,national,illness,general,none,80000,false",
                "孙某,\(Sample.nationalID(22)),东胜区 3 号,150602,bogus,illness,general,none,-5,false",
            ]
            try Data((rows.joined(separator: "\r\n") + "\r\n").utf8).write(to: URL(fileURLWithPath: file))
            let check = try await office.run(["admin", "import", file, "--check"] + Self.admin(server))
            #expect(check.status == 1, "\(check)")
            #expect(check.stdout.contains("检查结果（未导入任何数据）"), "\(check)")
            let problems = check.stdout.split(separator: "\n").filter {
                $0.contains("invalidNationalId") || $0.contains("invalidValue") || $0.contains("negativeAmount")
            }
            #expect(problems.count == 3, "\(check)")
            #expect(problems.contains { $0.hasPrefix(" 3  身份证号 [nationalId]") } && problems.contains { $0.hasPrefix(" 4  档案级别 [fileLevel]") }, "\(check)")
            let json = try await office.run(["admin", "import", file, "--check", "--json"] + Self.admin(server)).json(ImportReport.self)
            #expect(json.dryRun && json.errors.map(\.line).sorted() == [3, 4, 4])

            let accepted = try await office.run(["admin", "import", file, "--accept-valid", "--json"] + Self.admin(server))
            #expect(accepted.status == 0, "\(accepted)")
            #expect(try accepted.json(ImportReport.self).imported == 1)

            let roster = office.folder + "/roster.csv"
            try Data("身份证号,姓名,低保金\n\(Sample.nationalID(20)),赵某某,50000\n\(Sample.nationalID(23)),周某,1000\n".utf8).write(to: URL(fileURLWithPath: roster))
            let compare = try await office.run(["roster", "compare", roster, "--district", "150602", "--json"] + Self.admin(server))
            #expect(compare.status == 0, "\(compare)")
            let report = try compare.json(RosterReport.self)
            #expect(report.rosterRows == 2 && report.inRosterNotOnFile.map(\.line) == [3] && report.disagreements.map(\.field) == ["headName"])
            let table = try await office.run(["roster", "compare", roster, "--lang", "en"] + Self.admin(server))
            #expect(table.stdout.contains("In the roster, not on file") && table.stdout.contains("Disagreements"), "\(table)")
        }
    }

    @Test func householdStatus_onAnOfficeDevice_andWithAToken() async throws {
        try await LiveServer.run { server in
            let visitor = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(visitor, 9)
            #expect(try await visitor.run("sync").status == 0)
            let refused = try await visitor.run("household", "status", household, "--to", "filed")
            #expect(refused.status == 1 && refused.stderr.contains("[forbiddenForRole]"), "\(refused)")

            let office = CLI()
            let enroll = try await office.run("enroll", "--server", server.url.absoluteString, "--code", try await server.code(role: .office))
            #expect(enroll.status == 0, "\(enroll)")
            #expect(try await office.run("sync").status == 0)
            let local = try await office.run("household", "status", String(household.prefix(8)), "--to", "在档")
            #expect(local.status == 0 && local.stdout.contains("在档"), "\(local)")
            #expect(try await office.run("sync").status == 0)

            let remote = try await CLI().run(["household", "status", household, "--to", "outOfHardship", "--json"] + Self.admin(server))
            #expect(remote.status == 0, "\(remote)")
            #expect(try remote.json()["outcome"] == "applied")
            let illegal = try await CLI().run(["household", "status", household, "--to", "candidate", "--lang", "en"] + Self.admin(server))
            #expect(illegal.status == 1 && illegal.errorLines.count == 1 && illegal.stderr.contains("error [illegalTransition]"), "\(illegal)")
            // The office device's own token serves the office commands too.
            let queue = try await office.run("review", "list", "--json")
            #expect(queue.status == 0, "\(queue)")
        }
    }
}
