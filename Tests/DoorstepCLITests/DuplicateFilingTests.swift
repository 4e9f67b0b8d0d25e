import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Filing a household whose national ID is already on the laptop: named, asked about, and filed
/// again only on purpose (it would reach the office as a duplicate and a handful of conflicts).
@Suite(.serialized)
struct DuplicateFilingTests {
    @Test func sameNationalIDOnTheLaptop_isNamed_refusedWithoutATerminal_askedAtThePrompt_filedOnlyOnPurpose() async throws {
        try await LiveServer.run { server in
            let cli = try await VisitorCommandTests.enrolled(server)
            let first = try await VisitorCommandTests.fileHousehold(cli, 30)
            var again = Sample.householdFlags(30, name: "王某某（重复）")
            // Typed another way: lower-case x is the same number (this one has none), spaces around it.
            again[3] = " " + again[3] + " "

            let refused = try await cli.run(["household", "new"] + again)
            #expect(refused.status == 1 && refused.errorLines.first?.hasPrefix("错误 [nationalIdOnFile]: 未建档") == true, "\(refused)")
            #expect(refused.stderr.contains(String(first.prefix(8))) && refused.stderr.contains("--force"), "names the household: \(refused)")
            #expect(try await cli.run("status", "--json").json()["pending"] == 1, "nothing was filed")

            // --interactive asks for the facts the flags left out (seven, all skipped), then about the duplicate.
            let skipped = String(repeating: "\n", count: 7)
            let declined = try await cli.run(["household", "new", "--interactive"] + again, stdin: skipped + "否\n")
            #expect(declined.status == 0 && declined.stderr.contains("未建档"), "\(declined)")
            #expect(try await cli.run("status", "--json").json()["pending"] == 1)

            let confirmed = try await cli.run(["household", "new", "--interactive"] + again, stdin: skipped + "是\n")
            #expect(confirmed.status == 0, "\(confirmed)")
            let forced = try await cli.run(["household", "new", "--force"] + again)
            #expect(forced.status == 0, "\(forced)")
            #expect(try await cli.run("status", "--json").json()["pending"] == 3)
        }
    }

    @Test func theLibraryRefusesTheSecondFiling_unlessAllowed() async throws {
        try await LiveServer.run { server in
            let client = try await server.enrolledClient(role: .visitor)
            var facts: [String: JSONValue] = [
                "headName": "李某", "nationalId": .string(Sample.nationalID(31)), "address": "东胜区 建设街 31 号", "fileLevel": "national",
                "primaryCause": "illness", "difficulty": "general", "skillLevel": "none", "monthlyIncomeFen": 120_000,
            ]
            let first = try await client.fileHousehold(facts)
            #expect(try await client.households(withNationalID: Sample.nationalID(31)).map(\.id) == [first])
            facts["headName"] = "李某某"
            await #expect(throws: DoorstepError.self) { try await client.fileHousehold(facts) }
            do { _ = try await client.fileHousehold(facts) } catch let error as DoorstepError { #expect(error.code == .nationalIdOnFile) }
            #expect(try await client.status().pending == 1)
            _ = try await client.fileHousehold(facts, allowingSameNationalID: true)
            #expect(try await client.status().pending == 2)
        }
    }
}
