import Crypto
import DoorstepBundle
import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// `POST /v1/bundles`: bundle files sealed by DoorstepBundle, uploaded through the real HTTP API.
struct BundleTests {
    @Test func officeUpload_appliesOnce_andASecondUploadChangesNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let work = BundleWork(visitor: visitor, clock: server.clock)
            let bundle = try key.seal(work.batches, by: visitor)

            let first = try await session.upload(bundle, token: office.token)
            #expect(first.status == .ok, "\(first.text)")
            let answer = try first.json(BundleUploadBody.self)
            #expect(answer.device == visitor.id && answer.batches == 2 && !answer.heldForReview)
            #expect(answer.receipts.flatMap(\.results).map(\.outcome) == [.applied, .applied, .applied])
            #expect(answer.receipts.last?.highestContiguousSeq == 3)
            let household = try await session.call(.get, "/v1/households/\(work.household)", token: office.token)
            #expect(household.status == .ok)
            let aggregate = try household.json(HouseholdAggregate.self)
            #expect(aggregate.household["monthlyIncomeFen"] == .int(90_000))
            #expect(aggregate.entities.filter { $0.kind == .visit }.count == 1)
            let history = try await session.history(of: work.household, token: office.token)
            #expect(!history.isEmpty && history.allSatisfy { $0.actor == "device:\(office.id)" }, "the audit names the uploader")
            let dump = try await server.dumpDomainTables()

