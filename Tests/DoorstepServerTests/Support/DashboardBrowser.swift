import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

@testable import DoorstepServer

/// A browser's view of the dashboard over the router: cookies, forms and uploads.
final class Browser: @unchecked Sendable {
    let session: Session
    var cookies: [String: String] = [:]

    init(_ session: Session) { self.session = session }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await send(.get, uri, headers: headers, body: nil)
    }

    func post(_ uri: String, _ fields: [String: String], headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = fields.sorted { $0.key < $1.key }.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try await send(.post, uri, headers: headers, body: Data(body.utf8))
    }

    func upload(_ uri: String, fields: [String: String], file: Data) async throws -> TestResponse {
        let boundary = "----DoorstepTest\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"低保.csv\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
        body += file + Data("\r\n--\(boundary)--\r\n".utf8)
        return try await send(.post, uri, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: body)
    }

    /// Opens the sign-in page, then posts the form with its token.
    func signIn(_ name: String, _ password: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        let page = try await get("/dashboard/signin", headers: headers)
        return try await post("/dashboard/signin", ["name": name, "password": password, "csrf": csrf(page.text) ?? ""], headers: headers)
    }

    /// The form token of a page.
    func csrf(_ html: String) -> String? { Self.between(html, "name=\"csrf\" value=\"", "\"") }

    /// The text of the element marked `data-figure="name"`.
    static func figure(_ name: String, in html: String) -> String? { between(html, "data-figure=\"\(name)\">", "<") }

    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let from = text.range(of: start), let to = text[from.upperBound...].range(of: end) else { return nil }
        return String(text[from.upperBound..<to.lowerBound])
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    private func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields, body: Data?) async throws -> TestResponse {
        var headers = headers
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await session.client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";").first.map(String.init) ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if line.contains("Max-Age=0") { cookies[parts[0]] = nil } else { cookies[parts[0]] = parts[1] }
        }
        return response
    }
}
