import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// The visitor's commands, run as real `doorstep` processes against a live server.
@Suite(.serialized)
struct VisitorCommandTests {
    /// Enrolls a new CLI database with a fresh visitor code.
    static func enrolled(_ server: LiveServer, lang: String = "zh_CN.UTF-8") async throws -> CLI {
        let cli = CLI(lang: lang)
        let result = try await cli.run("enroll", "--server", server.url.absoluteString, "--code", try await server.code(), "--name", "张三的笔记本", "--json")
        #expect(result.status == 0, "\(result)")
        return cli
    }

    /// Files a household with flags; returns its id.
    static func fileHousehold(_ cli: CLI, _ n: Int) async throws -> String {
        let result = try await cli.run(["household", "new", "--json"] + Sample.householdFlags(n))
        #expect(result.status == 0, "\(result)")
        return try #require(try result.json()["id"]?.stringValue)
    }

    @Test func enroll_recordOffline_syncAgainstDeadServerExits3_workKept_thenSyncs() async throws {
        try await LiveServer.run { server in
            let cli = CLI()
            let enroll = try await cli.run("enroll", "--server", server.url.absoluteString, "--code", try await server.code(), "--name", "张三的笔记本", "--json")
            #expect(enroll.status == 0, "\(enroll)")
            let enrollment = try enroll.json()
            #expect(enrollment["role"] == "visitor" && enrollment["district"] == "150602" && enrollment["deviceName"] == "张三的笔记本")

            let household = try await Self.fileHousehold(cli, 1)
            let visit = try await cli.run(
                "visit", "record", String(household.prefix(8)), "--date", "2020-04-12", "--verified", "income,cause",
                "--conclusion", "eligible", "--proposed-status", "filed", "--visitor", "张三")
            #expect(visit.status == 0, "\(visit)")

            // The network is down (nothing listens on port 1): exit 3, one error line, the work kept.
            let offline = try await cli.run("sync", "--server", "http://127.0.0.1:1", "--retries", "1")
            #expect(offline.status == 3, "\(offline)")
            #expect(offline.errorLines.count == 1 && offline.errorLines.first?.hasPrefix("错误 [serverUnreachable]: 无法连接服务器") == true, "\(offline)")
            let status = try await cli.run("status", "--json")
            #expect(try status.json()["pending"] == 2, "\(status)")
            #expect(try status.json()["lastSyncError"]?.stringValue?.hasPrefix("serverUnreachable") == true)

            // The server is back (the enrolled address): everything goes through.
            let sync = try await cli.run("sync", "--json")
            #expect(sync.status == 0, "\(sync)")
            let summary = try sync.syncJSON()
            #expect(summary.summary.pushed == 2 && summary.pending == 0 && summary.quarantine == 0)
            #expect(summary.server == server.url.absoluteString)
            #expect(sync.stderr.contains("推送"), "progress lines on stderr when not a terminal")

            let added = try await cli.run(
                "assist", "add", household, "--category", "employment", "--measure", "推荐公益性岗位",
                "--due", "2020-07-31", "--amount-yuan", "500", "--json")
            #expect(added.status == 0, "\(added)")
            let item = try #require(try added.json()["id"]?.stringValue)
            let updated = try await cli.run("assist", "update", String(item.prefix(8)), "--household", household, "--status", "已完成")
            #expect(updated.status == 0, "\(updated)")
            #expect(try await cli.run("sync").status == 0)

            let list = try await cli.run("households", "list", "--json")
            let households = try list.json([HouseholdSummary].self)
            #expect(households.map(\.id.description) == [household])
            #expect(households.first?.hasLocalChanges == false)
            let show = try await cli.run("households", "show", String(household.prefix(8)))
            #expect(show.status == 0, "\(show)")
            #expect(show.stdout.contains("身份证号") && show.stdout.contains("150602********") && show.stdout.contains("走访记录 (1)"), "\(show)")
            #expect(show.stdout.contains("符合条件") && show.stdout.contains("1200.00 元"), "\(show)")
            #expect(
                show.stdout.contains("帮扶清单 (1)") && show.stdout.contains("人社部门") && show.stdout.contains("已完成") && show.stdout.contains("500.00 元"), "\(show)")
        }
    }

    @Test func quarantine_notEmptyAfterSync_exits4_thenListAndDrop() async throws {
        try await LiveServer.run { server in
            let cli = try await Self.enrolled(server)
            let household = try await Self.fileHousehold(cli, 2)
            #expect(try await cli.run("sync").status == 0)
            // The city moves the household to another district while the visitor works offline.
            let city = try await server.enrolledClient(district: nil, role: .city)
            try await city.sync()
            try await city.editHousehold(try EntityID(household), set: ["district": "150603"])
            try await city.sync()
            let visit = try await cli.run("visit", "record", household, "--conclusion", "eligible")
            #expect(visit.status == 0, "\(visit)")

            let sync = try await cli.run("sync")
            #expect(sync.status == 4, "\(sync)")
            #expect(sync.stdout.contains("同步完成"))
            #expect(sync.stderr.contains("doorstep quarantine list"))
            let status = try await cli.run("status", "--json")
            #expect(try status.json()["quarantined"] == 1)

            let list = try await cli.run("quarantine", "list", "--json")
            let items = try list.json([QuarantinedMutation].self)
            #expect(items.map(\.code) == [.outOfScope], "\(list)")
            let table = try await cli.run("quarantine", "list", "--lang", "en")
            #expect(table.stdout.contains("outOfScope") && table.stdout.contains("visit"), "\(table)")
            // In Chinese the server's own Chinese reason, never the English one.
            #expect(items.first?.reasonZh == "这户现属旗区 150603，不在本设备的旗区 150602 范围内", "\(list)")
            let chinese = try await cli.run("quarantine", "list")
            #expect(chinese.stdout.contains("这户现属旗区 150603") && !chinese.stdout.contains("outside this device"), "\(chinese)")

            let seq = try #require(items.first?.seq)
            let drop = try await cli.run("quarantine", "drop", String(seq))
            #expect(drop.status == 0, "\(drop)")
            #expect(try await cli.run("quarantine", "list", "--json").json([QuarantinedMutation].self).isEmpty)
            #expect(try await cli.run("sync").status == 0)
        }
    }

    @Test func wrongCheckDigit_oneErrorLine_exit65_andUsageErrorsExit64() async throws {
        try await LiveServer.run { server in
            let cli = try await Self.enrolled(server)
            var flags = Sample.householdFlags(3)
            flags[3] = Sample.wrongNationalID(3)
            let zh = try await cli.run(["household", "new"] + flags)
            #expect(zh.status == 65, "\(zh)")
            #expect(zh.errorLines.count == 1 && zh.stderrLines.count == 1, "\(zh)")
            #expect(zh.errorLines.first == "错误 [invalidNationalId]: 身份证号校验位不对，请核对是否输错", "\(zh)")
            #expect(zh.stdout.isEmpty)
            #expect(!zh.stderr.contains(Sample.wrongNationalID(3)), "the error never repeats the number")

            let en = try await cli.run(["household", "new", "--lang", "en"] + flags)
            #expect(en.status == 65)
            #expect(en.errorLines.count == 1)
            #expect(en.errorLines.first?.hasPrefix("error [invalidNationalId]: the check digit") == true, "\(en)")
            #expect(try await cli.run("status", "--json").json()["pending"] == 0, "nothing was written")

            let usage = try await cli.run("households", "list", "--limit", "many")
            #expect(usage.status == 64, "\(usage)")
            let unknown = try await cli.run("households", "show", "ffffffff")
            #expect(unknown.status == 1 && unknown.errorLines.count == 1 && unknown.stderr.contains("[notFound]"), "\(unknown)")
        }
    }

    @Test func languages_flagAndLocale_changeTheOutput() async throws {
        let zh = CLI(lang: "zh_CN.UTF-8")
        // No database there: said, in the console's language, and nothing is created.
        let fromLocale = try await zh.run("status")
        #expect(fromLocale.status == 1 && fromLocale.errorLines.first?.hasPrefix("错误 [notEnrolled]: 没有本机数据库") == true, "\(fromLocale)")
        let fromFlag = try await zh.run("status", "--lang", "en")
        #expect(fromFlag.errorLines.first?.hasPrefix("error [notEnrolled]: there is no database") == true, "\(fromFlag)")
        let en = try await CLI(lang: "en_US.UTF-8").run("status")
        #expect(en.errorLines.first?.hasPrefix("error [notEnrolled]") == true, "\(en)")
        #expect(!FileManager.default.fileExists(atPath: zh.database), "status created no database")
        let notEnrolled = try await zh.run("households", "list")
        #expect(notEnrolled.status == 1 && notEnrolled.errorLines == notEnrolled.errorLines.filter { $0.hasPrefix("错误 [notEnrolled]") }, "\(notEnrolled)")
        let english = try await zh.run("households", "list", "--lang", "en")
        #expect(english.errorLines.first?.hasPrefix("error [notEnrolled]") == true, "\(english)")
    }

    @Test func interactivePrompts_wrongNationalIdIsCaughtAtThePrompt_andAskedAgain() async throws {
        try await LiveServer.run { server in
            let cli = try await Self.enrolled(server)
            // headName, nationalId (wrong, then right), phone, address, district (Enter: this device's), employer,
            // employerUnion, fileLevel (by number), primaryCause (by label), otherCauses, difficulty, skillLevel,
            // monthly income in yuan, epidemic (Enter: no), notes.
            let answers = [
                "李某某", Sample.wrongNationalID(4), Sample.nationalID(4), "", "东胜区 民族街 4 号", "", "", "", "1", "因病",
                "", "general", "none", "1200.5", "", "", "",
            ]
            let new = try await cli.run(["household", "new", "--interactive", "--json"], stdin: answers.joined(separator: "\n") + "\n")
            #expect(new.status == 0, "\(new)")
            #expect(new.stderr.components(separatedBy: "身份证号 *: ").count - 1 == 2, "the question was asked twice: \(new)")
            #expect(new.errorLines.count(where: { $0.contains("错误 [invalidNationalId]") }) == 1, "\(new)")
            #expect(new.stderr.contains("1) 全国级 [national]"), "terms are listed with numbers: \(new)")
            let id = try #require(try new.json()["id"]?.stringValue)
            let shown = try await cli.run("households", "show", id, "--json").json(HouseholdAggregate.self)
            #expect(shown.household["monthlyIncomeFen"] == 120_050)
            #expect(shown.household["nationalId"] == .string(Sample.nationalID(4)))
            #expect(shown.household["fileLevel"] == "national" && shown.household["primaryCause"] == "illness")
            #expect(shown.household["district"] == "150602" && shown.household["epidemicAffected"] == false)

            // In a terminal (a pseudo-terminal), with no flags, the questions come by themselves.
            var another = answers
            another[2] = Sample.nationalID(5)
            if let terminal = try await cli.runInTerminal(["household", "new"], stdin: another.joined(separator: "\n") + "\n") {
                #expect(terminal.status == 0, "\(terminal)")
                #expect(terminal.stdout.components(separatedBy: "身份证号 *: ").count - 1 == 2, "\(terminal)")
                #expect(terminal.stdout.contains("错误 [invalidNationalId]") && terminal.stdout.contains("已新建困难户档案"), "\(terminal)")
            }

            // Editing asks with the current values; Enter keeps them.
            let edit = try await cli.run(
                ["household", "edit", id, "--interactive", "--json"],
                stdin: ["", "", "13912345678", "", "", "", "", "", "", "", "", "", "1300", "", ""].joined(separator: "\n") + "\n")
            #expect(edit.status == 0, "\(edit)")
            #expect(try edit.json()["fields"] == ["monthlyIncomeFen", "phone"], "\(edit)")
            #expect(edit.stderr.contains("户主姓名 [李某某]: "), "\(edit)")

            // The input ends before the last question: one error line, nothing written.
            let cut = try await cli.run(["household", "new", "--interactive"], stdin: "王某\n")
            #expect(cut.status == 1 && cut.stderr.contains("[inputEnded]"), "\(cut)")
        }
    }
}
