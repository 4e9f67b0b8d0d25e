import AsyncHTTPClient
import DoorstepClient
import DoorstepCore
import DoorstepStorage
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The office's side at city scale (issue 21): each office operation timed at every scope (one
/// server grown through the scopes, restarted at each size so its peak memory belongs to that
/// size), with `GET /health` timed the same way as the baseline (what any request costs), and
/// the ratio of the largest scope's p99 to the smallest's.
enum OfficeCase {
    static let password = "doorstep-bench-office-2026"

    /// `importDatabase` makes an empty PostgreSQL database for the import's server (named by its
    /// argument); without it, the import runs on SQLite only.
    static func run(
        _ options: Options, backend: Backend, scopes: [Int]? = nil, importDatabase: (@Sendable (String) async throws -> String)? = nil
    ) async throws -> OfficeResult {
        let sizes = options.sizes
        let tag = backend.databaseURL == nil ? "sqlite" : "postgres"
        let data = Workspace.shared.path("office-\(tag)")
        let local = try await LocalStorage(backend: backend, data: data)
        defer { local.close() }
        let seeder = try await Seeder.enroll(local.storage)
        // A campaign under way: identification began five weeks ago, the exit stage ends in four months.
        let zone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
        let today = LocalDate(Date(), in: zone)
        func stage(_ kind: CampaignStageKind, _ zh: String, _ en: String, _ from: Int, _ to: Int) -> CampaignStage {
            CampaignStage(stage: kind, name: LocalizedName(zh: zh, en: en), start: today.adding(days: from), end: today.adding(days: to))
        }
        try await local.storage.saveCampaign(
            Campaign(
                id: "bench", name: LocalizedName(zh: "基准测试行动", en: "Benchmark campaign"),
                stages: [
                    stage(.identification, "摸底排查", "identification", -35, 20), stage(.measures, "精准施策", "measures", 21, 60),
                    stage(.exit, "脱困退出", "exit", 61, 120),
                ]), by: "doorstep-bench", at: Instant.format(Date(), in: .gmt))
        var result = OfficeResult(backend: backend.name, samples: sizes.officeSamples)
        var account = false

        for scope in scopes ?? sizes.officeScopes {
            Log.note("office (\(backend.name)): seeding up to \(Table.number(Double(scope))) households")
            try await seeder.growCity(to: scope) { done in Log.note("  \(Table.number(Double(done))) households") }
            let server = try await ServerProcess.start(data: data, database: backend.databaseURL, name: "office-\(tag)-\(scope)-server")
            defer { server.stop() }
            let office = try server.office()
            if !account {
                _ = try await office.createUser(name: "bench", password: password, role: .city)
                account = true
            }
            let browser = OfficeBrowser(base: server.url, token: try server.adminToken)
            defer { browser.shutdown() }
            try await browser.signIn(name: "bench", password: password)

            var point = OfficePoint(households: scope)
            // The first report counts every household seeded since the last one into the tally
            // (asked as `doorstep report` asks: an answer with every list whole would weigh on the
            // memory measured here; it is measured on its own below).
            let catchUp = ContinuousClock.now
            _ = try await browser.get("/v1/reports?lists=20", api: true)
            point.tallyCatchUpSeconds = (ContinuousClock.now - catchUp).seconds
            point.serverPeakKibAfter["tally catch-up"] = server.peakKiB
            Log.note("  the tally counted the new households in \(Table.number(point.tallyCatchUpSeconds, digits: 2)) s")

            var generator = SeededGenerator(seed: UInt64(scope))
            let ids = seeder.households
            let pages = max(1, scope / 50)
            let samples = sizes.officeSamples
            func time(_ name: String, count: Int = samples, _ path: @escaping () -> String, api: Bool = false) async throws {
                _ = try await browser.get(path(), api: api)  // warm
                var times: [Double] = []
                for _ in 0..<count { times.append(try await browser.timed(path(), api: api)) }
                point.operations[name] = OfficeTiming(times)
                point.serverPeakKibAfter[name] = server.peakKiB
                Log.note(
                    "  \(name): p50 \(Table.number(Stats.percentile(times, 50), digits: 1)) ms, p99 \(Table.number(Stats.percentile(times, 99), digits: 1)) ms; server peak so far \(server.peakKiB / 1024) MiB"
                )
            }
            try await time("health", { "/health" }, api: true)
            // As `doorstep report` asks (20 households per list), then every listed household (linear in the lists).
            try await time("report city", { "/v1/reports?lists=20" }, api: true)
            try await time("report district", { "/v1/reports?lists=20&district=\(Facts.districts[0])" }, api: true)
            try await time("report city, lists whole", count: max(2, samples / 10), { "/v1/reports" }, api: true)
            try await time("overview city", { "/dashboard" })
            try await time("overview district", { "/dashboard?district=\(Facts.districts[1])" })
            try await time("households page", { "/dashboard/households?page=\(Int.random(in: 1...pages, using: &generator))" })
            try await time(
                "households search", { "/dashboard/households?q=\(String(Facts.nationalID(Int.random(in: 0..<scope, using: &generator)).suffix(6)))" })
            try await time("household page", { "/dashboard/households/\(ids[Int.random(in: 0..<ids.count, using: &generator)])" })
            try await time("household history", { "/v1/households/\(ids[Int.random(in: 0..<ids.count, using: &generator)])/history" }, api: true)
            try await time("review queue", { "/dashboard/review" })
            let heavy = max(2, samples / 10)
            try await time("export households CSV", count: heavy, { "/dashboard/export/households" })
            try await time("export missed CSV", count: heavy, { "/dashboard/export/missed" })

            // The roster comparison: a civil-affairs CSV of as many lines as households, up to the
            // protocol's limit of a file (49,999 rows, §15).
            var roster = "身份证号,姓名,低保金\n"
            let lines = min(scope, 49_999)
            point.rosterLines = lines
            for n in 0..<lines { roster += "\(Facts.nationalID(n)),王某\(n),\(n % 3 == 0 ? "800" : "0")\n" }
            let rosterBody = Data(roster.utf8)
            var rosterTimes: [Double] = []
            for _ in 0..<heavy {
                rosterTimes.append(try await browser.timedPost("/v1/roster/compare", body: rosterBody, contentType: "text/csv; charset=utf-8"))
            }
            point.operations["roster comparison"] = OfficeTiming(rosterTimes)
            point.serverPeakKibAfter["roster comparison"] = server.peakKiB
            Log.note(
                "  roster comparison of \(lines) lines: p50 \(Table.number(Stats.percentile(rosterTimes, 50), digits: 1)) ms; server peak so far \(server.peakKiB / 1024) MiB"
            )

            // An import of existing files of that size (up to 40,000 rows: a request body's limit
            // of 8 MiB, §15), into an empty server of its own: the rows written, then that server's
            // peak memory.
            if backend.databaseURL == nil || importDatabase != nil {
                let rows = min(scope, 40_000)
                point.importRows = rows
                var file = "户主姓名,身份证号,电话,住址,旗区,工作单位,基层工会,档案级别,主要致困原因,其他致困原因,困难程度,技能水平,家庭月收入（分）,受疫情影响,状态,备注\n"
                for n in 0..<rows {
                    file +=
                        "李某\(n),\(Facts.nationalID(1_000_000 + n)),13912345678,\"东胜区 建设街 \(n) 号\",\(Facts.districts[n % 2]),某煤业公司,某煤业公司工会,全国级,因病,失业、收入低,一般困难,无技能,\(90_000 + n % 1000),否,,\n"
                }
                let importData = Workspace.shared.path("office-import-\(tag)-\(scope)")
                let importServer = try await ServerProcess.start(
                    data: importData, database: backend.databaseURL == nil ? nil : try await importDatabase?("import\(scope)"),
                    name: "office-import-\(tag)-\(scope)-server")
                let importer = OfficeBrowser(base: importServer.url, token: try importServer.adminToken)
                let importMilliseconds = try await importer.timedPost("/v1/admin/import", body: Data(file.utf8), contentType: "text/csv; charset=utf-8")
                point.operations["import"] = OfficeTiming([importMilliseconds])
                point.importServerPeakKib = importServer.peakKiB
                importer.shutdown()
                importServer.stop()
                try? FileManager.default.removeItem(atPath: importData)
                Log.note(
                    "  import of \(rows) rows: \(Table.number(importMilliseconds, digits: 0)) ms; that server's peak \(point.importServerPeakKib / 1024) MiB")
            }

            // A backup of the scope's database while the server runs (SQLite: PostgreSQL is backed up with pg_dump).
            if backend.databaseURL == nil {
                let out = Workspace.shared.path("office-backup-\(scope).sqlite")
                let child = try ChildProcess(arguments: ["_backup", "--data", data, "--out", out], log: Workspace.shared.path("office-backup-\(scope).log"))
                let status = try await child.waitForExit(timeout: 3600)
                guard status == 0 else { throw BenchError("the backup failed (exit \(status)); log:\n\(child.logTail)") }
                let backup = try child.printedResult(Children.BackupResult.self, what: "the backup")
                point.operations["backup"] = OfficeTiming([backup.seconds * 1000])
                point.backupBytes = backup.bytes
                point.backupPeakKib = backup.peakKiB
                try? FileManager.default.removeItem(atPath: out)
                try? FileManager.default.removeItem(atPath: out + "-files")
                Log.note(
                    "  backup of \(backup.bytes / 1_048_576) MiB: \(Table.number(backup.seconds, digits: 2)) s; its peak \(backup.peakKiB / 1024) MiB")
            }

            // Ten offices open their overview at once while a day end's pushes land (counted by
            // the pages themselves: the pushes go through storage, not the server's background count).
            var offices: [OfficeBrowser] = []
            for _ in 0..<10 {
                let office = OfficeBrowser(base: server.url, token: try server.adminToken)
                try await office.signIn(name: "bench", password: password)
                offices.append(office)
            }
            defer { for office in offices { office.shutdown() } }
            let burst = Task { try await seeder.addVisits(count: min(2_000, scope)) }
            let together = try await withThrowingTaskGroup(of: [Double].self) { group in
                for office in offices {
                    group.addTask {
                        var times: [Double] = []
                        for _ in 0..<max(2, samples / 5) { times.append(try await office.timed("/dashboard", api: false)) }
                        return times
                    }
                }
                var all: [Double] = []
                for try await times in group { all += times }
                return all
            }
            try await burst.value
            point.operations["overview city, 10 offices during pushes"] = OfficeTiming(together)
            Log.note(
                "  10 offices during pushes: overview p50 \(Table.number(Stats.percentile(together, 50), digits: 1)) ms, p99 \(Table.number(Stats.percentile(together, 99), digits: 1)) ms"
            )

            point.serverPeakKib = server.peakKiB
            Log.note("  server peak \(point.serverPeakKib / 1024) MiB")
            result.scopes.append(point)
            server.stop()
        }
        if let first = result.scopes.first, let last = result.scopes.last, result.scopes.count >= 2 {
            for (name, timing) in last.operations {
                guard let base = first.operations[name], base.p99Ms > 0 else { continue }
                result.p99Ratios[name] = timing.p99Ms / base.p99Ms
            }
            result.memoryRatio =
                result.scopes.count >= 2
                ? Double(last.serverPeakKib) / Double(max(1, result.scopes[result.scopes.count - 2].serverPeakKib)) : 0
        }
        return result
    }
}

