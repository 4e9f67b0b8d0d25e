import CompressNIO
public import NIOCore

/// Why a compressed body could not be read (or a coder could not be made).
public enum CodingError: Error, Equatable, Sendable {
    /// The decoded bytes passed the limit the reader set (a small body that expands without end).
    case tooLarge(limit: Int)
    /// Not of its coding, damaged, or cut before its end.
    case malformed
    /// The coder could not be made (out of memory) or was used after its end.
    case unavailable
}

/// Compresses a stream of buffers into one gzip member or zstd frame.
public protocol BodyEncoder: AnyObject {
    /// Compresses `input`; answers the bytes ready so far (the coder may keep some back).
    func encode(_ input: ByteBuffer) throws -> ByteBuffer
    /// Compresses `input` and gives out everything so far, so that the bytes given up to here
    /// depend on nothing written after (a page's fixed part, protocol 1.5 §18).
    func flush(_ input: ByteBuffer) throws -> ByteBuffer
    /// Compresses `input` and ends the member or frame.
    func finish(_ input: ByteBuffer) throws -> ByteBuffer
}

/// Decodes one compressed body arriving in pieces, refusing more than a limit of decoded bytes.
public protocol BodyDecoder: AnyObject {
    /// The largest number of decoded bytes this decoder gives.
    var limit: Int { get }
    /// How many decoded bytes it gave so far.
    var decoded: Int { get }
    /// Decodes from `input` into `output`'s free space (at least one byte), consuming what it
    /// read; whether `output` was filled (more may come, even of no more input).
    func step(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(CodingError) -> Bool
    /// Notes `count` more decoded bytes given out, refusing past the limit.
    func count(_ count: Int) throws(CodingError)
    /// Checks that the body ended (it was not cut short).
    func finish() throws(CodingError)
}

extension BodyDecoder {
    /// Decodes the next piece of the body whole: the bytes it holds (possibly none yet).
    public func decode(_ input: ByteBuffer) throws(CodingError) -> ByteBuffer {
        var input = input
        var output = ByteBufferAllocator().buffer(capacity: min(max(4096, input.readableBytes * 4), 1 << 20))
        guard input.readableBytes > 0 else { return output }
        var full = false
        // Until the piece is read and the coder has nothing more to give for it.
        repeat {
            output.reserveCapacity(minimumWritableBytes: 64 * 1024)
            let before = output.readableBytes
            full = try step(&input, into: &output)
            try count(output.readableBytes - before)
        } while input.readableBytes > 0 || full
        return output
    }

    /// Decodes from `input` at most `maximum` bytes (so a small body never makes a large buffer),
    /// leaving in `input` what it did not read; empty when it needs more input.
    public func decode(_ input: inout ByteBuffer, upTo maximum: Int) throws(CodingError) -> ByteBuffer {
        var output = ByteBufferAllocator().buffer(capacity: max(1, maximum))
        while output.readableBytes < maximum {
            let before = (output.readableBytes, input.readableBytes)
            let full = try step(&input, into: &output)
            try count(output.readableBytes - before.0)
            if full || input.readableBytes == 0 { break }
            // Nothing read and nothing given: the coder cannot go on with these bytes.
            if output.readableBytes == before.0 && input.readableBytes == before.1 { throw .malformed }
        }
        return output
    }
}

/// gzip (RFC 1952) through zlib: the HTTP bodies of protocol 1.5 (`protocol/README.md` §18) for
/// a peer that does not read zstd, and compressed bundles (§14). Whole bodies:
/// `ContentEncoding.gzip.compress` and `decompress`.
public enum Gzip {
    /// The level answers and request bodies are compressed at: the fastest.
    public static let defaultLevel: Int32 = 1
}

/// Compresses a stream of buffers into one gzip member.
public final class GzipEncoder: BodyEncoder {
    private let compressor: ZlibCompressor
    private let allocator = ByteBufferAllocator()
    private var finished = false

    /// An encoder at `level` (1, fastest, … 9, smallest).
    public init(level: Int32 = Gzip.defaultLevel) throws {
        compressor = try ZlibCompressor(
            algorithm: .gzip, configuration: ZlibConfiguration(compressionLevel: max(1, min(9, level))))
    }

    public func encode(_ input: ByteBuffer) throws -> ByteBuffer { try run(input, .no) }
    public func flush(_ input: ByteBuffer) throws -> ByteBuffer { try run(input, .sync) }
    public func finish(_ input: ByteBuffer) throws -> ByteBuffer {
        let output = try run(input, .finish)
        finished = true
        return output
    }

