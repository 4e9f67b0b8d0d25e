import Crypto
import DoorstepCompression
import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A pull page as protocol 1.5 answers it (`protocol/README.md` §18): named by its fixed part
/// (everything before `,"serverClock":`), compressed with a flush there in the coding the
/// request prefers, and resumed from a byte of that fixed part by a ranged request that names it.
enum ResumablePage {
    static let pageHeader = HTTPField.Name("Doorstep-Page")!
    static let clockKey = Array(#","serverClock":"#.utf8)

    /// The answer to a pull for `page` (its JSON bytes).
    static func answer(_ page: [UInt8], request: Request, compress: Bool, level: Int32) throws -> Response {
        // The clock is the page's last key: what precedes it is the same each time it is asked.
        let split = lastIndex(of: clockKey, in: page) ?? page.count
        let coding = compress && page.count > ContentCoding.minimumBytes ? ContentCoding.preferred(request.headers[.acceptEncoding]) : nil
        var body: ByteBuffer
        let fixedLength: Int
        if let coding {
            let encoder = try coding.encoder(level: coding == .gzip ? level : nil)
            body = try encoder.flush(ByteBuffer(bytes: page[..<split]))
            fixedLength = body.readableBytes
            var rest = try encoder.finish(ByteBuffer(bytes: page[split...]))
            body.writeBuffer(&rest)
        } else {
            body = ByteBuffer(bytes: page)
            fixedLength = split
        }
        let digest = SHA256.hash(data: page[..<split]).prefix(8).map { String(format: "%02x", $0) }.joined()
        let id = digest + "-" + (coding.map { $0 == .gzip ? "gzip\(level)" : $0.rawValue } ?? "identity")
        var headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8", pageHeader: id, .acceptRanges: "bytes", .vary: "Accept-Encoding",
            .cacheControl: "no-store",
        ]
        if let coding { headers[.contentEncoding] = coding.rawValue }
        let total = body.readableBytes
        // From the byte asked, or from the clock when the client got into it (the clock is new).
        if let asked = resumeOffset(request), request.headers[pageHeader] == id, case let start = min(asked, fixedLength), start > 0, start < total {
            headers[.contentRange] = "bytes \(start)-\(total - 1)/\(total)"
            return Response(status: .partialContent, headers: headers, body: ResponseBody(byteBuffer: body.getSlice(at: start, length: total - start) ?? body))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// The `n` of a `Range: bytes=n-` header (the only form a resumed page asks), if any.
    static func resumeOffset(_ request: Request) -> Int? {
        guard let range = request.headers[.range], range.hasPrefix("bytes="), range.hasSuffix("-") else { return nil }
        let text = range.dropFirst("bytes=".count).dropLast()
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let start = Int(text), start > 0 else { return nil }
        return start
    }

    /// Where `needle` last occurs in `haystack`.
    static func lastIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count, let first = needle.first else { return nil }
        var index = haystack.count - needle.count
        while index >= 0 {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index -= 1
        }
        return nil
    }
}
