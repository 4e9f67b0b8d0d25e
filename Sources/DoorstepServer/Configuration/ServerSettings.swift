public import DoorstepCore
public import DoorstepStorage
public import Foundation
import Logging

/// Every setting of the server: its key in the configuration file, its flag and its environment
/// variable. The README's "Configuring the server" lists this table.
public enum ServerSetting: String, CaseIterable, Sendable {
    case data
    case database
    case districts
    case campaigns
    case host
    case port
    case tlsCert = "tls.cert"
    case tlsKey = "tls.key"
    case authThrottleMillis = "auth.throttle_ms"
    case compression
    case logFormat = "log.format"
    case logLevel = "log.level"
    case backupEvery = "backup.every"
    case backupKeep = "backup.keep"
    case backupFolder = "backup.folder"
    case relayFor = "relay.for"
    case relayUpstream = "relay.upstream"
    case relayToken = "relay.token"
    case relayIntervalMillis = "relay.interval_ms"
    case relayKeepFilesDays = "relay.keep_files_days"

    /// The key in the configuration file (`backup.keep`, or `keep` under `[backup]`).
    public var key: String { rawValue }

    /// The command-line flag.
    public var flag: String {
        switch self {
        case .tlsCert: "--tls-cert"
        case .tlsKey: "--tls-key"
        case .authThrottleMillis: "--auth-throttle-ms"
        case .relayUpstream: "--upstream"
        case .relayIntervalMillis: "--relay-interval-ms"
        default: "--" + rawValue.replacingOccurrences(of: ".", with: "-")
        }
    }

    /// The environment variable.
    public var environment: String {
        switch self {
        case .database: "DOORSTEP_DATABASE_URL"
        case .authThrottleMillis: "DOORSTEP_AUTH_THROTTLE_MS"
        default: "DOORSTEP_" + rawValue.replacingOccurrences(of: ".", with: "_").uppercased()
        }
    }
}

/// The server's settings from its flags, environment and configuration file, in that order of
/// precedence: a flag wins over an environment variable, which wins over the file, which wins
/// over the default. A bad value is refused with an error that names where it came from (the
/// flag, the variable, or the file, its line and key).
public struct ServerSettings: Sendable {
    /// The configuration file read, if any (`--config FILE` or `DOORSTEP_CONFIG`).
    public let file: SettingsFile?
    private let flags: [ServerSetting: String]
    private let environment: [String: String]

    /// Reads the configuration file named by `configFile` (else by `DOORSTEP_CONFIG`, else none).
    /// Throws for a file that cannot be read, a syntax error, or a key the server does not know.
    public init(flags: [ServerSetting: String], environment: [String: String], configFile: String?) throws(DoorstepError) {
        self.flags = flags
        self.environment = environment
        let path = configFile ?? environment["DOORSTEP_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let path {
            let file = try SettingsFile.read(path)
            for (key, entry) in file.entries.sorted(by: { $0.value.line < $1.value.line }) where ServerSetting(rawValue: key) == nil {
                throw DoorstepError(
                    .unknownField,
                    "\(path) line \(entry.line): \(key) is not a setting of the server; the settings are \(ServerSetting.allCases.map(\.key).joined(separator: ", "))"
                )
            }
            self.file = file
        } else {
            file = nil
        }
    }

    /// A setting's text and where it came from, or `nil` when it is not set anywhere.
    private func raw(_ setting: ServerSetting) -> (text: String, source: String)? {
        if let value = flags[setting] { return (value, setting.flag) }
        if let value = environment[setting.environment], !value.isEmpty { return (value, setting.environment) }
        if let file, let entry = file.entries[setting.key] {
            let text =
                switch entry.value {
                case .string(let text): text
                case .integer(let number): String(number)
                case .boolean(let flag): String(flag)
                }
            return (text, "\(file.path) line \(entry.line): \(setting.key)")
        }
        return nil
    }

    /// A setting as text.
    public func text(_ setting: ServerSetting) -> String? { raw(setting)?.text }

