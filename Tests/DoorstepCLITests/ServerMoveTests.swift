import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// A server that moved to another address: the devices follow it once they have checked that it
/// is the same server (its key id), and never send their token to another one.
@Suite(.serialized)
struct ServerMoveTests {
    @Test func serverMoved_visitorAndOfficeFollowIt_afterCheckingItsIdentity_anotherServerGetsNothing() async throws {
        let directory = Scratch.root.appendingPathComponent("doorstep-move-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let visitor = CLI()
        let office = CLI()
        let (household, oldURL) = try await LiveServer.run(directory: directory) { server in
            #expect(try await visitor.run("enroll", "--server", server.url.absoluteString, "--code", try await server.code()).status == 0)
            let code = try await server.code(role: .office)
            #expect(try await office.run("enroll", "--server", server.url.absoluteString, "--code", code).status == 0)
            let household = try await VisitorCommandTests.fileHousehold(visitor, 11)
            #expect(try await visitor.run("sync").status == 0)
            return (household, server.url)
        }

        // The same data, served at another address.
        try await LiveServer.run(directory: directory) { moved in
            #expect(moved.url != oldURL)
            let stale = try await visitor.run("sync", "--retries", "1")
            #expect(stale.status == 3 && stale.stderr.contains("doorstep server set"), "\(stale)")

            // Once, through the new address: checked, then used; the office's own token too.
            let once = try await visitor.run("sync", "--server", moved.url.absoluteString, "--json")
            #expect(once.status == 0 && once.stderr.contains("doorstep server set \(moved.url.absoluteString)"), "\(once)")
            let review = try await office.run("review", "list", "--server", moved.url.absoluteString, "--json")
            #expect(review.status == 0, "the office device's token works at the new address: \(review)")

            // For good: remembered, and every later command uses it.
            let set = try await visitor.run("server", "set", moved.url.absoluteString, "--json")
            #expect(set.status == 0, "\(set)")
            #expect(try set.json()["changed"] == .bool(true))
            #expect(
                try await visitor.run(
                    "visit", "record", household, "--date", "2020-04-12", "--conclusion", "eligible",
                    "--visitor", "张三"
                ).status == 0)
            let sync = try await visitor.run("sync", "--json")
            #expect(sync.status == 0, "\(sync)")
            #expect(try sync.syncJSON().summary.pushed == 1)
            #expect(try await visitor.run("server", "show", "--json").json()["server"] == .string(moved.url.absoluteString))
            #expect(try await office.run("server", "set", moved.url.absoluteString).status == 0)
            #expect(try await office.run("review", "list").status == 0)
        }

        // Another server (another identity) at some address: refused, nothing sent, nothing changed.
        try await LiveServer.run { other in
            let before = try await visitor.run("server", "show", "--json").json()["server"]
            let set = try await visitor.run("server", "set", other.url.absoluteString)
            #expect(set.status == 1 && set.errorLines.first?.hasPrefix("错误 [serverMismatch]: ") == true, "\(set)")
            #expect(set.stderr.contains("另一台服务器") && set.stderr.contains("未向它发送任何数据"), "\(set)")
            #expect(try await visitor.run("server", "show", "--json").json()["server"] == before)
            let sync = try await visitor.run("sync", "--server", other.url.absoluteString)
            #expect(sync.status == 1 && sync.stderr.contains("[serverMismatch]"), "\(sync)")
            let review = try await office.run("review", "list", "--server", other.url.absoluteString)
            #expect(review.status == 1 && review.stderr.contains("[serverMismatch]"), "\(review)")
        }
    }
}
