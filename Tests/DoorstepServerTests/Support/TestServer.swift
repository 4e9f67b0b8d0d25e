import Crypto
import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import DoorstepServer

/// A settable wall clock for the server under test.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    /// Starts on 2020-05-01 (UTC), after the visits that the tests record (April 2020): a visit dated
    /// after its writer's clock is refused.
    init(_ start: Int64 = 1_588_291_200_000) { value = start }
    func read() -> Int64 { lock.withLock { value } }
    func advance(_ millis: Int64) { lock.withLock { value += millis } }
}

/// A server in a fresh temporary folder with its own SQLite file.
struct TestServer {
    let configuration: ServerConfiguration
    let clock: TestClock
    let database = LazyDatabase()

    init(clock start: Int64 = 1_588_291_200_000, configure: (inout ServerConfiguration) -> Void = { _ in }) {
        let directory = Scratch.root.appendingPathComponent("doorstep-test-\(UUID().uuidString)").path
        let clock = TestClock(start)
        var configuration = ServerConfiguration(port: 0, dataDirectory: directory, clock: { clock.read() }, logLevel: .warning)
        configure(&configuration)
        self.configuration = configuration
        self.clock = clock
    }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: configuration.adminTokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Runs a test against the application, in-process (`.router`) or on a real socket (`.live`).
    func test<Value: Sendable>(_ setup: TestingSetup = .router, _ body: @Sendable (Session) async throws -> Value) async throws -> Value {
        let app = try await buildApplication(configuration: try await resolvedConfiguration())
        // A second server on a shared database finds the token made by the first (in the first's folder).
        let admin = (try? adminToken) ?? ""
        return try await app.test(setup) { client in
            try await body(Session(client: client, adminToken: admin, server: self))
        }
    }

    /// The configuration with the test backend: on PostgreSQL, a fresh database made once per test server.
    func resolvedConfiguration() async throws -> ServerConfiguration {
        var resolved = configuration
        if TestDatabase.postgresURL != nil, resolved.databaseURL == nil {
            resolved.databaseURL = try await database.url()
        }
        return resolved
    }

    static let domainTables = [
        "entities", "households", "changes", "national_ids", "link_decisions", "audit", "rejections",
        "rejected_bases", "rejected_creations", "replacements", "conflicts", "mutations",
    ]

    /// A dump of the domain tables' content, to prove a refused request changed nothing.
    func dumpDomainTables() async throws -> String {
        try await dumpTables(Self.domainTables)
    }

    /// Every row of the given tables, sorted, on either backend.
    func dumpTables(_ tables: [String]) async throws -> String {
        var url = configuration.databaseURL
        if url == nil, TestDatabase.postgresURL != nil { url = try await database.url() }
        if let url {
            return try await TestDatabase.dump(url: url, tables: tables)
        }
        let queue = try DatabaseQueue(path: configuration.databasePath)
        return try await queue.read { db in
            var text = ""
            for table in tables {
                text += "## \(table)\n"
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map(\.description).sorted() { text += "\(row)\n" }
            }
            return text
        }
    }
}

/// An enrolled device as a test sees it.
struct TestDevice: Sendable {
    var id: DeviceID
    var token: String
    var role: Role
    var district: String?
    /// The raw Ed25519 private key (the key type itself is not Sendable).
    var signingKeyData: Data
    var signingKey: Curve25519.Signing.PrivateKey { (try? Curve25519.Signing.PrivateKey(rawRepresentation: signingKeyData)) ?? Curve25519.Signing.PrivateKey() }
    var principal: Principal { Principal(device: id, role: role, district: district) }
}

