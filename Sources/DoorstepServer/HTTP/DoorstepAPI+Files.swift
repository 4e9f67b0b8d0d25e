import DoorstepCore
import DoorstepStorage
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird

/// Attachments' bytes (protocol 1.4, `protocol/README.md` §17): resumable uploads named by
/// their SHA-256, and downloads scoped as the attachment's household.
extension DoorstepAPI {
    // Valid header name literals: the initializer fails only for names with illegal characters.
    static let uploadOffsetHeader = HTTPField.Name("Upload-Offset")!
    static let uploadLengthHeader = HTTPField.Name("Upload-Length")!
    static let fileStateHeader = HTTPField.Name("Doorstep-File")!
    static let revisionHeader = HTTPField.Name(ProtocolVersion.revisionHeader)!

    func addFileRoutes(to devices: RouterGroup<DoorstepRequestContext>) {
        devices.on("files/:sha256", method: .head) { request, context in try await fileOffset(request, context) }
        devices.patch("files/:sha256") { request, context in try await uploadFile(request, context) }
        devices.get("attachments/:id/file") { request, context in try await downloadAttachment(request, context) }
    }

    /// Whether the request reads attachments (`Doorstep-Revision: 1.4` or later, §13.4).
    static func readsAttachments(_ request: Request) -> Bool {
        ProtocolVersion.readsAttachments(request.headers[revisionHeader])
    }

    /// `HEAD /v1/files/{sha256}`: the bytes the server holds of a file.
    func fileOffset(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try uploader(context)
        let state = try await files.state(of: try sha256(context))
        var headers: HTTPFields = [Self.uploadOffsetHeader: String(state.held), Self.fileStateHeader: state.name, .cacheControl: "no-store"]
        if let length = state.length { headers[Self.uploadLengthHeader] = String(length) }
        return Response(status: .ok, headers: headers)
    }

    /// `PATCH /v1/files/{sha256}`: bytes from `Upload-Offset`, durable before the answer.
    func uploadFile(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try uploader(context)
        let sha = try sha256(context)
        let offset = try Self.headerNumber(request, Self.uploadOffsetHeader, minimum: 0)
        let length = try Self.headerNumber(request, Self.uploadLengthHeader, minimum: 1)
        let body = LimitedBody(base: request.body, limit: configuration.limits.maxBodyBytes)
        let state: FileState
        do {
            state = try await files.append(to: sha, offset: offset, length: length, bytes: body)
        } catch let error as DoorstepError where error.code == .uploadOffsetMismatch {
            var response = JSONResponse.error(error)
            response.headers[Self.uploadOffsetHeader] = String(error.details.resumeFrom ?? 0)
            return response
        }
        metrics.recordUpload(from: offset, state)
        return Response(status: .noContent, headers: [Self.uploadOffsetHeader: String(state.held), Self.fileStateHeader: state.name])
    }

    /// `GET /v1/attachments/{id}/file`: the bytes of an attachment in the caller's scope.
    func downloadAttachment(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard let text = context.parameters.get("id"), let id = try? EntityID(text) else {
            throw DoorstepError(.invalidValue, "the attachment id is not a UUID")
        }
        let hidden = DoorstepError(.notFound, "no such attachment in your scope")
        guard let household = try await storage.household(ofEntity: id) else { throw hidden }
        let aggregate: HouseholdAggregate
        do {
            aggregate = try await visibleHousehold(household, caller: caller)
        } catch let error as DoorstepError where error.code == .notFound {
            throw hidden
        }
        guard let attachment = aggregate.entities.first(where: { $0.id == id && $0.kind == .attachment }), !attachment.isDeleted,
            let sha = attachment["sha256"].stringValue
        else { throw hidden }
        guard case .whole(let length, let type) = try await files.state(of: sha) else {
            throw DoorstepError(.notFound, rule: "fileAwaited")
        }
        return try await Self.fileAnswer(request, files: files, sha: sha, length: length, type: type, fileName: attachment["fileName"].stringValue)
    }