/// An office's browser and API caller: the dashboard's session cookie, the admin token for `/v1`.
final class OfficeBrowser: Sendable {
    let base: String
    let token: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    private let cookie = Mutex<String?>(nil)

    init(base: URL, token: String) {
        self.base = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        self.token = token
    }

    func shutdown() { try? http.syncShutdown() }

    /// Signs in to the dashboard with its form (the form's token first).
    func signIn(name: String, password: String) async throws {
        let (form, _) = try await send(.GET, "/dashboard/signin", api: false)
        guard let range = form.text.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression),
            let csrf = form.text[range].split(separator: "\"").dropFirst(3).first
        else { throw BenchError("the sign-in page has no form token") }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = [("csrf", String(csrf)), ("name", name), ("password", password)]
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        let (answer, _) = try await send(
            .POST, "/dashboard/signin", api: false, body: Data(body.utf8), contentType: "application/x-www-form-urlencoded")
        guard answer.status == 303, cookie.withLock({ $0 }) != nil else { throw BenchError("the dashboard did not sign the office in (\(answer.status))") }
    }

    struct Answer {
        var status: Int
        var text: String
    }

    func get(_ path: String, api: Bool) async throws -> Answer {
        let (answer, _) = try await send(.GET, path, api: api)
        guard answer.status == 200 else { throw BenchError("\(path) answered \(answer.status): \(answer.text.prefix(300))") }
        return answer
    }

    /// Milliseconds from the request to the answer's last byte.
    func timed(_ path: String, api: Bool) async throws -> Double {
        let (answer, milliseconds) = try await send(.GET, path, api: api)
        guard answer.status == 200 else { throw BenchError("\(path) answered \(answer.status): \(answer.text.prefix(300))") }
        return milliseconds
    }

    func timedPost(_ path: String, body: Data, contentType: String) async throws -> Double {
        let (answer, milliseconds) = try await send(.POST, path, api: true, body: body, contentType: contentType)
        guard answer.status == 200 else { throw BenchError("\(path) answered \(answer.status): \(answer.text.prefix(300))") }
        return milliseconds
    }

    private func send(_ method: HTTPMethod, _ path: String, api: Bool, body: Data? = nil, contentType: String? = nil) async throws -> (Answer, Double) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if api {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Doorstep-Protocol", value: "1")
        } else if let cookie = cookie.withLock({ $0 }) {
            request.headers.add(name: "Cookie", value: cookie)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let start = ContinuousClock.now
        let response = try await http.execute(request, timeout: .seconds(600))
        let bytes = try await response.body.collect(upTo: 512 * 1024 * 1024)
        let milliseconds = (ContinuousClock.now - start).seconds * 1000
        if let set = response.headers["Set-Cookie"].first, let pair = set.split(separator: ";").first, !api {
            cookie.withLock { $0 = String(pair) }
        }
        return (Answer(status: Int(response.status.code), text: String(buffer: bytes)), milliseconds)
    }
}
