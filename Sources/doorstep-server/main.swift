import ArgumentParser
import DoorstepCore
import DoorstepServer
import Foundation
import Hummingbird
import Logging

@main
struct DoorstepServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep-server",
        abstract: "The central Doorstep server: sync, review queue, reports.",
        discussion: """
            Starts on 127.0.0.1:8080 with its data in ./doorstep-data (SQLite). Every option may also be
            set in a configuration file (--config /etc/doorstep/server.toml, or DOORSTEP_CONFIG) and by an
            environment variable (DOORSTEP_PORT, DOORSTEP_DATA, DOORSTEP_DATABASE_URL for PostgreSQL, ...):
            a flag wins over the variable, which wins over the file. See docs/OPERATIONS.md.

            Examples:
              doorstep-server
              doorstep-server --port 0 --data /var/lib/doorstep
              doorstep-server --config /etc/doorstep/server.toml
              doorstep-server --backup-every 24h --backup-keep 14 --log-format json
              doorstep-server --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem
              doorstep-server rotate-admin-token --data /var/lib/doorstep
              doorstep-server backup --data /var/lib/doorstep --out /mnt/usb/doorstep-2020-04-30.sqlite
              doorstep-server restore --from /mnt/usb/doorstep-2020-04-30.sqlite --data /var/lib/doorstep --replace
              doorstep-server migrate --dry-run --config /etc/doorstep/server.toml
              doorstep-server --relay-for 150626 --upstream https://doorstep.ordos.example --relay-token dsr_... --host 0.0.0.0
              doorstep-server relay-status --relay-for 150626 --upstream https://doorstep.ordos.example
            """,
        version: DoorstepVersion.string,
        subcommands: [Serve.self, RotateAdminToken.self, Backup.self, Restore.self, Migrate.self, RelayStatusCommand.self],
        defaultSubcommand: Serve.self
    )
}

struct DataOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A configuration file (TOML: see docs/OPERATIONS.md; env DOORSTEP_CONFIG). Flags and environment variables win over it.",
            valueName: "file"))
    var config: String?

    @Option(name: .customLong("data"), help: "The data folder (default ./doorstep-data; env DOORSTEP_DATA).")
    var data: String?

    @Option(help: "A city data JSON file of districts and campaigns (default: the shipped Ordos data; env DOORSTEP_DISTRICTS).")
    var districts: String?

    @Option(
        help:
            "A JSON file of campaigns (stages and dates) added to the city data, replacing those with the same id: a year's campaign without editing the city file (env DOORSTEP_CAMPAIGNS; see README)."
    )
    var campaigns: String?

    @Option(
        help:
            "A PostgreSQL database shared by several servers, postgres://user:password@host:port/database (env DOORSTEP_DATABASE_URL); default: SQLite in the data folder."
    )
    var database: String?

    /// The settings from these flags, `more` flags, the environment and the configuration file.
    func settings(_ more: [ServerSetting: String?] = [:]) throws -> ServerSettings {
        var flags: [ServerSetting: String] = [:]
        for (setting, value) in [(ServerSetting.data, data), (.districts, districts), (.campaigns, campaigns), (.database, database)]
            + more.map({ ($0.key, $0.value) })
        {
            if let value { flags[setting] = value }
        }
        return try ServerSettings(flags: flags, environment: ProcessInfo.processInfo.environment, configFile: config)
    }

    func configuration() throws -> ServerConfiguration { try settings().dataConfiguration() }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default).")

    @Option(help: "The address to listen on (default 127.0.0.1; env DOORSTEP_HOST).")
    var host: String?

    @Option(help: "The port (default 8080; 0 takes a free one and writes it to DATA/server.addr; env DOORSTEP_PORT).")
    var port: String?

    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (with --tls-key; env DOORSTEP_TLS_CERT).", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The PEM private key of --tls-cert (env DOORSTEP_TLS_KEY).", valueName: "file"))
    var tlsKey: String?

    @Option(
        name: .customLong("auth-throttle-ms"),
        help: ArgumentHelp(
            "Once an address or account has failed to sign in or enroll 10 times in 5 minutes, the time between two checks from there (default 1000; env DOORSTEP_AUTH_THROTTLE_MS).",
            valueName: "ms"))
    var authThrottleMillis: String?

    @Option(
        help: ArgumentHelp(
            "gzip of text answers to clients that accept it: on, or off behind a proxy that compresses itself (default on; env DOORSTEP_COMPRESSION). Compressed request bodies are read either way.",
            valueName: "on|off"))
    var compression: String?

    @Option(
        name: .customLong("log-format"),
        help: ArgumentHelp("text (default) or json: one JSON object per line, for log collectors (env DOORSTEP_LOG_FORMAT).", valueName: "text|json"))
    var logFormat: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info (default), notice, warning, error or critical (env DOORSTEP_LOG_LEVEL).", valueName: "level"))
    var logLevel: String?

    @Option(
        name: .customLong("backup-every"),
        help: ArgumentHelp(
            "Back up the database and its files by itself this often: 24h, 12h, 30m, 7d, or off (default off; env DOORSTEP_BACKUP_EVERY). SQLite only.",
            valueName: "duration"))
    var backupEvery: String?

    @Option(name: .customLong("backup-keep"), help: ArgumentHelp("Scheduled backups kept, the newest (default 14; env DOORSTEP_BACKUP_KEEP).", valueName: "n"))
    var backupKeep: String?

    @Option(
        name: .customLong("backup-folder"),
        help: ArgumentHelp("Where scheduled backups go (default DATA/backups; env DOORSTEP_BACKUP_FOLDER).", valueName: "folder"))
    var backupFolder: String?

    @OptionGroup var relay: RelayOptions

    @OptionGroup var options: DataOptions

    func run() async throws {
        let settings = try options.settings(
            [
                .host: host, .port: port, .tlsCert: tlsCert, .tlsKey: tlsKey, .authThrottleMillis: authThrottleMillis, .compression: compression,
                .logFormat: logFormat, .logLevel: logLevel, .backupEvery: backupEvery, .backupKeep: backupKeep, .backupFolder: backupFolder,
            ].merging(relay.flags) { $1 })
        let configuration = try settings.serverConfiguration()
        ServerLogging.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        ProcessMemory.returnLargeBlocksToTheSystem()
        // One server per data folder: a second one, or a restore into it, stops while this one runs.
        let lock = try DataFolderLock.acquire(configuration.dataDirectory)
        if let relay = configuration.relay {
            try await buildRelayApplication(configuration: configuration, relay: relay).runService()
        } else {
            try await buildApplication(configuration: configuration).runService()
        }
        withExtendedLifetime(lock) {}
    }
}

