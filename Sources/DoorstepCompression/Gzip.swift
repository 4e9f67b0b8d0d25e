import CompressNIO
public import NIOCore

/// Why a gzip body could not be read.
public enum GzipError: Error, Equatable, Sendable {
    /// The decoded bytes passed the limit the reader set (a small body that expands without end).
    case tooLarge(limit: Int)
    /// Not gzip, damaged, or cut before its end.
    case malformed
}

/// gzip (RFC 1952) through zlib, in one go or a stream at a time: the HTTP bodies of protocol 1.5
/// (`protocol/README.md` §18).
public enum Gzip {
    /// The level answers and request bodies are compressed at: fast (a few ms of CPU per MiB of
    /// JSON), and within a few per cent of the default level's size on Doorstep's JSON.
    public static let defaultLevel: Int32 = 1

    /// The gzip form of `bytes`.
    public static func compress(_ bytes: ByteBuffer, level: Int32 = defaultLevel) throws -> ByteBuffer {
        let encoder = try GzipEncoder(level: level)
        return try encoder.encode(bytes, finish: true)
    }

    /// The gzip form of `bytes`.
    public static func compress(_ bytes: some Collection<UInt8>, level: Int32 = defaultLevel) throws -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let encoded = try compress(buffer, level: level)
        return Array(encoded.readableBytesView)
    }

    /// The bytes a whole gzip body holds, refused past `limit` decoded bytes.
    public static func decompress(_ bytes: ByteBuffer, limit: Int) throws(GzipError) -> ByteBuffer {
        let decoder = try GzipDecoder(limit: limit)
        var output = try decoder.decode(bytes)
        try decoder.finish()
        output.reserveCapacity(output.readableBytes)
        return output
    }

    /// The bytes a whole gzip body holds, refused past `limit` decoded bytes.
    public static func decompress(_ bytes: some Collection<UInt8>, limit: Int) throws(GzipError) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return Array(try decompress(buffer, limit: limit).readableBytesView)
    }
}

/// Compresses a stream of buffers into one gzip member.
public final class GzipEncoder {
    private let compressor: ZlibCompressor
    private let allocator = ByteBufferAllocator()
    private var finished = false

    /// An encoder at `level` (1, fastest, … 9, smallest).
    public init(level: Int32 = Gzip.defaultLevel) throws {
        compressor = try ZlibCompressor(
            algorithm: .gzip, configuration: ZlibConfiguration(compressionLevel: max(1, min(9, level))))
    }

    /// Compresses `input` and gives out everything it holds so far, byte-aligned (a zlib sync
    /// flush): the bytes given up to here depend on nothing written after (a page's fixed part,
    /// protocol 1.5 §18).
    public func flush(_ input: ByteBuffer) throws -> ByteBuffer {
        guard !finished else { throw CompressNIOError.uninitializedStream }
        var input = input.readableBytes > 0 ? input : allocator.buffer(capacity: 16)
        var output = allocator.buffer(capacity: max(64, min(input.readableBytes / 2, 1 << 20)))
        while true {
            do {
                try compressor.deflate(from: &input, to: &output, flush: .sync)
                // Done when zlib had room to spare: all input read and all output given.
                if input.readableBytes == 0 && output.writableBytes > 0 { return output }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The output is full: give it more room and go on.
            }
            output.reserveCapacity(minimumWritableBytes: 64 * 1024)
        }
    }

    /// Compresses `input`, and with `finish` ends the member; answers the gzip bytes ready so far
    /// (zlib keeps some back until it has enough, or until the finish).
    public func encode(_ input: ByteBuffer, finish: Bool = false) throws -> ByteBuffer {
        guard !finished else { throw CompressNIOError.uninitializedStream }
        // zlib is handed the readable bytes' address: never that of a buffer with no storage.
        var input = input.readableBytes > 0 ? input : allocator.buffer(capacity: 16)
        var output = allocator.buffer(capacity: max(64, min(input.readableBytes / 2, 1 << 20)))
        while true {
            if input.readableBytes == 0 && !finish { return output }
            do {
                try compressor.deflate(from: &input, to: &output, flush: finish ? .finish : .no)
                if finish {
                    finished = true
                    return output
                }
                if input.readableBytes == 0 { return output }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The output is full: give it more room and go on.
            }
            output.reserveCapacity(minimumWritableBytes: 64 * 1024)
        }
    }
}

/// Decodes one gzip member arriving in pieces, refusing more than `limit` decoded bytes.
public final class GzipDecoder {
    private let decompressor: ZlibDecompressor
    private let allocator = ByteBufferAllocator()
    /// The largest number of decoded bytes this decoder gives.
    public let limit: Int
    /// How many decoded bytes it gave so far.
    public private(set) var decoded = 0
    private var ended = false

    /// A decoder that refuses more than `limit` decoded bytes.
    public init(limit: Int) throws(GzipError) {
        self.limit = limit
        do {
            decompressor = try ZlibDecompressor(algorithm: .gzip)
        } catch {
            throw .malformed
        }
    }

    /// Decodes the next piece of the body: the bytes it holds (possibly none yet).
    public func decode(_ input: ByteBuffer) throws(GzipError) -> ByteBuffer {
        guard input.readableBytes > 0 else { return allocator.buffer(capacity: 0) }
        var input = input
        var output = allocator.buffer(capacity: min(max(4096, input.readableBytes * 4), 1 << 20))
        let before = decoded
        // Until every byte of the piece is read, and zlib has nothing more to give for it.
        var pending = input.readableBytes > 0
        while pending {
            // Bytes after the end of the member: not one gzip body.
            if ended { throw .malformed }
            output.reserveCapacity(minimumWritableBytes: 16 * 1024)
            do {
                try decompressor.inflate(from: &input, to: &output)
                // No error: the input is all read, or the member ended with bytes after it.
                if input.readableBytes > 0 { ended = true }
                pending = input.readableBytes > 0
            } catch let error as CompressNIOError {
                switch error {
                case .bufferOverflow: pending = true  // output full: more may come
                case .inputBufferOverflow: pending = false  // everything read: waits for more input
                default: throw .malformed
                }
            } catch {
                throw .malformed
            }
            decoded = before + output.readableBytes
            if decoded > limit { throw .tooLarge(limit: limit) }
        }
        return output
    }

    /// Checks that the member ended (the body was not cut short).
    public func finish() throws(GzipError) {
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
