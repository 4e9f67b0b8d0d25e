import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

/// The options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            Help.text("help.globalOptions.theLocalDatabaseDefaultDoorstep"),
            valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp(Help.text("help.globalOptions.languageOfMessagesAndTables"), valueName: "zh|en"))
    var lang: String?

    @Flag(help: .text("help.globalOptions.printTheDataAsJson"))
    var json = false

    @Option(help: ArgumentHelp(Help.text("help.globalOptions.theServerForOfficeCommands"), valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp(Help.text("help.globalOptions.anOfficeOrAdminToken"), valueName: "token"))
    var token: String?

    @Flag(help: .text("help.globalOptions.allowPlainHttpToA"))
    var insecure = false

    @Option(help: ArgumentHelp(Help.text("help.globalOptions.networkAttemptsBeforeGivingUp"), valueName: "n"))
    var retries: Int?

    @Option(help: ArgumentHelp(Help.text("help.globalOptions.stallTimeout"), valueName: "seconds"))
    var stallTimeout: Int?

    func validate() throws {
        if let lang, !["zh", "en"].contains(lang.lowercased()) {
            throw Usage.error("cli.globalOptions.langTakesZhOrEn", ["lang": "\(lang)"])
        }
        if let retries, !(1...20).contains(retries) {
            throw Usage.error("cli.globalOptions.retriesTakesANumberFrom")
        }
        if let stallTimeout, !(1...600).contains(stallTimeout) {
            throw Usage.error("cli.globalOptions.stallTimeoutTakesSeconds")
        }
    }

    var language: Language {
        if let lang { return lang.lowercased() == "en" ? .english : .chinese }
        return Console.environmentLanguage
    }

    var console: Console { Console(language: language, json: json) }

    var city: CityData { CityData.ordos }

    var format: Format { Format(language: language, city: city) }

    /// `--db`, else `$DOORSTEP_DB`, else the per-user data folder (XDG); always absolute.
    var databasePath: String {
        let environment = ProcessInfo.processInfo.environment
        if let given = db.flatMap({ $0.isEmpty ? nil : $0 }) ?? environment["DOORSTEP_DB"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return URL(fileURLWithPath: (given as NSString).expandingTildeInPath).standardizedFileURL.path
        }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return data + "/doorstep/doorstep.sqlite"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/doorstep/doorstep.sqlite"
    }

    var configuration: ClientConfiguration {
        var configuration = ClientConfiguration(databasePath: databasePath, city: city, allowInsecureHTTP: insecure)
        if let retries { configuration.retry.maxAttempts = retries }
        if let stallTimeout { configuration.stallTimeout = TimeInterval(stallTimeout) }
        return configuration
    }

    /// The local database, which must exist: only `enroll` creates one (``createClient()``), so a
    /// mistyped `--db` is an error, not a new empty database.
    func openClient() throws -> FieldClient {
        guard FileManager.default.fileExists(atPath: databasePath) else { throw noDatabase }
        return try FieldClient(configuration: configuration)
    }

    /// The local database, created (with its folder) when missing: for `enroll` alone.
    func createClient() throws -> FieldClient {
        try FieldClient(configuration: configuration)
    }

    private var noDatabase: DoorstepError {
        console.failure(
            "notEnrolled", "cli.error.notEnrolled.thereIsNoDatabase", ["databasePath": "\(databasePath)"])
    }

    /// The local database and its enrollment; `notEnrolled` when there is none.
    func enrolledClient() async throws -> (FieldClient, Enrollment) {
        let client = try openClient()
        guard let enrollment = try await client.enrollment else { throw notEnrolled }
        return (client, enrollment)
    }

    private var notEnrolled: DoorstepError {
        console.failure(
            "notEnrolled", "cli.error.notEnrolled.noEnrolledDatabaseAt", ["databasePath": "\(databasePath)"])
    }

    /// A `--district` as typed (code or name), checked against the city data: `unknownDistrict`
    /// for a code that is not one of the city's, never an empty answer.
    func district(_ text: String?) throws(DoorstepError) -> String? {
        guard let text else { return nil }
        return try TypedInput.requireDistrict(text, city: city)
    }

    /// `--server` as a URL.
    func serverURL(_ text: String) throws -> URL {
        guard let url = URL(string: text.trimmingCharacters(in: .whitespaces)), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw console.failure(
                "invalidValue", "cli.error.invalidValue.theServerAddressMust")
        }
        return url
    }

    /// Whether a URL names this machine (plain HTTP is allowed there without --insecure).
    static func isLoopback(_ url: URL) -> Bool {
        let host = url.host ?? ""
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The token named on the command line or in `DOORSTEP_TOKEN`.
    var explicitToken: String? {
        if let token, !token.isEmpty { return token }
        let environment = ProcessInfo.processInfo.environment["DOORSTEP_TOKEN"]
        return environment.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// An office client: `--token`/`DOORSTEP_TOKEN` with `--server` (or the enrolled server),
    /// else this device's own token (an office device).
    func office() async throws -> OfficeSession {
        if let token = explicitToken {
            let url: URL
            if let server {
                url = try serverURL(server)
            } else if FileManager.default.fileExists(atPath: databasePath), let enrollment = try await openClient().enrollment {
                url = enrollment.server
            } else {
                throw console.failure("missingServer", "cli.error.missingServer.aTokenNeedsServer")
            }
            return OfficeSession(client: try OfficeClient(server: url, token: token, configuration: configuration), server: url)
        }
        if server != nil && !FileManager.default.fileExists(atPath: databasePath) {
            throw console.failure("missingToken", "cli.error.missingToken.serverNeedsTokenOr")
        }
        let (client, enrollment) = try await enrolledClient()
        // Another address: this device's token goes there only if the same server answers
        // (its key id), else `serverMismatch` and nothing is sent.
        let url = try server.map(serverURL) ?? enrollment.server
        return OfficeSession(client: try await client.officeClient(via: url), server: url)
    }
}

/// An office client and the server it talks to.
struct OfficeSession {
    var client: OfficeClient
    var server: URL
}

/// A leaf command: it has the global options, which also pick the language of its errors.
protocol DoorstepCommand: AsyncParsableCommand {
    var global: GlobalOptions { get }
}
