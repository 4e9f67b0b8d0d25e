import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// What a visitor reads while `doorstep sync` runs: not on a terminal, one plain line per step,
/// with the households and the bytes moved (of about how many), in Chinese or English.
@Suite struct SyncProgressLinesTests {
    @Test func aFirstSync_saysHouseholdsAndBytes_line_by_line() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            for n in 0..<30 {
                let fields: [String: JSONValue] = [
                    "headName": "王某某", "nationalId": .string(Sample.nationalID(700 + n)), "address": .string("东胜区 建设街 \(n) 号"),
                    "fileLevel": "national", "primaryCause": "illness", "difficulty": "general", "skillLevel": "none", "monthlyIncomeFen": 120_000,
                ]
                _ = try await colleague.fileHousehold(fields)
            }
            try await colleague.sync()
            let cli = CLI()
            #expect(try await cli.run("enroll", "--server", server.url.absoluteString, "--code", try await server.code()).status == 0)
            let sync = try await cli.run("sync")
            #expect(sync.status == 0, "\(sync)")
            let lines = sync.stderr.split(separator: "\n").filter { $0.hasPrefix("拉取") }
            #expect(!lines.isEmpty, "\(sync.stderr)")
            #expect(lines.last?.contains("拉取 30 / 约 30 户") == true, "\(lines)")
            #expect(lines.last?.contains("已传 ") == true && lines.last?.contains(" KB") == true, "\(lines)")
            #expect(!sync.stderr.contains("\u{1B}["), "no bar drawn when stderr is not a terminal")
            let english = try await cli.run("sync", "--lang", "en")
            #expect(english.status == 0)
        }
    }
}