            for token in [office.token, visitor.token, session.adminToken] {
                let again = try await session.upload(bundle, token: token)
                #expect(again.status == .ok, "\(again.text)")
                #expect(try again.json(BundleUploadBody.self).receipts.flatMap(\.results).allSatisfy { $0.outcome == .alreadyApplied })
            }
            // A freshly sealed file of the same work is the same work.
            let resealed = try await session.upload(try key.seal(work.batches, by: visitor), token: office.token)
            #expect(try resealed.json(BundleUploadBody.self).receipts.flatMap(\.results).allSatisfy { $0.outcome == .alreadyApplied })
            #expect(try await server.dumpDomainTables() == dump)
            // A push of the same batch after the upload is answered alreadyApplied too.
            #expect(try await session.pushOK(visitor, work.batches[0].mutations).results.allSatisfy { $0.outcome == .alreadyApplied })
        }
    }

    @Test func tamperedForeignOrMisaddressedBundles_areRefusedAndChangeNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let (other, _) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let work = BundleWork(visitor: visitor, clock: server.clock)
            let bundle = try key.seal(work.batches, by: visitor)
            let before = try await server.dumpDomainTables()

            var generator = SystemRandomNumberGenerator()
            for position in [0, 8, 10, 20, bundle.count / 2, bundle.count - 1] {
                var tampered = bundle
                tampered[tampered.startIndex + position] ^= UInt8.random(in: 1...255, using: &generator)
                let response = try await session.upload(tampered, token: office.token)
                #expect(response.status == .unprocessableContent && response.errorCode == "bundleInvalid", "byte \(position): \(response.text)")
            }
            let truncated = try await session.upload(bundle.prefix(bundle.count - 1), token: office.token)
            #expect(truncated.status == .unprocessableContent && truncated.errorCode == "bundleInvalid")
            let empty = try await session.upload(Data(), token: office.token)
            #expect(empty.status == .unprocessableContent && empty.errorCode == "bundleInvalid")

            // Signed with another enrolled device's key, in the visitor's name.
            let forged = try BundleWriter.seal(
                batches: work.batches, device: visitor.id, signingKey: other.signingKey,
                serverPublicKey: key.publicKey, serverKeyID: key.keyID, createdAt: "2020-04-20T18:00:00+08:00")
            let refused = try await session.upload(forged, token: office.token)
            #expect(refused.status == .unprocessableContent && refused.errorCode == "bundleInvalid")
            #expect(refused.text.contains("signature does not match"))

            // Encrypted to another server's key.
            let elsewhere = try BundleWriter.seal(
                batches: work.batches, device: visitor.id, signingKey: visitor.signingKey,
                serverPublicKey: Curve25519.KeyAgreement.PrivateKey().publicKey,
                serverKeyID: key.keyID, createdAt: "2020-04-20T18:00:00+08:00")
            let misaddressed = try await session.upload(elsewhere, token: office.token)
            #expect(misaddressed.status == .unprocessableContent && misaddressed.text.contains("encrypted to another server"))

            // A device this server never enrolled.
            let strangerKey = Curve25519.Signing.PrivateKey()
            let stranger = TestDevice(id: DeviceID.random(), token: "", role: .visitor, district: "150602", signingKeyData: strangerKey.rawRepresentation)
            let unknown = try await session.upload(try key.seal(BundleWork(visitor: stranger, clock: server.clock).batches, by: stranger), token: office.token)
            #expect(unknown.status == .unprocessableContent && unknown.text.contains("not enrolled"))

            #expect(try await server.dumpDomainTables() == before)
            // The genuine file still lands.
            #expect(try await session.upload(bundle, token: office.token).status == .ok)
        }
    }

    @Test func revokedDevice_uploadsNothing_itsOfficeUploadGoesToReview() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let work = BundleWork(visitor: visitor, clock: server.clock)
            // The first mutation reached the server by push before the revocation.
            _ = try await session.pushOK(visitor, Array(work.batches[0].mutations.prefix(1)))
            let bundle = try key.seal(work.batches, by: visitor)
            let revoke = try await session.call(.post, "/v1/admin/devices/\(visitor.id)/revoke", token: office.token)
            #expect(revoke.status == .ok)
            let before = try await server.dumpDomainTables()

            let own = try await session.upload(bundle, token: visitor.token)
            #expect(own.status == .unauthorized && own.errorCode == "deviceRevoked")
            #expect(try await server.dumpDomainTables() == before)

            for _ in 0..<2 {
                let held = try await session.upload(bundle, token: office.token)
                #expect(held.status == .ok, "\(held.text)")
                let answer = try held.json(BundleUploadBody.self)
                #expect(answer.heldForReview)
                let results = answer.receipts.flatMap(\.results)
                #expect(results.map(\.outcome) == [.alreadyApplied, .rejected, .rejected])
                #expect(results.dropFirst().allSatisfy { $0.code == .deviceRevoked && $0.reason == "held for review: the device was revoked" })
                #expect(answer.receipts.allSatisfy { $0.highestContiguousSeq == 1 }, "the device's progress does not move")
            }
            let review = try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self)
            let held = review.rejections.filter { $0.device == visitor.id }
            #expect(held.map(\.seq).sorted() == [2, 3])
            #expect(held.allSatisfy { $0.code == .deviceRevoked && $0.reason == "held for review: the device was revoked" && $0.district == "150602" })
            #expect(held.contains { $0.entity == work.visit && $0.kind == .visit })

            // Nothing applied: the visit and the edit are not there, and no new household either.
            let after = try await session.call(.get, "/v1/households/\(work.household)", token: office.token).json(HouseholdAggregate.self)
            #expect(after.household["monthlyIncomeFen"] == .int(120_000))
            #expect(after.entities.isEmpty)
            let newcomer = BundleWork(visitor: visitor, clock: server.clock, firstSeq: 4)
            let created = try await session.upload(try key.seal(newcomer.batches, by: visitor), token: session.adminToken)
            #expect(created.status == .ok)
            let missing = try await session.call(.get, "/v1/households/\(newcomer.household)", token: office.token)
            #expect(missing.status == .notFound, "a held creation creates no household")
        }
    }

    @Test func uploaders_outsideTheDevicesDistrictOrRole_areRefused() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let neighbour = try await session.enroll(district: "150602", role: .visitor)
            let foreignOffice = try await session.enroll(district: "150603", role: .office)
            let bundle = try key.seal(BundleWork(visitor: visitor, clock: server.clock).batches, by: visitor)
            let before = try await server.dumpDomainTables()

            let foreign = try await session.upload(bundle, token: foreignOffice.token)
            #expect(foreign.status == .forbidden && foreign.errorCode == "outOfScope", "\(foreign.text)")
            let other = try await session.upload(bundle, token: neighbour.token)
            #expect(other.status == .forbidden && other.errorCode == "forbiddenForRole")
            let anonymous = try await session.upload(bundle, token: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    @Test func aBundleAfterAGap_isRefusedWithMissingPredecessor() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let later = BundleWork(visitor: visitor, clock: server.clock, firstSeq: 5)
            let before = try await server.dumpDomainTables()
            let response = try await session.upload(try key.seal(later.batches, by: visitor), token: visitor.token)
            #expect(response.status == .conflict && response.errorCode == "missingPredecessor", "\(response.text)")
            #expect(response.text.contains("batch 1 of 2"))
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    @Test func aBodyOverTheLimit_isRefused() async throws {
        let server = TestServer { $0.limits.maxBundleBytes = 1024 }
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let work = BundleWork(visitor: visitor, clock: server.clock, visits: 20)
            let response = try await session.upload(try key.seal(work.batches, by: visitor), token: visitor.token)
            #expect(response.status == .contentTooLarge && response.errorCode == "payloadTooLarge")
        }
    }
}