    /// A whole file's download: all of it, or the one range `Range` asks (`206`; `416` for a range
    /// outside it), so that a download the link cut goes on from the byte it reached. The city and a
    /// relay (its own copy, §19.3) answer the same.
    static func fileAnswer(
        _ request: Request, files: any FileStore, sha: String, length: Int64, type: AttachmentMediaType, fileName: String?
    ) async throws -> Response {
        var headers: HTTPFields = [
            .contentType: type.rawValue, .eTag: "\"\(sha)\"", .acceptRanges: "bytes",
            .contentDisposition: Self.disposition(fileName, sha: sha, type: type),
            .cacheControl: "private, max-age=31536000, immutable",
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        var status: HTTPResponse.Status = .ok
        var range: ClosedRange<Int64> = 0...(length - 1)
        if let asked = request.headers[.range] {
            guard let parsed = Self.byteRange(asked, length: length) else {
                headers[.contentRange] = "bytes */\(length)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            range = parsed
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(length)"
        }
        headers[.contentLength] = String(range.upperBound - range.lowerBound + 1)
        guard let stream = try await files.read(sha, range: range) else { throw DoorstepError(.notFound, rule: "fileAwaited") }
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
    }

    /// Uploads are a device's, or a relay's sending on its devices' files (1.8, §19.3): the admin token has none.
    private func uploader(_ context: DoorstepRequestContext) throws {
        switch try context.caller {
        case .device, .relay: return
        case .admin: throw DoorstepError(.forbiddenForRole, "the admin token uploads no files; upload from an enrolled device")
        }
    }

    private func sha256(_ context: DoorstepRequestContext) throws -> String {
        let text = (context.parameters.get("sha256") ?? "").lowercased()
        guard AttachmentFile.isSHA256(text) else { throw DoorstepError(.invalidValue, rule: "sha256", ErrorDetails(field: "sha256", limit: 64)) }
        return text
    }

    static func headerNumber(_ request: Request, _ name: HTTPField.Name, minimum: Int64) throws -> Int64 {
        guard let text = request.headers[name], text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int64(text), value >= minimum else {
            throw DoorstepError(
                .malformedInput, "\(name.rawName) must be a whole number of at least \(minimum)", details: ErrorDetails(field: name.rawName))
        }
        return value
    }

    /// `attachment` with the file name (``WebSecurity/disposition(_:fileName:)``), or one made of the hash.
    static func disposition(_ fileName: String?, sha: String, type: AttachmentMediaType, inline: Bool = false) -> String {
        let name = fileName.flatMap { $0.isEmpty ? nil : $0 } ?? "\(sha.prefix(12)).\(type.fileExtension)"
        return WebSecurity.disposition(inline ? "inline" : "attachment", fileName: name)
    }

    /// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` within `length`; `nil` when it does
    /// not overlap the file or is not one range.
    static func byteRange(_ text: String, length: Int64) -> ClosedRange<Int64>? {
        guard text.hasPrefix("bytes="), length > 0 else { return nil }
        let spec = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let count = Int64(last), count > 0 else { return nil }
            return max(0, length - count)...(length - 1)
        }
        guard let start = Int64(first), start >= 0, start < length else { return nil }
        if last.isEmpty { return start...(length - 1) }
        guard let end = Int64(last), end >= start else { return nil }
        return start...min(end, length - 1)
    }
}

/// A request body as byte arrays, refused past `limit` bytes (`payloadTooLarge`).
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var count = 0

        mutating func next() async throws -> [UInt8]? {
            guard let buffer = try await base.next() else { return nil }
            count += buffer.readableBytes
            guard count <= limit else {
                throw DoorstepError(.payloadTooLarge, "one upload request carries at most \(limit) bytes; send the rest in another")
            }
            return [UInt8](buffer: buffer)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}
