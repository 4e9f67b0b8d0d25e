import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Synchronization
import Testing

/// A visitor's proof documents (protocol 1.4, §17): attached on the laptop offline, their
/// metadata synced first, their bytes sent after the pull and resumed from what the server
/// holds, fetched by a colleague in scope and checked by their hash. Real server, real files.
@Suite struct AttachmentClientTests {
    /// A JPEG-looking file of `count` seeded bytes in a temporary folder.
    static func photo(_ count: Int, seed: UInt64 = 11, name: String = "收入证明.jpg") throws -> (URL, Data) {
        var state = seed
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        bytes.reserveCapacity(count)
        while bytes.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes.append(UInt8(truncatingIfNeeded: state >> 24))
        }
        let folder = Scratch.root.appendingPathComponent("doorstep-photo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return (url, Data(bytes))
    }

    /// Counts what goes to `/v1/files`, and cuts requests when told: before the server sees them,
    /// or after it answered (the answer lost on the way back).
    final class FileLink: Sendable {
        struct State {
            var patchBytes = 0
            var patches = 0
            var refuseFiles = false
            /// Every n-th PATCH loses its answer (0: none).
            var loseEvery = 0
        }
        let state = Mutex(State())

        func transport(_ url: URL) -> any SyncTransport { Link(base: ClientConfiguration.platformTransport(url), link: self) }

        struct Link: SyncTransport {
            let base: any SyncTransport
            let link: FileLink
            func send(_ request: TransportRequest) async throws -> TransportResponse {
                guard request.path.hasPrefix("/v1/files/") else { return try await base.send(request) }
                if link.state.withLock({ $0.refuseFiles }) { throw URLError(.networkConnectionLost) }
                let lose = link.state.withLock { state -> Bool in
                    guard request.method == "PATCH" else { return false }
                    state.patches += 1
                    state.patchBytes += request.body?.count ?? 0
                    return state.loseEvery > 0 && state.patches % state.loseEvery == 0
                }
                let answer = try await base.send(request)
                if lose { throw URLError(.networkConnectionLost) }
                return answer
            }
        }
    }

    @Test func aPhotoAttachedOffline_syncsAfterItsMutations_andAColleagueFetchesTheSameBytes() async throws {
        try await LiveServer.run { server in
            let link = FileLink()
            let visitor = try await server.enrolledClient(transport: { link.transport($0) })
            let household = try await visitor.fileHousehold(Facts.household(1))
            let visit = try await visitor.recordVisit(to: household, Facts.visit)
            let (url, bytes) = try Self.photo(300_000)
            let photo = try await visitor.attach(fileAt: url, to: household, of: visit, caption: "收入证明")
            let listed = try await visitor.attachments(of: household)
            #expect(listed.map(\.id) == [photo] && listed[0].held && !listed[0].onServer && listed[0].of == visit)
            #expect(listed[0].mediaType == .jpeg && listed[0].size == 300_000 && listed[0].fileName == "收入证明.jpg")

            // The link carries mutations but not files: the sync succeeds, the file waits.
            link.state.withLock { $0.refuseFiles = true }
            let first = try await visitor.sync()
            #expect(first.pushed == 3 && first.filesWaiting == 1 && first.filesSent == 0, "\(first)")
            #expect(try await visitor.status().pending == 0)
            link.state.withLock { $0.refuseFiles = false }
            let second = try await visitor.sync()
            #expect(second.filesSent == 1 && second.filesWaiting == 0, "\(second)")
            #expect(try await visitor.attachments(of: household).first?.onServer == true)
            #expect(try await visitor.sync().filesSent == nil, "nothing left to send")

            // A colleague pulls the attachment, fetches the bytes once, and holds them after.
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            let seen = try #require(try await colleague.attachments(of: household).first)
            #expect(seen.id == photo && !seen.held && seen.caption == "收入证明")
            let file = try await colleague.attachmentFile(photo, in: household)
            #expect(try Data(contentsOf: file) == bytes)
            #expect(try await colleague.attachments(of: household).first?.held == true)
        }
    }

