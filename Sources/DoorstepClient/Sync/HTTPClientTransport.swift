#if os(Linux)
import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// HTTP over AsyncHTTPClient (SwiftNIO): the client's transport on Linux.
///
/// FoundationNetworking's URLSession on Linux ends the whole process (a `fatalError` in its libcurl
/// glue, swift-corelibs-foundation issue 5285) when a connection is cut after the answer began but
/// before its headers were complete, which a field laptop's link does. Here that is a network error
/// like any other: the sync retries, or stops with `serverUnreachable`, and nothing is lost.
/// TLS uses the system's trust roots, as URLSession does.
public struct HTTPClientTransport: SyncTransport {
    public let baseURL: URL
    /// How long the server may stay silent (connecting, or between two reads of an answer).
    public let timeout: TimeInterval
    /// The largest answer read, in bytes (a pull page or a bundle receipt is far smaller).
    public static let maxAnswerBytes = 256 * 1024 * 1024

    public init(baseURL: URL, timeout: TimeInterval = 60) {
        self.baseURL = baseURL
        self.timeout = timeout
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let text = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        var outgoing = HTTPClientRequest(url: text + request.path)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let client = Self.client(timeout: timeout)
        // Silence is cut by the read timeout; the deadline only bounds an answer that trickles for an hour.
        let response = try await client.execute(outgoing, timeout: .hours(1))
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        var body = ByteBuffer()
        do {
            for try await piece in response.body {
                guard body.readableBytes + piece.readableBytes <= Self.maxAnswerBytes else { throw AnswerTooLarge() }
                request.received?(piece.readableBytes)
                var piece = piece
                body.writeBuffer(&piece)
            }
        } catch {
            // Cut on the way (or cancelled): what came is kept for a resumable answer (a pull
            // page, protocol 1.5), which the caller may keep for a later sync. An answer past the
            // limit is no page: refused as it is.
            guard !(error is AnswerTooLarge), body.readableBytes > 0, headers["doorstep-page"] != nil else { throw error }
            throw PartialAnswer(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
        }
        return TransportResponse(status: Int(response.status.code), body: Data(body.readableBytesView), headers: headers)
    }

    /// One client per timeout for the process's life (a client must be shut down before it goes,
    /// and these never go): connections are kept and reused across syncs.
    private static func client(timeout: TimeInterval) -> HTTPClient {
        let key = max(1, Int64((timeout * 1000).rounded()))
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration()
            // Silence is what is cut, never slowness: no byte read (or written) for the timeout.
            configuration.timeout = .init(connect: .milliseconds(key), read: .milliseconds(key), write: .milliseconds(key))
            configuration.redirectConfiguration = .disallow
            configuration.decompression = .disabled
            // A refused or failed connection fails the request at once (the sync's RetryPolicy
            // decides what next) instead of being tried again until the request's deadline.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[key] = client
            return client
        }
    }

    private static let clients = Mutex<[Int64: HTTPClient]>([:])

    /// An answer longer than ``maxAnswerBytes``.
    struct AnswerTooLarge: Error {}
}
#endif