/// A district relay's flags (protocol 1.8): the same server, serving one district's devices and
/// forwarding their work to the city.
struct RelayOptions: ParsableArguments {
    @Option(
        name: .customLong("relay-for"),
        help: ArgumentHelp(
            "Run as this district's relay (its code, e.g. 150626): devices sync with it on the office's network, it forwards to --upstream (env DOORSTEP_RELAY_FOR).",
            valueName: "district"))
    var relayFor: String?

    @Option(help: ArgumentHelp("A relay's city server (env DOORSTEP_RELAY_UPSTREAM).", valueName: "url"))
    var upstream: String?

    @Option(
        name: .customLong("relay-token"),
        help: ArgumentHelp(
            "The relay's token from the city (`doorstep relay create`), needed at its first start only: kept in DATA/relay.token (env DOORSTEP_RELAY_TOKEN).",
            valueName: "token"))
    var relayToken: String?

    @Option(
        name: .customLong("relay-interval-ms"),
        help: ArgumentHelp(
            "A relay's time between two rounds with the city while no device pushes (default 5000; env DOORSTEP_RELAY_INTERVAL_MS).",
            valueName: "ms"))
    var relayInterval: String?

    @Option(
        name: .customLong("relay-keep-files-days"),
        help: ArgumentHelp(
            "How many days a relay keeps its copy of a photo once the city holds it (default 30; 0: not kept; env DOORSTEP_RELAY_KEEP_FILES_DAYS).",
            valueName: "days"))
    var relayKeepFilesDays: String?

    var flags: [ServerSetting: String?] {
        [
            .relayFor: relayFor, .relayUpstream: upstream, .relayToken: relayToken, .relayIntervalMillis: relayInterval,
            .relayKeepFilesDays: relayKeepFilesDays,
        ]
    }
}