    /// Fifty photos waiting do not hold back a day's changes: the mutations are pushed and
    /// acknowledged first, the files follow, and while they cannot go the sync still succeeds.
    @Test func fiftyPendingPhotos_stillLetTheMutationsGoFirst() async throws {
        try await LiveServer.run { server in
            let link = FileLink()
            let visitor = try await server.enrolledClient(transport: { link.transport($0) })
            let household = try await visitor.fileHousehold(Facts.household(5))
            for index in 0..<50 {
                let (url, _) = try Self.photo(4_000, seed: UInt64(100 + index), name: "照片\(index).jpg")
                try await visitor.attach(fileAt: url, to: household, caption: "第\(index + 1)张")
            }
            try await visitor.recordVisit(to: household, Facts.visit)
            link.state.withLock { $0.refuseFiles = true }
            let first = try await visitor.sync()
            #expect(first.pushed == 52 && first.filesWaiting == 50 && first.filesSent == 0, "\(first)")
            #expect(try await visitor.status().pending == 0)
            let held = try await server.admin.household(household)
            #expect(held.entities.filter { $0.kind == .attachment }.count == 50 && held.entities.contains { $0.kind == .visit })
            link.state.withLock { $0.refuseFiles = false }
            let second = try await visitor.sync()
            #expect(second.pushed == 0 && second.filesSent == 50 && second.filesWaiting == 0, "\(second)")
        }
    }

    @Test func aCutLink_resumesFromWhatTheServerHolds_sendingLittleTwice() async throws {
        try await LiveServer.run { server in
            let link = FileLink()
            var configuration = LiveServer.clientConfiguration(transport: { link.transport($0) })
            configuration.fileChunkBytes = 64 * 1024
            let visitor = try FieldClient(configuration: configuration)
            try await visitor.enroll(server: server.url, code: try await server.code(), deviceName: "slow link")
            let household = try await visitor.fileHousehold(Facts.household(2))
            let (url, bytes) = try Self.photo(1_000_000, seed: 5)
            let photo = try await visitor.attach(fileAt: url, to: household)
            // Every third request's answer is lost after the server kept its bytes.
            link.state.withLock { $0.loseEvery = 3 }
            var summary = try await visitor.sync()
            var rounds = 1
            while summary.filesWaiting ?? 0 > 0, rounds < 20 {
                summary = try await visitor.sync()
                rounds += 1
            }
            let sent = link.state.withLock { $0.patchBytes }
            #expect(try await visitor.attachments(of: household).first?.onServer == true)
            #expect(Double(sent) <= 1.2 * Double(bytes.count), "sent \(sent) bytes for \(bytes.count)")
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            #expect(try Data(contentsOf: try await colleague.attachmentFile(photo, in: household)) == bytes)
            print("AttachmentClientTests: 1,000,000 bytes sent as \(sent) bytes in \(link.state.withLock { $0.patches }) requests, a third of the answers lost")
        }
    }

    /// A server before 1.4 would refuse a whole batch for one attachment in it: a laptop that
    /// synced with such a server attaches nothing until the server is updated.
    @Test func aServerBefore14_isSentNoAttachment() async throws {
        struct OlderServer: SyncTransport {
            let base: any SyncTransport
            func send(_ request: TransportRequest) async throws -> TransportResponse {
                var answer = try await base.send(request)
                if request.path == "/v1/server" {
                    answer.body = Data(
                        String(decoding: answer.body, as: UTF8.self).replacingOccurrences(of: "\"\(ProtocolVersion.revision)\"", with: "\"1.3\"").utf8)
                }
                return answer
            }
        }
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient(transport: { OlderServer(base: ClientConfiguration.platformTransport($0)) })
            let household = try await visitor.fileHousehold(Facts.household(4))
            let (url, _) = try Self.photo(2_000)
            _ = try await visitor.attach(fileAt: url, to: household)
            try await visitor.sync()
            let pending = try await visitor.status().pending
            await #expect(throws: DoorstepError.self) { try await visitor.attach(fileAt: url, to: household) }
            do {
                try await visitor.attach(fileAt: url, to: household)
            } catch let error as DoorstepError {
                #expect(error.code == .invalidOperation && error.explained(.chinese).contains("升级服务器"), "\(error)")
            }
            #expect(try await visitor.status().pending == pending)
        }
    }

    @Test func aFileThatIsNoProof_isRefusedAtTheDoor_andNothingIsRecorded() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            let household = try await visitor.fileHousehold(Facts.household(3))
            let pending = try await visitor.status().pending
            let folder = Scratch.root.appendingPathComponent("doorstep-bad-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let text = folder.appendingPathComponent("收入证明.jpg")
            try Data("这是一段文字，不是照片".utf8).write(to: text)
            let large = folder.appendingPathComponent("large.pdf")
            #expect(FileManager.default.createFile(atPath: large.path, contents: Data("%PDF-1.7\n".utf8)))
            let handle = try FileHandle(forWritingTo: large)
            try handle.truncate(atOffset: UInt64(AttachmentFile.maxBytes + 1))
            try handle.close()
            let cases: [(URL, DoorstepError.Code)] = [
                (text, .unsupportedMediaType), (large, .payloadTooLarge), (folder.appendingPathComponent("missing.jpg"), .notFound),
            ]
            for (url, code) in cases {
                await #expect(throws: DoorstepError.self) { try await visitor.attach(fileAt: url, to: household) }
                do {
                    try await visitor.attach(fileAt: url, to: household)
                } catch let error as DoorstepError {
                    #expect(error.code == code, "\(url.lastPathComponent): \(error)")
                    #expect(error.explained(.chinese).isEmpty == false)
                }
            }
            let (photo, _) = try Self.photo(1_000)
            await #expect(throws: DoorstepError.self) { try await visitor.attach(fileAt: photo, to: household, of: EntityID.random()) }
            await #expect(throws: DoorstepError.self) { try await visitor.attach(fileAt: photo, to: EntityID.random()) }
            #expect(try await visitor.status().pending == pending, "nothing was recorded")
            #expect(try await visitor.attachments(of: household).isEmpty)
        }
    }
}

