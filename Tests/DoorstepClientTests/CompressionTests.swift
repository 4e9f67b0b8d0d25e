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
            #expect(pushes.allSatisfy { $0.requestEncoding == "gzip" }, "pushes to a 1.5 server go as gzip: \(pushes.map(\.requestEncoding))")
            let pages = readerLink.all.filter { $0.path.hasPrefix("/v1/pull") }
            #expect(!pages.isEmpty)
            #expect(pages.allSatisfy { $0.answerEncoding == "gzip" }, "pages over 1 KiB come as gzip")
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
