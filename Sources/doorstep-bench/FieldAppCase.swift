import AsyncHTTPClient
import DoorstepClient
import DoorstepCore
import DoorstepFieldApp
import DoorstepWeb
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// The field app on a laptop holding a district: its pages' time on the app's side (the
/// `Server-Timing` header, so the browser's own network is not counted), each against the
/// library call it makes, measured in the same run (issue 18: worklist and search under 100 ms
/// at p99, a saved visit under 50 ms, at 10,000 households). The server is stopped before the
/// app starts: the visitor is offline, as at a door.
enum FieldAppCase {
    static func run(_ options: Options) async throws -> FieldAppResult {
        let sizes = options.sizes
        let households = sizes.appHouseholds
        let data = Workspace.shared.path("app-server")
        let local = try await LocalStorage(backend: .sqlite, data: data)
        defer { local.close() }
        let seeder = try await Seeder.enroll(local.storage)
        Log.note("field app: seeding \(Table.number(Double(households))) households")
        try await seeder.grow(to: households, visits: sizes.visitsPerHousehold)
        let clientPath = Workspace.shared.path("app-laptop.sqlite")
        do {
            let server = try await ServerProcess.start(data: data, database: nil, name: "app-server")
            defer { server.stop() }
            let laptop = try FieldClient(configuration: ClientConfiguration(databasePath: clientPath))
            try await laptop.enroll(server: server.url, code: try await server.enrollmentCode(), deviceName: "doorstep-bench field app")
            let summary = try await laptop.sync()
            guard summary.pulledHouseholds == households else {
                throw BenchError("the laptop pulled \(summary.pulledHouseholds) households, expected \(households)")
            }
        }
        Log.note("  laptop holds \(households) households; server stopped, app starting")

        let configuration = FieldAppConfiguration(client: ClientConfiguration(databasePath: clientPath), port: 0, reachabilityInterval: 0)
        let address = Mutex<URL?>(nil)
        var logger = Logger(label: "doorstep-app")
        logger.logLevel = .warning
        let app = try FieldApp.build(configuration: configuration, logger: logger) { url, _ in address.withLock { $0 = url } }
        let service = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: FieldAppResult?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            do {
                var waited = 0
                while address.withLock({ $0 }) == nil {
                    guard waited < 300 else { throw BenchError("the field app did not start listening") }
                    try await Task.sleep(for: .milliseconds(20))
                    waited += 1
                }
                guard let url = address.withLock({ $0 }) else { throw BenchError("the field app gave no address") }
                let browser = BenchBrowser(address: url)
                defer { browser.shutdown() }
                try await browser.signIn()
                let library = try FieldClient(configuration: ClientConfiguration(databasePath: clientPath))
                let result = try await measure(browser: browser, library: library, households: households, samples: sizes.appSamples)
                await service.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await service.triggerGracefulShutdown()
                throw error
            }
        }
    }

    private static func measure(browser: BenchBrowser, library: FieldClient, households: Int, samples: Int) async throws -> FieldAppResult {
        var result = FieldAppResult(households: households, samples: samples)
        // Queries as visitors type them: a head's name, the last digits of a national ID, a street and number.
        var generator = SeededGenerator(seed: 18)
        let numbers = (0..<samples).map { _ in Int.random(in: 0..<households, using: &generator) }
        func search(_ index: Int) -> String {
            let n = numbers[index]
            switch index % 3 {
            case 0: return "王某\(n)"
            case 1: return String(Facts.nationalID(n).suffix(6))
            default: return "建设街 \(n % 500 + 1) 号"
            }
        }

        // Warm both (the first page reads the district from disk into the page cache).
        _ = try await browser.get("/")
        _ = try await library.worklist(WorklistQuery(limit: 100))

        var page: [Double] = []
        var call: [Double] = []
        for _ in 0..<samples {
            page.append(try await browser.timed(.GET, "/"))
            call.append(try await time { _ = try await library.worklist(WorklistQuery(limit: 100)) })
        }
        result.worklist = FieldAppResult.Timing(page, library: call)

        page = []
        call = []
        for index in 0..<samples {
            let text = search(index)
            page.append(try await browser.timed(.GET, "/?all=1&q=" + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text)))
            call.append(try await time { _ = try await library.worklist(WorklistQuery(text: text, needsVisitorOnly: false, limit: 100)) })
        }
        result.search = FieldAppResult.Timing(page, library: call)

        let list = try await library.worklist(WorklistQuery(needsVisitorOnly: false, limit: samples * 2))
        let ids = list.items.map(\.household.id)
        guard ids.count >= samples * 2 else { throw BenchError("the worklist holds \(ids.count) households, \(samples * 2) needed") }

        page = []
        call = []
        for index in 0..<samples {
            page.append(try await browser.timed(.GET, "/households/\(ids[index])"))
            call.append(try await time { _ = try await library.household(ids[index]) })
        }
        result.household = FieldAppResult.Timing(page, library: call)

        // A home verification with a correction, saved through the form; against the same
        // verification saved through the library on other households. Yesterday, in the city's time.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
        let day = calendar.dateComponents([.year, .month, .day], from: Date().addingTimeInterval(-86_400))
        let date = String(format: "%04d-%02d-%02d", day.year ?? 2026, day.month ?? 1, day.day ?? 1)
        page = []
        call = []
        for index in 0..<samples {
            let path = "/households/\(ids[index])/verify"
            let form = try await browser.get(path)
            guard let csrf = form.hidden("csrf"), let nonce = form.hidden("nonce") else { throw BenchError("the verification form has no token") }
            let fields: [(String, String)] =
                [("csrf", csrf), ("nonce", nonce)] + [
                    ("visit.visitedAt", date + "T10:30"), ("visit.visitor", "走访员甲"), ("visit.mode", "atHome"),
                    ("visit.verified", "income"), ("visit.verified", "members"), ("visit.conclusion", "eligible"),
                    ("visit.observedIncomeFen", "2600元"), ("fact.phone", "13912345678"),
                ]
            let (answer, milliseconds) = try await browser.send(.POST, path, form: fields)
            guard answer.status == 303 else { throw BenchError("the verification was not saved (\(answer.status)): \(answer.text.prefix(400))") }
            page.append(milliseconds)
            let verification = HomeVerification(
                visit: [
                    "visitedAt": .string(date + "T10:30:00+08:00"), "visitor": "走访员甲", "mode": "atHome", "verified": ["income", "members"],
                    "conclusion": "eligible", "observedIncomeFen": 260_000,
                ],
                householdChanges: ["phone": "13912345678"])
            call.append(try await time { _ = try await library.recordVerification(verification, for: ids[samples + index]) })
        }
        result.savedVisit = FieldAppResult.Timing(page, library: call)
        return result
    }

    private static func time(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).seconds * 1000
    }
}