// MARK: Support

/// The server's bundle key as a device receives it at enrollment.
struct ServerBundleKey: Sendable {
    var publicKeyData: Data
    var keyID: String
    var publicKey: Curve25519.KeyAgreement.PublicKey {
        get throws { try Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKeyData) }
    }

    func seal(_ batches: [PushBatch], by device: TestDevice) throws -> Data {
        try BundleWriter.seal(
            batches: batches, device: device.id, signingKey: device.signingKey, serverPublicKey: try publicKey,
            serverKeyID: keyID, createdAt: "2020-04-20T18:20:00+08:00")
    }
}

/// A visitor's day in two batches: a new household (seq n), then a visit and an income edit.
struct BundleWork {
    let household = EntityID.random()
    let visit = EntityID.random()
    let batches: [PushBatch]

    init(visitor: TestDevice, clock: TestClock, firstSeq: Int64 = 1, visits: Int = 1) {
        var hlc = HybridLogicalClock(physicalMillis: { clock.read() })
        var seq = firstSeq
        let household = self.household, visit = self.visit
        func next(_ op: MutationOperation, _ kind: EntityKind, _ entity: EntityID, _ fields: [FieldWrite]) -> Mutation {
            defer { seq += 1 }
            return Mutation(device: visitor.id, seq: seq, hlc: hlc.tick(), op: op, kind: kind, entity: entity, household: household, fields: fields)
        }
        let create = next(.create, .household, household, Sample.household(nationalID: Sample.nationalID(Int(firstSeq) + 40)))
        var second = [next(.create, .visit, visit, Sample.visit())]
        for _ in 1..<max(visits, 1) { second.append(next(.create, .visit, EntityID.random(), Sample.visit())) }
        second.append(next(.update, .household, household, [FieldWrite(field: "monthlyIncomeFen", value: .int(90_000), base: [create.writeID])]))
        batches = [PushBatch(device: visitor.id, mutations: [create]), PushBatch(device: visitor.id, mutations: second)]
    }
}

struct BundleUploadBody: Codable {
    var receipts: [PushReceipt]
    var device: DeviceID
    var batches: Int
    var heldForReview: Bool
}

extension Session {
    /// Enrolls a device and keeps the server's bundle key from the enrollment answer.
    func enrollForBundles(district: String?, role: Role) async throws -> (TestDevice, ServerBundleKey) {
        let code = try await call(
            .post, "/v1/admin/enrollment-codes", token: adminToken,
            json: EnrollmentCodeRequest(district: district, role: role))
        let codeText = try code.json(EnrollmentCode.self).code
        let key = Curve25519.Signing.PrivateKey()
        let response = try await call(
            .post, "/v1/enroll", token: nil,
            json: EnrollRequest(
                code: codeText, deviceName: "bundle laptop", publicSigningKey: key.publicKey.rawRepresentation.base64EncodedString()
            ))
        #expect(response.status == .created)
        let body = try response.json(EnrollResponse.self)
        let device = TestDevice(id: body.device, token: body.token, role: body.role, district: body.district, signingKeyData: key.rawRepresentation)
        return (device, ServerBundleKey(publicKeyData: try #require(Data(base64Encoded: body.serverPublicKey)), keyID: body.serverKeyID))
    }

    /// `POST /v1/bundles` with a file as `application/octet-stream`.
    func upload(_ file: Data, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let name = HTTPField.Name("Doorstep-Protocol") { headers[name] = "1" }
        return try await client.execute(uri: "/v1/bundles", method: .post, headers: headers, body: ByteBuffer(bytes: file))
    }
}
