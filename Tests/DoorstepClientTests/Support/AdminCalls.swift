import DoorstepClient
import DoorstepCore
import DoorstepServer
import DoorstepTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Office calls made with the admin token over plain HTTP.
struct AdminCalls: Sendable {
    let server: LiveServer

    func request(_ method: String, _ path: String, body: Data? = nil, token: String? = nil) async throws -> TransportResponse {
        let transport = URLSessionTransport(baseURL: server.url)
        var headers = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token ?? server.adminToken)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await transport.send(TransportRequest(method: method, path: path, headers: headers, body: body))
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