/// A client session against the server under test, with JSON helpers.
struct Session: Sendable {
    let client: any TestClientProtocol
    let adminToken: String
    let server: TestServer

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, body: Data? = nil,
        headers extra: HTTPFields = [:], protocolVersion: String? = "1"
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let protocolVersion, let name = HTTPField.Name("Doorstep-Protocol") { headers[name] = protocolVersion }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: some Encodable) async throws -> TestResponse {
        try await call(method, uri, token: token, body: try WireCoding.encode(json))
    }

    func enroll(district: String?, role: Role, by token: String? = nil) async throws -> TestDevice {
        let code = try await call(
            .post, "/v1/admin/enrollment-codes", token: token ?? adminToken,
            json: EnrollmentCodeRequest(district: district, role: role))
        #expect(code.status == .created)
        let codeText = try code.json(EnrollmentCode.self).code
        let key = Curve25519.Signing.PrivateKey()
        let response = try await call(
            .post, "/v1/enroll", token: nil,
            json: EnrollRequest(
                code: codeText, deviceName: "test laptop", publicSigningKey: key.publicKey.rawRepresentation.base64EncodedString()
            ))
        #expect(response.status == .created)
        let body = try response.json(EnrollResponse.self)
        return TestDevice(id: body.device, token: body.token, role: body.role, district: body.district, signingKeyData: key.rawRepresentation)
    }

    func push(_ device: TestDevice, _ mutations: [Mutation]) async throws -> TestResponse {
        try await call(.post, "/v1/push", token: device.token, json: PushBatch(device: device.id, mutations: mutations))
    }

    /// A household's audit history as `GET /v1/households/{id}/history` answers it.
    func history(of household: EntityID, token: String) async throws -> [AuditEntry] {
        try await call(.get, "/v1/households/\(household)/history", token: token).json([String: [AuditEntry]].self)["history"] ?? []
    }

    func pushOK(_ device: TestDevice, _ mutations: [Mutation]) async throws -> PushReceipt {
        let response = try await push(device, mutations)
        #expect(response.status == .ok, "push answered \(response.status): \(response.text)")
        return try response.json(PushReceipt.self)
    }

    /// Pulls every page after `cursor` and returns the households by survivor id and the removed ids.
    func pullAll(
        _ device: TestDevice, cursor: String = "0", limit: Int = 2
    ) async throws -> (households: [EntityID: HouseholdAggregate], removed: [EntityID], cursor: String) {
        var households: [EntityID: HouseholdAggregate] = [:]
        var removed: [EntityID] = []
        var cursor = cursor
        while true {
            let response = try await call(.get, "/v1/pull?cursor=\(cursor)&limit=\(limit)", token: device.token)
            #expect(response.status == .ok, "pull answered \(response.status): \(response.text)")
            let page = try response.json(PullPage.self)
            for id in page.removed { households[id] = nil; removed.append(id) }
            for aggregate in page.households { households[aggregate.household.id] = aggregate }
            cursor = page.nextCursor
            if !page.hasMore { return (households, removed, cursor) }
        }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    /// The error code of an error answer.
    var errorCode: String? { (try? json(ErrorBody.self))?.error.code.rawValue }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }
}

/// Builds mutations for a test device, numbering seqs and ticking its clock.
final class MutationFactory: @unchecked Sendable {
    let device: DeviceID
    private(set) var seq: Int64 = 0
    private var clock: HybridLogicalClock

    init(device: DeviceID, clock: TestClock) {
        self.device = device
        self.clock = HybridLogicalClock(physicalMillis: { clock.read() })
    }

    func make(
        _ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID? = nil,
        fields: [FieldWrite], covers: [WriteID] = [], other: EntityID? = nil
    ) -> Mutation {
        seq += 1
        return Mutation(
            device: device, seq: seq, hlc: clock.tick(), op: op, kind: kind, entity: entity,
            household: household ?? entity, fields: fields, covers: covers, other: other)
    }
}

enum Sample {
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        let serial = String(100 + n % 900)
        let body = region + "19850701" + serial
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    static func household(nationalID: String, district: String = "150602", status: String = "candidate", income: Int64 = 120_000) -> [FieldWrite] {
        [
            FieldWrite(field: "headName", value: "王某某"),
            FieldWrite(field: "nationalId", value: .string(nationalID)),
            FieldWrite(field: "address", value: "东胜区 建设街 12 号"),
            FieldWrite(field: "district", value: .string(district)),
            FieldWrite(field: "fileLevel", value: "national"),
            FieldWrite(field: "primaryCause", value: "illness"),
            FieldWrite(field: "difficulty", value: "general"),
            FieldWrite(field: "skillLevel", value: "none"),
            FieldWrite(field: "monthlyIncomeFen", value: .int(income)),
            FieldWrite(field: "epidemicAffected", value: false),
            FieldWrite(field: "status", value: .string(status)),
        ]
    }

    static func visit(day: Int = 12) -> [FieldWrite] {
        [
            FieldWrite(field: "visitedAt", value: .string("2020-04-\(day < 10 ? "0\(day)" : "\(day)")T10:30:00+08:00")),
            FieldWrite(field: "visitor", value: "走访员甲"),
            FieldWrite(field: "mode", value: "atHome"),
            FieldWrite(field: "conclusion", value: "eligible"),
        ]
    }
}

/// A PostgreSQL database made on first use and kept for the test server's life (it survives restarts).
final class LazyDatabase: @unchecked Sendable {
    private let lock = NSLock()
    private var made: String?

    func url() async throws -> String? {
        if let made = lock.withLock({ made }) { return made }
        let url = try await TestDatabase.fresh()
        lock.withLock { made = url }
        return url
    }
}
