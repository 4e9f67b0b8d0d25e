import DoorstepClient
import DoorstepCompression
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Synchronization
import Testing

/// Compression on the wire (protocol 1.5, §18), both ways and with either end not speaking it:
/// a real server on loopback, the client's real transport, a link in between that records what
/// travelled (and plays a 1.4 server that knows no compression when told to).
@Suite struct CompressionTests {
    /// Records each exchange as it travelled; as `oldServer`, strips `Accept-Encoding` from
    /// requests (a server that never compresses), says revision 1.4, and counts any compressed body.
    final class RecordingLink: Sendable {
        struct Exchange {
            var method: String
            var path: String
            var requestEncoding: String?
            var requestBytes: Int
            var answerEncoding: String?
            var answerBytes: Int
        }
        let oldServer: Bool
        let exchanges = Mutex<[Exchange]>([])

        init(oldServer: Bool = false) { self.oldServer = oldServer }

        func transport(_ url: URL) -> any SyncTransport { Link(base: ClientConfiguration.platformTransport(url), link: self) }

        var all: [Exchange] { exchanges.withLock { $0 } }

        struct Link: SyncTransport {
            let base: any SyncTransport
            let link: RecordingLink
            func send(_ request: TransportRequest) async throws -> TransportResponse {
                var request = request
                if link.oldServer { request.headers["Accept-Encoding"] = nil }
                var answer = try await base.send(request)
                if link.oldServer, request.path == "/v1/server", var text = String(data: answer.body, encoding: .utf8) {
                    text = text.replacingOccurrences(of: "\"protocolRevision\":\"\(ProtocolVersion.revision)\"", with: "\"protocolRevision\":\"1.4\"")
                    answer.body = Data(text.utf8)
                }
                link.exchanges.withLock {
                    $0.append(
                        Exchange(
                            method: request.method, path: request.path, requestEncoding: request.headers["Content-Encoding"],
                            requestBytes: request.body?.count ?? 0, answerEncoding: answer.headers["content-encoding"], answerBytes: answer.body.count))
                }
                return answer
            }
        }
    }

    /// Two laptops of one district: `writer` files `households` households with a visit each and
    /// syncs twice (the first sync learns the server's revision), then `reader` pulls them all.
    static func day(
        _ server: LiveServer, writer writerLink: RecordingLink, reader readerLink: RecordingLink, households: Int, first: Int = 700,
        compression: Bool = true
    ) async throws -> (writer: FieldClient, reader: FieldClient, ids: [EntityID]) {
        var settings = LiveServer.clientConfiguration(transport: { writerLink.transport($0) })
        settings.compression = compression ? .always : .never
        let writer = try FieldClient(configuration: settings)
        try await writer.enroll(server: server.url, code: try await server.code(), deviceName: "writer")
        try await writer.sync()
        var ids: [EntityID] = []
        for n in 0..<households {
            let id = try await writer.fileHousehold(Facts.household(first + n))
            try await writer.recordVisit(to: id, Facts.visit)
            ids.append(id)
        }
        try await writer.sync()
        var readerSettings = LiveServer.clientConfiguration(transport: { readerLink.transport($0) })
        readerSettings.compression = compression ? .always : .never
        let reader = try FieldClient(configuration: readerSettings)
        try await reader.enroll(server: server.url, code: try await server.code(), deviceName: "reader")
        try await reader.sync()
        return (writer, reader, ids)
    }

    @Test func aNewClientAndServer_compressPushesAndPages_andTheDataIsTheSame() async throws {
        try await LiveServer.run { server in
            let writerLink = RecordingLink()
            let readerLink = RecordingLink()
            let (writer, reader, ids) = try await Self.day(server, writer: writerLink, reader: readerLink, households: 40)
            let pushes = writerLink.all.filter { $0.path == "/v1/push" }
            #expect(!pushes.isEmpty)
            #expect(pushes.allSatisfy { $0.requestEncoding == "zstd" }, "pushes to a 1.5 server go as zstd: \(pushes.map(\.requestEncoding))")
            let pages = readerLink.all.filter { $0.path.hasPrefix("/v1/pull") }
            #expect(!pages.isEmpty)
            #expect(pages.allSatisfy { $0.answerEncoding == "zstd" }, "pages over 1 KiB come as zstd")
            for id in ids {
                let mine = try #require(try await writer.household(id))
                let theirs = try #require(try await reader.household(id))
                #expect(mine == theirs)
                #expect(theirs.entities.filter { $0.kind == .visit }.count == 1)
            }
        }
    }

