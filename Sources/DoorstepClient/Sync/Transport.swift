public import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request of the sync protocol.
public struct TransportRequest: Sendable {
    public var method: String
    /// The path and query, e.g. `/v1/pull?cursor=12`.
    public var path: String
    public var headers: [String: String]
    public var body: Data?
    /// Told the size of each piece of the answer's body as it arrives (a transport that can), so
    /// that progress moves while a long answer travels on a slow link.
    public var received: (@Sendable (Int) -> Void)?

    public init(method: String, path: String, headers: [String: String] = [:], body: Data? = nil, received: (@Sendable (Int) -> Void)? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.received = received
    }
}

/// The answer to a ``TransportRequest``.
public struct TransportResponse: Sendable {
    public var status: Int
    public var body: Data
    /// The answer's headers, names in lower case (an upload's `upload-offset`, protocol 1.4).
    public var headers: [String: String]

    public init(status: Int, body: Data, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}

/// An answer cut while its body arrived: what came of it (a transport that can tell throws
/// it instead of any error), so that a pull page is resumed from there (protocol 1.5, §18).
public struct PartialAnswer: Error, Sendable {
    public var status: Int
    /// The answer's headers, names in lower case.
    public var headers: [String: String]
    /// The body's bytes that arrived, as they came (encoded).
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }
}

/// How the client reaches the server. The default is ``ClientConfiguration/platformTransport``; tests may put a
/// proxy or a failing transport in between.
public protocol SyncTransport: Sendable {
    /// Sends a request; throws only when no answer came (network errors), never for HTTP statuses.
    func send(_ request: TransportRequest) async throws -> TransportResponse
}

/// HTTP over URLSession (FoundationNetworking, which is libcurl on Linux).
public struct URLSessionTransport: SyncTransport {
    public let baseURL: URL
    private let session: URLSession

    public init(baseURL: URL, timeout: TimeInterval = 60) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let text = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        guard let url = URL(string: text + request.path) else { throw URLError(.badURL) }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: urlRequest)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name] = value }
        }
        return TransportResponse(status: http.statusCode, body: data, headers: headers)
    }
}

/// Exponential backoff with full jitter for network errors and 5xx answers.
public struct RetryPolicy: Sendable {
    /// How many attempts in all (the first one included).
    public var maxAttempts: Int
    /// The first delay's upper bound, in seconds.
    public var baseDelay: Double
    /// The largest delay, in seconds.
    public var maxDelay: Double
    /// Waits (injected so tests do not sleep).
    public var sleep: @Sendable (Double) async throws -> Void

    public init(
        maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30,
        sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64($0 * 1_000_000_000)) }
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
    }

    /// The delay before attempt `attempt` (1 is the first retry): uniform in 0…min(max, base·2^(attempt-1)).
    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> Double {
        let bound = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
        return Double.random(in: 0...bound, using: &random)
    }
}