    private func run(_ input: ByteBuffer, _ mode: CompressNIOFlush) throws -> ByteBuffer {
        guard !finished else { throw CodingError.unavailable }
        if input.readableBytes == 0 && mode == .no { return allocator.buffer(capacity: 0) }
        // zlib is handed the readable bytes' address: never that of a buffer with no storage.
        var input = input.readableBytes > 0 ? input : allocator.buffer(capacity: 16)
        var output = allocator.buffer(capacity: max(64, min(input.readableBytes / 2, 1 << 20)))
        while true {
            do {
                try compressor.deflate(from: &input, to: &output, flush: mode)
                switch mode {
                case .finish: return output  // the member ended (zlib said so)
                case .sync: if input.readableBytes == 0 && output.writableBytes > 0 { return output }
                case .no: if input.readableBytes == 0 { return output }
                }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The output is full: give it more room and go on.
            }
            output.reserveCapacity(minimumWritableBytes: 64 * 1024)
        }
    }
}

/// Decodes one gzip member arriving in pieces, refusing more than `limit` decoded bytes.
public final class GzipDecoder: BodyDecoder {
    private let decompressor: ZlibDecompressor
    private let allocator = ByteBufferAllocator()
    public let limit: Int
    public private(set) var decoded = 0
    private var ended = false

    /// A decoder that refuses more than `limit` decoded bytes.
    public init(limit: Int) throws(CodingError) {
        self.limit = limit
        do {
            decompressor = try ZlibDecompressor(algorithm: .gzip)
        } catch {
            throw .unavailable
        }
    }

    public func step(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(CodingError) -> Bool {
        if ended {
            // Bytes after the end of the member: not one gzip body.
            if input.readableBytes > 0 { throw .malformed }
            return false
        }
        guard output.writableBytes > 0 else { return true }
        // zlib is handed the readable bytes' address: never that of a buffer with no storage.
        var source = input.readableBytes > 0 ? input : allocator.buffer(capacity: 16)
        var full = false
        do {
            try decompressor.inflate(from: &source, to: &output)
            // No error: the input is all read, or the member ended with bytes after it.
            if source.readableBytes > 0 { ended = true }
        } catch let error as CompressNIOError {
            switch error {
            case .bufferOverflow: full = true  // output full: more may come
            case .inputBufferOverflow: full = false  // everything read: waits for more input
            default: throw .malformed
            }
        } catch {
            throw .malformed
        }
        if input.readableBytes > 0 { input = source }
        return full
    }

    public func count(_ count: Int) throws(CodingError) {
        decoded += count
        if decoded > limit { throw .tooLarge(limit: limit) }
    }

    public func finish() throws(CodingError) {
        if ended { return }
        var empty = allocator.buffer(capacity: 16)
        var output = allocator.buffer(capacity: 16)
        do {
            try decompressor.inflate(from: &empty, to: &output)
        } catch {
            throw .malformed
        }
        // Whatever zlib still held would have been given out by decode: a byte now is a defect.
        guard output.readableBytes == 0 else { throw .malformed }
        ended = true
    }
}

/// The content codings of protocol 1.5 (`protocol/README.md` §18), best first.
public enum ContentEncoding: String, Sendable, CaseIterable {
    case zstd
    case gzip

    /// An encoder at this coding's fast level (zstd 1, gzip 1), or `level`.
    public func encoder(level: Int32? = nil) throws -> any BodyEncoder {
        switch self {
        case .zstd: try ZstdEncoder(level: level ?? 1)
        case .gzip: try GzipEncoder(level: level ?? Gzip.defaultLevel)
        }
    }

    /// A decoder refusing more than `limit` decoded bytes.
    public func decoder(limit: Int) throws(CodingError) -> any BodyDecoder {
        switch self {
        case .zstd: try ZstdDecoder(limit: limit)
        case .gzip: try GzipDecoder(limit: limit)
        }
    }

    /// The first bytes of every body of this coding (a gzip member, a zstd frame).
    public var magic: [UInt8] {
        switch self {
        case .zstd: [0x28, 0xB5, 0x2F, 0xFD]
        case .gzip: [0x1F, 0x8B]
        }
    }

    /// `bytes` in this coding.
    public func compress(_ bytes: some Collection<UInt8>, level: Int32? = nil) throws -> [UInt8] {
        Array(try encoder(level: level).finish(ByteBuffer(bytes: bytes)).readableBytesView)
    }

    /// The bytes a whole body of this coding holds, refused past `limit` decoded bytes.
    public func decompress(_ bytes: some Collection<UInt8>, limit: Int) throws(CodingError) -> [UInt8] {
        let decoder = try decoder(limit: limit)
        let output = try decoder.decode(ByteBuffer(bytes: bytes))
        try decoder.finish()
        return Array(output.readableBytesView)
    }
}
