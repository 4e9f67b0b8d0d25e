import DoorstepCompression
import NIOCore
import Testing

/// gzip of protocol 1.5's bodies: whole and in pieces, refusing what is cut, damaged or too large.
@Suite struct GzipTests {
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

    @Test func wholeBodies_roundTrip_andShrink() throws {
        let plain = Self.sample(records: 2000)
        let encoded = try Gzip.compress(plain)
        #expect(encoded.starts(with: [0x1f, 0x8b]), "a gzip member")
        #expect(encoded.count * 3 < plain.count, "\(encoded.count) of \(plain.count)")
        #expect(try Gzip.decompress(encoded, limit: plain.count) == plain)
        #expect(try Gzip.compress(plain) == encoded, "the same bytes each time")
        #expect(try Gzip.decompress(try Gzip.compress([UInt8]()), limit: 0) == [])
    }

    @Test(arguments: [1, 7, 100, 4096, 100_000])
    func piecesOfAnySize_decodeToTheSameBytes(piece: Int) throws {
        let plain = Self.sample(records: 3000, seed: UInt64(piece))
        // Encoded in pieces too, then decoded in pieces of another size.
        let encoder = try GzipEncoder()
        var encoded: [UInt8] = []
        var offset = 0
        while offset < plain.count {
            let end = min(plain.count, offset + 3 * piece + 1)
            encoded += Array(try encoder.encode(ByteBuffer(bytes: plain[offset..<end])).readableBytesView)
            offset = end
        }
        encoded += Array(try encoder.encode(ByteBuffer(), finish: true).readableBytesView)
        let decoder = try GzipDecoder(limit: plain.count)
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

    @Test func aCutBody_isRefused_atItsEnd() throws {
        let encoded = try Gzip.compress(Self.sample(records: 500))
        for cut in [1, 8, encoded.count / 2, encoded.count - 1] {
            #expect(throws: GzipError.malformed, "cut after \(cut) bytes") { try Gzip.decompress(encoded.prefix(cut), limit: 1 << 24) }
        }
    }

    @Test func damagedOrForeignBytes_areRefused() throws {
        var encoded = try Gzip.compress(Self.sample(records: 500))
        encoded[encoded.count / 2] ^= 0xFF
        #expect(throws: GzipError.malformed) { try Gzip.decompress(encoded, limit: 1 << 24) }
        #expect(throws: GzipError.malformed) { try Gzip.decompress(Array("{\"device\":\"x\"}".utf8), limit: 1 << 24) }
        let whole = try Gzip.compress(Self.sample(records: 10))
        #expect(throws: GzipError.malformed, "bytes after the member") { try Gzip.decompress(whole + [1, 2, 3], limit: 1 << 24) }
    }

    @Test func aBodyThatExpands_isRefusedAtTheLimit_notHeldWhole() throws {
        let bomb = try Gzip.compress([UInt8](repeating: 0x20, count: 64 * 1024 * 1024), level: 9)
        #expect(bomb.count < 100_000)
        let decoder = try GzipDecoder(limit: 1024 * 1024)
        #expect(throws: GzipError.tooLarge(limit: 1024 * 1024)) { _ = try decoder.decode(ByteBuffer(bytes: bomb)) }
        #expect(decoder.decoded < 3 * 1024 * 1024, "stopped near the limit: \(decoder.decoded)")
    }

    @Test func acceptEncoding_isReadAsRFC9110Says() {
        #expect(ContentCoding.acceptsGzip("gzip"))
        #expect(ContentCoding.acceptsGzip("deflate, gzip;q=0.5"))
        #expect(ContentCoding.acceptsGzip("br;q=1.0, GZIP"))
        #expect(ContentCoding.acceptsGzip("*"))
        #expect(!ContentCoding.acceptsGzip("gzip;q=0"))
        #expect(!ContentCoding.acceptsGzip("gzip;q=0.000, *"))
        #expect(!ContentCoding.acceptsGzip("*;q=0"))
        #expect(!ContentCoding.acceptsGzip("identity"))
        #expect(!ContentCoding.acceptsGzip(nil))
        #expect(!ContentCoding.acceptsGzip("br, deflate"))
    }

    @Test func contentEncoding_ofARequest() {
        #expect(ContentCoding.requestCoding(nil) == .identity)
        #expect(ContentCoding.requestCoding("identity") == .identity)
        #expect(ContentCoding.requestCoding(" gzip ") == .gzip)
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
