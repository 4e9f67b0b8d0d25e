import DoorstepCompression
import DoorstepCore
import Foundation
import Synchronization

/// The protocol's HTTP calls, with retries, decoding, and errors as ``DoorstepError``.
struct ServerAPI: Sendable {
    let transport: any SyncTransport
    let token: String?
    let retry: RetryPolicy
    /// Counts the bytes of bodies sent and received, as they travel (a sync's progress shows them).
    var meter: ByteMeter? = nil
    /// Whether answers are asked for gzip-encoded (protocol 1.5, §18): on, unless measuring without.
    var compression = true
    /// Whether request bodies are sent gzip-encoded: only to a server known to read 1.5.
    var compressBodies = false

    /// The same calls without retries: a request whose answer may be lost after the server acted
    /// on it is followed by a question rather than sent again (file parts, protocol 1.4).
    var sendingOnce: ServerAPI {
        var once = RetryPolicy(maxAttempts: 1, baseDelay: retry.baseDelay, maxDelay: retry.maxDelay)
        once.sleep = retry.sleep
        return ServerAPI(transport: transport, token: token, retry: once, meter: meter, compression: compression, compressBodies: compressBodies)
    }

    /// Sends a request and decodes a 2xx answer; a 4xx becomes the server's error; network errors
    /// and 5xx are retried with backoff, then become `serverUnreachable`.
    func call<T: Decodable>(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
        decodeAlso statuses: Set<Int> = [], as type: T.Type
    ) async throws -> T {
        try await call(method, path, body: body, contentType: contentType, decodeAlso: statuses) { data in try WireCoding.decode(type, from: data) }
    }

    /// As ``call(_:_:body:contentType:decodeAlso:as:)``, reading a 2xx answer with `decode`.
    func call<T>(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
        decodeAlso statuses: Set<Int> = [], decode: (Data) throws -> T
    ) async throws -> T {
        let response = try await exchange(method, path, body: body, contentType: contentType, accepting: statuses)
        do {
            return try decode(response.body)
        } catch {
            throw DoorstepError(.malformedInput, "the server's answer could not be read; is the server address right?")
        }
    }

    /// Sends a request and answers a 2xx (or one of `statuses`) whole, headers included; a 4xx
    /// becomes the server's error; network errors and 5xx are retried with backoff, then become
    /// `serverUnreachable`. Every request says the revision this client reads (protocol 1.4).
    func exchange(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json", headers extra: [String: String] = [:],
        accepting statuses: Set<Int> = []
    ) async throws -> TransportResponse {
        var headers = [
            ProtocolVersion.header: String(ProtocolVersion.current), ProtocolVersion.revisionHeader: ProtocolVersion.revision, "Accept": "application/json",
        ]
        if compression { headers["Accept-Encoding"] = "gzip" }
        for (name, value) in extra { headers[name] = value }
        if let token { headers["Authorization"] = "Bearer \(token)" }
        var body = body
        if let plain = body {
            headers["Content-Type"] = contentType
            // JSON and CSV shrink to a fifth or less; a file's bytes (already compressed) go as they are.
            if compressBodies, plain.count > ContentCoding.minimumBytes, ContentCoding.isCompressible(contentType: contentType),
                let encoded = try? Gzip.compress(plain)
            {
                body = Data(encoded)
                headers["Content-Encoding"] = "gzip"
            }
        }
        var request = TransportRequest(method: method, path: path, headers: headers, body: body)
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let response: TransportResponse
            // The answer's bytes counted as they arrive where the transport tells, the rest at its end.
            let arrived = ByteMeter()
            if let meter {
                request.received = { bytes in
                    arrived.add(bytes)
                    meter.add(bytes)
                }
            }
            do {
                meter?.add(body?.count ?? 0)
                response = try decoded(try await transport.send(request), arrived: arrived.bytes)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // What this attempt moved is lost: the link cut it (the next attempt starts again).
                meter?.addLost(Int64(body?.count ?? 0) + arrived.bytes)
                if attempt >= retry.maxAttempts {
                    throw DoorstepError(
                        .serverUnreachable, "the server did not answer after \(attempt) attempts; your work is kept and will sync later",
                        zh: "无法连接服务器（已尝试 \(attempt) 次）：本机数据已保留，稍后再同步即可；若服务器已换地址，请用 doorstep server set 新地址")
                }
                try await retry.sleep(retry.delay(attempt: attempt, using: &generator))
                continue
            }
            switch response.status {
            case _ where (200..<300).contains(response.status) || statuses.contains(response.status):
                return response
            case 500...:
                if attempt >= retry.maxAttempts {
                    throw DoorstepError(
                        .serverUnreachable, "the server keeps failing (HTTP \(response.status)); your work is kept and will sync later",
                        zh: "无法连接服务器（服务器持续出错，HTTP \(response.status)）：本机数据已保留，稍后再同步即可")
                }
                try await retry.sleep(retry.delay(attempt: attempt, using: &generator))
            default:
                if let body = try? JSONDecoder().decode(ErrorBody.self, from: response.body) {
                    var error = body.doorstepError
                    if error.code == .unsupportedProtocolVersion {
                        error = DoorstepError(.unsupportedProtocolVersion, "this version of Doorstep is too old or too new for the server: \(error.message)")
                    }
                    throw error
                }
                throw DoorstepError(.malformedInput, "the server answered HTTP \(response.status) without an error body; is the server address right?")
            }
        }
    }
}

extension ServerAPI {
    /// The answer with its body decoded, counted as it travelled. An answer in gzip that does
    /// not decode was damaged or cut on the way: a network error (tried again), never data.
    fileprivate func decoded(_ response: TransportResponse, arrived: Int64) throws -> TransportResponse {
        meter?.add(max(0, response.body.count - Int(arrived)))
        guard let coding = response.headers["content-encoding"] else { return response }
        switch ContentCoding.requestCoding(coding) {
        case .identity:
            return response
        case .gzip:
            // A transport that decoded it already (URLSession may) leaves the header: the bytes tell.
            guard response.body.starts(with: [0x1f, 0x8b]) else { return response }
            var decoded = response
            do {
                decoded.body = Data(try Gzip.decompress(response.body, limit: Self.maxAnswerBytes))
            } catch {
                throw UndecodableAnswer()
            }
            decoded.headers["content-encoding"] = nil
            return decoded
        case .unsupported:
            throw UndecodableAnswer()
        }
    }

    /// The largest answer read, decoded (a pull page or a receipt is far smaller).
    static let maxAnswerBytes = 256 * 1024 * 1024
}

/// An answer whose coding could not be undone: treated as a network error.
struct UndecodableAnswer: Error {}

/// Bytes of request and answer bodies, counted as they go.
final class ByteMeter: Sendable {
    private let count = Atomic<Int64>(0)
    private let lostCount = Atomic<Int64>(0)

    func add(_ bytes: Int) { count.add(Int64(bytes), ordering: .relaxed) }

    /// Notes bytes that moved in an attempt the link cut (already counted in ``bytes``).
    func addLost(_ bytes: Int64) { lostCount.add(bytes, ordering: .relaxed) }

    var bytes: Int64 { count.load(ordering: .relaxed) }
    /// The bytes of attempts the link cut.
    var lost: Int64 { lostCount.load(ordering: .relaxed) }
}
