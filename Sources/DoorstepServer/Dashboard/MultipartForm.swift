import DoorstepCore
import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// The roster comparison's form, a `multipart/form-data` body (RFC 7578) as a browser sends a
/// form with a file, read by MultipartKit's `FormDataDecoder`.
struct CompareForm: Decodable {
    /// The form token (checked against the session's).
    var csrf: String?
    /// The district a city account picked.
    var district: String?
    /// `csv` to answer with the comparison as a CSV file.
    var format: String?
    /// The roster file, with its own headers (its `Content-Type` may name a charset).
    var roster: UploadedFile?

    /// The roster's bytes, `nil` when no file was chosen (a browser then sends an empty part).
    var rosterData: Data? {
        guard let part = roster?.part, part.body.readableBytes > 0 else { return nil }
        return Data(part.body.readableBytesView)
    }

    /// The roster part's `Content-Type`, if it sent one.
    var rosterContentType: String? { roster?.part.headers.first(name: "Content-Type") }

    /// Reads a body given its `Content-Type`; throws `malformedInput` when it is not
    /// multipart, has no boundary, or does not parse.
    static func read(contentType: String?, body: ByteBuffer) throws(DoorstepError) -> CompareForm {
        guard let contentType, let mediaType = MediaType(from: contentType), mediaType.isType(.multipartForm) else {
            throw DoorstepError(.malformedInput, "the form must be sent as multipart/form-data")
        }
        // The boundary among any parameters (`; charset=utf-8; boundary="x"`), quotes removed.
        let boundary = contentType.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.lowercased().hasPrefix("boundary=") }
            .map { $0.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        guard let boundary, (1...200).contains(boundary.utf8.count) else {
            throw DoorstepError(.malformedInput, "the multipart boundary is not valid")
        }
        do {
            return try FormDataDecoder().decode(CompareForm.self, from: body, boundary: boundary)
        } catch {
            throw DoorstepError(.malformedInput, "the multipart body does not parse: \(error)")
        }
    }
}

/// A file part of a form: MultipartKit's part, decodable as a field of a `Decodable` form.
struct UploadedFile: Decodable, MultipartPartConvertible {
    let part: MultipartPart

    var multipart: MultipartPart? { part }

    init?(multipart: MultipartPart) { part = multipart }

    /// Read through the decoder's single value, which MultipartKit answers with the part itself.
    init(from decoder: any Decoder) throws {
        self = try decoder.singleValueContainer().decode(UploadedFile.self)
    }
}
