public import DoorstepCore
public import Foundation
public import Hummingbird
import MultipartKit
import NIOCore

/// The fields of an HTML form (`application/x-www-form-urlencoded`, or `multipart/form-data`
/// when it carries files), in the order sent: a name may repeat (a set of check boxes).
public struct WebForm: Sendable {
    /// A file a form sent (`<input type="file">`).
    public struct File: Sendable {
        /// The control's name.
        public var name: String
        /// The file's name on the sender's computer (without its folders).
        public var fileName: String
        /// The type the browser said, if any (never trusted for what the bytes are).
        public var contentType: String?
        public var data: Data
    }

    public private(set) var pairs: [(name: String, value: String)]
    /// The files sent, in order (a control left without a file sends none).
    public private(set) var files: [File] = []

    public init(pairs: [(name: String, value: String)] = [], files: [File] = []) {
        self.pairs = pairs
        self.files = files
    }

    /// Parses `a=1&b=two+words`; empty names are left out.
    public init(parsing text: String) {
        var pairs: [(name: String, value: String)] = []
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            pairs.append((name, parts.count > 1 ? decode(parts[1]) : ""))
        }
        self.pairs = pairs
    }

    /// Reads a request's form body, at most `limit` bytes (64 KiB by default); a
    /// `multipart/form-data` body (a form with files) only where `fileLimit` allows one, of at
    /// most that many bytes.
    public static func read(_ request: Request, limit: Int = 64 * 1024, fileLimit: Int = 0) async throws -> WebForm {
        let contentType = request.headers[.contentType] ?? ""
        let multipart = contentType.lowercased().hasPrefix("multipart/form-data")
        let bound = multipart ? fileLimit : limit
        guard bound > 0 else {
            throw DoorstepError(.malformedInput, "this form takes no files", zh: "这个表单不能附带文件")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: bound)
        } catch let error as DoorstepError {
            throw error  // a compressed body that does not decode (protocol 1.5)
        } catch {
            throw DoorstepError(
                .payloadTooLarge, "the form is larger than \(bound / 1024) KiB", zh: "表单内容太多（超过 \(bound / 1024) KB），请分几次提交")
        }
        return multipart ? try WebForm(multipart: buffer, contentType: contentType) : WebForm(parsing: String(buffer: buffer))
    }

    /// Parses a `multipart/form-data` body (RFC 7578) with MultipartKit's parser: text parts
    /// become pairs, file parts files (an empty part with no file chosen is left out).
    public init(multipart body: ByteBuffer, contentType: String) throws {
        // The boundary among any parameters (`; charset=utf-8; boundary="x"`), quotes removed.
        let boundary = contentType.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.lowercased().hasPrefix("boundary=") }
            .map { $0.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        guard let boundary, (1...200).contains(boundary.utf8.count) else {
            throw DoorstepError(.malformedInput, "the multipart boundary is not valid", zh: "表单格式不对，请刷新页面后重新提交")
        }
        let parser = MultipartParser(boundary: boundary)
        var headers: [String: String] = [:]
        var content = ByteBuffer()
        var pairs: [(name: String, value: String)] = []
        var files: [File] = []
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { chunk in content.writeBuffer(&chunk) }
        parser.onPartComplete = {
            defer {
                headers = [:]
                content = ByteBuffer()
            }
            let disposition = Self.parameters(headers["content-disposition"] ?? "")
            guard let name = disposition["name"], !name.isEmpty else { return }
            if let fileName = disposition["filename"] {
                guard content.readableBytes > 0 else { return }
                let base = fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? fileName
                files.append(File(name: name, fileName: base, contentType: headers["content-type"], data: Data(content.readableBytesView)))
            } else {
                pairs.append((name, String(decoding: content.readableBytesView, as: UTF8.self)))
            }
        }
        do {
            try parser.execute(body)
        } catch {
            throw DoorstepError(.malformedInput, "the multipart body does not parse", zh: "表单格式不对，请刷新页面后重新提交")
        }
        // A body cut short has no closing boundary: its last part would be lost without a word.
        let closing = Array("--\(boundary)--".utf8)
        var end = body.readableBytesView
        while let last = end.last, last == 0x0A || last == 0x0D { end = end.dropLast() }
        guard end.count >= closing.count, end.suffix(closing.count).elementsEqual(closing) else {
            throw DoorstepError(.malformedInput, "the multipart body ends before its closing boundary", zh: "表单没有完整送到，请重新提交")
        }
        self.pairs = pairs
        self.files = files
    }

    /// The parameters of a `Content-Disposition` value (`form-data; name="a"; filename="b.jpg"`),
    /// names lower-cased, quotes and backslash escapes removed.
    static func parameters(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(value)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var text = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        text.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        text.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                text = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[name] = text
        }
        return result
    }

    /// The first value sent under `name`.
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value sent under `name`, in order.
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// The first value of each name.
    public var first: [String: String] {
        var fields: [String: String] = [:]
        for pair in pairs where fields[pair.name] == nil { fields[pair.name] = pair.value }
        return fields
    }
}

/// The language of a page: `?lang=` (to be remembered in a cookie), else the cookie, else
/// `Accept-Language` (where `acceptLanguage`); Chinese by default.
public enum WebLanguage {
    public static func of(_ request: Request, cookie: String, acceptLanguage: Bool = true) -> (language: Language, remember: Bool) {
        if let text = request.uri.queryParameters.get("lang"), let language = Language(rawValue: text) { return (language, true) }
        if let text = request.cookies[cookie]?.value, let language = Language(rawValue: text) { return (language, false) }
        return (acceptLanguage ? Language.from(locale: request.headers[.acceptLanguage]) : .chinese, false)
    }
}
