public import DoorstepCore
public import Foundation
public import Logging

/// How a Doorstep server runs: where it listens, where its data lives, its limits.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (default `127.0.0.1`).
    public var host: String
    /// The port (default 8080; 0 takes a free port and writes the bound address to `server.addr`).
    public var port: Int
    /// The folder holding the database, `admin.token` and `server.addr` (default `./doorstep-data`).
    public var dataDirectory: String
    /// A PostgreSQL database (`postgres://user:password@host:port/database`) shared by several
    /// server processes; `nil` (the default) keeps the embedded SQLite file in the data folder.
    public var databaseURL: String?
    /// The city's districts and campaigns (default: the shipped Ordos data).
    public var city: CityData
    /// Limits on requests.
    public var limits: Limits
    /// How far ahead of the server a device's clock may be.
    public var skew: ClockSkewPolicy
    /// How long an enrollment code stays valid.
    public var enrollmentCodeLifetime: TimeInterval
    /// Failed authentications per client address before it is refused for a while.
    public var authFailureLimit: Int
    /// The window those failures are counted in, in milliseconds.
    public var authFailureWindowMillis: Int64
    /// Once a key is over its failure limit, the time between two checks under it (default 1 s):
    /// how fast guessing can go from one address, or at one account (`protocol/README.md` §11).
    public var authThrottleMillis: Int64 = 1000
    /// The wall clock, in milliseconds since the epoch (injected by tests).
    public var clock: @Sendable () -> Int64
    /// The log level.
    public var logLevel: Logger.Level
    /// A PEM certificate chain: with ``tlsKeyPath``, the server serves HTTPS itself (default `nil`: plain HTTP).
    public var tlsCertificatePath: String? = nil
    /// The PEM private key of ``tlsCertificatePath``.
    public var tlsKeyPath: String? = nil
    /// Whether text answers go out gzip-encoded to requests that accept it (default on, protocol
    /// 1.5 §18); off behind a proxy that compresses itself. Compressed request bodies are read either way.
    public var compressAnswers = true
    /// The gzip level of compressed answers (1 fastest … 9 smallest; default 1).
    public var compressionLevel: Int32 = 1
    /// How the log is written (`log.format`).
    public var logFormat: LogFormat = .text
    /// Backups the server makes itself (`backup.every`), none when `nil`.
    public var backups: BackupSchedule? = nil
    /// Set when the server runs as a district relay (protocol 1.8, §19; `--relay-for`).
    public var relay: RelayConfiguration? = nil

    /// Limits on what one request may carry.
    public struct Limits: Sendable {
        /// The largest request body, in bytes (default 8 MiB).
        public var maxBodyBytes: Int = 8 * 1024 * 1024
        /// The largest uploaded bundle, in bytes (default 64 MiB: a bundle carries a device's days
        /// of work at once, 10,000 visits are about 9 MB; an upload is held in memory while read).
        public var maxBundleBytes: Int = 64 * 1024 * 1024
        /// The most mutations a batch may hold (default 1000).
        public var maxBatchMutations: Int = MergeEngine.defaultMaxBatchSize
        /// The households a pull page holds when the client does not say (default 200).
        public var defaultPullLimit: Int = 200
        /// The most households a pull page may hold (default 1000).
        public var maxPullLimit: Int = 1000
        /// The bytes after which a pull page stops (default 1 MiB): the page ends with the household
        /// that reaches it, so one household larger than this comes alone on its page (§9, §15).
        public var maxPullPageBytes: Int = 1024 * 1024

        public init() {}
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        dataDirectory: String = "doorstep-data",
        databaseURL: String? = nil,
        city: CityData = .ordos,
        limits: Limits = Limits(),
        skew: ClockSkewPolicy = ClockSkewPolicy(),
        enrollmentCodeLifetime: TimeInterval = 72 * 3600,
        authFailureLimit: Int = 10,
        authFailureWindowMillis: Int64 = 5 * 60 * 1000,
        clock: @escaping @Sendable () -> Int64 = HybridLogicalClock.systemMillis,
        logLevel: Logger.Level = .info
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.city = city
        self.limits = limits
        self.skew = skew
        self.enrollmentCodeLifetime = enrollmentCodeLifetime
        self.authFailureLimit = authFailureLimit
        self.authFailureWindowMillis = authFailureWindowMillis
        self.clock = clock
        self.logLevel = logLevel
    }

    /// The database file inside the data folder.
    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("doorstep.sqlite") }
    /// The admin token file inside the data folder.
    /// The folder of attachments' files (protocol 1.4): beside the database, on either backend.
    public var filesDirectory: String { (dataDirectory as NSString).appendingPathComponent("files") }

    public var adminTokenPath: String { (dataDirectory as NSString).appendingPathComponent("admin.token") }
    /// The file the bound address is written to.
    public var addressPath: String { (dataDirectory as NSString).appendingPathComponent("server.addr") }

    /// The merge engine for this city and these limits.
    public var engine: MergeEngine { MergeEngine(city: city, skew: skew, maxBatchSize: limits.maxBatchMutations) }
}
