import DoorstepClient
import DoorstepCore
import DoorstepServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A real server on loopback (port 0) in a temporary folder, and field clients pointed at it.
struct LiveServer: Sendable {
    let configuration: ServerConfiguration
    let url: URL
    let adminToken: String

    /// Starts a server for the duration of `body`.
    static func run<Value: Sendable>(_ body: @Sendable (LiveServer) async throws -> Value) async throws -> Value {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-client-test-\(UUID().uuidString)").path
        let configuration = ServerConfiguration(port: 0, dataDirectory: directory, logLevel: .warning)
        let app = try await buildApplication(configuration: configuration)
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            let token = try String(contentsOfFile: configuration.adminTokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let server = LiveServer(configuration: configuration, url: URL(string: "http://127.0.0.1:\(port)")!, adminToken: token)
            return try await body(server)
        }
    }

    /// A one-time enrollment code from the admin token.
    func code(district: String?, role: Role) async throws -> String {
        let api = AdminCalls(server: self)
        return try await api.code(district: district, role: role)
    }

    /// A new client database in a temporary folder, enrolled with a fresh code.
    func enrolledClient(district: String = "150602", role: Role = .visitor, transport: (@Sendable (URL) -> any SyncTransport)? = nil,
                        path: String? = nil) async throws -> FieldClient {
        let client = try FieldClient(configuration: Self.clientConfiguration(path: path, transport: transport))
        try await client.enroll(server: url, code: try await code(district: district, role: role), deviceName: "test laptop")
        return client
    }

    static func clientConfiguration(path: String? = nil, transport: (@Sendable (URL) -> any SyncTransport)? = nil) -> ClientConfiguration {
        let file = path ?? FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-client-\(UUID().uuidString)/local.sqlite").path
        var configuration = ClientConfiguration(databasePath: file, retry: RetryPolicy(maxAttempts: 8, sleep: { _ in }))
        if let transport { configuration.transport = transport }
        return configuration
    }
}

/// Office calls made with the admin token over plain HTTP.
struct AdminCalls: Sendable {
    let server: LiveServer

    func request(_ method: String, _ path: String, body: Data? = nil, token: String? = nil) async throws -> TransportResponse {
        let transport = URLSessionTransport(baseURL: server.url)
        var headers = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token ?? server.adminToken)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await transport.send(TransportRequest(method: method, path: path, headers: headers, body: body))
    }

    func code(district: String?, role: Role) async throws -> String {
        let body = try WireCoding.encode(["district": district.map(JSONValue.string) ?? .null, "role": .string(role.rawValue)])
        let response = try await request("POST", "/v1/admin/enrollment-codes", body: body)
        let value = try JSONDecoder().decode([String: JSONValue].self, from: response.body)
        return value["code"]?.stringValue ?? ""
    }

    func review() async throws -> [String: JSONValue] {
        try JSONDecoder().decode([String: JSONValue].self, from: try await request("GET", "/v1/review").body)
    }
}

/// Sample household facts for the client API.
enum Facts {
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        let body = region + "19850701" + String(100 + n % 900)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    static func household(_ n: Int) -> [String: JSONValue] {
        [
            "headName": "王某某", "nationalId": .string(nationalID(n)), "address": "东胜区 建设街 12 号",
            "fileLevel": "national", "primaryCause": "illness", "difficulty": "general", "skillLevel": "none",
            "monthlyIncomeFen": 120_000,
        ]
    }

    static let visit: [String: JSONValue] = [
        "visitedAt": "2020-04-12T10:30:00+08:00", "visitor": "走访员甲", "mode": "atHome", "conclusion": "eligible",
    ]
}