    @Test func aClientThatAsksForNoCompression_getsPlainAnswers_andIsServedTheSame() async throws {
        try await LiveServer.run { server in
            let writerLink = RecordingLink()
            let readerLink = RecordingLink()
            let (writer, reader, ids) = try await Self.day(server, writer: writerLink, reader: readerLink, households: 20, compression: false)
            let all = writerLink.all + readerLink.all
            #expect(all.allSatisfy { $0.requestEncoding == nil && $0.answerEncoding == nil }, "an older client is answered as before")
            for id in ids { #expect(try await writer.household(id) == reader.household(id)) }
        }
    }

    @Test func aNewClientAgainstAServerWithoutCompression_sendsNothingCompressed_andSyncs() async throws {
        try await LiveServer.run { server in
            let writerLink = RecordingLink(oldServer: true)
            let readerLink = RecordingLink(oldServer: true)
            let (writer, reader, ids) = try await Self.day(server, writer: writerLink, reader: readerLink, households: 20)
            let all = writerLink.all + readerLink.all
            #expect(all.contains { $0.path == "/v1/server" }, "the client asked what the server reads")
            #expect(all.allSatisfy { $0.requestEncoding == nil }, "nothing compressed to a 1.4 server")
            #expect(all.allSatisfy { $0.answerEncoding == nil })
            for id in ids { #expect(try await writer.household(id) == reader.household(id)) }
        }
    }

    @Test func byDefault_aServerOnThisMachine_isSentNothingCompressed() async throws {
        try await LiveServer.run { server in
            let link = RecordingLink()
            let laptop = try await server.enrolledClient(transport: { link.transport($0) })
            _ = try await laptop.fileHousehold(Facts.household(950))
            try await laptop.sync()
            try await laptop.sync()
            #expect(!link.all.isEmpty)
            #expect(link.all.allSatisfy { $0.requestEncoding == nil && $0.answerEncoding == nil }, "loopback: compressing saves nothing")
            var settings = LiveServer.clientConfiguration()
            #expect(settings.compresses(with: try #require(URL(string: "https://doorstep.example.org"))))
            #expect(!settings.compresses(with: server.url))
            settings.compression = .never
            #expect(!settings.compresses(with: try #require(URL(string: "https://doorstep.example.org"))))
        }
    }

    /// A server rolled back to 1.4 after the laptop learned it read 1.5: the compressed push is
    /// refused (415), sent again as it is, and the laptop asks again what the server reads.
    @Test func aServerRolledBack_refusesACompressedPush_theLaptopSendsItPlain_andAsksAgain() async throws {
        final class RollBack: Sendable {
            let rolledBack = Mutex(false)
            let pushes = Mutex<[String?]>([])
            func transport(_ url: URL) -> any SyncTransport { Link(base: ClientConfiguration.platformTransport(url), owner: self) }
            struct Link: SyncTransport {
                let base: any SyncTransport
                let owner: RollBack
                func send(_ request: TransportRequest) async throws -> TransportResponse {
                    let old = owner.rolledBack.withLock { $0 }
                    if request.path == "/v1/push" { owner.pushes.withLock { $0.append(request.headers["Content-Encoding"]) } }
                    if old, request.headers["Content-Encoding"] != nil {
                        let body = #"{"error":{"code":"unsupportedMediaType","message":"not read here"}}"#
                        return TransportResponse(status: 415, body: Data(body.utf8), headers: ["content-type": "application/json"])
                    }
                    var answer = try await base.send(request)
                    if old, request.path == "/v1/server", let text = String(data: answer.body, encoding: .utf8) {
                        answer.body = Data(text.replacingOccurrences(of: "\"\(ProtocolVersion.revision)\"", with: "\"1.4\"").utf8)
                    }
                    return answer
                }
            }
        }
        try await LiveServer.run { server in
            let link = RollBack()
            var settings = LiveServer.clientConfiguration(transport: { link.transport($0) })
            settings.compression = .always
            let laptop = try FieldClient(configuration: settings)
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "rolled back")
            try await laptop.sync()
            for n in 0..<10 { _ = try await laptop.fileHousehold(Facts.household(1_500 + n)) }
            try await laptop.sync()
            #expect(link.pushes.withLock { $0 }.last == "zstd", "1.5 known: compressed")
            link.rolledBack.withLock { $0 = true }
            for n in 0..<10 { _ = try await laptop.fileHousehold(Facts.household(1_600 + n)) }
            let refused = try await laptop.sync()
            #expect(refused.pushed == 10, "sent again as it is")
            for n in 0..<10 { _ = try await laptop.fileHousehold(Facts.household(1_700 + n)) }
            #expect(try await laptop.sync().pushed == 10)
            let pushes = link.pushes.withLock { $0 }
            #expect(Array(pushes.suffix(3)) == ["zstd", nil, nil], "\(pushes)")
            #expect(try await laptop.status().pending == 0)
        }
    }

    /// The same day with and without compression: the bytes on the wire, pushes and pages.
    @Test func compression_shrinksWhatTravels() async throws {
        try await LiveServer.run { server in
            let plainWriter = RecordingLink()
            let plainReader = RecordingLink()
            _ = try await Self.day(server, writer: plainWriter, reader: plainReader, households: 60, compression: false)
            let gzipWriter = RecordingLink()
            let gzipReader = RecordingLink()
            _ = try await Self.day(server, writer: gzipWriter, reader: gzipReader, households: 60, first: 900)
            func bytes(_ exchanges: [RecordingLink.Exchange], _ path: String) -> Int {
                exchanges.filter { $0.path.hasPrefix(path) }.reduce(0) { $0 + $1.requestBytes + $1.answerBytes }
            }
            let plainPush = bytes(plainWriter.all, "/v1/push")
            let gzipPush = bytes(gzipWriter.all, "/v1/push")
            // The reader pulls both days' households the second time: compare per household.
            let plainPull = Double(bytes(plainReader.all, "/v1/pull")) / 60
            let gzipPull = Double(bytes(gzipReader.all, "/v1/pull")) / 120
            #expect(gzipPush * 3 < plainPush, "push: \(gzipPush) bytes against \(plainPush)")
            #expect(gzipPull * 3 < plainPull, "pull per household: \(gzipPull) bytes against \(plainPull)")
        }
    }
}

/// A page cut on the way when the sync ends (the link gone for good, the laptop shut) is kept in
/// the local database, and the next sync, in a new process, asks for the rest of it (§18).
@Suite struct UnfinishedPageTests {
    /// Cuts the first pull page in half and then fails every request, until told otherwise;
    /// records the `Range` each pull asked for and the bytes each answer brought.
    final class CuttingLink: Sendable {
        struct State {
            var down = false
            var cut = false
            var ranges: [String?] = []
            var pageBytes: [Int] = []
        }
        let state = Mutex(State())

