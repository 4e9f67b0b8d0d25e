import CZstd
public import NIOCore

/// Zstandard (RFC 8878) through the system's libzstd: protocol 1.5's preferred coding, a third
/// fewer bytes than gzip on Doorstep's JSON at several times its speed (`BENCHMARKS.md`).
public final class ZstdEncoder: BodyEncoder {
    private let context: OpaquePointer
    private let allocator = ByteBufferAllocator()
    private var finished = false

    /// An encoder at `level` (1, fastest, … 19).
    public init(level: Int32 = 1) throws(CodingError) {
        guard let context = ZSTD_createCCtx() else { throw .unavailable }
        self.context = context
        // With the frame's checksum: a damaged body is refused, not read as other bytes.
        guard ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, max(1, min(19, level)))) == 0,
            ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)) == 0
        else { throw .unavailable }
    }

    deinit { ZSTD_freeCCtx(context) }

    public func encode(_ input: ByteBuffer) throws -> ByteBuffer { try run(input, ZSTD_e_continue) }
    public func flush(_ input: ByteBuffer) throws -> ByteBuffer { try run(input, ZSTD_e_flush) }
    public func finish(_ input: ByteBuffer) throws -> ByteBuffer {
        let output = try run(input, ZSTD_e_end)
        finished = true
        return output
    }

    private func run(_ input: ByteBuffer, _ mode: ZSTD_EndDirective) throws(CodingError) -> ByteBuffer {
        guard !finished else { throw .unavailable }
        var output = allocator.buffer(capacity: max(256, min(input.readableBytes / 4, 1 << 20)))
        var failed = false
        input.withUnsafeReadableBytes { bytes in
            var source = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            while true {
                var left = 0
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { space in
                    var target = ZSTD_outBuffer(dst: space.baseAddress, size: space.count, pos: 0)
                    let result = ZSTD_compressStream2(context, &target, &source, mode)
                    if ZSTD_isError(result) != 0 {
                        failed = true
                        return 0
                    }
                    left = result
                    return target.pos
                }
                if failed { return }
                // Go on until the input is read and, for a flush or an end, zstd holds nothing back.
                if source.pos < source.size { continue }
                if mode != ZSTD_e_continue && left != 0 { continue }
                return
            }
        }
        if failed { throw .malformed }
        return output
    }
}

/// Decodes one zstd frame arriving in pieces, refusing more than `limit` decoded bytes.
public final class ZstdDecoder: BodyDecoder {
    private let context: OpaquePointer
    public let limit: Int
    public private(set) var decoded = 0
    private var ended = false

    /// The largest window a frame may ask for (8 MiB): bounds the decoder's memory whatever a
    /// body says (Doorstep's encoders use at most 2 MiB).
    static let windowLogMax: Int32 = 23

    /// A decoder that refuses more than `limit` decoded bytes.
    public init(limit: Int) throws(CodingError) {
        guard let context = ZSTD_createDCtx() else { throw .unavailable }
        self.context = context
        self.limit = limit
        guard ZSTD_isError(ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)) == 0 else { throw .unavailable }
    }

    deinit { ZSTD_freeDCtx(context) }

    public func step(_ input: inout ByteBuffer, into output: inout ByteBuffer) throws(CodingError) -> Bool {
        // Bytes after the frame: not one zstd body.
        if ended && input.readableBytes > 0 { throw .malformed }
        guard output.writableBytes > 0 else { return true }
        var failed = false
        var full = false
        var read = 0
        input.withUnsafeReadableBytes { bytes in
            var source = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { space in
                var target = ZSTD_outBuffer(dst: space.baseAddress, size: space.count, pos: 0)
                let result = ZSTD_decompressStream(context, &target, &source)
                if ZSTD_isError(result) != 0 {
                    failed = true
                    return 0
                }
                if result == 0 { ended = true }
                full = target.pos == target.size
                return target.pos
            }
            read = source.pos
        }
        if failed { throw .malformed }
        input.moveReaderIndex(forwardBy: read)
        return full
    }

    public func count(_ count: Int) throws(CodingError) {
        decoded += count
        if decoded > limit { throw .tooLarge(limit: limit) }
    }

    public func finish() throws(CodingError) {
        guard ended else { throw .malformed }
    }
}
