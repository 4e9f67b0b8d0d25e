import DoorstepCompression
import NIOCore
import Testing

/// zstd and gzip of protocol 1.5's bodies: whole and in pieces, refusing what is cut, damaged or
/// too large; and which coding a request's headers ask for.
@Suite struct CodingTests {
    /// Seeded JSON-like text: what Doorstep's bodies look like (keys repeated, ids random).
    static func sample(records: Int, seed: UInt64 = 7) -> [UInt8] {
        var state = seed
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var text = "{\"households\":["
        for n in 0..<records {
            text += "{\"id\":\"\(String(next(), radix: 16))-\(String(next(), radix: 16))\",\"monthlyIncomeFen\":\(next() % 500_000),"
            text += "\"name\":\"王秀英\(n)\",\"district\":\"150602\",\"visits\":[\"\(String(next(), radix: 36))\"]},"
        }
        return Array((text + "{}]}").utf8)
    }

    @Test(arguments: ContentEncoding.allCases)
    func wholeBodies_roundTrip_andShrink(coding: ContentEncoding) throws {
        let plain = Self.sample(records: 2000)
        let encoded = try coding.compress(plain)
        #expect(encoded.starts(with: coding.magic))
        #expect(encoded.count * 3 < plain.count, "\(encoded.count) of \(plain.count)")
        #expect(try coding.decompress(encoded, limit: plain.count) == plain)
        #expect(try coding.compress(plain) == encoded, "the same bytes each time")
        #expect(try coding.decompress(try coding.compress([UInt8]()), limit: 0) == [])
    }

    @Test(arguments: ContentEncoding.allCases, [1, 7, 100, 4096, 100_000])
    func piecesOfAnySize_decodeToTheSameBytes(coding: ContentEncoding, piece: Int) throws {
        let plain = Self.sample(records: 3000, seed: UInt64(piece))
        // Encoded in pieces too (a flush halfway), then decoded in pieces of another size.
        let encoder = try coding.encoder()
        var encoded: [UInt8] = []
        var offset = 0
        while offset < plain.count {
            let end = min(plain.count, offset + 3 * piece + 1)
            let chunk = ByteBuffer(bytes: plain[offset..<end])
            let flushNow = offset < plain.count / 2 && end >= plain.count / 2
            encoded += Array((flushNow ? try encoder.flush(chunk) : try encoder.encode(chunk)).readableBytesView)
            offset = end
        }
        encoded += Array(try encoder.finish(ByteBuffer()).readableBytesView)
        let decoder = try coding.decoder(limit: plain.count)
        var decoded: [UInt8] = []
        offset = 0
        while offset < encoded.count {
            let end = min(encoded.count, offset + piece)
            decoded += Array(try decoder.decode(ByteBuffer(bytes: encoded[offset..<end])).readableBytesView)
            offset = end
        }
        try decoder.finish()
        #expect(decoded == plain)
        #expect(decoder.decoded == plain.count)
    }

    /// What a flush gave depends on nothing after it: two bodies that share a beginning share the
    /// bytes up to their flush (a page resumed from its fixed part, protocol 1.5 §18).
    @Test(arguments: ContentEncoding.allCases)
    func theBytesBeforeAFlush_dependOnNothingAfter(coding: ContentEncoding) throws {
        let fixed = Self.sample(records: 500)
        let first = try coding.encoder()
        let second = try coding.encoder()
        let a = try first.flush(ByteBuffer(bytes: fixed))
        let b = try second.flush(ByteBuffer(bytes: fixed))
        #expect(a == b)
        var whole = a
        var tail = try first.finish(ByteBuffer(bytes: Array(",\"serverClock\":\"0171970c54e00002\"}".utf8)))
        whole.writeBuffer(&tail)
        #expect(try coding.decompress(Array(whole.readableBytesView), limit: 1 << 24) == fixed + Array(",\"serverClock\":\"0171970c54e00002\"}".utf8))
    }

    @Test(arguments: ContentEncoding.allCases)
    func aCutBody_isRefused_atItsEnd(coding: ContentEncoding) throws {
        let encoded = try coding.compress(Self.sample(records: 500))
        for cut in [1, 8, encoded.count / 2, encoded.count - 1] {
            #expect(throws: CodingError.malformed, "cut after \(cut) bytes") { try coding.decompress(encoded.prefix(cut), limit: 1 << 24) }
        }
    }

