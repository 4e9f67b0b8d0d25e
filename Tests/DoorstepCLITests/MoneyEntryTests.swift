import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Money typed the way a clerk types it, into every place the CLI takes a value: each form is
/// stored as the amount it says (never a hundred times too small), each bad form is refused with
/// exit 65 and changes nothing.
@Suite(.serialized)
struct MoneyEntryTests {
    /// What people type, and the fen it means where the entry point does not name a unit.
    static let forms: [(typed: String, fen: Int64)] = [
        ("2600元", 260_000), ("2600", 260_000), ("1,500", 150_000), ("1,500.50元", 150_050), ("２６００", 260_000),
        ("￥2,600", 260_000), ("260000分", 260_000), ("1.5万", 1_500_000),
    ]
    /// (A leading minus is an option to the argument parser, a usage error: `DoorstepCoreTests` cover `-500`.)
    static let refused = ["1,50", "2600.555", "两千六", "26OO元"]

    @Test func everyMoneyForm_throughFlagsAndPrompts_storesTheAmountItSays() async throws {
        try await LiveServer.run { server in
            let cli = try await VisitorCommandTests.enrolled(server)
            var n = 40
            // Every form through `household edit`; every entry point with a different form each.
            let edited = try await VisitorCommandTests.fileHousehold(cli, 39)
            for form in Self.forms {
                let edit = try await cli.run("household", "edit", edited, "--income-yuan", form.typed)
                #expect(edit.status == 0, "\(form.typed): \(edit)")
                #expect(try await income(cli, edited) == form.fen, "household edit --income-yuan \(form.typed)")
            }
            for form in Self.forms.enumerated().filter({ $0.offset % 2 == 0 }).map(\.element) {
                n += 1
                // household new --income-yuan, and the same value through the prompt.
                var flags = Sample.householdFlags(n)
                flags[flags.count - 1] = form.typed
                let filed = try await cli.run(["household", "new", "--json"] + flags)
                #expect(filed.status == 0, "\(form.typed): \(filed)")
                let household = try #require(try filed.json()["id"]?.stringValue)
                #expect(try await income(cli, household) == form.fen, "household new --income-yuan \(form.typed)")

                // The prompt: every question answered, the income typed as this form.
                let answers = [
                    "王某某", Sample.nationalID(n + 100), "", "东胜区 建设街 \(n) 号", "", "", "", "national", "illness", "",
                    "general", "none", form.typed, "否", "",
                ]
                let prompted = try await cli.run(["household", "new", "--interactive", "--json"], stdin: answers.joined(separator: "\n") + "\n")
                #expect(prompted.status == 0, "\(form.typed): \(prompted)")
                let promptedID = try #require(try prompted.json()["id"]?.stringValue)
                #expect(try await income(cli, promptedID) == form.fen, "prompt \(form.typed)")

                // visit record --observed-income-yuan and assist add --amount-yuan.
                let visit = try await cli.run([
                    "visit", "record", household, "--date", "2020-04-12", "--verified", "income",
                    "--conclusion", "eligible", "--observed-income-yuan", form.typed, "--visitor", "张三",
                ])
                #expect(visit.status == 0, "\(form.typed): \(visit)")
                let assist = try await cli.run([
                    "assist", "add", household, "--category", "illness", "--measure", "申请大病救助",
                    "--due", "2020-06-30", "--amount-yuan", form.typed,
                ])
                #expect(assist.status == 0, "\(form.typed): \(assist)")
                let shown = try await cli.run("households", "show", household, "--json").json(HouseholdAggregate.self)
                #expect(shown.entities.first { $0.kind == .visit }?["observedIncomeFen"] == .int(form.fen), "visit \(form.typed)")
                #expect(shown.entities.first { $0.kind == .assistance }?["amountFen"] == .int(form.fen), "assist \(form.typed)")
            }

            // Fen flags read bare numbers as fen; a unit typed with the value wins.
            let fen = try await VisitorCommandTests.fileHousehold(cli, 90)
            #expect(try await cli.run("household", "edit", fen, "--income-fen", "2600").status == 0)
            #expect(try await income(cli, fen) == 2600)
            #expect(try await cli.run("household", "edit", fen, "--income-fen", "2600元").status == 0)
            #expect(try await income(cli, fen) == 260_000)

            // Refused forms: exit 65, a Chinese message naming the field, nothing changed.
            for typed in Self.refused {
                let before = try await cli.run("status", "--json").json()["pending"]
                let edit = try await cli.run("household", "edit", fen, "--income-yuan", typed)
                #expect(edit.status == 65, "\(typed): \(edit)")
                #expect(edit.errorLines.count == 1 && edit.stderr.contains("家庭月收入"), "\(typed): \(edit)")
                #expect(!edit.stderr.contains("must"), "\(typed): the Chinese line carries no English: \(edit)")
                #expect(try await income(cli, fen) == 260_000, "\(typed) changed the income")
                #expect(try await cli.run("status", "--json").json()["pending"] == before, "\(typed) queued a change")
            }
        }
    }