    /// A setting read by `parse`, which returns `nil` for a bad value; the error says `expected`.
    public func value<T>(_ setting: ServerSetting, expected: String, _ parse: (String) -> T?) throws(DoorstepError) -> T? {
        guard let (text, source) = raw(setting) else { return nil }
        guard let value = parse(text.trimmingCharacters(in: .whitespaces)) else {
            throw DoorstepError(.invalidValue, "\(source) must be \(expected), not \"\(text.prefix(60))\"")
        }
        return value
    }

    /// A whole number in `range`.
    public func integer(_ setting: ServerSetting, in range: ClosedRange<Int64>) throws(DoorstepError) -> Int64? {
        try value(setting, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)") { text in
            Int64(text.replacingOccurrences(of: "_", with: "")).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// One of `choices`.
    public func choice(_ setting: ServerSetting, _ choices: [String]) throws(DoorstepError) -> String? {
        try value(setting, expected: choices.joined(separator: " or ")) { choices.contains($0.lowercased()) ? $0.lowercased() : nil }
    }

    /// The settings every command reads: the data folder, the database and the city data.
    public func dataConfiguration() throws(DoorstepError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = text(.data) ?? "doorstep-data"
        configuration.databaseURL = text(.database)
        if let file = text(.districts) {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw DoorstepError(.notFound, "cannot read the districts file \(file)")
            }
            configuration.city = try CityData.decode(contents)
        }
        if let file = text(.campaigns) {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw DoorstepError(.notFound, "cannot read the campaigns file \(file)")
            }
            configuration.city = try configuration.city.addingCampaigns(try CityData.decodeCampaigns(contents))
        }
        return configuration
    }

    /// Every setting of a running server.
    public func serverConfiguration() throws(DoorstepError) -> ServerConfiguration {
        var configuration = try dataConfiguration()
        configuration.host = text(.host) ?? "127.0.0.1"
        if let port = try integer(.port, in: 0...65535) { configuration.port = Int(port) }
        configuration.tlsCertificatePath = text(.tlsCert)
        configuration.tlsKeyPath = text(.tlsKey)
        if (configuration.tlsCertificatePath == nil) != (configuration.tlsKeyPath == nil) {
            throw DoorstepError(.invalidValue, "HTTPS needs both a certificate (tls.cert, --tls-cert) and its key (tls.key, --tls-key)")
        }
        if let throttle = try integer(.authThrottleMillis, in: 1...60_000) { configuration.authThrottleMillis = throttle }
        if let compression = try choice(.compression, ["on", "off"]) { configuration.compressAnswers = compression == "on" }
        if let format = try choice(.logFormat, LogFormat.allCases.map(\.rawValue)) { configuration.logFormat = LogFormat(rawValue: format) ?? .text }
        if let level = try value(
            .logLevel, expected: Logger.Level.allCases.map(\.rawValue).joined(separator: ", "), { Logger.Level(rawValue: $0.lowercased()) })
        {
            configuration.logLevel = level
        }
        let every = try value(.backupEvery, expected: "a duration of at least 1m, such as 24h, 12h, 30m or 7d, or off", BackupSchedule.interval)
        let keep = try integer(.backupKeep, in: 1...1_000)
        let folder = text(.backupFolder)
        if let every, let seconds = every {
            guard configuration.databaseURL == nil else {
                throw DoorstepError(
                    .invalidValue,
                    "scheduled backups (backup.every) copy the embedded SQLite database; back up a PostgreSQL database with pg_dump instead")
            }
            configuration.backups = BackupSchedule(
                every: TimeInterval(seconds), keep: Int(keep ?? 14),
                folder: folder ?? (configuration.dataDirectory as NSString).appendingPathComponent("backups"))
        }
        configuration.relay = try relayConfiguration(dataDirectory: configuration.dataDirectory, city: configuration.city)
        return configuration
    }

    /// The relay settings (`relay.for`, `relay.upstream`, `relay.token`), when the server runs as a
    /// district relay (protocol 1.8, §19). The token may be left out once a relay has started with
    /// it: it is kept in the data folder (`relay.token`, readable by its owner only).
    public func relayConfiguration(dataDirectory: String, city: CityData) throws(DoorstepError) -> RelayConfiguration? {
        guard let district = text(.relayFor) else {
            if raw(.relayUpstream) != nil || raw(.relayToken) != nil {
                throw DoorstepError(.invalidValue, "--upstream and --relay-token are a relay's settings: they go with --relay-for DISTRICT")
            }
            return nil
        }
        let code = try city.requireDistrict(district).code
        guard
            let upstream = try value(
                .relayUpstream, expected: "the city server's address, http:// or https://",
                { text in URL(string: text).flatMap { ["http", "https"].contains($0.scheme?.lowercased() ?? "") && $0.host != nil ? $0 : nil } })
        else {
            throw DoorstepError(.missingField, "a relay needs the city server's address: --upstream URL (relay.upstream, DOORSTEP_RELAY_UPSTREAM)")
        }
        let kept = (try? String(contentsOfFile: RelayConfiguration.tokenPath(in: dataDirectory), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let token = text(.relayToken) ?? kept.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw DoorstepError(
                .missingField,
                "the first start of a relay needs its token from the city: --relay-token TOKEN (DOORSTEP_RELAY_TOKEN); an office makes one with `doorstep relay create`"
            )
        }
        var relay = RelayConfiguration(district: code, upstream: upstream, token: token)
        if let millis = try integer(.relayIntervalMillis, in: 10...3_600_000) { relay.interval = .milliseconds(millis) }
        if let days = try integer(.relayKeepFilesDays, in: 0...3_650) { relay.keepFilesFor = .seconds(days * 86_400) }
        return relay
    }
}

