import Crypto
import DoorstepBundle
import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// Issue 7, security: a visitor or office of one district reads and writes nothing of another
/// district through any endpoint of `protocol/openapi.yaml` (each one is probed; an endpoint
/// added to the document without a probe fails the test) or through a bundle; a visitor makes
/// none of an office's decisions, by route, push or bundle; a revoked token fails on its next
/// request to every endpoint.
@Suite struct ScopeSecurityTests {
    static let here = "150603"  // the caller's district (A)
    static let there = "150602"  // the other district (B), whose data must stay out of reach

    /// District B's data: a household with a conflict, a visit and a duplicate link, a rejection.
    struct Other {
        var visitor: Device
        var second: Device
        var office: Device
        var household: EntityID
        var duplicate: EntityID
        var visit: EntityID
        var nationalID: String
        var name = "乙区户主甲"
        var phone = "13911112222"
        var visitNote = "乙区走访备注"
        var account = "b-district-staff"
        /// A proof document of B's household, its bytes uploaded (protocol 1.4).
        var photo: EntityID
        var photoBytes: [UInt8]
        var photoCaption = "乙区收入证明"
        var photoSHA: String { SHA256.hash(data: photoBytes).map { String(format: "%02x", $0) }.joined() }
        var markers: [String] {
            [
                household.description, duplicate.description, visit.description, nationalID, name, phone, visitNote, photo.description, photoCaption,
                visitor.id.rawValue, second.id.rawValue, office.id.rawValue, account,
            ]
        }
    }

    static func makeOther(_ caller: Caller) async throws -> Other {
        let visitor = try await caller.enroll(district: there, role: .visitor)
        let second = try await caller.enroll(district: there, role: .visitor)
        let office = try await caller.enroll(district: there, role: .office)
        let first = Mutations(visitor.id), other = Mutations(second.id)
        let household = EntityID.random(), duplicate = EntityID.random(), visit = EntityID.random()
        let nationalID = Facts.nationalID(4242)
        var facts = Facts.household(4242, name: "乙区户主甲")
        facts["phone"] = "13911112222"
        let create = first.make(.create, .household, entity: household, fields: Mutations.household(facts, district: there))
        let note = first.make(.create, .visit, entity: visit, household: household, fields: Mutations.visit("乙区走访备注"))
        #expect(try await caller.push(visitor, [create, note]).status == .ok)
        // A concurrent edit of the phone by both visitors (a conflict), the same person filed twice (a link),
        // and a status change from a visitor (a rejection) give district B a review queue.
        let base = [create.writeID]
        let edit1 = first.make(.update, .household, entity: household, fields: [FieldWrite(field: "phone", value: "13922223333", base: base)])
        let status = first.make(.update, .household, entity: household, fields: [FieldWrite(field: "status", value: "filed", base: base)])
        #expect(try await caller.push(visitor, [edit1, status]).status == .ok)
        let twin = other.make(.create, .household, entity: duplicate, fields: Mutations.household(Facts.household(4242, name: "乙区户主甲"), district: there))
        let edit2 = other.make(.update, .household, entity: household, fields: [FieldWrite(field: "phone", value: "13933334444", base: base)])
        #expect(try await caller.push(second, [twin, edit2]).status == .ok)
        // A photo of a proof document, its bytes on the server (protocol 1.4).
        let photo = EntityID.random()
        let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array("乙区收入证明的照片".utf8) + Array(repeating: 0x42, count: 4_000)
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let attach = first.make(
            .create, .attachment, entity: photo, household: household,
            fields: [
                FieldWrite(field: "of", value: .string(visit.description)), FieldWrite(field: "sha256", value: .string(sha)),
                FieldWrite(field: "mediaType", value: "image/jpeg"), FieldWrite(field: "size", value: .int(Int64(bytes.count))),
                FieldWrite(field: "fileName", value: "乙区收入证明.jpg"), FieldWrite(field: "caption", value: "乙区收入证明"),
            ])
        #expect(try await caller.push(visitor, [attach]).status == .ok)
        let upload = try await caller.call(
            .patch, "/v1/files/\(sha)", token: visitor.token, body: Data(bytes), contentType: "application/offset+octet-stream",
            headers: [HTTPField.Name("Upload-Offset")!: "0", HTTPField.Name("Upload-Length")!: "\(bytes.count)"])
        #expect(upload.status == .noContent, "\(upload.text)")
        // A dashboard account of district B (where the server has account management).
        _ = try await caller.call(
            .post, "/v1/admin/users", token: caller.adminToken,
            json: ["name": "b-district-staff", "password": "correct horse battery staple", "role": "office", "district": there])
        return Other(
            visitor: visitor, second: second, office: office, household: household, duplicate: duplicate, visit: visit, nationalID: nationalID,
            photo: photo, photoBytes: bytes)
    }

