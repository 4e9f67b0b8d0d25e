import Crypto
import DoorstepCore
public import DoorstepStorage
import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Builds the server: opens (or creates) its data folder and database, makes the admin token on
/// first start, and returns the application ready to run (`try await app.runService()`).
public func buildApplication(configuration: ServerConfiguration) async throws -> some ApplicationProtocol {
    var base = Logger(label: "doorstep-server")
    base.logLevel = configuration.logLevel
    let logger = base
    let server = try await DoorstepServerSetup.prepare(configuration: configuration, logger: logger)
    let router = Router(context: DoorstepRequestContext.self)
    router.add(middleware: LogRequestsMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: server.api.metrics))
    router.add(
        middleware: CompressionMiddleware(
            level: configuration.compressionLevel, compressAnswers: configuration.compressAnswers,
            maxDecodedBytes: max(configuration.limits.maxBodyBytes, configuration.limits.maxBundleBytes)))
    router.add(middleware: ErrorMiddleware())
    server.api.addRoutes(to: router)
    let addressPath = configuration.addressPath
    let scheme = ServerTLS.scheme(configuration)
    var app = Application(
        router: router,
        server: try ServerTLS.serverBuilder(configuration),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Doorstep"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            let address = "\(scheme)://\(configuration.host):\(port)"
            try? Data((address + "\n").utf8).write(to: URL(fileURLWithPath: addressPath), options: .atomic)
            logger.info("Doorstep server listening", metadata: ["address": "\(address)", "data": "\(configuration.dataDirectory)"])
        },
        logger: logger
    )
    app.addServices(server.services)
    return app
}

/// The parts of a server that exist before it listens: storage, identity, admin token.
public struct DoorstepServerSetup: Sendable {
    let api: DoorstepAPI
    /// The storage the server uses.
    public let storage: any ServerStorage
    /// Services that live as long as the application: the PostgreSQL connection pool. The
    /// ``storage`` answers only while they run (`buildApplication` adds them to its service
    /// group; another caller runs them itself).
    public let services: [any Service]

    /// Opens the data folder and database, migrates, and makes the identity and admin token on first
    /// start (with a connection pool of its own, closed before it returns); the storage it returns
    /// serves once the application runs its ``services`` (the PostgreSQL pool is one of them).
    public static func prepare(configuration: ServerConfiguration, logger: Logger) async throws -> DoorstepServerSetup {
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let identity = try await withStorage(configuration, logger: logger) { storage in
            let identity = try await storage.identity {
                let key = Curve25519.KeyAgreement.PrivateKey()
                return ServerIdentity(
                    device: DeviceID.random(), bundlePrivateKey: key.rawRepresentation.base64EncodedString(),
                    keyID: ServerKeys.keyID(of: key.publicKey))
            }
            // The token file is written before its hash is stored, so a crash between the two leaves
            // no stored hash without its file; only the process whose hash is stored keeps its file.
            let token = Secrets.token(prefix: "dsa_")
            let pending = try AdminToken.stage(token, for: configuration.adminTokenPath)
            if try await storage.setAdminTokenHash(Secrets.hash(token), onlyIfAbsent: true) {
                try AdminToken.commit(pending, to: configuration.adminTokenPath)
                logger.notice("Created the city administrator's token; keep it safe", metadata: ["file": "\(configuration.adminTokenPath)"])
            } else {
                try? FileManager.default.removeItem(atPath: pending)
            }
            return identity
        }
        let storage: any ServerStorage
        let files: any FileStore
        var services: [any Service] = []
        if let url = configuration.databaseURL {
            let postgres = try PostgresStorage(url: url, logger: logger)
            storage = postgres
            // Every server process on the database shares its files: large objects in it.
            files = PostgresFileStore(storage: postgres, clock: configuration.clock)
            services.append(postgres.service)  // runs as long as the application
        } else {
            storage = try SQLiteStorage(path: configuration.databasePath)
            files = try FolderFileStore(root: URL(fileURLWithPath: configuration.filesDirectory), clock: configuration.clock)
        }
        let publicKey = try ServerKeys.publicKey(of: identity)
        var backups: ScheduledBackups?
        if let schedule = configuration.backups, configuration.databaseURL == nil {
            let scheduled = ScheduledBackups(configuration: configuration, schedule: schedule, logger: logger)
            services.append(scheduled)
            backups = scheduled
        }
        return DoorstepServerSetup(
            api: DoorstepAPI(
                storage: storage,
                files: files,
                configuration: configuration, identity: identity, bundlePublicKey: publicKey, metrics: ServerMetrics(backups: backups != nil),
                backups: backups),
            storage: storage,
            services: services
        )
    }

