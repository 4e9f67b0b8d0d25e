import DoorstepCore
import Foundation

/// A `multipart/form-data` body (RFC 7578), as a browser sends a form with a file.
struct MultipartForm: Sendable {
    /// One part: its field name, its file name if it is a file, its content type and bytes.
    struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String?
        var data: Data
    }

    var parts: [Part]

    /// The text of a plain field.
    func field(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.flatMap { String(data: $0.data, encoding: .utf8) }
    }

    /// The first part with this name that is a file.
    func file(_ name: String) -> Part? { parts.first { $0.name == name && $0.filename != nil } }

    /// Parses a body given its `Content-Type`; throws `malformedInput` when it is not multipart or is cut short.
    init(contentType: String?, body: Data) throws(DoorstepError) {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundaryParameter = contentType.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.lowercased().hasPrefix("boundary=") })
        else {
            throw DoorstepError(.malformedInput, "the form must be sent as multipart/form-data")
        }
        let boundary = boundaryParameter.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard (1...200).contains(boundary.utf8.count) else { throw DoorstepError(.malformedInput, "the multipart boundary is not valid") }
        let bytes = [UInt8](body)
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        guard var position = Self.find(delimiter, in: bytes, from: 0) else {
            throw DoorstepError(.malformedInput, "the multipart body has no boundary")
        }
        position += delimiter.count
        var parts: [Part] = []
        while true {
            // After a boundary: "--" ends the body, CRLF starts a part.
            if bytes.count >= position + 2, bytes[position] == 0x2D, bytes[position + 1] == 0x2D { break }
            guard bytes.count >= position + 2, bytes[position] == 0x0D, bytes[position + 1] == 0x0A else {
                throw DoorstepError(.malformedInput, "the multipart body is cut short")
            }
            position += 2
            guard let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: bytes, from: position),
                let end = Self.find(separator, in: bytes, from: headerEnd + 4)
            else {
                throw DoorstepError(.malformedInput, "the multipart body is cut short")
            }
            let headers = String(decoding: bytes[position..<headerEnd], as: UTF8.self)
            parts.append(Self.part(headers: headers, data: Data(bytes[(headerEnd + 4)..<end])))
            position = end + separator.count
        }
        self.parts = parts
    }

    private static func part(headers: String, data: Data) -> Part {
        var name = "", filename: String?, contentType: String?
        for line in headers.components(separatedBy: "\r\n") {
            let lower = line.lowercased()
            if lower.hasPrefix("content-type:") {
                contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            } else if lower.hasPrefix("content-disposition:") {
                for parameter in line.split(separator: ";").dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard pair.count == 2 else { continue }
                    let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if pair[0].lowercased() == "name" { name = value }
                    if pair[0].lowercased() == "filename" { filename = value }
                }
            }
        }
        return Part(name: name, filename: filename, contentType: contentType, data: data)
    }

    /// The index of the first occurrence of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
