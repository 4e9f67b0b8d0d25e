import DoorstepClient
import DoorstepCore
import DoorstepServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A real server on loopback (port 0) in a temporary folder, for the CLI processes to talk to.
struct LiveServer: Sendable {
    let configuration: ServerConfiguration
    let url: URL
    let adminToken: String

    /// Starts a server for the duration of `body`, on a free port; with `directory`, on the data
    /// of that folder, which is kept (a server that moves: the same data at another address).
    static func run<Value: Sendable>(directory kept: String? = nil, _ body: @Sendable (LiveServer) async throws -> Value) async throws -> Value {
        let directory = kept ?? FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-cli-server-\(UUID().uuidString)").path
        defer { if kept == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let configuration = ServerConfiguration(port: 0, dataDirectory: directory, logLevel: .warning)
        let app = try await buildApplication(configuration: configuration)
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            let token = try String(contentsOfFile: configuration.adminTokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let server = LiveServer(configuration: configuration, url: URL(string: "http://127.0.0.1:\(port)")!, adminToken: token)
            return try await body(server)
        }
    }

    /// The admin's office client (the city).
    var admin: OfficeClient {
        get throws { try OfficeClient(server: url, token: adminToken) }
    }

    /// A one-time enrollment code from the admin token.
    func code(district: String? = "150602", role: Role = .visitor) async throws -> String {
        try await admin.createEnrollmentCode(district: district, role: role).code
    }

    /// An in-process field client (for the city's moves that set up a scene), enrolled with a fresh code.
    func enrolledClient(district: String? = "150602", role: Role) async throws -> FieldClient {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-cli-lib-\(UUID().uuidString)/local.sqlite").path
        let client = try FieldClient(configuration: ClientConfiguration(databasePath: path, retry: RetryPolicy(maxAttempts: 3, sleep: { _ in })))
        try await client.enroll(server: url, code: try await code(district: district, role: role), deviceName: "city desk")
        return client
    }
}

/// Sample facts.
enum Sample {
    /// A valid national ID number (GB 11643 check digit) numbered `n`.
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        let body = region + "19850701" + String(100 + n % 900)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    /// The same number with its check digit wrong.
    static func wrongNationalID(_ n: Int) -> String {
        let good = nationalID(n)
        let wrong: Character = good.last == "1" ? "2" : "1"
        return String(good.dropLast()) + String(wrong)
    }

    /// `household new` flags for a complete household.
    static func householdFlags(_ n: Int, name: String = "王某某") -> [String] {
        ["--name", name, "--national-id", nationalID(n), "--address", "东胜区 建设街 \(n) 号", "--file-level", "national",
         "--cause", "illness", "--difficulty", "general", "--skill", "none", "--income-yuan", "1200"]
    }
}