extension AttachmentClientTests {
    /// The laptop keeps its files within a budget: those the server holds go, used longest ago
    /// first, and come back when opened; those it does not hold yet stay, whatever the budget.
    @Test func filesBeyondTheBudget_areRemovedOldestFirst_onlyOnceTheServerHoldsThem() async throws {
        try await LiveServer.run { server in
            let link = FileLink()
            var configuration = LiveServer.clientConfiguration(transport: { link.transport($0) })
            configuration.fileBudgetBytes = 250_000
            let visitor = try FieldClient(configuration: configuration)
            try await visitor.enroll(server: server.url, code: try await server.code(), deviceName: "small disk")
            let household = try await visitor.fileHousehold(Facts.household(12))
            var photos: [(EntityID, Data)] = []
            for index in 0..<4 {
                let (url, bytes) = try Self.photo(100_000, seed: UInt64(200 + index), name: "照片\(index).jpg")
                photos.append((try await visitor.attach(fileAt: url, to: household), bytes))
            }
            // The server cannot take them: all four stay, over the budget.
            link.state.withLock { $0.refuseFiles = true }
            _ = try await visitor.sync()
            #expect(try await visitor.attachments(of: household).allSatisfy(\.held))
            // Opened since: the first photo is the one used last.
            _ = try await visitor.attachmentFile(photos[0].0, in: household)
            link.state.withLock { $0.refuseFiles = false }
            #expect(try await visitor.sync().filesSent == 4)
            let after = try await visitor.attachments(of: household)
            let held = Set(after.filter(\.held).map(\.id))
            #expect(held == [photos[0].0, photos[3].0], "two fit in 250,000 bytes: the one opened last and the newest")
            let folder = URL(fileURLWithPath: visitor.configuration.databasePath + "-files")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).count == 2)
            // An evicted photo is fetched again when opened, byte for byte.
            #expect(try Data(contentsOf: try await visitor.attachmentFile(photos[1].0, in: household)) == photos[1].1)
            #expect(try await visitor.attachments(of: household).first { $0.id == photos[1].0 }?.held == true)
        }
    }
}

extension AttachmentClientTests {
    /// Strays in the laptop's folder of files (an eviction cut between its mark and its delete, a
    /// half-written copy) are removed once an hour old; a recent one may still be recorded, and stays.
    @Test func strayFiles_areSweptOnceAnHourOld() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            let household = try await visitor.fileHousehold(Facts.household(13))
            let (url, _) = try Self.photo(20_000, seed: 300)
            try await visitor.attach(fileAt: url, to: household)
            let folder = URL(fileURLWithPath: visitor.configuration.databasePath + "-files")
            let old = folder.appendingPathComponent(String(repeating: "a", count: 64))
            let part = folder.appendingPathComponent(String(repeating: "b", count: 64) + ".1234.part")
            let recent = folder.appendingPathComponent(String(repeating: "c", count: 64))
            for stray in [old, part, recent] { try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: stray) }
            let twoHoursAgo = Date().addingTimeInterval(-7_200)
            for stray in [old, part] { try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: stray.path) }
            _ = try await visitor.evictFiles()
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
            #expect(!left.contains(old.lastPathComponent) && !left.contains(part.lastPathComponent))
            #expect(left.contains(recent.lastPathComponent), "a file kept a moment ago may not be recorded yet")
            #expect(try await visitor.attachments(of: household).allSatisfy(\.held), "the attached photo stays")
        }
    }
}