        func transport(_ url: URL) -> any SyncTransport { Link(base: ClientConfiguration.platformTransport(url), link: self) }

        struct Link: SyncTransport {
            let base: any SyncTransport
            let link: CuttingLink
            func send(_ request: TransportRequest) async throws -> TransportResponse {
                if link.state.withLock({ $0.down }) { throw URLError(.networkConnectionLost) }
                let answer = try await base.send(request)
                guard request.path.hasPrefix("/v1/pull") else { return answer }
                let cutNow = link.state.withLock { state -> Bool in
                    state.ranges.append(request.headers["Range"])
                    guard !state.cut, answer.status == 200 else {
                        state.pageBytes.append(answer.body.count)
                        return false
                    }
                    state.cut = true
                    state.down = true
                    state.pageBytes.append(answer.body.count / 2)
                    return true
                }
                if cutNow {
                    throw PartialAnswer(status: answer.status, headers: answer.headers, body: answer.body.prefix(answer.body.count / 2))
                }
                return answer
            }
        }
    }

    /// The laptop shut while a page arrives (the sync cancelled): what came is kept all the same.
    @Test func aPageCutByACancelledSync_isFinishedByTheNextSync() async throws {
        final class HangingLink: Sendable {
            let hang = Mutex(true)
            let ranges = Mutex<[String?]>([])
            func transport(_ url: URL) -> any SyncTransport { Link(base: ClientConfiguration.platformTransport(url), owner: self) }
            struct Link: SyncTransport {
                let base: any SyncTransport
                let owner: HangingLink
                func send(_ request: TransportRequest) async throws -> TransportResponse {
                    let answer = try await base.send(request)
                    guard request.path.hasPrefix("/v1/pull") else { return answer }
                    owner.ranges.withLock { $0.append(request.headers["Range"]) }
                    guard owner.hang.withLock({ $0 }) else { return answer }
                    // Half the page came, then nothing more until the sync is cancelled.
                    do {
                        try await Task.sleep(for: .seconds(60))
                    } catch {
                        throw PartialAnswer(status: answer.status, headers: answer.headers, body: answer.body.prefix(answer.body.count / 2))
                    }
                    return answer
                }
            }
        }
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            for n in 0..<40 { _ = try await colleague.fileHousehold(Facts.household(1_300 + n)) }
            try await colleague.sync()
            let link = HangingLink()
            var settings = LiveServer.clientConfiguration(transport: { link.transport($0) })
            settings.compression = .always
            let laptop = try FieldClient(configuration: settings)
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "shut")
            let sync = Task { try await laptop.sync() }
            while link.ranges.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(100))
            sync.cancel()
            _ = try? await sync.value
            link.hang.withLock { $0 = false }
            let again = try FieldClient(configuration: settings)
            try await again.sync()
            #expect(try await again.status().households == 40)
            let ranges = link.ranges.withLock { $0 }
            #expect(ranges.count == 2 && ranges.last??.hasPrefix("bytes=") == true, "the next sync asked for the rest: \(ranges)")
        }
    }

    @Test func aPageCutWhenTheSyncEnds_isFinishedByTheNextSync_fromTheByteWhereItStopped() async throws {
        try await LiveServer.run { server in
            let colleague = try await server.enrolledClient()
            for n in 0..<60 { _ = try await colleague.fileHousehold(Facts.household(1_200 + n)) }
            try await colleague.sync()
            let link = CuttingLink()
            let path = Scratch.root.appendingPathComponent("doorstep-unfinished-\(UUID().uuidString)/local.sqlite").path
            var settings = LiveServer.clientConfiguration(path: path, transport: { link.transport($0) })
            settings.compression = .always
            settings.retry = RetryPolicy(maxAttempts: 2, sleep: { _ in })
            let laptop = try FieldClient(configuration: settings)
            try await laptop.enroll(server: server.url, code: try await server.code(), deviceName: "shut mid-page")
            await #expect(throws: DoorstepError.self) { try await laptop.sync() }
            #expect(try await laptop.status().households == 0)

            // Another process, the link back.
            link.state.withLock { $0.down = false }
            let again = try FieldClient(configuration: settings)
            try await again.sync()
            #expect(try await again.status().households == 60)
            let (ranges, bytes) = link.state.withLock { ($0.ranges, $0.pageBytes) }
            #expect(ranges.count == 2, "\(ranges)")
            let half = try #require(bytes.first)
            #expect(ranges.last == "bytes=\(half)-", "the second sync asked for the rest of the page: \(ranges)")
            #expect(bytes.last.map { $0 <= half + 64 } == true, "only the rest came: \(bytes)")
        }
    }
}
