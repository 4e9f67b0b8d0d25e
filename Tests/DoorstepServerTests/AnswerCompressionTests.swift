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
            let decoded = try Gzip.decompress(gzip.body, limit: 1 << 24)
            #expect(decoded == plain.body)
            #expect(gzip.body.readableBytes * 4 < plain.body.readableBytes, "\(gzip.body.readableBytes) of \(plain.body.readableBytes)")
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
            let gzip = try Gzip.compress(body)
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
            let decoded = try WireCoding.decode(PullPage.self, from: Data(try Gzip.decompress(page.body, limit: 1 << 26).readableBytesView))
            let plainDecoded = try WireCoding.decode(PullPage.self, from: Data(plainPage.body.readableBytesView))
            #expect(decoded.households == plainDecoded.households)
            #expect(decoded.households.count == 20)
        }
    }
}