    /// What the city sees of district B, without the rejection log (a refused attempt is logged there, by design).
    static func stateOfB(_ caller: Caller) async throws -> String {
        let households = try await caller.pullAll(caller.adminToken).values.filter { $0.household["district"] == .string(there) }
            .sorted { $0.household.id.description < $1.household.id.description }
        var review = try await caller.call(.get, "/v1/review?district=\(there)", token: caller.adminToken).json(ReviewQueue.self)
        review.rejections = []
        let devices =
            try await caller.call(.get, "/v1/admin/devices?district=\(there)", token: caller.adminToken).text
            + (try await caller.call(.get, "/v1/admin/users?district=\(there)", token: caller.adminToken).text)
        return String(decoding: try WireCoding.encode(households), as: UTF8.self) + String(decoding: try WireCoding.encode(review), as: UTF8.self)
            // A device's own bookkeeping (its last push and pull, its highest seq) moves when it syncs.
            + devices.replacingOccurrences(of: #""(last(Pull|Push)At":"[^"]*"|highestSeq":\d+),?"#, with: "", options: .regularExpression)
    }

    /// The HTTP method of an operation of `openapi.yaml`.
    static func method(_ name: String) -> HTTPRequest.Method {
        switch name {
        case "GET": .get
        case "PUT": .put
        case "DELETE": .delete
        case "PATCH": .patch
        case "HEAD": .head
        default: .post
        }
    }

    struct Probe {
        /// The request (token, method, URI, body, content type) a caller of district A sends.
        var requests: [(token: String, method: HTTPRequest.Method, uri: String, body: Data?, type: String)]
        /// Statuses the answer may have: a refusal, or an answer about A only.
        var allowed: Set<Int>
    }

    @Test func anotherDistrictsData_isOutOfReachThroughEveryEndpointAndBundles() async throws {
        let server = InProcessServer()
        try await server.test { caller in
            let b = try await Self.makeOther(caller)
            let visitor = try await caller.enroll(district: Self.here, role: .visitor)
            let office = try await caller.enroll(district: Self.here, role: .office)
            let before = try await Self.stateOfB(caller)
            let reviewB = try await caller.call(.get, "/v1/review?district=\(Self.there)", token: caller.adminToken).json(ReviewQueue.self)
            #expect(!reviewB.conflicts.isEmpty && !reviewB.duplicates.isEmpty && !reviewB.rejections.isEmpty, "district B needs a review queue to protect")
            let link = try #require(reviewB.duplicates.first)

            let ownCode =
                try await caller.call(
                    .post, "/v1/admin/enrollment-codes", token: office.token,
                    json: ["district": Self.here, "role": "visitor"]
                ).json([String: JSONValue].self)["code"]?.stringValue ?? ""
            let mutations = Mutations(visitor.id), officeMutations = Mutations(office.id)
            func intrusions(_ factory: Mutations) -> [Mutation] {
                [
                    factory.make(.update, .household, entity: b.household, fields: [FieldWrite(field: "phone", value: "13800000000", base: [])]),
                    factory.make(.create, .visit, entity: EntityID.random(), household: b.household, fields: Mutations.visit("A 区入侵")),
                    factory.make(
                        .create, .member, entity: EntityID.random(), household: b.household,
                        fields: [
                            FieldWrite(field: "name", value: "某"), FieldWrite(field: "relation", value: "spouse"),
                            FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "employed"),
                        ]),
                    factory.make(.create, .household, entity: EntityID.random(), fields: Mutations.household(Facts.household(4343), district: Self.there)),
                ]
            }
            let visitorBatch = try WireCoding.encode(PushBatch(device: visitor.id, mutations: intrusions(mutations)))
            let officeBatch = try WireCoding.encode(PushBatch(device: office.id, mutations: intrusions(officeMutations)))
            // Bundles: B's own bundle uploaded by A's office; A's visitor's own bundle that writes into B.
            let bBundleMutations = Mutations(b.visitor.id)
            for _ in 0..<5 { _ = bBundleMutations.make(.update, .household, entity: b.household, fields: []) }  // seqs 1–5 are taken
            let bBundle = try Self.seal(
                [bBundleMutations.make(.create, .visit, entity: EntityID.random(), household: b.household, fields: Mutations.visit())],
                device: b.visitor)
            let aBundle = try Self.seal(intrusions(mutations), device: visitor)
            let csv = Data(
                "户主姓名,身份证号,住址,旗区,档案级别,主要致困原因,困难程度,技能水平,家庭月收入（分）,受疫情影响\r\n某人,\(Facts.nationalID(4444)),某街,\(Self.there),全国级,因病,一般困难,无技能,100,否\r\n".utf8)
            let roster = Data("身份证号,姓名,低保金\r\n\(b.nationalID),名单某,100\r\n".utf8)
            let json = "application/json"
            func body(_ value: [String: JSONValue]) throws -> Data { try WireCoding.encode(value) }
            // District relays (1.8): A's relay, made by A's office, and B's, made by the city.
            let relayA = try await caller.call(.post, "/v1/admin/relays", token: office.token, json: ["name": "A relay", "district": Self.here])
                .json(NewRelayResponse.self)
            let relayB = try await caller.call(.post, "/v1/admin/relays", token: caller.adminToken, json: ["name": "B relay", "district": Self.there])
                .json(NewRelayResponse.self)
            let bBatch = try WireCoding.encode(PushBatch(device: b.visitor.id, mutations: []))

            let probes: [String: Probe] = [
                "GET /health": Probe(requests: [(visitor.token, .get, "/health", nil, json)], allowed: [200]),
                "GET /metrics": Probe(requests: [(visitor.token, .get, "/metrics", nil, json)], allowed: [200]),
                "GET /openapi.yaml": Probe(requests: [(visitor.token, .get, "/openapi.yaml", nil, json)], allowed: [200]),
                // Who the server is, asked without a token: its key id, nothing of any district.
                "GET /v1/server": Probe(requests: [("", .get, "/v1/server", nil, json), (visitor.token, .get, "/v1/server", nil, json)], allowed: [200]),
                "POST /v1/enroll": Probe(
                    requests: [
                        (
                            "", .post, "/v1/enroll",
                            try body([
                                "code": .string(ownCode), "deviceName": "A laptop",
                                "publicSigningKey": .string(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()),
                            ]), json
                        )
                    ], allowed: [201]),
                "POST /v1/push": Probe(
                    requests: [(visitor.token, .post, "/v1/push", visitorBatch, json), (office.token, .post, "/v1/push", officeBatch, json)],
                    allowed: [200]),
                "GET /v1/pull": Probe(
                    requests: [(visitor.token, .get, "/v1/pull", nil, json), (office.token, .get, "/v1/pull?limit=1000", nil, json)], allowed: [200]),
                "POST /v1/bundles": Probe(
                    requests: [
                        (office.token, .post, "/v1/bundles", bBundle, "application/octet-stream"),
                        (visitor.token, .post, "/v1/bundles", bBundle, "application/octet-stream"),
                        (visitor.token, .post, "/v1/bundles", aBundle, "application/octet-stream"),
                    ], allowed: [200, 403, 409]),
                "POST /v1/admin/enrollment-codes": Probe(
                    requests: [
                        (office.token, .post, "/v1/admin/enrollment-codes", try body(["district": .string(Self.there), "role": "visitor"]), json),
                        (office.token, .post, "/v1/admin/enrollment-codes", try body(["district": .string(Self.there), "role": "office"]), json),
                        (office.token, .post, "/v1/admin/enrollment-codes", try body(["role": "city"]), json),
                    ], allowed: [400, 403, 422]),
                "GET /v1/admin/devices": Probe(
                    requests: [
                        (office.token, .get, "/v1/admin/devices?district=\(Self.there)", nil, json),
                        (office.token, .get, "/v1/admin/devices", nil, json),
                    ], allowed: [200]),
                "POST /v1/admin/devices/{device}/revoke": Probe(
                    requests: [
                        (office.token, .post, "/v1/admin/devices/\(b.visitor.id)/revoke", nil, json),
                        (office.token, .post, "/v1/admin/devices/\(b.office.id)/revoke", nil, json),
                    ], allowed: [404]),
                "POST /v1/admin/users": Probe(
                    requests: [
                        (
                            office.token, .post, "/v1/admin/users",
                            try body([
                                "name": "a-intruder", "password": "correct horse battery staple", "role": "office", "district": .string(Self.there),
                            ]), json
                        )
                    ], allowed: [403]),
                "GET /v1/admin/users": Probe(
                    requests: [
                        (office.token, .get, "/v1/admin/users?district=\(Self.there)", nil, json),
                        (office.token, .get, "/v1/admin/users", nil, json),
                    ], allowed: [200]),
                "POST /v1/admin/users/{name}/disable": Probe(
                    requests: [(office.token, .post, "/v1/admin/users/\(b.account)/disable", nil, json)], allowed: [404]),
                "POST /v1/admin/users/{name}/enable": Probe(
                    requests: [(office.token, .post, "/v1/admin/users/\(b.account)/enable", nil, json)], allowed: [404]),
                "POST /v1/admin/users/{name}/password": Probe(
                    requests: [
                        (
                            office.token, .post, "/v1/admin/users/\(b.account)/password",
                            try body(["password": "another long password 1"]), json
                        )
                    ], allowed: [404]),
                "GET /v1/review": Probe(
                    requests: [(office.token, .get, "/v1/review?district=\(Self.there)", nil, json), (office.token, .get, "/v1/review", nil, json)],
                    allowed: [200]),
                "POST /v1/review/conflicts/confirm": Probe(
                    requests: [
                        (
                            office.token, .post, "/v1/review/conflicts/confirm",
                            try body(["entity": .string(b.household.description), "field": "phone"]), json
                        )
                    ], allowed: [403, 404, 422]),
                "POST /v1/review/conflicts/overturn": Probe(
                    requests: [
                        (
                            office.token, .post, "/v1/review/conflicts/overturn",
                            try body(["entity": .string(b.household.description), "field": "phone", "value": "13800000000"]), json
                        )
                    ],
                    allowed: [403, 404, 422]),
                // District B's rejection (its visitor's status change, seq 4) does not exist for A's office.
                "POST /v1/review/rejections/{device}/{seq}/accept": Probe(
                    requests: [(office.token, .post, "/v1/review/rejections/\(b.visitor.id)/4/accept", nil, json)],
                    allowed: [404]),
                "POST /v1/review/rejections/{device}/{seq}/dismiss": Probe(
                    requests: [
                        (
                            office.token, .post, "/v1/review/rejections/\(b.visitor.id)/4/dismiss",
                            try body(["reason": "not mine"]), json
                        )
                    ], allowed: [404]),
                "POST /v1/review/links/unlink": Probe(
                    requests: [
                        (
                            office.token, .post, "/v1/review/links/unlink",
                            try body(["survivor": .string(link.survivor.description), "alias": .string(link.alias.description)]), json
                        )
                    ],
                    allowed: [403, 404, 422]),
                "POST /v1/visits/{id}/void": Probe(
                    requests: [(office.token, .post, "/v1/visits/\(b.visit)/void", try body(["reason": "not mine"]), json)],
                    allowed: [403, 404]),
                "POST /v1/households/{id}/status": Probe(
                    requests: [
                        (office.token, .post, "/v1/households/\(b.household)/status", try body(["to": "filed"]), json),
                        (office.token, .post, "/v1/households/\(b.duplicate)/status", try body(["to": "closed"]), json),
                    ],
                    allowed: [403, 404, 422]),
                "GET /v1/households/{id}": Probe(
                    requests: [
                        (visitor.token, .get, "/v1/households/\(b.household)", nil, json),
                        (office.token, .get, "/v1/households/\(b.duplicate)", nil, json),
                    ], allowed: [404]),
                "GET /v1/households/{id}/history": Probe(
                    requests: [
                        (visitor.token, .get, "/v1/households/\(b.household)/history", nil, json),
                        (office.token, .get, "/v1/households/\(b.household)/history", nil, json),
                    ], allowed: [404]),
                "POST /v1/admin/import": Probe(
                    requests: [
                        (office.token, .post, "/v1/admin/import", csv, "text/csv"),
                        (office.token, .post, "/v1/admin/import?acceptValid=true", csv, "text/csv"),
                    ], allowed: [200, 422]),
                "POST /v1/roster/compare": Probe(
                    requests: [
                        (office.token, .post, "/v1/roster/compare?district=\(Self.there)", roster, "text/csv"),
                        (office.token, .post, "/v1/roster/compare", roster, "text/csv"),
                    ], allowed: [200, 403]),
                // Campaigns are the city's, not a district's: an office reads them and changes none.
                "GET /v1/admin/campaigns": Probe(
                    requests: [(office.token, .get, "/v1/admin/campaigns", nil, json), (visitor.token, .get, "/v1/admin/campaigns", nil, json)],
                    allowed: [200, 403]),
                // A visitor's laptop reads the campaigns to know the stage under way (protocol 1.2): nothing of B in them.
                "GET /v1/campaigns": Probe(
                    requests: [(visitor.token, .get, "/v1/campaigns", nil, json), (office.token, .get, "/v1/campaigns", nil, json)],
                    allowed: [200]),
                "PUT /v1/admin/campaigns/{id}": Probe(
                    requests: [
                        (
                            office.token, .put, "/v1/admin/campaigns/2020",
                            try body(["id": "2020", "name": .object(["zh": "改", "en": "changed"]), "stages": .array([])]), json
                        )
                    ], allowed: [403]),
                "DELETE /v1/admin/campaigns/{id}": Probe(
                    requests: [(office.token, .delete, "/v1/admin/campaigns/2020", nil, json)], allowed: [403]),
                // Files are content-addressed: a device of A may ask whether B's bytes are held (it
                // must hold the bytes to name them) and may send them again, which changes nothing;
                // other bytes under B's name are refused. B's attachment is not A's to download.
                "HEAD /v1/files/{sha256}": Probe(
                    requests: [(visitor.token, .head, "/v1/files/\(b.photoSHA)", nil, json)], allowed: [200]),
                "PATCH /v1/files/{sha256}": Probe(
                    requests: [
                        (visitor.token, .patch, "/v1/files/\(b.photoSHA)", Data(b.photoBytes), "application/offset+octet-stream"),
                        (visitor.token, .patch, "/v1/files/\(b.photoSHA)", Data(b.photoBytes.reversed()), "application/offset+octet-stream"),
                    ], allowed: [204]),
                "GET /v1/attachments/{id}/file": Probe(
                    requests: [
                        (visitor.token, .get, "/v1/attachments/\(b.photo)/file", nil, json),
                        (office.token, .get, "/v1/attachments/\(b.photo)/file", nil, json),
                    ], allowed: [404]),
                // A's office makes no relay for B and revokes none of B's; A's relay forwards no batch of
                // B's devices (signed or not) and lists only A's devices; the city has no relay status.
                "POST /v1/admin/relays": Probe(
                    requests: [(office.token, .post, "/v1/admin/relays", try body(["name": "intruder", "district": .string(Self.there)]), json)],
                    allowed: [403]),
                "GET /v1/admin/relays": Probe(
                    requests: [
                        (office.token, .get, "/v1/admin/relays?district=\(Self.there)", nil, json), (office.token, .get, "/v1/admin/relays", nil, json),
                    ], allowed: [200]),
                "POST /v1/admin/relays/{relay}/revoke": Probe(
                    requests: [(office.token, .post, "/v1/admin/relays/\(relayB.relay.id)/revoke", nil, json)], allowed: [404]),
                "POST /v1/relay/push": Probe(
                    requests: [
                        (relayA.token, .post, "/v1/relay/push", bBatch, json), (relayA.token, .post, "/v1/relay/push", visitorBatch, json),
                        (visitor.token, .post, "/v1/relay/push", visitorBatch, json),
                    ], allowed: [403, 422]),
                "GET /v1/relay/devices": Probe(
                    requests: [(relayA.token, .get, "/v1/relay/devices", nil, json), (office.token, .get, "/v1/relay/devices", nil, json)],
                    allowed: [200, 403]),
                "POST /v1/relay/devices/{device}/revoke": Probe(
                    requests: [
                        (relayA.token, .post, "/v1/relay/devices/\(b.visitor.id)/revoke", nil, json),
                        (relayA.token, .post, "/v1/relay/devices/\(b.office.id)/revoke", nil, json),
                        (office.token, .post, "/v1/relay/devices/\(b.visitor.id)/revoke", nil, json),
                    ], allowed: [403, 404]),
                "POST /v1/relay/enrollments": Probe(
                    requests: [
                        (
                            relayA.token, .post, "/v1/relay/enrollments",
                            try body([
                                "codeHash": .string(String(repeating: "ab", count: 32)), "device": .string(DeviceID.random().rawValue),
                                "deviceName": "intruder", "tokenHash": .string(String(repeating: "cd", count: 32)),
                                "publicSigningKey": .string(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()),
                            ]), json
                        ),
                        (office.token, .post, "/v1/relay/enrollments", try body(["codeHash": "x"]), json),
                    ], allowed: [401, 403, 422]),
                "GET /v1/relay/status": Probe(requests: [(visitor.token, .get, "/v1/relay/status", nil, json)], allowed: [404]),
                "GET /v1/reports": Probe(
                    requests: [
                        (office.token, .get, "/v1/reports?district=\(Self.there)", nil, json),
                        (office.token, .get, "/v1/reports", nil, json),
                    ], allowed: [200, 403]),
            ]

            let operations = try OpenAPIOperations.all()
            let unprobed = Set(operations.map(\.key)).subtracting(probes.keys)
            #expect(unprobed.isEmpty, "every operation of protocol/openapi.yaml needs a probe here; missing: \(unprobed.sorted())")
            var sent = 0
            for operation in operations {
                guard let probe = probes[operation.key] else { continue }
                for request in probe.requests {
                    // An upload says where its bytes start and the file's length (§17.2).
                    let upload: HTTPFields =
                        request.method == .patch
                        ? [HTTPField.Name("Upload-Offset")!: "0", HTTPField.Name("Upload-Length")!: "\(request.body?.count ?? 0)"] : [:]
                    let response = try await caller.call(
                        request.method, request.uri, token: request.token.isEmpty ? nil : request.token,
                        body: request.body, contentType: request.type, headers: upload)
                    sent += 1
                    let asked = request.uri + String(decoding: request.body ?? Data(), as: UTF8.self)
                    #expect(probe.allowed.contains(Int(response.status.code)), "\(operation) \(request.uri): \(response.status) \(response.text.prefix(300))")
                    for marker in b.markers where !asked.contains(marker) && response.text.contains(marker) {
                        Issue.record("\(operation) \(request.uri) answered district B's \(marker) to district A: \(response.text.prefix(300))")
                    }
                    // Every receipt entry for A's intrusions is a rejection.
                    if request.uri == "/v1/push", response.status == .ok {
                        #expect(try response.json(PushReceipt.self).results.allSatisfy { $0.outcome == .rejected && $0.code == .outOfScope })
                    }
                    if request.uri == "/v1/bundles", response.status == .ok {
                        let result = try response.json(BundleUploadResult.self)
                        #expect(result.receipts.flatMap(\.results).allSatisfy { $0.outcome == .rejected && $0.code == .outOfScope })
                    }
                }
            }
            #expect(try await Self.stateOfB(caller) == before, "district B changed")
            #expect(try await caller.call(.get, "/v1/pull", token: b.visitor.token).status == .ok, "B's devices still work")
            let photo = try await caller.call(.get, "/v1/attachments/\(b.photo)/file", token: b.office.token)
            #expect(photo.status == .ok && Array(buffer: photo.body) == b.photoBytes, "B's photo is B's bytes still")
            print(
                "ScopeSecurityTests: \(operations.count) operations of openapi.yaml, \(sent) requests from district \(Self.here) at district \(Self.there): nothing read, nothing changed"
            )
        }
    }

