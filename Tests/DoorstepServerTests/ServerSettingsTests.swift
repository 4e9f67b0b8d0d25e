import DoorstepCore
import DoorstepTestSupport
import Foundation
import Logging
import Testing

@testable import DoorstepServer

/// The server's settings: the configuration file (a TOML subset), flags and environment variables
/// in their order of precedence, and errors that name where a bad value came from.
@Suite struct ServerSettingsTests {
    static func file(_ text: String) throws -> String {
        let path = Scratch.folder("settings").path + "/server.toml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theFile_readsSectionsDottedKeysCommentsAndValues() throws {
        let file = try SettingsFile.parse(
            """
            \u{FEFF}# Doorstep server
            host = "0.0.0.0"   # every address
            port = 8_443
            data = '/var/lib/doorstep'
            [backup]
            every = "24h"
            keep = 14
            [log]
            format = "json"
            tls.cert = "C:\\\\certs\\\\城市.pem"
            compression = false
            """, path: "server.toml")
        #expect(file.entries["host"]?.value == .string("0.0.0.0"))
        #expect(file.entries["port"]?.value == .integer(8443))
        #expect(file.entries["data"]?.value == .string("/var/lib/doorstep"))
        #expect(file.entries["backup.every"]?.value == .string("24h"))
        #expect(file.entries["backup.keep"] == SettingsFile.Entry(value: .integer(14), line: 7))
        #expect(file.entries["log.format"]?.value == .string("json"))
        #expect(file.entries["log.tls.cert"]?.value == .string("C:\\certs\\城市.pem"))
        #expect(file.entries["log.compression"]?.value == .boolean(false))
    }

    @Test(arguments: [
        ("port 8080", "line 1: expected key = value"),
        ("host = \"open", "line 1: a string needs its closing \""),
        ("ports = [1, 2]", "line 1: arrays and inline tables"),
        ("a = 1\nb = 2\na = 3", "line 3: a is set twice (first on line 1)"),
        ("[backup\nkeep = 1", "line 1: a section header needs its closing ]"),
        ("keep = fourteen", "line 1: fourteen is not a value this file takes"),
        ("keep = 14 15", "line 1: text after the value of keep"),
        ("bad key = 1", "line 1: \"bad key\" is not a key"),
        ("x = \"\\q\"", "line 1: unknown escape \\q"),
        ("x = 1.5", "line 1: 1.5 is not a value this file takes"),
    ])
    func theFile_refusesWhatItCannotRead_namingTheLine(text: String, message: String) {
        let error = #expect(throws: DoorstepError.self) { try SettingsFile.parse(text, path: "/etc/doorstep/server.toml") }
        #expect(error?.message.hasPrefix("/etc/doorstep/server.toml ") == true)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func aFlagWinsOverTheEnvironment_whichWinsOverTheFile_whichWinsOverTheDefault() throws {
        let path = try Self.file("port = 9000\nhost = \"10.0.0.2\"\ndata = \"/srv/doorstep\"\n")
        let fileOnly = try ServerSettings(flags: [:], environment: [:], configFile: path).serverConfiguration()
        #expect(fileOnly.port == 9000 && fileOnly.host == "10.0.0.2" && fileOnly.dataDirectory == "/srv/doorstep")
        let environment = try ServerSettings(flags: [:], environment: ["DOORSTEP_PORT": "9001", "DOORSTEP_HOST": ""], configFile: path)
            .serverConfiguration()
        #expect(environment.port == 9001 && environment.host == "10.0.0.2")
        let flag = try ServerSettings(flags: [.port: "9002"], environment: ["DOORSTEP_PORT": "9001"], configFile: path).serverConfiguration()
        #expect(flag.port == 9002)
        // DOORSTEP_CONFIG names the file when --config does not.
        #expect(try ServerSettings(flags: [:], environment: ["DOORSTEP_CONFIG": path], configFile: nil).serverConfiguration().port == 9000)
        // Nothing set: the defaults.
        let defaults = try ServerSettings(flags: [:], environment: [:], configFile: nil).serverConfiguration()
        #expect(defaults.port == 8080 && defaults.host == "127.0.0.1" && defaults.dataDirectory == "doorstep-data")
        #expect(defaults.logFormat == .text && defaults.logLevel == .info && defaults.backups == nil && defaults.compressAnswers)
    }