    @Test func reviewOverturn_typedMoney_isReadInYuan_andARefusedFormDecidesNothing() async throws {
        try await LiveServer.run { server in
            let a = try await VisitorCommandTests.enrolled(server)
            let b = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(a, 7)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)
            #expect(try await a.run("household", "edit", household, "--income-yuan", "1000").status == 0)
            #expect(try await b.run("household", "edit", household, "--income-yuan", "1100").status == 0)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)

            let office = CLI()
            let admin = OfficeCommandTests.admin(server)
            let entity = String(household.prefix(8))
            for typed in Self.refused {
                let refused = try await office.run(["review", "overturn", entity, "monthlyIncomeFen", typed] + admin)
                #expect(refused.status == 65 && refused.errorLines.count == 1, "\(typed): \(refused)")
                let queue = try await office.run(["review", "list", "--json"] + admin).json(ReviewQueue.self)
                #expect(queue.conflicts.count == 1, "\(typed) decided the conflict")
            }
            // The case that was stored a hundred times too small: 2600元 is 2,600 yuan.
            let overturn = try await office.run(["review", "overturn", entity, "monthlyIncomeFen", "2600元"] + admin)
            #expect(overturn.status == 0, "\(overturn)")
            let shown = try await server.admin.household(try EntityID(household))
            #expect(shown.household["monthlyIncomeFen"] == .int(260_000))
            // By its Chinese label, as a clerk reads it on the screen, and with separators.
            #expect(try await a.run("household", "edit", household, "--income-yuan", "900").status == 0)
            #expect(try await b.run("household", "edit", household, "--income-yuan", "950").status == 0)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)
            let labelled = try await office.run(["review", "overturn", entity, "家庭月收入", "1,500"] + admin)
            #expect(labelled.status == 0, "\(labelled)")
            #expect(try await server.admin.household(try EntityID(household)).household["monthlyIncomeFen"] == .int(150_000))
            // The wire name names fen, as the import's wire-name columns do: a bare number there is fen.
            #expect(try await a.run("household", "edit", household, "--income-yuan", "800").status == 0)
            #expect(try await b.run("household", "edit", household, "--income-yuan", "850").status == 0)
            #expect(try await a.run("sync").status == 0)
            #expect(try await b.run("sync").status == 0)
            #expect(try await office.run(["review", "overturn", entity, "monthlyIncomeFen", "150000"] + admin).status == 0)
            #expect(try await server.admin.household(try EntityID(household)).household["monthlyIncomeFen"] == .int(150_000))
        }
    }

    /// The household's income on the laptop, in fen.
    private func income(_ cli: CLI, _ household: String) async throws -> Int64? {
        try await cli.run("households", "show", household, "--json").json(HouseholdAggregate.self).household["monthlyIncomeFen"].intValue
    }
}
