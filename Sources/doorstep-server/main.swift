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
            Starts on 127.0.0.1:8080 with its data in ./doorstep-data (SQLite). Options may also be set
            with DOORSTEP_HOST, DOORSTEP_PORT, DOORSTEP_DATA, DOORSTEP_DISTRICTS and DOORSTEP_DATABASE_URL
            (PostgreSQL, for several servers on one database).

            Examples:
              doorstep-server
              doorstep-server --port 0 --data /var/lib/doorstep
              doorstep-server --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem
              doorstep-server rotate-admin-token --data /var/lib/doorstep
              doorstep-server backup --data /var/lib/doorstep --out /mnt/usb/doorstep-2020-04-30.sqlite
              doorstep-server restore --from /mnt/usb/doorstep-2020-04-30.sqlite --data /var/lib/doorstep --replace
            """,
        version: DoorstepVersion.string,
        subcommands: [Serve.self, RotateAdminToken.self, Backup.self, Restore.self],
        defaultSubcommand: Serve.self
    )
}

struct DataOptions: ParsableArguments {
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

    func configuration() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data ?? environment["DOORSTEP_DATA"] ?? "doorstep-data"
        configuration.databaseURL = database ?? environment["DOORSTEP_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let file = districts ?? environment["DOORSTEP_DISTRICTS"] {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read the districts file \(file)")
            }
            configuration.city = try CityData.decode(contents)
        }
        if let file = campaigns ?? environment["DOORSTEP_CAMPAIGNS"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read the campaigns file \(file)")
            }
            configuration.city = try configuration.city.addingCampaigns(try CityData.decodeCampaigns(contents))
        }
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default).")

    @Option(help: "The address to listen on (default 127.0.0.1; env DOORSTEP_HOST).")
    var host: String?

    @Option(help: "The port (default 8080; 0 takes a free one and writes it to DATA/server.addr; env DOORSTEP_PORT).")
    var port: Int?

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
    var authThrottleMillis: Int64?

    @Option(
        help: ArgumentHelp(
            "gzip of text answers to clients that accept it: on, or off behind a proxy that compresses itself (default on; env DOORSTEP_COMPRESSION). Compressed request bodies are read either way.",
            valueName: "on|off"))
    var compression: String?

    @OptionGroup var options: DataOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = try options.configuration()
        configuration.host = host ?? environment["DOORSTEP_HOST"] ?? "127.0.0.1"
        configuration.tlsCertificatePath = tlsCert ?? environment["DOORSTEP_TLS_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.tlsKeyPath = tlsKey ?? environment["DOORSTEP_TLS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if (configuration.tlsCertificatePath == nil) != (configuration.tlsKeyPath == nil) {
            throw ValidationError("HTTPS needs both --tls-cert and --tls-key")
        }
        if let throttle = authThrottleMillis ?? environment["DOORSTEP_AUTH_THROTTLE_MS"].flatMap({ Int64($0) }) {
            guard (1...60_000).contains(throttle) else { throw ValidationError("--auth-throttle-ms must be from 1 to 60000") }
            configuration.authThrottleMillis = throttle
        }
        switch compression ?? environment["DOORSTEP_COMPRESSION"] ?? "on" {
        case "on": configuration.compressAnswers = true
        case "off": configuration.compressAnswers = false
        case let other: throw ValidationError("--compression must be on or off, not \"\(other)\"")
        }
        if let port = port ?? environment["DOORSTEP_PORT"].flatMap(Int.init) {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
            configuration.port = port
        }
        ProcessMemory.returnLargeBlocksToTheSystem()
        // One server per data folder: a second one, or a restore into it, stops while this one runs.
        let lock = try DataFolderLock.acquire(configuration.dataDirectory)
        let app = try await buildApplication(configuration: configuration)
        try await app.runService()
        withExtendedLifetime(lock) {}
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
