import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Members, liaisons and problem-list items from the CLI: added, changed and removed offline with
/// fields by label and values as typed, then synced.
@Suite(.serialized)
struct EntryCommandTests {
    @Test func membersLiaisonsAndProblems_addEditRemove_byLabelsAndTypedValues_thenSync() async throws {
        try await LiveServer.run { server in
            let cli = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(cli, 50)
            let short = String(household.prefix(8))

            let member = try await cli.run("member", "add", short, "姓名=李某", "与户主关系=配偶", "健康状况=2", "就业状况=失业", "出生日期=1986年3月5日", "--json")
            #expect(member.status == 0, "\(member)")
            let memberID = try #require(try member.json()["id"]?.stringValue)
            let liaison = try await cli.run("liaison", "add", short, "name=王某", "level=districtUnion", "organization=东胜区总工会", "phone=１３９１２３４５６７８")
            #expect(liaison.status == 0, "\(liaison)")
            let problem = try await cli.run("problem", "add", short, "category=医疗救助", "description=大病治疗费用高", "status=未解决", "--json")
            #expect(problem.status == 0, "\(problem)")
            let problemID = try #require(try problem.json()["id"]?.stringValue)

            // Refused as typed, nothing written: an unknown field, a missing required one, a bad value.
            let pending = try await cli.run("status", "--json").json()["pending"]
            let unknown = try await cli.run("member", "add", short, "姓名=赵某", "爱好=下棋")
            #expect(unknown.status == 65 && unknown.errorLines.first?.contains("没有「爱好」这一项") == true, "\(unknown)")
            let missing = try await cli.run("member", "add", short, "姓名=赵某")
            #expect(missing.status == 65 && missing.stderr.contains("[missingField]"), "\(missing)")
            let badValue = try await cli.run("liaison", "add", short, "name=王某", "level=district", "organization=总工会")
            #expect(badValue.status == 65 && badValue.stderr.contains("[invalidValue]"), "\(badValue)")
            #expect(try await cli.run("status", "--json").json()["pending"] == pending)

            #expect(try await cli.run("problem", "edit", String(problemID.prefix(8)), "--household", short, "状态=已解决").status == 0)
            #expect(try await cli.run("member", "remove", String(memberID.prefix(8)), "--household", short).status == 0)
            #expect(try await cli.run("sync").status == 0)

            let shown = try await server.admin.household(try EntityID(household))
            let problemState = try #require(shown.entities.first { $0.kind == .problem })
            #expect(problemState["status"] == "resolved" && problemState["category"] == "illness")
            let memberState = try #require(shown.entities.first { $0.kind == .member })
            #expect(memberState.isDeleted && memberState["health"] == "chronicIllness" && memberState["birthDate"] == "1986-03-05")
            #expect(shown.entities.first { $0.kind == .liaison }?["phone"] == "13912345678")
            let help = try await CLI().run(["member", "--help"], withDatabase: false)
            #expect(help.stdout.contains("relation (与户主关系) *"), "\(help)")
        }
    }
}