/// How the server writes its log: lines for people, or one JSON object per line for collectors.
public enum LogFormat: String, CaseIterable, Sendable {
    case text
    case json
}

/// Backups the server makes itself: one every `every`, the last `keep` kept, in `folder`.
public struct BackupSchedule: Sendable, Hashable {
    /// Seconds between two backups.
    public var every: TimeInterval
    public var keep: Int
    public var folder: String

    public init(every: TimeInterval, keep: Int, folder: String) {
        self.every = every
        self.keep = keep
        self.folder = folder
    }

    /// Seconds from a duration as operators write it (`24h`, `30m`, `7d`, `90s`; `1h30m`), or
    /// `.some(nil)` for `off`/`0`; `nil` when it cannot be read or is under a minute.
    static func interval(_ text: String) -> Int64?? {
        let text = text.lowercased()
        if text == "off" || text == "0" || text == "none" { return .some(nil) }
        var total: Int64 = 0
        var number = ""
        for character in text {
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            guard let value = Int64(number), value <= 100_000 else { return nil }
            total += value * unit
            number = ""
        }
        guard number.isEmpty, total >= 60 else { return nil }
        return .some(total)
    }
}

/// The text `doorstep-server migrate` prints.
public enum MigrationReport {
    /// The error for a database written by a newer version, if this is one.
    public static func refusal(_ plan: MigrationPlan) -> DoorstepError? { plan.newerError }

    public static func text(_ plan: MigrationPlan, dryRun: Bool) -> String {
        var lines: [String] = []
        if !plan.unknown.isEmpty {
            lines.append("This database was written by a newer Doorstep (migrations unknown here: \(plan.unknown.joined(separator: ", "))).")
            return lines.joined(separator: "\n")
        }
        if plan.pending.isEmpty {
            lines.append("The schema is up to date (\(plan.applied.count) migrations applied); a start changes nothing.")
            return lines.joined(separator: "\n")
        }
        lines.append(dryRun ? "A start would run \(plan.pending.count) migration(s):" : "Ran \(plan.pending.count) migration(s):")
        for step in plan.pending {
            lines.append("  \(step.name)" + (step.rows > 0 ? ": rewrites \(step.rows) rows" : ": schema only"))
        }
        if dryRun {
            let seconds = plan.estimatedSeconds
            let estimate =
                seconds < 1
                ? "under a second"
                : seconds < 120
                    ? "about \(Int(seconds.rounded(FloatingPointRoundingRule.up))) s" : "about \(Int((seconds / 60).rounded(FloatingPointRoundingRule.up))) min"
            lines.append(
                "Estimate: \(estimate) (rows rewritten at about \(Int(MigrationPlan.rowsPerSecond)) a second); the server answers no request meanwhile. Back up first: doorstep-server backup."
            )
        }
        return lines.joined(separator: "\n")
    }
}
