import DoorstepClient
import DoorstepCore
import DoorstepServer
import DoorstepTestSupport
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Issue 7, security: a realistic run of a server (at trace level, over real sockets) with field
/// clients and an office, through every kind of request, good and bad. Its whole log, captured
/// through a custom swift-log handler, holds no national ID, name, phone number or token; the
/// data folder holds every token and code only as a hash.
@Suite(.serialized) struct LogPrivacyTests {
    @Test func aRealisticRun_logsNoNationalIDNameOrToken_andStoresTokensOnlyHashed() async throws {
        LogCapture.install()
        let folder = Executables.temporaryFolder("doorstep-logs")
        let configuration = ServerConfiguration(port: 0, dataDirectory: folder, authFailureLimit: 1000, logLevel: .trace)
        let app = try await buildApplication(configuration: configuration)
        let secrets = SecretBook()
        let capturedBefore = LogCapture.shared.count
        try await app.test(.live) { testClient in
            let url = URL(string: "http://127.0.0.1:\(try #require(testClient.port))")!
            let adminToken = try String(contentsOfFile: configuration.adminTokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            secrets["admin token"] = adminToken
            let admin = try OfficeClient(server: url, token: adminToken)
            func enrolled(_ role: Role, _ name: String) async throws -> FieldClient {
                let code = try await admin.createEnrollmentCode(district: "150602", role: role)
                secrets["code \(name)"] = code.code
                secrets["code \(name) (normalised)"] = code.code.replacingOccurrences(of: "-", with: "")
                let client = try FieldClient(
                    configuration: ClientConfiguration(databasePath: Executables.temporaryFolder("doorstep-logs-client") + "/local.sqlite"))
                try await client.enroll(server: url, code: code.code, deviceName: "笔记本 \(name)")
                secrets["token \(name)"] = try Self.token(of: client)
                return client
            }
            let first = try await enrolled(.visitor, "first")
            let second = try await enrolled(.visitor, "second")
            let office = try await enrolled(.office, "office")

            // Households with distinctive names, ID numbers and phones; visits; a conflict; a duplicate.
            var households: [EntityID] = []
            for n in 0..<3 {
                var facts = Facts.household(7000 + n, name: "隐私测试户主\(n)号")
                facts["phone"] = .string("1391234567\(n)")
                facts["address"] = .string("隐私测试地址 \(n) 号")
                secrets["name \(n)"] = "隐私测试户主\(n)号"
                secrets["national ID \(n)"] = Facts.nationalID(7000 + n)
                secrets["phone \(n)"] = "1391234567\(n)"
                households.append(try await first.fileHousehold(facts))
            }
            try await first.recordVisit(to: households[0], Facts.visit("隐私测试走访"))
            try await first.sync()
            try await second.sync()
            try await office.sync()
            try await first.editHousehold(households[0], set: ["phone": "13800001111", "headName": "隐私测试改名甲"])
            try await second.editHousehold(households[0], set: ["phone": "13800002222", "headName": "隐私测试改名乙"])
            secrets["phone edit 1"] = "13800001111"; secrets["phone edit 2"] = "13800002222"
            secrets["name edit 1"] = "隐私测试改名甲"; secrets["name edit 2"] = "隐私测试改名乙"
            var twin = Facts.household(7000, name: "隐私测试重复户")
            twin["district"] = "150602"
            secrets["name twin"] = "隐私测试重复户"
            _ = try await second.fileHousehold(twin, allowingSameNationalID: true)
            try await first.sync()
            try await second.sync()

            // Refused input that carries personal data: a bad ID number, a status from a visitor.
            var bad = Facts.household(7100, name: "隐私测试坏号")
            bad["nationalId"] = "150602199001011235"
            secrets["name bad"] = "隐私测试坏号"; secrets["bad national ID"] = "150602199001011235"
            _ = try? await first.fileHousehold(bad)
            let raw = URLSessionTransport(baseURL: url)
            let badID = Mutation(
                device: try #require(try await first.enrollment).device, seq: 999, hlc: HLC(wallMillis: 1, logical: 0), op: .create,
                kind: .household, entity: EntityID.random(), household: EntityID.random(),
                fields: [FieldWrite(field: "nationalId", value: "150602199001011235"), FieldWrite(field: "headName", value: "隐私测试坏号")])
            _ = try await raw.send(
                TransportRequest(
                    method: "POST", path: "/v1/push",
                    headers: [
                        "Doorstep-Protocol": "1", "Authorization": "Bearer \(secrets["token first"] ?? "")",
                        "Content-Type": "application/json",
                    ],
                    body: try WireCoding.encode(PushBatch(device: badID.device, mutations: [badID]))))
            // Wrong tokens and codes: the guesses themselves must not be logged either.
            for guess in ["dsd_guessedTokenGuessedToken0001", "dsa_guessedAdminTokenGuessed0002"] {
                secrets["guess \(guess.prefix(4))"] = guess
                _ = try await raw.send(
                    TransportRequest(method: "GET", path: "/v1/pull", headers: ["Doorstep-Protocol": "1", "Authorization": "Bearer \(guess)"]))
            }
            _ = try await raw.send(
                TransportRequest(
                    method: "POST", path: "/v1/enroll", headers: ["Doorstep-Protocol": "1", "Content-Type": "application/json"],
                    body: Data(#"{"code":"ZZZZ-YYYY-XXXX","deviceName":"x","publicSigningKey":"AAAA"}"#.utf8)))
            secrets["wrong code"] = "ZZZZ-YYYY-XXXX"

            // The office: review, confirm, status, import with names and IDs, roster, report, history.
            let officeAPI = try await office.officeClient()
            let queue = try await officeAPI.review()
            for conflict in queue.conflicts { _ = try? await officeAPI.confirm(entity: conflict.record.entity, field: conflict.record.field) }
            _ = try await officeAPI.setStatus(household: households[1], to: .filed)
            let csv =
                "户主姓名,身份证号,电话,住址,旗区,档案级别,主要致困原因,困难程度,技能水平,家庭月收入（分）,受疫情影响\r\n"
                + "隐私测试导入户,\(Facts.nationalID(7200)),13955556666,隐私导入地址,150602,全国级,因病,一般困难,无技能,100,否\r\n"
                + "隐私测试导入坏,150602199001011235,139,隐私导入地址,150602,全国级,因病,一般困难,无技能,100,否\r\n"
            secrets["name import"] = "隐私测试导入户"; secrets["national ID import"] = Facts.nationalID(7200); secrets["phone import"] = "13955556666"
            secrets["name import bad"] = "隐私测试导入坏"
            _ = try? await officeAPI.importHouseholds(Data(csv.utf8), contentType: "text/csv", acceptValid: true)
            let roster = "身份证号,姓名,低保金\r\n\(Facts.nationalID(7001)),隐私名单户,300\r\n\(Facts.nationalID(7300)),隐私名单外,200\r\n"
            secrets["name roster"] = "隐私名单户"; secrets["name roster 2"] = "隐私名单外"; secrets["national ID roster"] = Facts.nationalID(7300)
            _ = try await officeAPI.compareRoster(Data(roster.utf8))
            _ = try await officeAPI.report()
            // A dashboard account: its password is kept only as a bcrypt hash, and never logged.
            secrets["password dashboard"] = "privacy-test-passphrase-42"
            _ = try await officeAPI.createUser(name: "privacy-staff", password: "privacy-test-passphrase-42", role: .office)
            _ = try await officeAPI.history(households[0])

            // A bundle exported by a visitor and uploaded by the office; then the visitor is revoked and syncs.
            try await second.recordVisit(to: households[2], Facts.visit("隐私测试离线"))
            let bundlePath = folder + "-second.dsbundle"
            try await second.exportBundle(to: bundlePath)
            _ = try await officeAPI.upload(bundle: try Data(contentsOf: URL(fileURLWithPath: bundlePath)))
            _ = try await officeAPI.revoke(device: try #require(try await second.enrollment).device)
            try await second.recordVisit(to: households[2], Facts.visit("隐私测试吊销后"))
            _ = try? await second.sync()
            try await first.sync()
            try await office.sync()
        }
        // The whole log of this process so far: this run, and whatever other suites ran beside it.
        let log = LogCapture.shared.text
        #expect(LogCapture.shared.count > capturedBefore + 50, "the capture saw the run (\(LogCapture.shared.count - capturedBefore) lines)")
        #expect(log.contains("/v1/push") && log.contains("/v1/pull"), "the capture has the request log")
        let leaks = SecretScan.leaks(of: secrets.all, in: log)
        #expect(leaks.isEmpty, "the log holds: \(leaks)")

        // The data folder: the admin token's own file aside, no token or code in clear, anywhere.
        var scanned = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name != "admin.token" {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
            scanned += data.count
            let text = String(decoding: data, as: UTF8.self)
            let stored = SecretScan.leaks(
                of: secrets.all.filter {
                    $0.key.hasPrefix("token") || $0.key.hasPrefix("admin") || $0.key.hasPrefix("code") || $0.key.hasPrefix("guess")
                        || $0.key.hasPrefix("password")
                },
                in: text)
            #expect(stored.isEmpty, "\(name) stores in clear: \(stored)")
        }
        print(
            "LogPrivacyTests: \(LogCapture.shared.count - capturedBefore) log lines at trace level searched for \(secrets.all.count) secrets "
                + "(national IDs, names, phones, tokens, codes, a password): \(leaks.count) found; \(scanned) bytes of the data folder hold no token, code or password"
        )
    }

    static func token(of client: FieldClient) throws -> String {
        let queue = try DatabaseQueue(path: client.configuration.databasePath)
        return try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'token'") ?? "" }
    }
}

/// Named secrets, filled in while a run goes on.
final class SecretBook: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String] = [:]

    subscript(key: String) -> String? {
        get { lock.withLock { values[key] } }
        set { lock.withLock { values[key] = newValue } }
    }

    var all: [String: String] { lock.withLock { values } }
}
