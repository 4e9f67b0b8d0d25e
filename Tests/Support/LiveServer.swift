public import DoorstepClient
public import DoorstepCore
public import DoorstepServer
public import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The one live-server helper of the tests: a real server on loopback (port 0) in a temporary
/// folder (or a kept one), for field clients, office clients and CLI processes to talk to.
public struct LiveServer: Sendable {
    public let configuration: ServerConfiguration
    /// Where the server listens.
    public let url: URL
    /// The city administrator's token.
    public let adminToken: String

    /// Starts a server for the duration of `body`, on a free port; with `directory`, on the data
    /// of that folder, which is kept (a server that moves: the same data at another address).
    public static func run<Value: Sendable>(directory kept: String? = nil, _ body: @Sendable (LiveServer) async throws -> Value) async throws -> Value {
        let directory = kept ?? Scratch.root.appendingPathComponent("doorstep-live-server-\(UUID().uuidString)").path
        defer { if kept == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let configuration = ServerConfiguration(port: 0, dataDirectory: directory, logLevel: .warning)
        let app = try await buildApplication(configuration: configuration)
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            let token = try String(contentsOfFile: configuration.adminTokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
            return try await body(LiveServer(configuration: configuration, url: url, adminToken: token))
        }
    }

    /// The city administrator's office client.
    public var admin: OfficeClient {
        get throws { try OfficeClient(server: url, token: adminToken) }
    }

    /// A one-time enrollment code from the admin token.
    public func code(district: String? = "150602", role: Role = .visitor) async throws -> String {
        try await admin.createEnrollmentCode(district: district, role: role).code
    }

    /// A new client database in a temporary folder (or at `path`), enrolled with a fresh code.
    public func enrolledClient(
        district: String? = "150602", role: Role = .visitor, deviceName: String = "test laptop",
        transport: (@Sendable (URL) -> any SyncTransport)? = nil, path: String? = nil
    ) async throws -> FieldClient {
        let client = try FieldClient(configuration: Self.clientConfiguration(path: path, transport: transport))
        try await client.enroll(server: url, code: try await code(district: district, role: role), deviceName: deviceName)
        return client
    }

    /// A client configuration on a new database in a temporary folder (or at `path`): retries
    /// without waiting, and `transport` when given.
    public static func clientConfiguration(path: String? = nil, transport: (@Sendable (URL) -> any SyncTransport)? = nil) -> ClientConfiguration {
        let file = path ?? Scratch.root.appendingPathComponent("doorstep-client-\(UUID().uuidString)/local.sqlite").path
        var configuration = ClientConfiguration(databasePath: file, retry: RetryPolicy(maxAttempts: 8, sleep: { _ in }))
        if let transport { configuration.transport = transport }
        return configuration
    }
}