    @Test func aBadValue_isRefused_namingTheFileLineAndKey_orTheFlag_orTheVariable() throws {
        let path = try Self.file("[backup]\nevery = \"daily\"\n")
        let fromFile = #expect(throws: DoorstepError.self) { try ServerSettings(flags: [:], environment: [:], configFile: path).serverConfiguration() }
        #expect(fromFile?.message.hasPrefix("\(path) line 2: backup.every must be a duration") == true, "\(fromFile?.message ?? "")")
        #expect(fromFile?.message.hasSuffix("not \"daily\"") == true)
        let fromFlag = #expect(throws: DoorstepError.self) {
            try ServerSettings(flags: [.port: "eighty"], environment: [:], configFile: nil).serverConfiguration()
        }
        #expect(fromFlag?.message == "--port must be a whole number from 0 to 65535, not \"eighty\"")
        let fromVariable = #expect(throws: DoorstepError.self) {
            try ServerSettings(flags: [:], environment: ["DOORSTEP_LOG_FORMAT": "yaml"], configFile: nil).serverConfiguration()
        }
        #expect(fromVariable?.message == "DOORSTEP_LOG_FORMAT must be text or json, not \"yaml\"")
        let unknown = try Self.file("port = 8080\nprot = 8081\n")
        let misspelt = #expect(throws: DoorstepError.self) { try ServerSettings(flags: [:], environment: [:], configFile: unknown) }
        #expect(misspelt?.message.hasPrefix("\(unknown) line 2: prot is not a setting of the server") == true)
        let missing = #expect(throws: DoorstepError.self) { try ServerSettings(flags: [:], environment: [:], configFile: "/nonexistent/server.toml") }
        #expect(missing?.message == "cannot read the configuration file /nonexistent/server.toml")
        let half = #expect(throws: DoorstepError.self) {
            try ServerSettings(flags: [.tlsCert: "a.pem"], environment: [:], configFile: nil).serverConfiguration()
        }
        #expect(half?.message.contains("HTTPS needs both") == true)
    }

    @Test func backups_everyAndKeep_readAsOperatorsWriteThem() throws {
        func schedule(_ every: String, keep: String? = nil) throws -> BackupSchedule? {
            var flags: [ServerSetting: String] = [.backupEvery: every, .data: "/srv/d"]
            if let keep { flags[.backupKeep] = keep }
            return try ServerSettings(flags: flags, environment: [:], configFile: nil).serverConfiguration().backups
        }
        #expect(try schedule("24h") == BackupSchedule(every: 86_400, keep: 14, folder: "/srv/d/backups"))
        #expect(try schedule("1h30m", keep: "3")?.every == 5_400)
        #expect(try schedule("7d")?.every == 604_800)
        #expect(try schedule("off") == nil)
        for bad in ["30s", "24", "h", "1.5h", "-1h", "24hours"] {
            #expect(throws: DoorstepError.self, "\(bad)") { try schedule(bad) }
        }
        #expect(throws: DoorstepError.self) { try schedule("24h", keep: "0") }
        let postgres = #expect(throws: DoorstepError.self) {
            try ServerSettings(flags: [.backupEvery: "24h", .database: "postgres://u@h/d"], environment: [:], configFile: nil).serverConfiguration()
        }
        #expect(postgres?.message.contains("pg_dump") == true)
    }

    @Test func everySetting_hasAFlagAVariableAndAKey_eachItsOwn() {
        let all = ServerSetting.allCases
        #expect(Set(all.map(\.flag)).count == all.count && Set(all.map(\.environment)).count == all.count)
        #expect(ServerSetting.database.environment == "DOORSTEP_DATABASE_URL" && ServerSetting.backupEvery.flag == "--backup-every")
        #expect(ServerSetting.tlsCert.environment == "DOORSTEP_TLS_CERT" && ServerSetting.logFormat.environment == "DOORSTEP_LOG_FORMAT")
    }

    @Test func jsonLogLines_areOneObjectEach_withTheMetadataAsMembers() throws {
        let line = JSONLogHandler.line(
            label: "doorstep-server", level: .info, message: "request \"x\"\n", metadata: ["hb.request.id": "abc", "ms": .stringConvertible(3)],
            source: "DoorstepServer", at: Date(timeIntervalSince1970: 1_765_000_000.123))
        #expect(!line.contains("\n"))
        guard case .object(let object) = try FastJSON.parse(line) else {
            Issue.record("not an object: \(line)")
            return
        }
        #expect(object["message"] == .string("request \"x\"\n") && object["hb.request.id"] == .string("abc") && object["ms"] == .string("3"))
        #expect(object["level"] == .string("info") && object["label"] == .string("doorstep-server"))
        #expect(object["time"] == .string("2025-12-06T05:46:40.123Z"))
    }
}