/// A browser for the benchmark: one session cookie, redirects returned, each page's time on the
/// app's side read from its `Server-Timing` header.
private final class BenchBrowser: Sendable {
    struct Answer {
        var status: Int
        var text: String

        /// The first hidden value of that name on the page.
        func hidden(_ name: String) -> String? {
            guard let range = text.range(of: #"name="\#(name)" value="([^"]+)""#, options: .regularExpression) else { return nil }
            return text[range].split(separator: "\"").dropFirst(3).first.map(String.init)
        }
    }

    let address: URL
    let base: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    private let cookie = Mutex<String?>(nil)

    init(address: URL) {
        self.address = address
        var components = URLComponents(url: address, resolvingAgainstBaseURL: false)
        components?.query = nil
        components?.path = ""
        base = components?.string ?? "http://127.0.0.1"
    }

    func shutdown() { try? http.syncShutdown() }

    /// Opens the address the app printed (with its secret), as the visitor does.
    func signIn() async throws {
        let (answer, _) = try await send(.GET, address.absoluteString.dropFirst(base.count).description)
        guard answer.status == 303, cookie.withLock({ $0 }) != nil else { throw BenchError("the field app did not let the browser in (\(answer.status))") }
    }

    func get(_ path: String) async throws -> Answer { try await send(.GET, path).answer }

    /// The app's milliseconds for the page at `path` (an error page counts as a failure).
    func timed(_ method: HTTPMethod, _ path: String) async throws -> Double {
        let (answer, milliseconds) = try await send(method, path)
        guard answer.status == 200 else { throw BenchError("\(path) answered \(answer.status)") }
        return milliseconds
    }

    func send(_ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil) async throws -> (answer: Answer, milliseconds: Double) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let cookie = cookie.withLock({ $0 }) { request.headers.add(name: "Cookie", value: cookie) }
        if let form {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        if let set = response.headers["Set-Cookie"].first, let pair = set.split(separator: ";").first {
            cookie.withLock { $0 = String(pair) }
        }
        guard let timing = response.headers["Server-Timing"].first,
            let milliseconds = WebTiming.milliseconds(of: "app", in: timing)
        else { throw BenchError("\(path) has no Server-Timing header") }
        return (Answer(status: Int(response.status.code), text: String(buffer: body)), milliseconds)
    }
}
