import DoorstepCompression
import DoorstepCore
import HTTPTypes
import Hummingbird
import NIOCore

/// HTTP compression of protocol 1.5 (`protocol/README.md` §18): request bodies sent with
/// `Content-Encoding: zstd` or `gzip` are read decoded (the routes' limits count decoded bytes),
/// and text answers over 1 KiB go out in the coding the request prefers (zstd, else gzip). Files
/// and bundles never.
struct CompressionMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The gzip level answers are compressed at (zstd's is its fastest).
    var level: Int32 = Gzip.defaultLevel
    /// Whether answers are compressed at all (request bodies are decoded either way).
    var compressAnswers = true
    /// The most decoded bytes a request body gives, past which it is refused (the routes refuse
    /// earlier, at their own limits: this bounds what a small body can expand to in any case).
    var maxDecodedBytes: Int
    /// Answers of known length up to this are compressed whole (and sent with their length);
    /// longer ones, and streams, are compressed as they are written.
    static var wholeAnswerBytes: Int { 32 * 1024 * 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        switch ContentCoding.requestCoding(request.headers[.contentEncoding]) {
        case .identity:
            break
        case .coded(let coding):
            // The routes read the decoded body (no route reads the coding or the length headers).
            request.body = RequestBody(asyncSequence: DecodedRequestBody(base: request.body, coding: coding, limit: maxDecodedBytes))
        case .unsupported(let coding):
            var response = JSONResponse.error(
                DoorstepError(
                    .unsupportedMediaType, "the request body's coding \"\(coding)\" is not read here: send it as zstd, gzip or as it is",
                    zh: "服务器不读取编码为「\(coding)」的请求内容：请以 zstd、gzip 或不压缩的方式发送"))
            response.headers[.acceptEncoding] = ContentCoding.acceptEncoding
            return response
        }
        let coding = compressAnswers ? ContentCoding.preferred(request.headers[.acceptEncoding]) : nil
        var response = try await next(request, context)
        guard ContentCoding.isCompressible(contentType: response.headers[.contentType]), response.headers[.contentEncoding] == nil else {
            return response
        }
        if !response.headers[values: .vary].contains(where: { $0.lowercased().contains("accept-encoding") }) {
            response.headers.append(HTTPField(name: .vary, value: "Accept-Encoding"))
        }
        guard let coding, request.method != .head, response.status != .noContent, response.status != .notModified,
            response.status != .partialContent,
            response.status.code >= 200, response.body.contentLength.map({ $0 > ContentCoding.minimumBytes }) ?? true
        else { return response }
        response.headers[.contentEncoding] = coding.rawValue
        response.headers[.contentLength] = nil
        let level = coding == .gzip ? level : nil
        let body = response.body
        if let length = body.contentLength, length <= Self.wholeAnswerBytes {
            // Known and not too long: compressed whole, so the answer says its length (progress).
            let collected = CollectedBody(capacity: length)
            try await body.write(CollectingWriter(target: collected))
            let encoded = try coding.encoder(level: level).finish(collected.buffer)
            response.body = ResponseBody(byteBuffer: encoded)
        } else {
            response.body = ResponseBody { writer in
                let encoder = try coding.encoder(level: level)
                try await body.write(EncodingWriter(parent: writer, encoder: encoder))
            }
        }
        return response
    }
}

/// A request body read through a decoder of its coding; a body that is not of its coding, or
/// decodes past the limit, fails the read with the protocol's error.
struct DecodedRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let coding: ContentEncoding
    let limit: Int

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator(), coding: coding, limit: limit) }

    struct Iterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let coding: ContentEncoding
        let limit: Int
        var decoder: (any BodyDecoder)?
        /// The piece being decoded: what of it the decoder has not read yet.
        var pending = ByteBuffer()
        var done = false

        init(base: RequestBody.AsyncIterator, coding: ContentEncoding, limit: Int) {
            self.base = base
            self.coding = coding
            self.limit = limit
        }

        /// The most decoded bytes given at once: a small body that expands is read (and refused at
        /// the route's limit) a piece at a time, never decoded whole first.
        static var pieceBytes: Int { 64 * 1024 }

        mutating func next() async throws -> ByteBuffer? {
            do {
                if decoder == nil { decoder = try coding.decoder(limit: limit) }
                guard let decoder else { return nil }
                while !done {
                    let output = try decoder.decode(&pending, upTo: Self.pieceBytes)
                    if output.readableBytes > 0 { return output }
                    guard pending.readableBytes == 0 else { throw CodingError.malformed }  // read nothing, gave nothing
                    guard let piece = try await base.next() else {
                        done = true
                        try decoder.finish()
                        return nil
                    }
                    pending = piece
                }
                return nil
            } catch let error as CodingError {
                done = true
                switch error {
                case .tooLarge(let limit):
                    throw DoorstepError(
                        .payloadTooLarge, "the request body decodes to more than \(limit) bytes", zh: "请求内容解压后超过 \(limit) 字节")
                case .malformed, .unavailable:
                    throw DoorstepError(
                        .malformedInput, "the request body says \(coding.rawValue) but does not decode (cut or damaged)",
                        zh: "请求内容标明为 \(coding.rawValue) 压缩，但无法解压（不完整或已损坏）")
                }
            }
        }
    }
}

/// Where ``CollectingWriter`` puts an answer's bytes.
final class CollectedBody: @unchecked Sendable {
    var buffer: ByteBuffer
    init(capacity: Int) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }
}

/// Collects an answer's body (of known, bounded length) to compress it whole.
struct CollectingWriter: ResponseBodyWriter {
    let target: CollectedBody
    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        target.buffer.writeBuffer(&buffer)
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// Compresses an answer's body as it is written.
struct EncodingWriter: ResponseBodyWriter {
    var parent: any ResponseBodyWriter
    let encoder: any BodyEncoder

    mutating func write(_ buffer: ByteBuffer) async throws {
        let encoded = try encoder.encode(buffer)
        if encoded.readableBytes > 0 { try await parent.write(encoded) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        let last = try encoder.finish(ByteBufferAllocator().buffer(capacity: 16))
        var parent = parent
        try await parent.write(last)
        try await parent.finish(trailingHeaders)
    }
}
