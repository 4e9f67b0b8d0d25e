import DoorstepCompression
import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import DoorstepServer

/// Which answers the server compresses (protocol 1.5, §18), and that a gzip push is the same push.
@Suite struct AnswerCompressionTests {
    static let acceptGzip: HTTPFields = [.acceptEncoding: "gzip, deflate"]

    @Test func textAnswersOver1KiB_comeAsGzip_whenAsked_andDecodeToThePlainAnswer() async throws {
        try await TestServer().test(.live) { session in
            let plain = try await session.call(.get, "/openapi.yaml", token: nil, protocolVersion: nil)
            #expect(plain.headers[.contentEncoding] == nil)
            #expect(plain.headers[.vary] == "Accept-Encoding")
            let gzip = try await session.call(.get, "/openapi.yaml", token: nil, headers: Self.acceptGzip, protocolVersion: nil)
            #expect(gzip.headers[.contentEncoding] == "gzip")
            #expect(gzip.headers[.contentLength] == String(gzip.body.readableBytes), "compressed whole, with its length")
            let decoded = try ContentEncoding.gzip.decompress(Array(gzip.body.readableBytesView), limit: 1 << 24)
            #expect(decoded == Array(plain.body.readableBytesView))
            #expect(gzip.body.readableBytes * 4 < plain.body.readableBytes, "\(gzip.body.readableBytes) of \(plain.body.readableBytes)")
        }
    }

    @Test func aClientThatReadsZstd_getsZstd_andItDecodesToThePlainAnswer() async throws {
        try await TestServer().test(.live) { session in
            let plain = try await session.call(.get, "/openapi.yaml", token: nil, protocolVersion: nil)
            let zstd = try await session.call(.get, "/openapi.yaml", token: nil, headers: [.acceptEncoding: ContentCoding.acceptEncoding], protocolVersion: nil)
            #expect(zstd.headers[.contentEncoding] == "zstd")
            #expect(try ContentEncoding.zstd.decompress(Array(zstd.body.readableBytesView), limit: 1 << 24) == Array(plain.body.readableBytesView))
            #expect(zstd.body.readableBytes * 4 < plain.body.readableBytes)
        }
    }

    @Test func smallAnswers_refusedGzip_andHEAD_goAsTheyAre() async throws {
        try await TestServer().test(.live) { session in
            let health = try await session.call(.get, "/health", token: nil, headers: Self.acceptGzip, protocolVersion: nil)
            #expect(health.status == .ok)
            #expect(health.headers[.contentEncoding] == nil, "under 1 KiB")
            let refused = try await session.call(.get, "/openapi.yaml", token: nil, headers: [.acceptEncoding: "gzip;q=0, identity"], protocolVersion: nil)
            #expect(refused.headers[.contentEncoding] == nil)
            let other = try await session.call(.get, "/openapi.yaml", token: nil, headers: [.acceptEncoding: "br"], protocolVersion: nil)
            #expect(other.headers[.contentEncoding] == nil)
        }
    }

    @Test func aGzipPush_isTheSamePush_andItsPagesComeCompressed() async throws {
        let server = TestServer()
        try await server.test(.live) { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            var mutations: [Mutation] = []
            for n in 0..<20 {
                let household = EntityID.random()
                mutations.append(
                    factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(100 + n))))
                mutations.append(factory.make(.create, .visit, entity: EntityID.random(), household: household, fields: Sample.visit()))
            }
            let body = try WireCoding.encode(PushBatch(device: visitor.id, mutations: mutations))
            let gzip = try ContentEncoding.gzip.compress(body)
            let pushed = try await session.call(.post, "/v1/push", token: visitor.token, body: Data(gzip), headers: [.contentEncoding: "gzip"])
            #expect(pushed.status == .ok, "\(pushed.text)")
            let receipt = try pushed.json(PushReceipt.self)
            #expect(receipt.results.count == 40)
            #expect(receipt.results.allSatisfy { $0.outcome == .applied })
            // The same batch again, plain: every mutation already applied (it was the same push).
            let again = try await session.call(.post, "/v1/push", token: visitor.token, body: body)
            #expect(try again.json(PushReceipt.self).results.allSatisfy { $0.outcome == .alreadyApplied })