    static func seal(_ mutations: [Mutation], device: Device) throws -> Data {
        try BundleWriter.seal(
            batches: [PushBatch(device: device.id, mutations: mutations)], device: device.id, signingKey: device.signingKey,
            serverPublicKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: Data(base64Encoded: device.serverPublicKey) ?? Data()),
            serverKeyID: device.serverKeyID, createdAt: "2020-04-20T18:20:00+08:00"
        )
    }

    @Test func aVisitor_makesNoneOfTheOfficesDecisions_byRoutePushOrBundle() async throws {
        let server = InProcessServer()
        try await server.test { caller in
            let b = try await Self.makeOther(caller)
            let visitor = b.visitor
            let before = try await Self.stateOfB(caller)
            let review = try await caller.call(.get, "/v1/review", token: caller.adminToken).json(ReviewQueue.self)
            let link = try #require(review.duplicates.first)
            let json: (String, [String: JSONValue]) async throws -> TestResponse = { path, value in
                try await caller.call(.post, path, token: visitor.token, body: try WireCoding.encode(value))
            }
            var refused: [String] = []
            for (label, response) in [
                ("confirm", try await json("/v1/review/conflicts/confirm", ["entity": .string(b.household.description), "field": "phone"])),
                (
                    "overturn",
                    try await json("/v1/review/conflicts/overturn", ["entity": .string(b.household.description), "field": "phone", "value": "13800000000"])
                ),
                (
                    "unlink",
                    try await json("/v1/review/links/unlink", ["survivor": .string(link.survivor.description), "alias": .string(link.alias.description)])
                ),
                ("status", try await json("/v1/households/\(b.household)/status", ["to": "filed"])),
                ("code", try await json("/v1/admin/enrollment-codes", ["district": .string(Self.there), "role": "visitor"])),
                ("revoke", try await caller.call(.post, "/v1/admin/devices/\(b.second.id)/revoke", token: visitor.token)),
                ("devices", try await caller.call(.get, "/v1/admin/devices", token: visitor.token)),
                ("review", try await caller.call(.get, "/v1/review", token: visitor.token)),
                ("import", try await caller.call(.post, "/v1/admin/import", token: visitor.token, body: Data("a,b\r\n".utf8), contentType: "text/csv")),
                ("roster", try await caller.call(.post, "/v1/roster/compare", token: visitor.token, body: Data("a,b\r\n".utf8), contentType: "text/csv")),
                ("reports", try await caller.call(.get, "/v1/reports", token: visitor.token)),
            ]
                + (try OpenAPIOperations.all().contains { $0.key == "POST /v1/admin/users" }
                    ? [
                        ("users", try await json("/v1/admin/users", ["name": "visitor-made", "password": "correct horse battery staple", "role": "office"])),
                        ("disable", try await caller.call(.post, "/v1/admin/users/\(b.account)/disable", token: visitor.token)),
                    ] : [])
            {
                #expect(response.status == .forbidden && response.errorCode == "forbiddenForRole", "\(label): \(response.status) \(response.text.prefix(200))")
                refused.append(label)
            }
            // The same decisions as mutations, pushed and in a bundle: rejected with forbiddenForRole.
            let factory = Mutations(visitor.id)
            for _ in 0..<5 { _ = factory.make(.update, .household, entity: b.household, fields: []) }  // seqs 1–5 are taken
            let pulled = try #require(try await caller.pullAll(visitor.token)[b.household])
            let statusHeads = pulled.household.heads("status").map(\.write)
            func decisions() -> [Mutation] {
                [
                    factory.make(.update, .household, entity: b.household, fields: [FieldWrite(field: "status", value: "filed", base: statusHeads)]),
                    factory.make(
                        .create, .household, entity: EntityID.random(),
                        fields: Mutations.household(Facts.household(4545), district: Self.there, status: "filed")),
                    factory.make(
                        .update, .household, entity: b.household,
                        fields: [FieldWrite(field: "district", value: "150603", base: pulled.household.heads("district").map(\.write))]),
                ]
            }
            let pushed = try await caller.push(visitor, decisions())
            #expect(pushed.status == .ok)
            let pushReceipt = try pushed.json(PushReceipt.self)
            let bundle = try await caller.call(
                .post, "/v1/bundles", token: visitor.token, body: try Self.seal(decisions(), device: visitor),
                contentType: "application/octet-stream")
            #expect(bundle.status == .ok, "\(bundle.text.prefix(300))")
            let results = pushReceipt.results + (try bundle.json(BundleUploadResult.self)).receipts.flatMap(\.results)
            #expect(results.count == 6 && results.allSatisfy { $0.outcome == .rejected && $0.code == .forbiddenForRole }, "\(results)")
            // The refused decisions are in the rejection log only; nothing else of B changed.
            #expect(try await Self.stateOfB(caller) == before)
            print("ScopeSecurityTests: a visitor's \(refused.count) office routes refused, 6 decisions by push and bundle rejected")
        }
    }

    /// Every operation that is not public sits behind the token middleware: without a token, or
    /// with one the server never issued, it answers `401 unauthorized` and reaches no handler.
    @Test func withoutAToken_everyEndpointButThePublicOnes_answersUnauthorized() async throws {
        // Unknown tokens count against the address; the limit is raised so every operation is tried.
        let server = InProcessServer { $0.authFailureLimit = 1_000 }
        try await server.test { caller in
            var checked = 0
            for operation in try OpenAPIOperations.all() where !operation.isPublic {
                let uri = operation.path.replacingOccurrences(of: "{id}", with: EntityID.random().description)
                    .replacingOccurrences(of: "{device}", with: "d1").replacingOccurrences(of: "{seq}", with: "1")
                    .replacingOccurrences(of: "{name}", with: "someone")
                    .replacingOccurrences(of: "{sha256}", with: String(repeating: "ab", count: 32))
                for token in [nil, "not-a-token-this-server-issued"] as [String?] {
                    let response = try await caller.call(Self.method(operation.method), uri, token: token, body: Data("{}".utf8))
                    #expect(
                        response.status == .unauthorized && (response.errorCode == "unauthorized" || operation.method == "HEAD"),
                        "\(operation): \(response.status) \(response.text.prefix(200))")
                    checked += 1
                }
            }
            #expect(checked >= 30)
        }
    }

    @Test func aRevokedToken_failsOnItsNextRequest_toEveryEndpoint() async throws {
        let server = InProcessServer()
        try await server.test { caller in
            let visitor = try await caller.enroll(district: Self.there, role: .visitor)
            let office = try await caller.enroll(district: Self.there, role: .office)
            #expect(try await caller.call(.get, "/v1/pull", token: visitor.token).status == .ok)
            #expect(try await caller.call(.get, "/v1/review", token: office.token).status == .ok)
            #expect(try await caller.call(.post, "/v1/admin/devices/\(visitor.id)/revoke", token: office.token).status == .ok)
            #expect(try await caller.call(.post, "/v1/admin/devices/\(office.id)/revoke", token: caller.adminToken).status == .ok)
            var checked = 0
            for operation in try OpenAPIOperations.all() where !operation.isPublic {
                let uri = operation.path.replacingOccurrences(of: "{id}", with: EntityID.random().description)
                    .replacingOccurrences(of: "{device}", with: visitor.id.rawValue).replacingOccurrences(of: "{name}", with: "someone")
                    .replacingOccurrences(of: "{sha256}", with: String(repeating: "ab", count: 32))
                for token in [visitor.token, office.token] {
                    let response = try await caller.call(Self.method(operation.method), uri, token: token, body: Data("{}".utf8))
                    #expect(
                        response.status == .unauthorized && (response.errorCode == "deviceRevoked" || operation.method == "HEAD"),
                        "\(operation): \(response.status) \(response.text.prefix(200))")
                    checked += 1
                }
            }
            #expect(checked >= 30)
        }
    }
}
