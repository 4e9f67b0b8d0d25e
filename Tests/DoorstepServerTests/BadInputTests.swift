import DoorstepCompression
import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// Every bad input gets the right 4xx with the error body, and a request refused as a whole
/// leaves the domain tables exactly as they were (issue 3, item 11).
struct BadInputTests {
    /// A server with one household already on file and small limits, so oversize is cheap to send.
    func withPopulatedServer(_ body: @Sendable (Session, TestDevice, MutationFactory, EntityID) async throws -> Void) async throws {
        let server = TestServer { configuration in
            configuration.limits.maxBodyBytes = 64 * 1024
            configuration.limits.maxBatchMutations = 5
        }
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            _ = try await session.pushOK(
                visitor, [factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(11)))])
            try await body(session, visitor, factory, household)
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var status: HTTPResponse.Status
        var code: String
        var send: @Sendable (Session, TestDevice, MutationFactory, EntityID) async throws -> TestResponse
        var testDescription: String { name }
    }

    static let refusedWhole: [Case] = [
        Case(name: "malformed JSON", status: .badRequest, code: "malformedInput") { s, d, _, _ in
            try await s.call(.post, "/v1/push", token: d.token, body: Data("{\"device\": ".utf8))
        },
        Case(name: "wrong types", status: .badRequest, code: "malformedInput") { s, d, _, _ in
            try await s.call(.post, "/v1/push", token: d.token, body: Data(#"{"protocolVersion":"one","device":7,"mutations":{}}"#.utf8))
        },
        Case(name: "unknown protocol version header", status: .upgradeRequired, code: "unsupportedProtocolVersion") { s, d, _, _ in
            try await s.call(.get, "/v1/pull", token: d.token, protocolVersion: "0")
        },
        Case(name: "missing protocol version header", status: .upgradeRequired, code: "unsupportedProtocolVersion") { s, d, _, _ in
            try await s.call(.get, "/v1/pull", token: d.token, protocolVersion: nil)
        },
        Case(name: "protocol version in the batch", status: .upgradeRequired, code: "unsupportedProtocolVersion") { s, d, f, h in
            let batch = PushBatch(
                protocolVersion: 99, device: d.id, mutations: [f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())])
            return try await s.call(.post, "/v1/push", token: d.token, json: batch)
        },
        Case(name: "oversized body", status: .contentTooLarge, code: "payloadTooLarge") { s, d, _, _ in
            try await s.call(.post, "/v1/push", token: d.token, body: Data(repeating: 0x20, count: 70 * 1024))
        },
        Case(name: "gzip body that is not gzip", status: .badRequest, code: "malformedInput") { s, d, f, h in
            let batch = try WireCoding.encode(
                PushBatch(device: d.id, mutations: [f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())]))
            return try await s.call(.post, "/v1/push", token: d.token, body: batch, headers: [.contentEncoding: "gzip"])
        },
        Case(name: "gzip body cut short", status: .badRequest, code: "malformedInput") { s, d, f, h in
            let batch = try WireCoding.encode(
                PushBatch(device: d.id, mutations: [f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())]))
            let gzip = try ContentEncoding.gzip.compress(batch)
            return try await s.call(.post, "/v1/push", token: d.token, body: Data(gzip.dropLast(6)), headers: [.contentEncoding: "gzip"])
        },
        Case(name: "gzip body that decodes past the limit", status: .contentTooLarge, code: "payloadTooLarge") { s, d, _, _ in
            // 20 KB of gzip that decodes to 4 MiB of spaces: refused at the limit, never held whole.
            let bomb = try ContentEncoding.gzip.compress([UInt8](repeating: 0x20, count: 4 * 1024 * 1024), level: 9)
            return try await s.call(.post, "/v1/push", token: d.token, body: Data(bomb), headers: [.contentEncoding: "gzip"])
        },
        Case(name: "zstd body that is not zstd", status: .badRequest, code: "malformedInput") { s, d, f, h in
            let batch = try WireCoding.encode(
                PushBatch(device: d.id, mutations: [f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())]))
            return try await s.call(
                .post, "/v1/push", token: d.token, body: Data(try ContentEncoding.gzip.compress(batch)), headers: [.contentEncoding: "zstd"])
        },
        Case(name: "zstd body that decodes past the limit", status: .contentTooLarge, code: "payloadTooLarge") { s, d, _, _ in
            let bomb = try ContentEncoding.zstd.compress([UInt8](repeating: 0x20, count: 4 * 1024 * 1024), level: 9)
            return try await s.call(.post, "/v1/push", token: d.token, body: Data(bomb), headers: [.contentEncoding: "zstd"])
        },
        Case(name: "a coding the server does not read", status: .unsupportedMediaType, code: "unsupportedMediaType") { s, d, f, h in
            let batch = try WireCoding.encode(
                PushBatch(device: d.id, mutations: [f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())]))
            return try await s.call(.post, "/v1/push", token: d.token, body: batch, headers: [.contentEncoding: "br"])
        },
        Case(name: "oversized batch", status: .badRequest, code: "invalidBatch") { s, d, f, h in
            let mutations = (0..<6).map { _ in f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit()) }
            return try await s.push(d, mutations)
        },
        Case(name: "batch for another device", status: .badRequest, code: "invalidBatch") { s, d, f, h in
            let other = DeviceID.random()
            var mutation = f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())
            mutation.device = other
            return try await s.call(.post, "/v1/push", token: d.token, json: PushBatch(device: other, mutations: [mutation]))
        },
        Case(name: "seqs at the integer limit", status: .badRequest, code: "invalidBatch") { s, d, f, h in
            var first = f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())
            var second = f.make(.create, .visit, entity: EntityID.random(), household: h, fields: Sample.visit())
            first.seq = .max
            second.seq = 5
            return try await s.push(d, [first, second])
        },
        Case(name: "base too long", status: .badRequest, code: "invalidBatch") { s, d, f, h in
            let base = (0..<300).map { WriteID(hlc: HLC(wallMillis: Int64($0), logical: 0), device: d.id) }
            return try await s.push(d, [f.make(.update, .household, entity: h, fields: [FieldWrite(field: "phone", value: "13912345678", base: base)])])
        },
        Case(name: "unknown token", status: .unauthorized, code: "unauthorized") { s, _, _, _ in
            try await s.call(.get, "/v1/pull", token: "dsd_not-a-real-token")
        },
        Case(name: "no token", status: .unauthorized, code: "unauthorized") { s, _, _, _ in
            try await s.call(.get, "/v1/pull", token: nil)
        },
        Case(name: "invalid cursor", status: .badRequest, code: "invalidCursor") { s, d, _, _ in
            try await s.call(.get, "/v1/pull?cursor=abc", token: d.token)
        },
        Case(name: "visitor's status decision", status: .forbidden, code: "forbiddenForRole") { s, d, _, h in
            try await s.call(.post, "/v1/households/\(h)/status", token: d.token, json: ["to": "filed"])
        },
        Case(name: "illegal status decision", status: .unprocessableContent, code: "illegalTransition") { s, _, _, h in
            try await s.call(.post, "/v1/households/\(h)/status", token: s.adminToken, json: ["to": "outOfHardship"])
        },
        Case(name: "unknown route", status: .notFound, code: "notFound") { s, d, _, _ in
            try await s.call(.get, "/v1/nothing-here", token: d.token)
        },
    ]

    @Test(arguments: refusedWhole)
    func refusedAsAWhole_changesNothing(_ testCase: Case) async throws {
        try await withPopulatedServer { session, visitor, factory, household in
            let before = try await session.server.dumpDomainTables()
            let response = try await testCase.send(session, visitor, factory, household)
            #expect(response.status == testCase.status, "\(testCase.name): \(response.text)")
            #expect(response.errorCode == testCase.code, "\(testCase.name): \(response.text)")
            let body = try response.json(ErrorBody.self)
            #expect(!body.error.message.isEmpty)
            #expect(try await session.server.dumpDomainTables() == before, "\(testCase.name) changed the domain tables")
        }
    }

    static let rejectedInBatch:
        [(name: String, code: DoorstepError.Code, fields: @Sendable (EntityID) -> (MutationOperation, EntityKind, EntityID, [FieldWrite]))] = [
            (
                "invalid national ID", .invalidNationalId,
                { _ in
                    let id = EntityID.random()
                    var fields = Sample.household(nationalID: "150602198507011230")
                    fields[1].value = "15060219850701123X"
                    return (.create, .household, id, fields)
                }
            ),
            ("negative income", .negativeAmount, { h in (.update, .household, h, [FieldWrite(field: "monthlyIncomeFen", value: -5, base: [])]) }),
            ("visitor changes status", .forbiddenForRole, { h in (.update, .household, h, [FieldWrite(field: "status", value: "filed", base: [])]) }),
            ("unknown field", .unknownField, { h in (.update, .household, h, [FieldWrite(field: "favouriteColour", value: "red", base: [])]) }),
            ("edit a visit", .visitImmutable, { h in (.update, .visit, h, [FieldWrite(field: "notes", value: "x", base: [])]) }),
        ]

    @Test func rejectedInsideAnAcceptedBatch_isAReceiptEntryAndARejectionRowOnly() async throws {
        try await withPopulatedServer { session, visitor, factory, household in
            for testCase in Self.rejectedInBatch {
                let before = try await session.server.dumpDomainTables()
                let (op, kind, entity, fields) = testCase.fields(household)
                let mutation = factory.make(op, kind, entity: entity, household: kind == .household ? entity : household, fields: fields)
                let receipt = try await session.pushOK(visitor, [mutation])
                #expect(receipt.results.first?.outcome == .rejected, "\(testCase.name)")
                #expect(receipt.results.first?.code == testCase.code, "\(testCase.name): \(receipt.results.first?.reason ?? "")")
                let after = try await session.server.dumpDomainTables()
                // Only the mutation log, the rejection log and the rejected-base bookkeeping may change.
                let changedTables = Set(Self.sections(after).filter { Self.sections(before)[$0.key] != $0.value }.keys)
                #expect(
                    changedTables.isSubset(of: ["mutations", "rejections", "rejected_bases", "rejected_creations"]), "\(testCase.name) changed \(changedTables)"
                )
                #expect(changedTables.contains("rejections"))
            }
            let review = try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self)
            #expect(review.rejections.count == Self.rejectedInBatch.count)
        }
    }

    static func sections(_ dump: String) -> [String: String] {
        var result: [String: String] = [:]
        var current = ""
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { current = String(line.dropFirst(3)) } else { result[current, default: ""] += line + "\n" }
        }
        return result
    }

    @Test func repeatedWrongTokens_areRateLimited() async throws {
        let server = TestServer { $0.authFailureLimit = 3 }
        try await server.test { session in
            for _ in 0..<3 {
                #expect(try await session.call(.get, "/v1/pull", token: "dsd_guess").status == .unauthorized)
            }
            let limited = try await session.call(.get, "/v1/pull", token: "dsd_guess")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rateLimited")
            server.clock.advance(server.configuration.authFailureWindowMillis + 1)
            #expect(try await session.call(.get, "/v1/pull", token: session.adminToken).status == .ok)
        }
    }

    @Test func enrollmentCode_isSingleUse_andExpires() async throws {
        let server = TestServer()
        try await server.test { session in
            let response = try await session.call(
                .post, "/v1/admin/enrollment-codes", token: session.adminToken,
                json: ["district": "150602", "role": "visitor", "expiresInHours": 1] as [String: JSONValue])
            let code = try response.json([String: JSONValue].self)["code"]?.stringValue ?? ""
            let key = Data(repeating: 7, count: 32).base64EncodedString()
            let enroll: [String: String] = ["code": code.lowercased(), "deviceName": "laptop", "publicSigningKey": key]
            #expect(try await session.call(.post, "/v1/enroll", token: nil, json: enroll).status == .created, "codes are case-insensitive")
            let again = try await session.call(.post, "/v1/enroll", token: nil, json: enroll)
            #expect(again.errorCode == "invalidEnrollmentCode")
            let second = try await session.call(
                .post, "/v1/admin/enrollment-codes", token: session.adminToken,
                json: ["district": "150602", "role": "visitor", "expiresInHours": 1] as [String: JSONValue])
            let secondCode = try second.json([String: JSONValue].self)["code"]?.stringValue ?? ""
            server.clock.advance(2 * 3600 * 1000)
            let expired = try await session.call(.post, "/v1/enroll", token: nil, json: ["code": secondCode, "deviceName": "laptop", "publicSigningKey": key])
            #expect(expired.errorCode == "invalidEnrollmentCode")
        }
    }

    @Test func adminTokenFile_isOwnerOnly_andTokensAreStoredHashed() async throws {
        let server = TestServer()
        try await server.test { session in
            let device = try await session.enroll(district: "150602", role: .visitor)
            let attributes = try FileManager.default.attributesOfItem(atPath: server.configuration.adminTokenPath)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let tables = try await server.dumpTables(["devices", "meta", "enrollment_codes"])
            let database = (try? Data(contentsOf: URL(fileURLWithPath: server.configuration.databasePath))) ?? Data()
            let wal = (try? Data(contentsOf: URL(fileURLWithPath: server.configuration.databasePath + "-wal"))) ?? Data()
            #expect(tables.contains(device.id.rawValue), "the dump reads the devices table")
            for secret in [device.token, session.adminToken] {
                #expect(!tables.contains(secret), "a token is stored in clear")
                #expect(database.range(of: Data(secret.utf8)) == nil && wal.range(of: Data(secret.utf8)) == nil, "a token is stored in clear")
            }
        }
    }
}