    /// Runs `body` with the configured storage, migrated, then closes it (setup and one-off
    /// commands): a PostgreSQL pool runs in a child task for as long as `body` does.
    static func withStorage<Result: Sendable>(
        _ configuration: ServerConfiguration, logger: Logger = Logger(label: "doorstep-server"), migrating: Bool = true,
        _ body: @Sendable (any ServerStorage) async throws -> Result
    ) async throws -> Result {
        guard let url = configuration.databaseURL else {
            let storage = try SQLiteStorage(path: configuration.databasePath)
            if migrating { try await storage.migrate() }
            return try await body(storage)
        }
        let storage = try PostgresStorage(url: url, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            if migrating { try await storage.migrate() }
            return try await body(storage)
        }
    }

    /// What starting a server would do to its database's schema, changing nothing (`migrate --dry-run`).
    public static func migrationPlan(configuration: ServerConfiguration) async throws -> MigrationPlan {
        guard configuration.databaseURL != nil else {
            guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
                throw DoorstepError(.notFound, "no database at \(configuration.databasePath): a start would create it")
            }
            return try SQLiteStorage.migrationPlan(readingOnly: configuration.databasePath)
        }
        return try await withStorage(configuration, migrating: false) { storage in try await storage.migrationPlan() }
    }

    /// Applies the migrations a start would apply and returns what was pending. The data folder must
    /// not be in use by a running server (SQLite; the caller holds its lock).
    public static func migrate(configuration: ServerConfiguration) async throws -> MigrationPlan {
        let plan = try await migrationPlan(configuration: configuration)
        try await withStorage(configuration) { _ in }  // migrate() refuses a newer database itself
        return plan
    }

    /// Replaces the admin token: the old one stops working at once. Returns the file holding the new one.
    public static func rotateAdminToken(configuration: ServerConfiguration) async throws -> String {
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        return try await withStorage(configuration) { storage in
            let token = Secrets.token(prefix: "dsa_")
            let pending = try AdminToken.stage(token, for: configuration.adminTokenPath)
            _ = try await storage.setAdminTokenHash(Secrets.hash(token), onlyIfAbsent: false)
            try AdminToken.commit(pending, to: configuration.adminTokenPath)
            return configuration.adminTokenPath
        }
    }
}

/// The admin token file: created with mode 0600, replaced atomically.
enum AdminToken {
    /// Writes the token to a temporary file beside `path`, mode 0600, and returns its path.
    static func stage(_ token: String, for path: String) throws -> String {
        let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DoorstepError(.internalError, "cannot write \(temporary)")
        }
        return temporary
    }

    /// Moves the staged file over `path` in one step.
    static func commit(_ temporary: String, to path: String) throws {
        guard rename(temporary, path) == 0 else {
            throw DoorstepError(.internalError, "cannot move the new admin token to \(path) (errno \(errno))")
        }
    }
}

/// The server's bundle key (X25519), from its identity.
enum ServerKeys {
    static func keyID(of key: Curve25519.KeyAgreement.PublicKey) -> String {
        SHA256.hash(data: key.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func privateKey(of identity: ServerIdentity) throws -> Curve25519.KeyAgreement.PrivateKey {
        guard let data = Data(base64Encoded: identity.bundlePrivateKey) else {
            throw DoorstepError(.internalError, "the server's bundle key is damaged")
        }
        return try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)
    }

    static func publicKey(of identity: ServerIdentity) throws -> String {
        try privateKey(of: identity).publicKey.rawRepresentation.base64EncodedString()
    }
}

/// Logs each request's method, path, status and duration: never bodies, tokens or query values.
struct LogRequestsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }
}