    @Test(arguments: ContentEncoding.allCases)
    func damagedOrForeignBytes_areRefused(coding: ContentEncoding) throws {
        var encoded = try coding.compress(Self.sample(records: 500))
        encoded[encoded.count / 2] ^= 0xFF
        #expect(throws: CodingError.self) { try coding.decompress(encoded, limit: 1 << 24) }
        #expect(throws: CodingError.malformed) { try coding.decompress(Array("{\"device\":\"x\"}".utf8), limit: 1 << 24) }
        let whole = try coding.compress(Self.sample(records: 10))
        #expect(throws: CodingError.malformed, "bytes after the body") { try coding.decompress(whole + [1, 2, 3], limit: 1 << 24) }
    }

    @Test(arguments: ContentEncoding.allCases)
    func aBodyThatExpands_isRefusedAtTheLimit_notHeldWhole(coding: ContentEncoding) throws {
        let bomb = try coding.compress([UInt8](repeating: 0x20, count: 64 * 1024 * 1024), level: 9)
        #expect(bomb.count < 100_000)
        let decoder = try coding.decoder(limit: 1024 * 1024)
        #expect(throws: CodingError.tooLarge(limit: 1024 * 1024)) { _ = try decoder.decode(ByteBuffer(bytes: bomb)) }
        #expect(decoder.decoded < 3 * 1024 * 1024, "stopped near the limit: \(decoder.decoded)")
    }

    /// Read a piece at a time, a body that expands gives at most the piece asked for each time:
    /// the server's routes refuse it at their own limit, never after decoding it whole.
    @Test(arguments: ContentEncoding.allCases)
    func aBodyThatExpands_isGivenAPieceAtATime(coding: ContentEncoding) throws {
        let bomb = try coding.compress([UInt8](repeating: 0x20, count: 16 * 1024 * 1024), level: 9)
        let decoder = try coding.decoder(limit: 64 * 1024 * 1024)
        var input = ByteBuffer(bytes: bomb)
        var total = 0
        for _ in 0..<8 {
            let piece = try decoder.decode(&input, upTo: 64 * 1024)
            #expect(piece.readableBytes > 0 && piece.readableBytes <= 128 * 1024, "\(piece.readableBytes)")
            total += piece.readableBytes
        }
        #expect(total <= 8 * 128 * 1024 && decoder.decoded == total)
        // The rest, a piece at a time, to its end: the whole body, exactly.
        while true {
            let piece = try decoder.decode(&input, upTo: 1024 * 1024)
            if piece.readableBytes == 0 && input.readableBytes == 0 { break }
            total += piece.readableBytes
        }
        try decoder.finish()
        #expect(total == 16 * 1024 * 1024)
    }

    @Test func acceptEncoding_isReadAsRFC9110Says() {
        #expect(ContentCoding.preferred("gzip") == .gzip)
        #expect(ContentCoding.preferred("zstd, gzip") == .zstd)
        #expect(ContentCoding.preferred("gzip, zstd") == .zstd, "zstd on a tie")
        #expect(ContentCoding.preferred("gzip;q=1, zstd;q=0.5") == .gzip)
        #expect(ContentCoding.preferred("deflate, gzip;q=0.5") == .gzip)
        #expect(ContentCoding.preferred("br;q=1.0, GZIP") == .gzip)
        #expect(ContentCoding.preferred("*") == .zstd)
        #expect(ContentCoding.preferred("zstd;q=0, *") == .gzip)
        #expect(ContentCoding.preferred("gzip;q=0") == nil)
        #expect(ContentCoding.preferred("gzip;q=0.000, *;q=0") == nil)
        #expect(ContentCoding.preferred("identity") == nil)
        #expect(ContentCoding.preferred(nil) == nil)
        #expect(ContentCoding.preferred("br, deflate") == nil)
    }

    @Test func contentEncoding_ofARequest() {
        #expect(ContentCoding.requestCoding(nil) == .identity)
        #expect(ContentCoding.requestCoding("identity") == .identity)
        #expect(ContentCoding.requestCoding(" gzip ") == .coded(.gzip))
        #expect(ContentCoding.requestCoding("zstd") == .coded(.zstd))
        #expect(ContentCoding.requestCoding("br") == .unsupported("br"))
        #expect(ContentCoding.requestCoding("gzip, gzip") == .unsupported("gzip, gzip"))
    }

    @Test func textCompresses_filesDoNot() {
        for type in [
            "application/json; charset=utf-8", "text/csv; charset=utf-8", "application/yaml", "text/html", "text/plain; version=0.0.4", "image/svg+xml",
        ] {
            #expect(ContentCoding.isCompressible(contentType: type), "\(type)")
        }
        for type in ["image/jpeg", "image/png", "image/heic", "application/pdf", "application/octet-stream", "application/offset+octet-stream"] {
            #expect(!ContentCoding.isCompressible(contentType: type), "\(type)")
        }
        #expect(!ContentCoding.isCompressible(contentType: nil))
    }
}
