public import DoorstepCore
import DoorstepStorage
import Foundation
public import Hummingbird
import Logging

/// The relay's database file in its data folder.
extension ServerConfiguration {
    public var relayDatabasePath: String { (dataDirectory as NSString).appendingPathComponent("relay.sqlite") }
    /// The files a relay's devices uploaded (§19.3).
    public var relayFilesPath: String { (dataDirectory as NSString).appendingPathComponent("relay-files") }
}

/// Builds a district relay (protocol 1.8, `protocol/README.md` §19): the device API over its own
/// store, and its rounds with the city as a service of the application.
public func buildRelayApplication(configuration: ServerConfiguration, relay: RelayConfiguration) async throws -> some ApplicationProtocol {
    var base = Logger(label: "doorstep-relay")
    base.logLevel = configuration.logLevel
    let logger = base
    _ = try configuration.city.requireDistrict(relay.district)
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    // The token is kept beside the data, so that later starts need only --relay-for and --upstream.
    let tokenPath = RelayConfiguration.tokenPath(in: configuration.dataDirectory)
    if (try? String(contentsOfFile: tokenPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) != relay.token {
        _ = FileManager.default.createFile(atPath: tokenPath, contents: Data((relay.token + "\n").utf8), attributes: [.posixPermissions: 0o600])
    }
    let store = try RelayStore(path: configuration.relayDatabasePath, district: relay.district, clock: configuration.clock)
    let files = try FolderFileStore(root: URL(fileURLWithPath: configuration.relayFilesPath), clock: configuration.clock)
    let upstream = RelayUpstream(
        store: store, files: files, keepFilesFor: relay.keepFilesFor, upstream: relay.upstream, token: relay.token,
        transport: relay.transport(relay.upstream), interval: relay.interval, clock: configuration.clock, logger: logger)
    let api = RelayAPI(store: store, files: files, upstream: upstream, relay: relay, configuration: configuration)
    let router = Router(context: DoorstepRequestContext.self)
    router.add(middleware: LogRequestsMiddleware())
    router.add(
        middleware: CompressionMiddleware(
            level: configuration.compressionLevel, compressAnswers: configuration.compressAnswers, maxDecodedBytes: configuration.limits.maxBodyBytes))
    router.add(middleware: ErrorMiddleware())
    api.addRoutes(to: router)
    let addressPath = configuration.addressPath
    let scheme = ServerTLS.scheme(configuration)
    var app = Application(
        router: router,
        server: try ServerTLS.serverBuilder(configuration),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Doorstep relay"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            let address = "\(scheme)://\(configuration.host):\(port)"
            try? Data((address + "\n").utf8).write(to: URL(fileURLWithPath: addressPath), options: .atomic)
            logger.info(
                "Doorstep relay listening",
                metadata: ["address": "\(address)", "district": "\(relay.district)", "upstream": "\(relay.upstream)", "data": "\(configuration.dataDirectory)"])
        },
        logger: logger
    )
    app.addServices(RelayUpstreamService(upstream: upstream))
    return app
}

/// What a relay's data folder says of its link to the city, read from its store (`relay-status`).
public func relayStatus(configuration: ServerConfiguration, relay: RelayConfiguration) throws -> RelayStatus {
    guard FileManager.default.fileExists(atPath: configuration.relayDatabasePath) else {
        throw DoorstepError(.notFound, "no relay data in \(configuration.dataDirectory): start the relay there first")
    }
    return try RelayStore(path: configuration.relayDatabasePath, district: relay.district).status(upstream: relay.upstream.absoluteString)
}

/// `relay-status` as a district office reads it: Chinese, or English when asked.
public enum RelayStatusText {
    /// The status as lines of `label: value`.
    public static func render(_ status: RelayStatus, language: Language = .chinese) -> String {
        func t(_ key: String, _ values: [String: String] = [:]) -> String { Texts.text("relay.status.\(key)", language, values) }
        let none = t("none")
        let lines: [(String, String)] = [
            (t("district"), status.district),
            (t("upstream"), status.upstream),
            (t("reachable"), status.upstreamReachable ? t("yes") : t("no")),
            (t("lastContact"), status.lastContactAt ?? none),
            (t("pending"), t("pendingCount", ["mutations": "\(status.pendingMutations)", "batches": "\(status.pendingBatches)"])),
            (t("pendingFiles"), "\(status.pendingFiles)"),
            (t("lastForward"), status.lastForwardAt ?? none),
            (t("oldestUnconfirmed"), status.oldestUnconfirmedAt ?? none),
            (t("refusedNotYetSeen"), "\(status.refusedNotYetSeen)"),
            (t("devices"), "\(status.devices)"),
        ]
        var text = lines.map { "\($0.0)：\($0.1)" }.joined(separator: "\n")
        if language == .english { text = lines.map { "\($0.0): \($0.1)" }.joined(separator: "\n") }
        if let error = status.lastError, !status.upstreamReachable { text += "\n" + t("lastError") + (language == .english ? ": " : "：") + error }
        if status.revoked { text += "\n" + t("revoked") }
        return text
    }
}
