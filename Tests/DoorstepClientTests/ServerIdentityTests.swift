import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Synchronization
import Testing

/// The device's token goes only to the server it enrolled with, wherever that server now answers.
struct ServerIdentityTests {
    /// Every request sent, with its address and whether it carried a token.
    final class Recorder: Sendable {
        let sent = Mutex<[(server: URL, path: String, token: Bool)]>([])

        func transport(_ url: URL) -> any SyncTransport { Recording(base: ClientConfiguration.platformTransport(url), url: url, recorder: self) }

        struct Recording: SyncTransport {
            let base: any SyncTransport
            let url: URL
            let recorder: Recorder
            func send(_ request: TransportRequest) async throws -> TransportResponse {
                recorder.sent.withLock { $0.append((url, request.path, request.headers["Authorization"] != nil)) }
                return try await base.send(request)
            }
        }
    }

    @Test func anotherServer_isAskedWhoItIs_andSentNothingElse_theSameServerElsewhereIsFollowed() async throws {
        try await LiveServer.run { enrolled in
            try await LiveServer.run { other in
                let recorder = Recorder()
                let client = try await enrolled.enrolledClient(transport: { recorder.transport($0) })
                let household = try await client.fileHousehold(Facts.household(1))

                for attempt in 0..<3 {
                    do {
                        switch attempt {
                        case 0: try await client.moveServer(to: other.url)
                        case 1: try await client.sync(via: other.url)
                        default: _ = try await client.officeClient(via: other.url)
                        }
                        Issue.record("attempt \(attempt) reached another server")
                    } catch let error as DoorstepError {
                        #expect(error.code == .serverMismatch, "\(error)")
                    }
                }
                let toOther = recorder.sent.withLock { $0.filter { $0.server == other.url } }
                #expect(toOther.count == 3 && toOther.allSatisfy { $0.path == "/v1/server" && !$0.token }, "\(toOther)")
                #expect(try await client.enrollment?.server == enrolled.url)
                #expect(try await client.status().pending == 1, "the work stays queued")

                // The same server, reached at another spelling of its address: followed and kept.
                let alias = try #require(URL(string: enrolled.url.absoluteString.replacingOccurrences(of: "127.0.0.1", with: "localhost")))
                let moved = try await client.moveServer(to: alias)
                #expect(moved.server == alias)
                try await client.sync()
                #expect(try await client.status().pending == 0)
                #expect(recorder.sent.withLock { $0.contains { $0.server == alias && $0.token } })
                _ = household
            }
        }
    }

    @Test func serverInfo_answersTheEnrollmentIdentity_withoutAToken() async throws {
        try await LiveServer.run { server in
            let client = try await server.enrolledClient()
            let info = try await client.serverInfo(at: server.url)
            #expect(info.serverKeyID == (try await client.serverKeyID))
            #expect(info.protocolVersions == [ProtocolVersion.current])
        }
    }
}
