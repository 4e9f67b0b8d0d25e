import DoorstepCore
import Foundation
import Hummingbird
import Logging

extension DoorstepError.Code {
    /// The HTTP status the server answers this error with.
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .malformedInput, .invalidBatch, .invalidCursor, .unsupportedSchema:
            .badRequest
        case .missingField, .invalidValue, .unknownField, .invalidNationalId, .invalidPhone, .negativeAmount,
            .unknownDistrict, .illegalTransition, .invalidOperation, .visitImmutable, .unknownEntity,
            .dependsOnRejected, .entityIdTaken, .bundleInvalid, .invalidCityData, .duplicateInFile, .hashMismatch, .invalidSignature:
            .unprocessableContent
        case .unauthorized, .deviceRevoked, .invalidEnrollmentCode, .relayRevoked:
            .unauthorized
        case .forbiddenForRole, .outOfScope:
            .forbidden
        case .notFound:
            .notFound
        case .missingPredecessor, .seqReuse, .uploadOffsetMismatch:
            .conflict
        case .unsupportedMediaType:
            .unsupportedMediaType
        case .payloadTooLarge:
            .contentTooLarge
        case .unsupportedProtocolVersion:
            .upgradeRequired
        case .rateLimited:
            .tooManyRequests
        case .upstreamUnreachable:
            .serviceUnavailable
        default:
            .internalServerError
        }
    }
}

/// Turns every error into the JSON error body with its status; unexpected errors become
/// `internalError` with no detail (the detail goes to the log, without personal data).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DoorstepError {
            if error.code.httpStatus == .internalServerError {
                context.logger.error("request failed", metadata: ["code": "\(error.code)"])
            }
            return JSONResponse.error(error)
        } catch let error as HTTPError {
            let code: DoorstepError.Code =
                switch error.status {
                case .notFound: .notFound
                case .contentTooLarge: .payloadTooLarge
                case .methodNotAllowed: .notFound
                default: .malformedInput
                }
            let message = error.status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            var response = JSONResponse.error(DoorstepError(code, message))
            if error.status != .notFound && error.status != .methodNotAllowed { response.status = error.status }
            return response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(type(of: error))"])
            return JSONResponse.error(DoorstepError(.internalError, "the server failed to answer; the failure is in its log"))
        }
    }
}

/// JSON responses in the canonical wire form.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        // A value that writes itself goes from its writer's bytes to the buffer: one copy of a
        // large answer (a whole report, a roster comparison) alive at a time, not three.
        if let fast = value as? any JSONTextEncodable {
            var writer = JSONTextWriter()
            fast.write(to: &writer)
            return make(encoded: writer.bytes, status: status)
        }
        return make(encoded: try WireCoding.encode(value), status: status)
    }

    /// A body already encoded as JSON, as UTF-8 bytes.
    static func make(encoded bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// A body already encoded as JSON.
    static func make(encoded data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func error(_ error: DoorstepError) -> Response {
        let data = (try? WireCoding.encode(ErrorBody(error))) ?? Data(#"{"error":{"code":"internalError","message":"encoding failed"}}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let seconds = error.details.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return Response(status: error.code.httpStatus, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
