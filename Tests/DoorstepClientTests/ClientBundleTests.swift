import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Bundles for the manual upload, and what revocation does to a device (issue 4's tests).
struct ClientBundleTests {
    static func temporaryFile(_ name: String) -> String {
        let directory = Scratch.root.appendingPathComponent("doorstep-bundle-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    @Test func bundleExportedOnOneMachine_uploadedByAnother_landsOnce() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            let household = try await visitor.fileHousehold(Facts.household(30))
            try await visitor.recordVisit(to: household, Facts.visit)
            let path = Self.temporaryFile("day.dsbundle")
            #expect(try await visitor.exportBundle(to: path))
            #expect(try await visitor.status().pending == 2, "exporting keeps the work in the outbox")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.range(of: Data("王某某".utf8)) == nil, "the file is encrypted")
            // Another machine: an office with its token, no local database needed.
            let office = try OfficeClient(server: server.url, token: server.adminToken)
            let first = try await office.upload(bundle: bytes)
            #expect(first.receipts.flatMap(\.results).map(\.outcome) == [.applied, .applied])
            let second = try await office.upload(bundle: bytes)
            #expect(second.receipts.flatMap(\.results).map(\.outcome) == [.alreadyApplied, .alreadyApplied])
            var tampered = bytes
            tampered[tampered.count / 2] ^= 0x01
            await #expect(throws: DoorstepError.self) { try await office.upload(bundle: tampered) }
            // The visitor's next sync finds its work acknowledged and clears the outbox.
            let summary = try await visitor.sync()
            #expect(summary.alreadyApplied == 2)
            #expect(try await visitor.status().pending == 0)
            let reader = try await server.enrolledClient()
            try await reader.sync()
            #expect(try await reader.household(household)?.entities.filter { $0.kind == .visit }.count == 1)
        }
    }

    @Test func revokedDevice_exportsUnsyncedWork_thenWipes() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            let synced = try await visitor.fileHousehold(Facts.household(31))
            try await visitor.sync()
            let unsynced = try await visitor.fileHousehold(Facts.household(32))
            let status = try await visitor.status()
            let device = try #require(status.enrollment?.device)
            let office = try OfficeClient(server: server.url, token: server.adminToken)
            _ = try await office.revoke(device: device)
            do {
                try await visitor.sync()
                Issue.record("a revoked device's sync must fail")
            } catch let error as DoorstepError {
                #expect(error.code == .deviceRevoked)
                #expect(error.message.contains(".dsbundle"))
            }
            #expect(try await visitor.households().isEmpty, "the district's data is wiped")
            #expect(try await visitor.household(synced) == nil)
            let directory = (visitor.configuration.databasePath as NSString).deletingLastPathComponent
            let bundles = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".dsbundle") }
            #expect(bundles.count == 1)
            // The office uploads it: held for review, not applied.
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(try #require(bundles.first)))
            let result = try await office.upload(bundle: data)
            #expect(result.heldForReview)
            let review = try await office.review()
            #expect(review.rejections.contains { $0.code == .deviceRevoked && $0.entity == unsynced })
        }
    }

    @Test func plainUnauthorizedOrNetworkError_neverWipes() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            _ = try await visitor.fileHousehold(Facts.household(33))
            try await visitor.sync()
            // The server is unreachable: the work is kept, nothing is wiped.
            let offline = try FieldClient(
                configuration: {
                    var configuration = visitor.configuration
                    configuration.transport = { _ in URLSessionTransport(baseURL: URL(string: "http://127.0.0.1:9")!) }
                    return configuration
                }())
            _ = try await offline.fileHousehold(Facts.household(34))
            await #expect(throws: DoorstepError.self) { try await offline.sync() }
            #expect(try await offline.households().count == 2)
            #expect(try await offline.status().pending == 1)
            #expect(try await offline.status().lastSyncError?.hasPrefix("serverUnreachable") == true)
        }
    }
}