            let page = try await session.call(.get, "/v1/pull?limit=100", token: visitor.token, headers: Self.acceptGzip)
            #expect(page.headers[.contentEncoding] == "gzip")
            let plainPage = try await session.call(.get, "/v1/pull?limit=100", token: visitor.token)
            let decoded = try WireCoding.decode(
                PullPage.self, from: Data(try ContentEncoding.gzip.decompress(Array(page.body.readableBytesView), limit: 1 << 26)))
            let plainDecoded = try WireCoding.decode(PullPage.self, from: Data(plainPage.body.readableBytesView))
            #expect(decoded.households == plainDecoded.households)
            #expect(decoded.households.count == 20)
        }
    }

    /// A page cut on the way is asked again from the byte where it stopped (§18): the rest comes
    /// as `206`, and what the client held with it is the whole page, gzip-encoded or plain.
    @Test(arguments: [nil, ContentEncoding.gzip, .zstd])
    func aCutPage_isResumedFromTheByteWhereItStopped(coding: ContentEncoding?) async throws {
        let server = TestServer()
        try await server.test(.live) { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let mutations = (0..<15).map { n in
                factory.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(300 + n)))
            }
            _ = try await session.pushOK(visitor, mutations)
            let accept: HTTPFields = coding.map { [.acceptEncoding: $0.rawValue] } ?? [:]
            func decoded(_ bytes: [UInt8]) throws -> [UInt8] { try coding?.decompress(bytes, limit: 1 << 24) ?? bytes }
            let whole = try await session.call(.get, "/v1/pull?limit=50", token: visitor.token, headers: accept)
            let id = try #require(whole.headers[ResumablePage.pageHeader])
            #expect(whole.headers[.acceptRanges] == "bytes")
            #expect(whole.headers[.contentEncoding] == coding?.rawValue)
            let bytes = Array(whole.body.readableBytesView)
            for cut in [1, bytes.count / 3, bytes.count / 2] {
                var headers = accept
                headers[.range] = "bytes=\(cut)-"
                headers[ResumablePage.pageHeader] = id
                let rest = try await session.call(.get, "/v1/pull?limit=50", token: visitor.token, headers: headers)
                #expect(rest.status == .partialContent, "cut at \(cut)")
                #expect(rest.headers[.contentRange]?.hasPrefix("bytes \(cut)-") == true)
                let joined = Array(bytes.prefix(cut)) + Array(rest.body.readableBytesView)
                let page = try WireCoding.decode(PullPage.self, from: Data(try decoded(joined)))
                let first = try WireCoding.decode(PullPage.self, from: Data(try decoded(bytes)))
                #expect(page.households == first.households)
                #expect(page.nextCursor == first.nextCursor)
                #expect(page.serverClock > first.serverClock, "the rest brings a clock of its own")
            }
            // A range into the clock: from the clock's start, which the client keeps up to.
            var other = accept
            other[ResumablePage.pageHeader] = id
            other[.range] = "bytes=\(bytes.count - 2)-"
            let clock = try await session.call(.get, "/v1/pull?limit=50", token: visitor.token, headers: other)
            #expect(clock.status == .partialContent)
            let start = try #require(clock.headers[.contentRange].flatMap { Int($0.dropFirst(6).prefix { $0 != "-" }) })
            #expect(start < bytes.count - 2 && start > bytes.count - 200, "\(start) of \(bytes.count)")
            let rejoined = Array(bytes.prefix(start)) + Array(clock.body.readableBytesView)
            #expect(try WireCoding.decode(PullPage.self, from: Data(try decoded(rejoined))).households.count == 15)
            // Another page's id: the whole page again.
            other[.range] = "bytes=10-"
            other[ResumablePage.pageHeader] = "0000000000000000-identity"
            #expect(try await session.call(.get, "/v1/pull?limit=50", token: visitor.token, headers: other).status == .ok)
        }
    }
}
