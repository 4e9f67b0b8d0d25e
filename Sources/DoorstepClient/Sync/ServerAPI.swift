import DoorstepCompression
import DoorstepCore
package import Foundation
import Synchronization

/// The protocol's HTTP calls, with retries, decoding, and errors as ``DoorstepError``; the
/// package's own (a district relay calls the city with it too).
package struct ServerAPI: Sendable {
    let transport: any SyncTransport
    let token: String?
    let retry: RetryPolicy
    /// Counts the bytes of bodies sent and received, as they travel (a sync's progress shows them).
    var meter: ByteMeter? = nil
    /// Whether answers are asked for compressed (zstd or gzip, protocol 1.5, §18).
    var compression = true
    /// Whether request bodies are sent compressed (zstd): only to a server known to read 1.5.
    var compressBodies = false

    /// Calls through `transport` with `token`; answers asked for compressed with `compression`,
    /// request bodies sent compressed with `compressBodies`.
    package init(
        transport: any SyncTransport, token: String?, retry: RetryPolicy, meter: ByteMeter? = nil, compression: Bool = true,
        compressBodies: Bool = false
    ) {
        self.transport = transport
        self.token = token
        self.retry = retry
        self.meter = meter
        self.compression = compression
        self.compressBodies = compressBodies
    }

    /// The same calls with request bodies sent as they are (a server that no longer reads 1.5).
    var sendingPlain: ServerAPI {
        var plain = self
        plain.compressBodies = false
        return plain
    }

    /// The same calls without retries: a request whose answer may be lost after the server acted
    /// on it is followed by a question rather than sent again (file parts, protocol 1.4).
    package var sendingOnce: ServerAPI {
        var once = RetryPolicy(maxAttempts: 1, baseDelay: retry.baseDelay, maxDelay: retry.maxDelay)
        once.sleep = retry.sleep
        return ServerAPI(transport: transport, token: token, retry: once, meter: meter, compression: compression, compressBodies: compressBodies)
    }

    /// Sends a request and decodes a 2xx answer; a 4xx becomes the server's error; network errors
    /// and 5xx are retried with backoff, then become `serverUnreachable`.
    package func call<T: Decodable>(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json", headers: [String: String] = [:],
        decodeAlso statuses: Set<Int> = [], as type: T.Type
    ) async throws -> T {
        try await call(method, path, body: body, contentType: contentType, headers: headers, decodeAlso: statuses) { data in
            try WireCoding.decode(type, from: data)
        }
    }

    /// As ``call(_:_:body:contentType:decodeAlso:as:)``, reading a 2xx answer with `decode`.
    package func call<T>(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json", headers: [String: String] = [:],
        decodeAlso statuses: Set<Int> = [], resuming page: PageResume? = nil, decode: (Data) throws -> T
    ) async throws -> T {
        let response = try await exchange(method, path, body: body, contentType: contentType, headers: headers, accepting: statuses, resuming: page)
        do {
            return try decode(response.body)
        } catch {
            throw DoorstepError(.malformedInput, "the server's answer could not be read; is the server address right?")
        }
    }

    /// Sends a request and answers a 2xx (or one of `statuses`) whole, headers included; a 4xx
    /// becomes the server's error; network errors and 5xx are retried with backoff, then become
    /// `serverUnreachable`. Every request says the revision this client reads (protocol 1.4).
    package func exchange(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json", headers extra: [String: String] = [:],
        accepting statuses: Set<Int> = [], resuming page: PageResume? = nil
    ) async throws -> TransportResponse {
        // A page cut on the way: its id and the bytes that came, asked again from there (§18),
        // from an earlier sync too; what came is kept if the request ends without the rest.
        let held = HeldPage(page?.held)
        do {
            let response = try await exchange(method, path, body: body, contentType: contentType, headers: extra, accepting: statuses, held: held)
            if page?.held != nil { await page?.keep(nil) }
            return response
        } catch {
            // What came is kept; bytes held from before that proved useless are forgotten.
            if let page, let answer = held.answer {
                await page.keep(answer)
            } else if page?.held != nil {
                await page?.keep(nil)
            }
            throw error
        }
    }

    private func exchange(
        _ method: String, _ path: String, body: Data?, contentType: String, headers extra: [String: String],
        accepting statuses: Set<Int>, held page: HeldPage
    ) async throws -> TransportResponse {
        var headers = [
            ProtocolVersion.header: String(ProtocolVersion.current), ProtocolVersion.revisionHeader: ProtocolVersion.revision, "Accept": "application/json",
        ]
        if compression { headers["Accept-Encoding"] = ContentCoding.acceptEncoding }
        for (name, value) in extra { headers[name] = value }
        if let token { headers["Authorization"] = "Bearer \(token)" }
        var body = body
        if let plain = body {
            headers["Content-Type"] = contentType
            // JSON and CSV shrink to a tenth or less; a file's bytes (already compressed) go as they are.
            if compressBodies, plain.count > ContentCoding.minimumBytes, ContentCoding.isCompressible(contentType: contentType),
                let encoded = try? ContentEncoding.zstd.compress(plain)
            {
                body = Data(encoded)
                headers["Content-Encoding"] = ContentEncoding.zstd.rawValue
            }
        }
        var request = TransportRequest(method: method, path: path, headers: headers, body: body)
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        var held: (id: String, answer: PartialAnswer)? = page.answer.flatMap { answer in answer.headers["doorstep-page"].map { ($0, answer) } }
        defer { page.answer = held?.answer }
        var resumed = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            // Asked from the byte held, or (nothing held, or no longer) the whole page.
            request.headers["Range"] = held.map { "bytes=\($0.answer.body.count)-" }
            request.headers["Doorstep-Page"] = held?.id
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
                let answer = try await transport.send(request)
                meter?.add(max(0, answer.body.count - Int(arrived.bytes)))
                response = try decoded(Self.joined(answer, to: held?.answer))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if let partial = error as? PartialAnswer, let id = partial.headers["doorstep-page"] {
                    meter?.add(max(0, partial.body.count - Int(arrived.bytes)))
                    if let joined = Self.joined(partial, to: held?.answer), joined.body.count <= Self.maxAnswerBytes {
                        // Kept: the next attempt asks for the rest, nothing that came is lost. An
                        // attempt that brought a good part of the page does not count as failed.
                        if joined.body.count - (held?.answer.body.count ?? 0) >= Self.progressBytes, resumed < Self.maxResumes {
                            attempt -= 1
                            resumed += 1
                        }
                        held = (id, joined)
                    } else {
                        held = nil
                        meter?.addLost(Int64(partial.body.count))
                    }
                } else {
                    // What this attempt moved is lost: the link cut it (the next attempt starts again).
                    meter?.addLost(Int64(body?.count ?? 0) + arrived.bytes)
                    if error is UndecodableAnswer { held = nil }
                }
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
    /// An answer whole again: a `206` appended to the bytes held up to its first byte (which may
    /// be before the end of what is held: the page's clock, which changed); a `200` as it is (the
    /// server sent the page whole). `nil` for a `206` that does not fit.
    static func joined(_ answer: PartialAnswer, to held: PartialAnswer?) -> PartialAnswer? {
        switch answer.status {
        case 200: return answer
        case 206:
            guard let held, let start = contentRangeStart(answer.headers["content-range"]), start > 0, start <= held.body.count,
                answer.headers["doorstep-page"] == held.headers["doorstep-page"]
            else { return nil }
            var whole = held
            whole.body = held.body.prefix(start) + answer.body
            return whole
        default: return nil
        }
    }

    /// As ``joined(_:to:)`` for a whole answer: a `206` that does not fit the bytes held is a
    /// network error (asked again whole).
    static func joined(_ answer: TransportResponse, to held: PartialAnswer?) throws -> TransportResponse {
        guard answer.status == 206 else { return answer }
        guard let whole = joined(PartialAnswer(status: 206, headers: answer.headers, body: answer.body), to: held) else { throw UndecodableAnswer() }
        return TransportResponse(status: 200, body: whole.body, headers: whole.headers)
    }

    /// The first byte of a `Content-Range: bytes a-b/n` header.
    static func contentRangeStart(_ header: String?) -> Int? {
        guard let header, header.hasPrefix("bytes "), let dash = header.firstIndex(of: "-") else { return nil }
        return Int(header[header.index(header.startIndex, offsetBy: 6)..<dash])
    }

    fileprivate func decoded(_ response: TransportResponse) throws -> TransportResponse {
        guard let coding = response.headers["content-encoding"] else { return response }
        switch ContentCoding.requestCoding(coding) {
        case .identity:
            return response
        case .coded(let coding):
            // A transport that decoded it already (URLSession may) leaves the header: the bytes tell.
            guard response.body.starts(with: coding.magic) else { return response }
            // A coding this client did not ask for is refused (§18), not read.
            guard compression else { throw UndecodableAnswer() }
            var decoded = response
            do {
                decoded.body = Data(try coding.decompress(response.body, limit: Self.maxAnswerBytes))
            } catch {
                throw UndecodableAnswer()
            }
            decoded.headers["content-encoding"] = nil
            return decoded
        case .unsupported:
            throw UndecodableAnswer()
        }
    }

    /// A cut attempt that brought at least this much of a page is not counted among the failed
    /// ones (at most ``maxResumes`` times per request): a link that cuts often still gets there.
    static let progressBytes = 4096
    static let maxResumes = 1000

    /// The largest answer read, decoded (a pull page or a receipt is far smaller).
    static let maxAnswerBytes = 256 * 1024 * 1024
}

/// A pull page cut on the way in an earlier sync, and where to keep what comes of it now.
package struct PageResume: Sendable {
    /// The bytes that came (`nil`: none yet).
    var held: PartialAnswer?
    /// Keeps what came when the request ends without the rest (`nil`: the page came whole).
    var keep: @Sendable (PartialAnswer?) async -> Void

    package init(held: PartialAnswer?, keep: @escaping @Sendable (PartialAnswer?) async -> Void) {
        self.held = held
        self.keep = keep
    }
}

/// The bytes of a page held across a request's attempts.
final class HeldPage: @unchecked Sendable {
    var answer: PartialAnswer?
    init(_ answer: PartialAnswer?) { self.answer = answer }
}

/// An answer whose coding could not be undone: treated as a network error.
struct UndecodableAnswer: Error {}

/// Bytes of request and answer bodies, counted as they go.
package final class ByteMeter: Sendable {
    private let count = Atomic<Int64>(0)
    private let lostCount = Atomic<Int64>(0)

    func add(_ bytes: Int) { count.add(Int64(bytes), ordering: .relaxed) }

    /// Notes bytes that moved in an attempt the link cut (already counted in ``bytes``).
    func addLost(_ bytes: Int64) { lostCount.add(bytes, ordering: .relaxed) }

    var bytes: Int64 { count.load(ordering: .relaxed) }
    /// The bytes of attempts the link cut.
    var lost: Int64 { lostCount.load(ordering: .relaxed) }
}
