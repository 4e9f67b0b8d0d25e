import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// The CLI's edges as a new user meets them: a failed enrollment leaves nothing behind, a
/// mistyped district is not an empty answer, an unreachable server is exit 3 in every command.
@Suite(.serialized)
struct CLIEdgeTests {
    @Test func failedEnroll_leavesNoDatabaseOrFolder() async throws {
        try await LiveServer.run { server in
            let scratch = CLI()
            let folder = scratch.folder + "/new-laptop"
            let database = folder + "/doorstep.sqlite"
            let refused = try await scratch.run(
                ["enroll", "--server", server.url.absoluteString, "--code", "AAAA-BBBB-CCCC", "--db", database],
                withDatabase: false)
            #expect(refused.status == 1 && refused.stderr.contains("[invalidEnrollmentCode]"), "\(refused)")
            #expect(!FileManager.default.fileExists(atPath: folder), "no folder and no empty database left behind")
            let typo = try await scratch.run(["status", "--db", folder + "/typo.sqlite"], withDatabase: false)
            #expect(typo.status == 1 && !FileManager.default.fileExists(atPath: folder), "\(typo)")
        }
    }

    @Test func districts_byCodeOrName_andAnUnknownCodeIsAnError() async throws {
        try await LiveServer.run { server in
            let cli = try await VisitorCommandTests.enrolled(server)
            _ = try await VisitorCommandTests.fileHousehold(cli, 70)
            let typo = try await cli.run("households", "list", "--district", "15062")
            #expect(typo.status == 65 && typo.errorLines.first?.hasPrefix("错误 [unknownDistrict]: 「15062」不是本市的旗区代码") == true, "\(typo)")
            #expect(typo.stderr.contains("150602 东胜区"), "the districts are listed: \(typo)")
            let byName = try await cli.run("households", "list", "--district", "东胜区", "--json")
            #expect(byName.status == 0, "\(byName)")
            #expect(try byName.json([HouseholdSummary].self).count == 1)
            let english = try await cli.run("households", "list", "--district", "dongsheng", "--json")
            #expect(try english.json([HouseholdSummary].self).count == 1, "\(english)")
        }
    }

    @Test func anUnreachableServer_isExit3_inUploadAndReportAlike() async throws {
        let office = CLI()
        try FileManager.default.createDirectory(atPath: office.folder, withIntermediateDirectories: true)
        let first = office.folder + "/a.dsbundle", second = office.folder + "/b.dsbundle"
        for file in [first, second] { _ = FileManager.default.createFile(atPath: file, contents: Data("not really a bundle".utf8)) }
        let dead = ["--server", "http://127.0.0.1:1", "--token", "dsa_nothing", "--retries", "1"]
        let upload = try await office.run(["upload", first, second, "--json"] + dead, withDatabase: false)
        #expect(upload.status == 3, "\(upload)")
        struct Receipt: Decodable { var error: ErrorBody.Detail? }
        let receipts = try upload.json([Receipt].self)
        #expect(receipts.count == 2 && receipts.allSatisfy { $0.error?.code == .serverUnreachable }, "\(upload.stdout)")
        let report = try await office.run(["report"] + dead, withDatabase: false)
        #expect(report.status == 3 && report.errorLines.first?.hasPrefix("错误 [serverUnreachable]") == true, "\(report)")
    }
}