struct RelayStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-status",
        abstract: "What a district relay holds for the city: whether the city answers, pending work, last forward, oldest unconfirmed.",
        discussion: "Reads the relay's data folder (also while it runs). With --json, the same keys as GET /v1/relay/status."
    )

    @OptionGroup var relay: RelayOptions
    @OptionGroup var options: DataOptions
    @Flag(help: "Print JSON.") var json = false
    @Option(help: ArgumentHelp("zh (default) or en: the language of the lines printed.", valueName: "zh|en")) var lang = "zh"

    func run() async throws {
        let settings = try options.settings(relay.flags)
        let configuration = try settings.dataConfiguration()
        guard let relay = try settings.relayConfiguration(dataDirectory: configuration.dataDirectory, city: configuration.city) else {
            throw ValidationError("relay-status needs --relay-for DISTRICT (and --upstream URL), as the relay was started with")
        }
        guard let language = Language(rawValue: lang) else { throw ValidationError("--lang is zh or en") }
        let status = try relayStatus(configuration: configuration, relay: relay)
        if json {
            print(String(decoding: try WireCoding.encode(status, pretty: true), as: UTF8.self))
        } else {
            print(RelayStatusText.render(status, language: language))
        }
    }
}

struct RotateAdminToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-admin-token",
        abstract: "Replace the city administrator's token; the old one stops working at once."
    )

    @OptionGroup var options: DataOptions

    func run() async throws {
        let path = try await DoorstepServerSetup.rotateAdminToken(configuration: try options.configuration())
        print("The new admin token is in \(path) (readable by its owner only).")
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database and the attachments' files, also while the server runs.",
        discussion: """
            Writes the database to --out (checked with SQLite's integrity check) and the attachments' files \
            to the folder OUT-files beside it. Keep both together. Backing up into a folder that holds \
            an earlier backup's files copies only the new ones. To restore: doorstep-server restore.
            """
    )

    @OptionGroup var options: DataOptions

    @Option(help: "The file to write; it must not exist.")
    var out: String

    func run() async throws {
        let summary = try await DoorstepServerSetup.backup(configuration: try options.configuration(), to: out)
        print(
            "Backup written to \(summary.database); \(summary.files) attachment file(s), \(summary.fileBytes) bytes, in \(summary.filesFolder) (\(summary.filesCopied) copied now)."
        )
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup back into a data folder (the server stopped).",
        discussion: """
            Checks the backup (SQLite's integrity check; every file of FROM-files by its SHA-256 and type) \
            before it changes anything, then copies the database into the data folder and the files \
            into its store. Refuses while a server runs on the folder. A folder that holds a database \
            needs --replace: the database there is set aside beside it (doorstep.sqlite.before-restore-TIME), \
            never deleted. Laptops that synced after the backup send their work again at their next sync.
            """
    )

    @OptionGroup var options: DataOptions

    @Option(help: "The backup file (written by doorstep-server backup).")
    var from: String

    @Flag(help: "Set aside the data folder's database and put the backup in its place.")
    var replace = false

    @Flag(help: "Put back the database alone, from a backup made before backups held the attachments' files (no FROM-files folder).")
    var withoutFiles = false

    func run() async throws {
        let summary = try await DoorstepServerSetup.restore(
            from: from, configuration: try options.configuration(), replace: replace, withoutFiles: withoutFiles)
        if let aside = summary.setAside { print("The database that was there is kept at \(aside).") }
        print("Restored \(summary.database) from \(from), with \(summary.files) attachment file(s) (\(summary.filesCopied) put back).")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say which schema migrations a start would run and about how long they take (--dry-run), or run them now.",
        discussion: """
            A server migrates its database when it starts; after an upgrade, run this first with --dry-run \
            to see what the start will do. Without --dry-run, the migrations run now (the server stopped). \
            A database written by a newer version is refused, and nothing is changed.
            """
    )

    @OptionGroup var options: DataOptions

    @Flag(help: "Change nothing: list the pending migrations, the rows they rewrite and an estimate of their time.")
    var dryRun = false

    func run() async throws {
        let configuration = try options.configuration()
        if dryRun {
            let plan = try await DoorstepServerSetup.migrationPlan(configuration: configuration)
            print(MigrationReport.text(plan, dryRun: true))
            if let newer = MigrationReport.refusal(plan) { throw newer }
            return
        }
        let lock = configuration.databaseURL == nil ? try DataFolderLock.acquire(configuration.dataDirectory) : nil
        let plan = try await DoorstepServerSetup.migrate(configuration: configuration)
        withExtendedLifetime(lock) {}
        print(MigrationReport.text(plan, dryRun: false))
    }
}
