public import DoorstepCore
public import Hummingbird
public import HummingbirdAuth

/// The request context of the Doorstep API: the client's address (for rate limits) and, on the
/// routes behind ``TokenAuthenticator``, who is calling.
public struct DoorstepRequestContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address (`unknown` in router tests).
    public let remoteAddress: String
    /// The caller, set by ``TokenAuthenticator`` on the routes that need a token.
    public var identity: Caller?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies are read by the routes themselves, against the configured limit.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }

    /// The authenticated caller; `unauthorized` on a route outside the authenticated groups (a
    /// route registered in the wrong group fails closed).
    var caller: Caller {
        get throws {
            guard let identity else { throw DoorstepError(.unauthorized, "this request needs a token: send Authorization: Bearer <token>") }
            return identity
        }
    }
}

/// Who is calling: the city administrator's bootstrap token, or an enrolled device.
public enum Caller: Sendable {
    /// The city administrator's bootstrap token.
    case admin
    /// An enrolled device (an office's or the city's device decides for its office).
    case device(DeviceRecord)
    /// A district relay (1.8, §19): it reads its district and forwards its devices' signed batches.
    case relay(RelayRecord)

    static let adminDevice = DeviceID(unchecked: "city-admin")

    /// The role and district the caller acts with.
    public var principal: Principal {
        switch self {
        case .admin: Principal(device: Caller.adminDevice, role: .city, district: nil)
        case .device(let record): record.principal
        // A relay reads its district as a visitor of it would; it writes only its devices' batches.
        case .relay(let record): Principal(device: DeviceID(unchecked: record.id), role: .visitor, district: record.district)
        }
    }

    /// The name written in the audit history for decisions made through the server.
    var actor: String {
        switch self {
        case .admin: "city-admin"
        case .device(let record): "device:\(record.id)"
        case .relay(let record): "relay:\(record.id)"
        }
    }

    var canDecide: Bool {
        if case .relay = self { return false }
        return principal.role != .visitor
    }
}

/// Authenticates every request of a route group by its bearer token (a device's, or the city
/// administrator's), or refuses it: a missing token `unauthorized`, an unknown one `unauthorized`
/// (counted against the client's address; past its limit `rateLimited`, in its turn), a revoked
/// device `deviceRevoked`. A valid token is accepted whatever others failed from the same address.
/// No request reaches a handler of the group unauthenticated.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = DoorstepRequestContext
    let api: DoorstepAPI

    func authenticate(request: Request, context: DoorstepRequestContext) async throws -> Caller? {
        let caller = try await api.authenticate(request, context)
        if case .relay = caller, !DoorstepAPI.relayMayCall(request.uri.path) {
            throw DoorstepError(.forbiddenForRole, "a relay's token reads its district and forwards its devices' work; it calls nothing else")
        }
        return caller
    }
}

/// Lets through only callers who decide for an office (an office or city device, the admin
/// token): a visitor's device is refused `forbiddenForRole`. Placed after ``TokenAuthenticator``.
struct OfficeOnly: RouterMiddleware {
    typealias Context = DoorstepRequestContext

    func handle(
        _ request: Request, context: DoorstepRequestContext,
        next: (Request, DoorstepRequestContext) async throws -> Response
    ) async throws -> Response {
        guard try context.caller.canDecide else {
            throw DoorstepError(.forbiddenForRole, "this is the district office's work; a visitor's device cannot do it")
        }
        return try await next(request, context)
    }
}
