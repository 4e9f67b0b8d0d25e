public import Hummingbird

/// The request context of the Doorstep API: the client's address, for rate limits.
public struct DoorstepRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address (`unknown` in router tests).
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies are read by the routes themselves, against the configured limit.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
