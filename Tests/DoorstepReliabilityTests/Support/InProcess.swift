import Crypto
import DoorstepCore
import DoorstepServer
import DoorstepTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A server built in this process on a fresh data folder, driven through HummingbirdTesting.
struct InProcessServer: Sendable {
    let configuration: ServerConfiguration

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) {
        var configuration = ServerConfiguration(port: 0, dataDirectory: Executables.temporaryFolder("doorstep-reliability-inprocess"), logLevel: .warning)
        configure(&configuration)
        self.configuration = configuration
    }

    var adminToken: String {
        get throws { try String(contentsOfFile: configuration.adminTokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func test<Value: Sendable>(_ setup: TestingSetup = .router, _ body: @Sendable (Caller) async throws -> Value) async throws -> Value {
        let app = try await buildApplication(configuration: configuration)
        return try await app.test(setup) { client in
            try await body(Caller(client: client, adminToken: try adminToken))
        }
    }
}

/// An enrolled device, as a test holds it.
struct Device: Sendable {
    var id: DeviceID
    var token: String
    var role: Role
    var district: String?
    var signingKeyData: Data
    var serverPublicKey: String
    var serverKeyID: String
    var signingKey: Curve25519.Signing.PrivateKey { (try? .init(rawRepresentation: signingKeyData)) ?? .init() }
}

/// Requests against the server under test.
struct Caller: Sendable {
    let client: any TestClientProtocol
    let adminToken: String

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, body: Data? = nil,
        contentType: String = "application/json", protocolVersion: String? = "1", headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let protocolVersion { headers[HTTPField.Name("Doorstep-Protocol")!] = protocolVersion }
        if body != nil { headers[.contentType] = contentType }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: some Encodable) async throws -> TestResponse {
        try await call(method, uri, token: token, body: try WireCoding.encode(json))
    }

    func enroll(district: String?, role: Role, name: String = "test laptop", by token: String? = nil) async throws -> Device {
        let code = try await call(
            .post, "/v1/admin/enrollment-codes", token: token ?? adminToken,
            json: EnrollmentCodeRequest(district: district, role: role))
        #expect(code.status == .created, "\(code.text)")
        let codeText = try code.json(EnrollmentCode.self).code
        let key = Curve25519.Signing.PrivateKey()
        let response = try await call(
            .post, "/v1/enroll", token: nil,
            json: EnrollRequest(
                code: codeText, deviceName: name, publicSigningKey: key.publicKey.rawRepresentation.base64EncodedString()
            ))
        #expect(response.status == .created, "\(response.text)")
        let body = try response.json(EnrollResponse.self)
        return Device(
            id: body.device, token: body.token, role: body.role, district: body.district, signingKeyData: key.rawRepresentation,
            serverPublicKey: body.serverPublicKey, serverKeyID: body.serverKeyID)
    }

    func push(_ device: Device, _ mutations: [Mutation]) async throws -> TestResponse {
        try await call(.post, "/v1/push", token: device.token, json: PushBatch(device: device.id, mutations: mutations))
    }

    /// Every household a caller pulls from the start.
    func pullAll(_ token: String) async throws -> [EntityID: HouseholdAggregate] {
        var households: [EntityID: HouseholdAggregate] = [:]
        var cursor = "0"
        while true {
            let response = try await call(.get, "/v1/pull?cursor=\(cursor)&limit=50", token: token)
            #expect(response.status == .ok, "\(response.text)")
            let page = try response.json(PullPage.self)
            for id in page.removed { households[id] = nil }
            for aggregate in page.households { households[aggregate.household.id] = aggregate }
            cursor = page.nextCursor
            if !page.hasMore { return households }
        }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    var errorCode: String? { (try? json(ErrorBody.self))?.error.code.rawValue }
}

/// Numbers a device's mutations and ticks its clock.
final class Mutations: @unchecked Sendable {
    let device: DeviceID
    private let lock = NSLock()
    private var seq: Int64 = 0
    private var clock = HybridLogicalClock()

    init(_ device: DeviceID) { self.device = device }

    func make(
        _ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID? = nil,
        fields: [FieldWrite], covers: [WriteID] = []
    ) -> Mutation {
        lock.withLock {
            seq += 1
            return Mutation(
                device: device, seq: seq, hlc: clock.tick(), op: op, kind: kind, entity: entity,
                household: household ?? entity, fields: fields, covers: covers)
        }
    }

    static func household(_ facts: [String: JSONValue], district: String, status: String = "candidate") -> [FieldWrite] {
        var values = facts
        values["district"] = .string(district)
        values["status"] = .string(status)
        values["epidemicAffected"] = values["epidemicAffected"] ?? false
        return values.keys.sorted().map { FieldWrite(field: $0, value: values[$0] ?? .null) }
    }

    static func visit(_ note: String = "") -> [FieldWrite] {
        Facts.visit(note).sorted { $0.key < $1.key }.map { FieldWrite(field: $0.key, value: $0.value) }
    }
}
