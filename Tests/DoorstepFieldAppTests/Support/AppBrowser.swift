import AsyncHTTPClient
import DoorstepClient
import DoorstepCore
import DoorstepFieldApp
import DoorstepTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// A field app on a free loopback port for the duration of `body`, on a client database in a
/// temporary folder, and a browser for it (cookies kept, redirects not followed).
struct RunningApp {
    let url: URL
    let secret: String
    /// The one-time address a launched browser gets.
    let launch: URL
    let client: FieldClient
    let databasePath: String
    let browser: AppBrowser

    static func run<Value: Sendable>(
        path: String? = nil, transport: (@Sendable (URL) -> any SyncTransport)? = nil, clock: (@Sendable () -> Int64)? = nil,
        _ body: @Sendable (RunningApp) async throws -> Value
    ) async throws -> Value {
        var settings = LiveServer.clientConfiguration(path: path, transport: transport)
        if let clock { settings.clock = clock }
        let client = settings
        let configuration = FieldAppConfiguration(client: client, port: 0, reachabilityInterval: 0)
        let launched = Mutex<URL?>(nil)
        let app = try FieldApp.build(configuration: configuration) { _, launch in launched.withLock { $0 = launch } }
        return try await app.test(.live) { test in
            let port = try #require(test.port)
            let launch = try #require(launched.withLock { $0 })
            let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
            let browser = AppBrowser(base: url)
            // The app's own client for the same database (reads what the pages wrote).
            let reader = try FieldClient(configuration: client)
            do {
                let value = try await body(
                    RunningApp(url: url, secret: configuration.secret, launch: launch, client: reader, databasePath: client.databasePath, browser: browser))
                try await browser.http.shutdown()
                return value
            } catch {
                try? await browser.http.shutdown()
                throw error
            }
        }
    }

    /// Lets the browser in with the secret (as the visitor opening the printed address).
    func signIn() async throws {
        let answer = try await browser.get("/?key=\(secret)")
        #expect(answer.status == 303, "\(answer.status)")
    }
}

/// An HTTP answer as a browser sees it.
struct Page {
    var status: Int
    var headers: HTTPHeaders
    var text: String

    /// The form token of the page's forms.
    var csrf: String? { hidden("csrf") }

    /// The first hidden value of that name on the page.
    func hidden(_ name: String) -> String? {
        guard let range = text.range(of: #"name="\#(name)" value="([^"]+)""#, options: .regularExpression) else { return nil }
        let match = text[range]
        return match.split(separator: "\"").dropFirst(3).first.map(String.init)
    }

    var location: String? { headers.first(name: "Location") }
}

/// A browser with a cookie jar, talking to one app; redirects are returned, not followed.
final class AppBrowser: @unchecked Sendable {
    let base: URL
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    private let lock = NSLock()
    private var cookies: [String: String] = [:]

    init(base: URL) { self.base = base }

    var cookieHeader: String { lock.withLock { cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") } }

    func forgetCookies() { lock.withLock { cookies = [:] } }

    func send(_ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil, headers extra: [(String, String)] = []) async throws -> Page {
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.method = method
        let jar = cookieHeader
        if !jar.isEmpty { request.headers.add(name: "Cookie", value: jar) }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        if let form {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        for header in response.headers[canonicalForm: "Set-Cookie"] {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            lock.withLock { cookies[parts[0]] = parts[1] }
        }
        return Page(status: Int(response.status.code), headers: response.headers, text: String(buffer: buffer))
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Page { try await send(.GET, path, headers: headers) }

    /// Posts a `multipart/form-data` form with files, as a browser sends a form that has a file
    /// control: the token and nonce of the page at `from`, the fields, then each file.
    func submitWithFiles(
        _ path: String, from page: String, _ fields: [(String, String)], files: [(name: String, fileName: String, type: String, data: Data)],
        cutShort: Bool = false
    ) async throws -> Page {
        let shown = try await get(page)
        let token = try #require(shown.csrf, "the page \(page) has a form")
        let nonce = shown.hidden("nonce").map { [("nonce", $0)] } ?? []
        let boundary = "----DoorstepTestBoundary\(UUID().uuidString.prefix(8))"
        var body = Data()
        for (name, value) in [("csrf", token)] + nonce + fields {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        for file in files {
            body.append(
                Data(
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.fileName)\"\r\nContent-Type: \(file.type)\r\n\r\n"
                        .utf8))
            body.append(file.data)
            body.append(Data("\r\n".utf8))
        }
        if !cutShort { body.append(Data("--\(boundary)--\r\n".utf8)) }
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.method = .POST
        let jar = cookieHeader
        if !jar.isEmpty { request.headers.add(name: "Cookie", value: jar) }
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Page(status: Int(response.status.code), headers: response.headers, text: String(buffer: buffer))
    }

    /// Posts a form with the token (and the one-time nonce, where it has one) of the page at
    /// `from`, as a browser submitting that page's form.
    func submit(_ path: String, from page: String, _ fields: [(String, String)]) async throws -> Page {
        let shown = try await get(page)
        let token = try #require(shown.csrf, "the page \(page) has a form")
        let nonce = shown.hidden("nonce").map { [("nonce", $0)] } ?? []
        return try await send(.POST, path, form: [("csrf", token)] + nonce + fields)
    }
}
