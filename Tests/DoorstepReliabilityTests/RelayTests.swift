import Crypto
import DoorstepBundle
import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import Testing

/// Issue 23, the district relay (protocol 1.8, §19): real `doorstep-server` processes (a city, and
/// a relay for district 150602 started with `--relay-for`), fault proxies on both hops, SIGKILLs.
///
/// `DOORSTEP_RELAY_ROUNDS=60 DOORSTEP_RELAY_SEED=7 swift test --filter RelayTests` runs long.
@Suite(.serialized) struct RelayTests {
    static let rounds = Executables.setting("DOORSTEP_RELAY_ROUNDS", ci: 10)
    static let seed = UInt64(Executables.setting("DOORSTEP_RELAY_SEED", ci: 2_300))

    /// A relay process for district 150602 whose city is at `upstream`.
    static func relay(upstream: URL, token: String, intervalMillis: Int = 100, extra: [String] = []) -> ServerProcess {
        ServerProcess(
            extraArguments: [
                "--relay-for", "150602", "--upstream", upstream.absoluteString, "--relay-token", token, "--relay-interval-ms", String(intervalMillis),
            ] + extra)
    }

    /// A JPEG's first bytes and `count` seeded others: a photo as the server checks one.
    static func photo(bytes count: Int, seed: UInt64) -> Data {
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        var state = seed
        while bytes.count < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return Data(bytes)
    }

    /// An attachment's file as a laptop of the district downloads it from `relay` (a `Range` of it).
    static func download(_ photo: EntityID, from relay: URL, token: String, range: String? = nil) async throws -> TransportResponse {
        var headers = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token)"]
        headers["Range"] = range
        return try await URLSessionTransport(baseURL: relay, timeout: 10).send(
            TransportRequest(method: "GET", path: "/v1/attachments/\(photo)/file", headers: headers))
    }

    /// Attaches `bytes` as a photo to `household` from a file in a scratch folder; the attachment.
    static func attach(_ bytes: Data, name: String, to household: EntityID, by laptop: FieldClient) async throws -> EntityID {
        let folder = Scratch.root.appendingPathComponent("doorstep-relay-photo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent(name)
        try bytes.write(to: file)
        return try await laptop.attach(fileAt: file, to: household, caption: name)
    }

    /// A field client whose every request goes to `url()` (read at each request: a proxy's or a
    /// server's address), noted in `ledger`.
    static func client(_ ledger: Ledger, _ url: @escaping @Sendable () -> URL) throws -> FieldClient {
        var configuration = ClientConfiguration(
            databasePath: Executables.temporaryFolder("doorstep-relay-client") + "/local.sqlite", batchSize: 7, pullPageSize: 5,
            retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05))
        configuration.transport = { _ in LedgerTransport(inner: platformTransport(url(), timeout: 10), ledger: ledger) }
        return try FieldClient(configuration: configuration)
    }

    /// Waits until the relay answers as the city (it has reached it once).
    static func waitForCity(at relay: URL) async throws {
        for _ in 0..<400 {
            let answer = try? await URLSessionTransport(baseURL: relay, timeout: 2).send(
                TransportRequest(method: "GET", path: "/v1/server", headers: ["Doorstep-Protocol": "1"]))
            if answer?.status == 200 { return }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        throw DoorstepError(.serverUnreachable, "the relay never reached the city")
    }

    /// The relay's status as a device of its district reads it.
    static func status(of relay: URL, token: String) async throws -> RelayStatus {
        let answer = try await URLSessionTransport(baseURL: relay, timeout: 5).send(
            TransportRequest(method: "GET", path: "/v1/relay/status", headers: ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token)"]))
        return try WireCoding.decode(RelayStatus.self, from: answer.body)
    }

    /// The relay's status once `done` holds of it (or after 10 s: the caller's expectation says what did not).
    static func status(of relay: URL, token: String, until done: (RelayStatus) -> Bool) async throws -> RelayStatus {
        var status = try await Self.status(of: relay, token: token)
        for _ in 0..<400 where !done(status) {
            try await Task.sleep(nanoseconds: 25_000_000)
            status = try await Self.status(of: relay, token: token)
        }
        return status
    }

    static func port(_ url: URL) -> UInt16 { UInt16(url.port ?? 0) }

    /// A city, a relay for 150602 reaching it through `line` (a proxy, its faults off), the relay
    /// answering as the city.
    struct Hops {
        let city: ServerProcess
        let cityURL: URL
        let admin: AdminAPI
        let relayID: String
        let line: ChaosProxy
        let relay: ServerProcess
        let relayURL: URL
    }

    static func cityAndRelay(seed: UInt64, extra: [String] = []) async throws -> Hops {
        let city = ServerProcess()
        let cityURL = try await city.start()
        let admin = AdminAPI(url: cityURL, token: try city.adminToken)
        let (relayID, token) = try await admin.relayToken(district: "150602")
        let line = try ChaosProxy(upstreamPort: port(cityURL), seed: seed)
        line.setEnabled(false)
        let relay = relay(upstream: line.url, token: token, extra: extra)
        let relayURL = try await relay.start()
        try await waitForCity(at: relayURL)
        return Hops(city: city, cityURL: cityURL, admin: admin, relayID: relayID, line: line, relay: relay, relayURL: relayURL)
    }

    /// A setting of a client's database (its token, its key).
    static func setting(_ client: FieldClient, _ key: String) throws -> String {
        let queue = try DatabaseQueue(path: client.configuration.databasePath)
        let value = try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) }
        guard let value else { throw DoorstepError(.notFound, "no \(key) in the client's settings") }
        return value
    }

    @Test func laptopsBehindTheRelayAndBesideIt_withTheLineDownAndKills_holdEachChangeOnceAndConverge() async throws {
        try await twoHops(postgres: nil)
    }

    /// The same on a city that keeps its data in PostgreSQL (`DOORSTEP_TEST_POSTGRES_URL`: a fresh
    /// database is made there for the test, and dropped after).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DOORSTEP_TEST_POSTGRES_URL"] != nil))
    func theSameOnAPostgreSQLCity() async throws {
        let base = try #require(ProcessInfo.processInfo.environment["DOORSTEP_TEST_POSTGRES_URL"])
        let name = "doorstep_relay_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let made = try await ChildProcess.run(program: "psql", [base, "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        try #require(made.status == 0, "\(made.stderr)")
        var components = try #require(URLComponents(string: base))
        components.path = "/" + name
        let url = try #require(components.string)
        let drop = { _ = try? await ChildProcess.run(program: "psql", [base, "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]) }
        do {
            try await twoHops(postgres: url)
        } catch {
            await drop()
            throw error
        }
        await drop()
    }

    func twoHops(postgres: String?) async throws {
        let city = ServerProcess(extraArguments: postgres.map { ["--database", $0] } ?? [])
        let cityURL = try await city.start()
        let admin = AdminAPI(url: cityURL, token: try city.adminToken)
        let (_, token) = try await admin.relayToken(district: "150602")
        // The district's line to the city, and the office's LAN, both misbehaving on a seeded schedule.
        let line = try ChaosProxy(upstreamPort: Self.port(cityURL), seed: Self.seed)
        line.setEnabled(false)
        let relay = Self.relay(upstream: line.url, token: token)
        let relayURL = try await relay.start()
        let lan = try ChaosProxy(upstreamPort: Self.port(relayURL), seed: Self.seed + 1)
        let direct = try ChaosProxy(upstreamPort: Self.port(cityURL), seed: Self.seed + 2)
        defer { [line, lan, direct].forEach { $0.shutdown() } }
        try await Self.waitForCity(at: relayURL)

        let ledger = Ledger()
        let random = SharedRandom(seed: Self.seed)
        var visitors: [Visitor] = []
        var relayTokens: [String] = []
        for index in 0..<3 {
            let proxy = index < 2 ? lan : direct
            let client = try Self.client(ledger) { proxy.url }
            // Enrollment is not idempotent (a lost answer spends the code): around the proxies, the
            // relay's laptops through the relay (which passes it on to the city).
            let code = try await admin.code(district: "150602", role: .visitor)
            var plain = client.configuration
            plain.transport = { url in URLSessionTransport(baseURL: url) }
            _ = try await FieldClient(configuration: plain).enroll(server: index < 2 ? relayURL : cityURL, code: code, deviceName: "laptop \(index)")
            if index < 2 { relayTokens.append(try Self.setting(client, "token")) }
            let visitor = Visitor(client: client, name: index < 2 ? "relay laptop \(index)" : "city laptop")
            try await visitor.fileHousehold(300 + 2 * index)
            try await visitor.fileHousehold(301 + 2 * index)
            visitors.append(visitor)
        }
        line.setEnabled(true)

        var events: [String] = []
        for round in 1...Self.rounds {
            switch random.int(0..<6) {
            case 0:
                line.setDown(true)
                events.append("line down")
            case 1:
                await relay.kill()
                lan.upstreamPort = Self.port(try await relay.start())
                events.append("relay killed")
            case 2:
                await city.kill()
                let moved = Self.port(try await city.start())
                line.upstreamPort = moved
                direct.upstreamPort = moved
                events.append("city killed")
            default:
                break
            }
            _ = try await withThrowingTaskGroup(of: Void.self) { group in
                for visitor in visitors {
                    group.addTask {
                        try await visitor.work(random, step: round)
                        _ = try? await visitor.client.sync()
                    }
                }
                try await group.waitForAll()
            }
            if random.chance(30) {
                // Killed while it forwards or pulls, mid-round.
                await relay.kill()
                lan.upstreamPort = Self.port(try await relay.start())
                events.append("relay killed mid-round")
            }
            line.setDown(false)
        }

        // A conflict made across the two sides while the line is down: a relay laptop and the
        // city's laptop change the same note from the same base.
        line.setEnabled(false)
        lan.setEnabled(false)
        direct.setEnabled(false)
        let clients = visitors.map(\.client)
        try await syncUntilSettled(clients, attempts: 400)
        let shared = try #require(try await visitors[2].client.households().first?.id)
        line.setDown(true)
        try await visitors[0].client.editHousehold(shared, set: ["notes": .string("relay side")])
        try await visitors[2].client.editHousehold(shared, set: ["notes": .string("city side")])
        _ = try await visitors[0].client.sync()
        _ = try await visitors[2].client.sync()
        line.setDown(false)
        try await syncUntilSettled(clients, attempts: 400)
        try await syncUntilSettled(clients, attempts: 400)

        let report = try await ExactlyOnce(databasePath: city.databasePath, postgresURL: postgres)
            .verify(ledger: ledger, clients: clients, recordedVisits: visitors.reduce(into: Set()) { $0.formUnion($1.visits) })
        let status = try await Self.status(of: try relay.url, token: relayTokens[0])
        #expect(status.pendingMutations == 0 && status.pendingBatches == 0, "the relay still holds work: \(status)")

        // Each conflict is in the city's review queue once, the one made across the two sides included.
        let office = AdminAPI(url: try city.url, token: try city.adminToken)
        let review = try WireCoding.decode(ReviewQueue.self, from: try await office.request("GET", "/v1/review?district=150602").body)
        let keys: [String] = review.conflicts.map { "\($0.record.entity)/\($0.record.field)" }
        #expect(Set(keys).count == keys.count, "a conflict is listed twice: \(keys)")
        #expect(keys.contains("\(shared)/notes"), "the conflict across the two sides is not in the queue")
        let view = try await visitors[0].client.household(shared)
        let notes: Set<JSONValue> = Set(view?.household.heads("notes").map(\.value) ?? [])
        #expect(notes == [.string("relay side"), .string("city side")])

        // The office settles it at the city: the laptops behind the relay see the decision.
        let shown = try #require(view).household["notes"]
        let decided = try await office.request(
            "POST", "/v1/review/conflicts/confirm", body: try WireCoding.encode(ConflictConfirm(entity: shared, field: "notes")))
        #expect(decided.status == 200, "\(String(decoding: decided.body, as: UTF8.self))")
        var settled: [JSONValue] = []
        for _ in 0..<400 {
            _ = try? await visitors[1].client.sync()
            settled = try await visitors[1].client.household(shared)?.household.heads("notes").map(\.value) ?? []
            if settled.count == 1 { break }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        #expect(settled == [shown], "a laptop behind the relay shows \(settled) after the office's decision at the city")
        await relay.stop()
        await city.stop()
        print(
            "RelayTests (\(postgres == nil ? "SQLite" : "PostgreSQL") city, seed \(Self.seed), \(Self.rounds) rounds: \(events.joined(separator: ", "))): line \(line.dealt.values.reduce(0, +)) requests, "
                + "LAN \(lan.dealt.values.reduce(0, +)); \(report)")
    }

    @Test func aLaptopMovedFromTheRelayToTheCityAndBack_keepsItsSeqsAndLosesNothing() async throws {
        let hops = try await Self.cityAndRelay(seed: 1)
        defer { hops.line.shutdown() }
        let (city, cityURL, admin, line, relay, relayURL) = (hops.city, hops.cityURL, hops.admin, hops.line, hops.relay, hops.relayURL)
        let ledger = Ledger()
        let target = Locked(relayURL)
        let client = try Self.client(ledger) { target.read() }
        _ = try await client.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "moved")
        let visitor = Visitor(client: client, name: "moved")
        try await visitor.fileHousehold(400)

        // At the relay with the line down: held there, answered `relayed`, kept on the laptop.
        line.setDown(true)
        let household = try #require(try await client.households().first?.id)
        for note in 1...3 { _ = try await client.recordVisit(to: household, Facts.visit("at the relay \(note)")) }
        let first = try await client.sync()
        #expect(first.relayed == 4, "\(first)")
        #expect(try await client.status().pending == 4)

        // The same laptop at the city directly (the relay still holds the four): nothing lost, the city applies them.
        target.update { $0 = cityURL }
        let atCity = try await client.sync()
        #expect(atCity.pushed == 4 && (atCity.relayed ?? 0) == 0, "\(atCity)")
        #expect(try await client.status().pending == 0)

        // Back behind the relay; the line comes back: the relay forwards what it held (the city
        // answers alreadyApplied), and new work goes on from the next seq.
        target.update { $0 = relayURL }
        _ = try await client.recordVisit(to: household, Facts.visit("back at the relay"))
        line.setDown(false)
        try await syncUntilSettled([client], attempts: 400)
        let status = try await Self.status(of: relayURL, token: try Self.setting(client, "token"))
        #expect(status.pendingMutations == 0)
        let shown = try await client.household(household)?.entities.filter { $0.kind == .visit }.map(\.id) ?? []
        let report = try await ExactlyOnce(databasePath: city.databasePath).verify(ledger: ledger, clients: [client], recordedVisits: Set(shown))
        #expect(report.lost == 0 && report.duplicated == 0 && shown.count == 4)
        await relay.stop()
        await city.stop()
    }

    @Test func aRevocationAtTheCity_isEnforcedByTheRelay_andHeldWorkGoesToReview() async throws {
        let hops = try await Self.cityAndRelay(seed: 2)
        defer { hops.line.shutdown() }
        let (city, admin, line, relay, relayURL) = (hops.city, hops.admin, hops.line, hops.relay, hops.relayURL)
        let ledger = Ledger()
        let laptop = try Self.client(ledger) { relayURL }
        let other = try Self.client(ledger) { relayURL }
        let enrolled = try await laptop.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "lost laptop")
        _ = try await other.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "watcher")
        let watcher = try Self.setting(other, "token")
        let household = try await laptop.fileHousehold(Facts.household(500))
        _ = try await laptop.sync()
        try await syncUntilSettled([laptop], attempts: 400)

        line.setDown(true)
        let visit = try await laptop.recordVisit(to: household, Facts.visit("before the revocation"))
        #expect(try await laptop.sync().relayed == 1)
        _ = try await admin.request("POST", "/v1/admin/devices/\(enrolled.device)/revoke")
        line.setDown(false)
        for _ in 0..<400 {
            if try await Self.status(of: relayURL, token: watcher).pendingMutations == 0 { break }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        // The relay enforces it from its next contact with the city (the round that forwarded the
        // batch may have learned the district's devices just before the revocation).
        var refused: DoorstepError?
        for _ in 0..<400 where refused == nil {
            do {
                _ = try await laptop.sync()
                try await Task.sleep(nanoseconds: 25_000_000)
            } catch let error as DoorstepError {
                refused = error
            }
        }
        #expect(refused?.code == .deviceRevoked, "\(String(describing: refused))")
        // What it held was forwarded and held for the office's review, not applied, not lost.
        let review = try WireCoding.decode(ReviewQueue.self, from: try await admin.request("GET", "/v1/review?district=150602").body)
        #expect(review.rejections.contains { $0.device == enrolled.device && $0.code == .deviceRevoked }, "\(review.rejections)")
        let aggregate = try WireCoding.decode(HouseholdAggregate.self, from: try await admin.request("GET", "/v1/households/\(household)").body)
        #expect(!aggregate.entities.contains { $0.id == visit })
        await relay.stop()
        await city.stop()
    }

    @Test func aRevocationMadeAtTheRelayWithTheLineDown_isEnforcedAtOnce_andReachesTheCity() async throws {
        let hops = try await Self.cityAndRelay(seed: 3)
        defer { hops.line.shutdown() }
        let (city, admin, line, relay, relayURL) = (hops.city, hops.admin, hops.line, hops.relay, hops.relayURL)
        let ledger = Ledger()
        let laptop = try Self.client(ledger) { relayURL }
        let office = try Self.client(ledger) { relayURL }
        let enrolled = try await laptop.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "stolen")
        _ = try await office.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .office), deviceName: "office")
        _ = try await laptop.fileHousehold(Facts.household(700))
        _ = try await laptop.sync()

        // The line is down; the office revokes the laptop at the relay: refused there at once.
        line.setDown(true)
        let officeAtRelay = try OfficeClient(server: relayURL, token: try Self.setting(office, "token"))
        let visitorAtRelay = try OfficeClient(server: relayURL, token: try Self.setting(laptop, "token"))
        await #expect(throws: DoorstepError.self) { _ = try await visitorAtRelay.revoke(device: enrolled.device) }
        let revoked = try await officeAtRelay.revoke(device: enrolled.device)
        #expect(revoked.revokedAt != nil)
        _ = try await laptop.recordVisit(to: try #require(try await laptop.households().first?.id), Facts.visit("after the revocation"))
        do {
            _ = try await laptop.sync()
            Issue.record("a laptop revoked at the relay still syncs there")
        } catch let error as DoorstepError {
            #expect(error.code == .deviceRevoked)
        }

        // The line is back: the city has it from the relay's next round.
        line.setDown(false)
        var atCity: DeviceRecord?
        for _ in 0..<400 {
            let list = try WireCoding.decode(DeviceList.self, from: try await admin.request("GET", "/v1/admin/devices").body)
            atCity = list.devices.first { $0.id == enrolled.device }
            if atCity?.revokedAt != nil { break }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        #expect(atCity?.revokedAt != nil, "the city never learnt of the revocation made at the relay")
        await relay.stop()
        await city.stop()
    }

    /// A visitor's edit held by the relay, then a colleague's edit made on top of it (seen through
    /// the relay): the first laptop shows the colleague's value alone, as the city will, not a
    /// conflict of its own edit with the one that replaced it (§19.3, the overlay settles).
    @Test func anEditReplacedOnTheLAN_showsNoConflictOnItsAuthorsLaptop() async throws {
        let hops = try await Self.cityAndRelay(seed: 5)
        defer { hops.line.shutdown() }
        let (city, admin, line, relay, relayURL) = (hops.city, hops.admin, hops.line, hops.relay, hops.relayURL)
        let ledger = Ledger()
        let a = try Self.client(ledger) { relayURL }
        let b = try Self.client(ledger) { relayURL }
        _ = try await a.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "a")
        _ = try await b.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "b")
        let household = try await a.fileHousehold(Facts.household(800))
        try await syncUntilSettled([a, b], attempts: 400)

        line.setDown(true)
        try await a.editHousehold(household, set: ["notes": .string("A 的记录")])
        #expect(try await a.sync().relayed == 1)
        _ = try await b.sync()
        try await b.editHousehold(household, set: ["notes": .string("B 更正")])
        #expect(try await b.sync().relayed == 1)
        _ = try await a.sync()
        let notes = try await a.household(household)?.household.heads("notes").map(\.value) ?? []
        #expect(notes == [.string("B 更正")], "A shows \(notes)")
        #expect(try await a.status().pending == 1, "A's edit is still sent until the city answers it")

        line.setDown(false)
        try await syncUntilSettled([a, b], attempts: 400)
        let atCity = try WireCoding.decode(HouseholdAggregate.self, from: try await admin.request("GET", "/v1/households/\(household)").body)
        #expect(atCity.household.heads("notes").map(\.value) == [.string("B 更正")])
        #expect(try await a.household(household)?.household.heads("notes").map(\.value) == [.string("B 更正")])
        #expect(try await a.status().pending == 0)
        await relay.stop()
        await city.stop()
    }

    /// A proof document photographed while the line is down: the laptop's sync leaves it with the
    /// relay, which sends it on to the city when the line is back (§19.3); the city then serves it.
    @Test func aPhotoUploadedToTheRelayWithTheLineDown_reachesTheCityWhenItIsBack() async throws {
        let hops = try await Self.cityAndRelay(seed: 6)
        defer { hops.line.shutdown() }
        let (city, admin, line, relay, relayURL) = (hops.city, hops.admin, hops.line, hops.relay, hops.relayURL)
        let laptop = try Self.client(Ledger()) { relayURL }
        _ = try await laptop.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "photos")
        let household = try await laptop.fileHousehold(Facts.household(900))
        try await syncUntilSettled([laptop], attempts: 400)

        line.setDown(true)
        let bytes = Self.photo(bytes: 2_500_000, seed: 23)
        let photo = try await Self.attach(bytes, name: "收入证明.jpg", to: household, by: laptop)
        let summary = try await laptop.sync()
        #expect(summary.filesSent == 1 && summary.filesWaiting == 0, "\(summary)")
        let laptopToken = try Self.setting(laptop, "token")
        #expect(try await Self.status(of: relayURL, token: laptopToken).pendingFiles == 1)
        // A colleague's laptop on the office network downloads it from the relay, the line still down.
        let atRelay = try await Self.download(photo, from: relayURL, token: laptopToken)
        #expect(atRelay.status == 200 && atRelay.body == Data(bytes), "HTTP \(atRelay.status), \(atRelay.body.count) bytes from the relay")
        // A download the LAN cut goes on from the byte it reached, from the relay's copy too.
        let rest = try await Self.download(photo, from: relayURL, token: laptopToken, range: "bytes=1000000-")
        #expect(rest.status == 206 && rest.body == Data(bytes).dropFirst(1_000_000), "HTTP \(rest.status), \(rest.body.count) bytes from the relay")
        #expect(rest.headers.first { $0.key.lowercased() == "content-range" }?.value == "bytes 1000000-2499999/2500000")

        line.setDown(false)
        let status = try await Self.status(of: relayURL, token: laptopToken, until: { $0.pendingFiles == 0 && $0.pendingMutations == 0 })
        #expect(status.pendingFiles == 0 && status.pendingMutations == 0, "\(status)")
        let download = try await admin.request("GET", "/v1/attachments/\(photo)/file")
        #expect(download.status == 200 && download.body == Data(bytes), "the city serves the photo: HTTP \(download.status), \(download.body.count) bytes")
        await relay.stop()
        await city.stop()
    }

    /// With the line down, a laptop files a household after other work, and a colleague visits it
    /// on the office's network: the relay forwards in the order the work came, so the city takes
    /// the filing before the visit (not each laptop's oldest batch first, which would refuse the
    /// visit as naming a household the city does not know).
    @Test func aVisitToAHouseholdFiledOnTheLAN_reachesTheCityAfterTheFiling() async throws {
        let hops = try await Self.cityAndRelay(seed: 11)
        defer { hops.line.shutdown() }
        let (city, admin, line, relay, relayURL) = (hops.city, hops.admin, hops.line, hops.relay, hops.relayURL)
        let filer = try Self.client(Ledger()) { relayURL }
        _ = try await filer.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "filer")
        let colleague = try Self.client(Ledger()) { relayURL }
        _ = try await colleague.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "colleague")
        let known = try await filer.fileHousehold(Facts.household(980))
        try await syncUntilSettled([filer, colleague], attempts: 400)

        line.setDown(true)
        _ = try await filer.recordVisit(to: known, Facts.visit("上午"))
        #expect(try await filer.sync().relayed == 1)
        let filed = try await filer.fileHousehold(Facts.household(981))
        #expect(try await filer.sync().relayed == 2, "the morning's visit again, and the filing")
        _ = try await colleague.sync()
        #expect(try await colleague.household(filed) != nil, "the colleague sees the filing on the office's network")
        let visit = try await colleague.recordVisit(to: filed, Facts.visit("同事入户"))
        #expect(try await colleague.sync().relayed == 1)

        line.setDown(false)
        try await syncUntilSettled([filer, colleague], attempts: 400)
        #expect(try await colleague.status().quarantined == 0, "the colleague's visit was not refused")
        let atCity = try WireCoding.decode(HouseholdAggregate.self, from: try await admin.request("GET", "/v1/households/\(filed)").body)
        #expect(atCity.entities.contains { $0.id == visit }, "the city holds the visit to the household filed on the office's network")
        await relay.stop()
        await city.stop()
    }

    /// A photo uploaded at the city (not through the relay) is fetched from the city for the first
    /// laptop behind the relay that opens it, and kept: a colleague opens it with the line down (§19.3).
    @Test func aPhotoUploadedAtTheCity_isKeptByTheRelayOnceALaptopOpensIt() async throws {
        let hops = try await Self.cityAndRelay(seed: 10)
        defer { hops.line.shutdown() }
        let (city, cityURL, admin, line, relay, relayURL) = (hops.city, hops.cityURL, hops.admin, hops.line, hops.relay, hops.relayURL)
        let atCity = try Self.client(Ledger()) { cityURL }
        _ = try await atCity.enroll(server: cityURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "at the city")
        let household = try await atCity.fileHousehold(Facts.household(970))
        let bytes = Self.photo(bytes: 150_000, seed: 10)
        let photo = try await Self.attach(bytes, name: "户口本.jpg", to: household, by: atCity)
        try await syncUntilSettled([atCity], attempts: 400)
        let behind = try Self.client(Ledger()) { relayURL }
        _ = try await behind.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "behind")
        var shown = false
        for _ in 0..<400 where !shown {
            _ = try? await behind.sync()
            shown = try await behind.household(household)?.entities.contains { $0.id == photo } ?? false
            if !shown { try await Task.sleep(nanoseconds: 25_000_000) }
        }
        #expect(shown, "the relay's view has the photo's attachment")
        let token = try Self.setting(behind, "token")
        let first = try await Self.download(photo, from: relayURL, token: token)
        #expect(first.status == 200 && first.body == bytes, "fetched from the city: HTTP \(first.status)")
        line.setDown(true)
        let second = try await Self.download(photo, from: relayURL, token: token)
        #expect(second.status == 200 && second.body == bytes, "the relay's own copy with the line down: HTTP \(second.status)")
        #expect(try await Self.status(of: relayURL, token: token).pendingFiles == 0, "a copy of a file the city holds is not sent back to it")
        await relay.stop()
        await city.stop()
    }

    /// A relay set to keep no copies (`--relay-keep-files-days 0`) removes a photo once the city
    /// holds it whole; a laptop's download is then passed on to the city, and refused plainly with
    /// the line down (§19.3).
    @Test func aRelayKeepingNoCopies_removesAPhotoTheCityHolds_andPassesItsDownloadOn() async throws {
        let hops = try await Self.cityAndRelay(seed: 9, extra: ["--relay-keep-files-days", "0"])
        defer { hops.line.shutdown() }
        let (city, admin, line, relay, relayURL) = (hops.city, hops.admin, hops.line, hops.relay, hops.relayURL)
        let laptop = try Self.client(Ledger()) { relayURL }
        _ = try await laptop.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "no copies")
        let household = try await laptop.fileHousehold(Facts.household(960))
        let bytes = Self.photo(bytes: 200_000, seed: 9)
        let photo = try await Self.attach(bytes, name: "残疾证.jpg", to: household, by: laptop)
        try await syncUntilSettled([laptop], attempts: 400)
        let token = try Self.setting(laptop, "token")
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let copy = relay.dataDirectory + "/relay-files/\(sha.prefix(2))/\(sha)"
        let status = try await Self.status(of: relayURL, token: token, until: { $0.pendingFiles == 0 && !FileManager.default.fileExists(atPath: copy) })
        #expect(status.pendingFiles == 0 && !FileManager.default.fileExists(atPath: copy), "\(status); the relay's copy gone")
        #expect(try await admin.request("GET", "/v1/attachments/\(photo)/file").body == bytes, "the city holds it")
        let passed = try await Self.download(photo, from: relayURL, token: token)
        #expect(passed.status == 200 && passed.body == bytes, "passed on to the city: HTTP \(passed.status)")
        line.setDown(true)
        let refused = try await Self.download(photo, from: relayURL, token: token)
        #expect(refused.status == 503 && String(decoding: refused.body, as: UTF8.self).contains("upstreamUnreachable"), "HTTP \(refused.status)")
        await relay.stop()
        await city.stop()
    }

    /// The relay's own pull over a line that cuts again and again (a banner town's): each page cut
    /// on the way is asked for from the byte it reached (§18), so what crosses the line is about
    /// what an uncut pull needs, against a second relay pulling the same district over the same
    /// line uncut.
    @Test func aLineThatCutsPages_costsTheRelayLittleMoreThanAnUncutOne() async throws {
        let city = ServerProcess()
        let cityURL = try await city.start()
        let admin = AdminAPI(url: cityURL, token: try city.adminToken)
        var settings = ClientConfiguration(
            databasePath: Executables.temporaryFolder("doorstep-relay-client") + "/local.sqlite", batchSize: 500, pullPageSize: 500,
            retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05))
        settings.transport = { _ in platformTransport(cityURL, timeout: 30) }
        let colleague = try FieldClient(configuration: settings)
        _ = try await colleague.enroll(server: cityURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "colleague")
        let households = 1_000
        for n in 0..<households {
            let household = try await colleague.fileHousehold(Facts.household(3_000 + n))
            _ = try await colleague.recordVisit(to: household, Facts.visit("入户核实 \(n)"))
        }
        try await colleague.sync()

        /// A relay pulling over `link` until it holds the whole district; the bytes that came down.
        func pulled(over cutEvery: ClosedRange<Int>?, seed: UInt64) async throws -> (bytes: Int, cuts: Int) {
            let link = try ShapedLink(
                upstreamPort: Self.port(cityURL), shape: .init(bitsPerSecond: 4_000_000, roundTripMillis: 60, cutEvery: cutEvery), seed: seed)
            defer { link.shutdown() }
            // Rounds far apart: what crosses the line is the pull, not quiet rounds.
            let relay = Self.relay(
                upstream: link.url, token: try await admin.relayToken(district: "150602", name: "relay \(seed)").token, intervalMillis: 1_500)
            _ = try await relay.start()
            defer { Task { await relay.stop() } }
            let database = relay.dataDirectory + "/relay.sqlite"
            var held = 0
            for _ in 0..<1_200 where held < households {
                try await Task.sleep(nanoseconds: 25_000_000)
                held = (try? await DatabaseQueue(path: database).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM city_households") ?? 0 }) ?? 0
            }
            #expect(held == households, "the relay holds \(held) of \(households) households")
            let bytes = link.bytesDown
            await relay.stop()
            return (bytes, link.cuts)
        }
        let clean = try await pulled(over: nil, seed: 1)
        let cut = try await pulled(over: 4_096...8_192, seed: 20)
        print(
            "RelayTests: the relay pulls \(households) households: \(clean.bytes) bytes uncut; \(cut.cuts) cuts: \(cut.bytes) bytes "
                + "(\(String(format: "%.3f", Double(cut.bytes) / Double(clean.bytes))) × uncut)")
        #expect(cut.cuts >= 3, "the line cut \(cut.cuts) times")
        #expect(Double(cut.bytes) <= 1.15 * Double(clean.bytes), "\(cut.bytes) bytes crossed for \(clean.bytes) uncut")
        await city.stop()
    }

    /// A city restored from a backup taken before the afternoon (§19.8): the relay sees it, forwards
    /// again what it had forwarded since, sends its photo again; a laptop that had sent work to the
    /// city directly, then more through the relay, is asked for the first part, which goes before
    /// the rest; a laptop enrolled at the relay that afternoon is made at the city again. Every
    /// acknowledged change is at the city once; the photo is served there.
    @Test func aCityRestoredFromABackup_getsBackWhatTheRelayForwardedAndWhatItsLaptopsSentDirectly() async throws {
        let hops = try await Self.cityAndRelay(seed: 8)
        defer { hops.line.shutdown() }
        let (city, cityURL, admin, line, relay, relayURL) = (hops.city, hops.cityURL, hops.admin, hops.line, hops.relay, hops.relayURL)
        let code = try await OfficeClient(server: cityURL, token: try city.adminToken).createEnrollmentCode(
            district: "150602", role: .visitor, relay: hops.relayID)
        let ledger = Ledger()
        let random = SharedRandom(seed: 20_261_206)
        let behind = try Self.client(ledger) { relayURL }
        _ = try await behind.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "behind the relay")
        let movedTo = Locked(cityURL)
        let moved = try Self.client(ledger) { movedTo.read() }
        _ = try await moved.enroll(server: cityURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "moved")
        let visitors = [Visitor(client: behind, name: "behind"), Visitor(client: moved, name: "moved")]
        try await visitors[0].fileHousehold(410)
        try await visitors[1].fileHousehold(420)
        for step in 1...2 {
            for visitor in visitors { try await visitor.work(random, step: step) }
            try await syncUntilSettled(visitors.map(\.client), attempts: 400)
        }
        let backup = Executables.temporaryFolder("doorstep-relay-backup") + "/morning.sqlite"
        let made = try await ChildProcess.run(Executables.server, ["backup", "--data", city.dataDirectory, "--out", backup])
        #expect(made.status == 0, "\(made)")

        // The afternoon: work and a photo through the relay, forwarded and confirmed; work sent to the
        // city directly by the other laptop, which then moves behind the relay and sends more there;
        // a new laptop enrolled at the relay with its code, at work.
        let newcomer = try Self.client(ledger) { relayURL }
        var enrolled = false
        for _ in 0..<400 where !enrolled {
            enrolled = (try? await newcomer.enroll(server: relayURL, code: code.code, deviceName: "afternoon")) != nil
            if !enrolled { try await Task.sleep(nanoseconds: 25_000_000) }
        }
        #expect(enrolled, "the relay learned its code")
        let visitorsNow = visitors + [Visitor(client: newcomer, name: "afternoon")]
        // And one enrolled at the city that afternoon, at work behind the relay: the restored city
        // will not know it, nor will the relay (its work cannot come back, as at the city).
        let late = try Self.client(Ledger()) { relayURL }
        _ = try await late.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "late")
        try await visitorsNow[2].fileHousehold(430)
        for step in 3...4 {
            for visitor in visitorsNow { try await visitor.work(random, step: step) }
            try await syncUntilSettled(visitorsNow.map(\.client), attempts: 400)
        }
        let household = try #require(try await behind.households().first?.id)
        try await syncUntilSettled([late], attempts: 400)
        _ = try await late.recordVisit(to: household, Facts.visit("late"))
        try await syncUntilSettled([late], attempts: 400)
        let bytes = Self.photo(bytes: 300_000, seed: 8)
        let photo = try await Self.attach(bytes, name: "低保证明.jpg", to: household, by: behind)
        movedTo.update { $0 = relayURL }
        for visitor in visitorsNow { try await visitor.work(random, step: 5) }
        try await syncUntilSettled(visitorsNow.map(\.client), attempts: 400)
        let token = try Self.setting(behind, "token")
        let status = try await Self.status(of: relayURL, token: token, until: { $0.pendingFiles == 0 && $0.pendingMutations == 0 })
        #expect(status.pendingFiles == 0 && status.pendingMutations == 0, "\(status)")
        let acknowledged = ledger.acknowledged.count

        await city.kill()
        let restored = try await ChildProcess.run(Executables.server, ["restore", "--from", backup, "--data", city.dataDirectory, "--replace"])
        #expect(restored.status == 0, "\(restored)")
        // The backup's files, as on a new machine: the photo came after it.
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        try FileManager.default.removeItem(atPath: city.dataDirectory + "/files/\(sha.prefix(2))/\(sha)")
        line.upstreamPort = Self.port(try await city.start())
        let restoredAdmin = AdminAPI(url: try city.url, token: try city.adminToken)
        let asked = try await URLSessionTransport(baseURL: try city.url, timeout: 10).send(
            TransportRequest(method: "HEAD", path: "/v1/files/\(sha)", headers: ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token)"]))
        #expect(asked.headers.first { $0.key.lowercased() == "doorstep-file" }?.value == "absent", "the backup was taken before the photo")

        // The relay learns of the restore at its next round (the city no longer lists the afternoon's
        // laptop), and catches up with it.
        let relayDatabase = relay.dataDirectory + "/relay.sqlite"
        var noticed = false
        for _ in 0..<800 where !noticed {
            try await Task.sleep(nanoseconds: 25_000_000)
            noticed =
                (try? await DatabaseQueue(path: relayDatabase).read { db in
                    try Bool.fetchOne(
                        db,
                        sql: "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'cursorEpoch') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'checkProgress')")
                }) ?? false
        }
        #expect(noticed, "the relay noticed the restore")
        // The laptops sync as on any day, all behind the relay: nothing asked of the visitors. The
        // first is told what the restored city holds of its work and sends its afternoon again, so
        // that it hears the restored city's outcomes.
        let caughtUp = try await behind.sync()
        #expect((caughtUp.sentAgain ?? 0) > 0, "\(caughtUp)")
        let refused = await #expect(throws: DoorstepError.self) { try await late.sync() }
        #expect(refused?.code == .unauthorized, "the laptop the restored city does not know is refused at the relay too: \(String(describing: refused))")
        for _ in 0..<3 { try await syncUntilSettled(visitorsNow.map(\.client), attempts: 400) }
        let after = try await Self.status(of: relayURL, token: token, until: { $0.pendingMutations == 0 && $0.pendingBatches == 0 })
        #expect(after.pendingMutations == 0 && after.pendingBatches == 0, "\(after)")
        let report = try await ExactlyOnce(databasePath: city.databasePath).verify(
            ledger: ledger, clients: visitorsNow.map(\.client), recordedVisits: visitorsNow.reduce(into: Set<EntityID>()) { $0.formUnion($1.visits) })
        #expect(report.acknowledged >= acknowledged && report.lost == 0 && report.duplicated == 0, "\(report)")
        for visitor in visitorsNow { #expect(try await visitor.client.status().lost.isEmpty) }
        let devices = try WireCoding.decode(DeviceList.self, from: try await restoredAdmin.request("GET", "/v1/admin/devices").body)
        for visitor in visitorsNow {
            let id = try #require(try await visitor.client.status().enrollment?.device)
            let made = (Int64(try Self.setting(visitor.client, "nextSeq")) ?? 1) - 1
            #expect(devices.devices.first { $0.id == id }?.highestSeq == made, "\(visitor.name): the city holds every seq it made")
        }
        var download = try await restoredAdmin.request("GET", "/v1/attachments/\(photo)/file")
        for _ in 0..<400 where download.status != 200 {
            try await Task.sleep(nanoseconds: 25_000_000)
            download = try await restoredAdmin.request("GET", "/v1/attachments/\(photo)/file")
        }
        #expect(download.status == 200 && download.body == bytes, "the restored city serves the photo again: HTTP \(download.status)")
        print("RelayTests: a city restored under its relay: \(report)")
        await relay.stop()
        await city.stop()
    }

    /// Codes the city issued to the relay in advance enroll a laptop there with the line down; the
    /// city makes the device at the relay's next round and takes its work; the code is no good at
    /// the city itself, nor twice (§19.6).
    @Test func aCodeIssuedToTheRelay_enrollsALaptopThereWithTheLineDown() async throws {
        let hops = try await Self.cityAndRelay(seed: 7)
        defer { hops.line.shutdown() }
        let (city, cityURL, admin, relayID, line, relay, relayURL) = (hops.city, hops.cityURL, hops.admin, hops.relayID, hops.line, hops.relay, hops.relayURL)
        let office = try OfficeClient(server: cityURL, token: try city.adminToken)
        let code = try await office.createEnrollmentCode(district: "150602", role: .visitor, relay: relayID)
        let spare = try await office.createEnrollmentCode(district: "150602", role: .visitor, relay: relayID)
        #expect(code.relay == relayID)
        // Not a relay of that district, or not one at all: refused.
        await #expect(throws: DoorstepError.self) { _ = try await office.createEnrollmentCode(district: "150603", role: .visitor, relay: relayID) }
        // The relay learns its codes at its next round.
        let watcher = try Self.client(Ledger()) { relayURL }
        _ = try await watcher.enroll(server: relayURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "watcher")
        let started = try await Self.status(of: relayURL, token: try Self.setting(watcher, "token")).lastContactAt ?? ""
        for _ in 0..<400 {
            if let at = try await Self.status(of: relayURL, token: try Self.setting(watcher, "token")).lastContactAt, at > started { break }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        try await Task.sleep(nanoseconds: 300_000_000)

        line.setDown(true)
        let ledger = Ledger()
        let laptop = try Self.client(ledger) { relayURL }
        let enrolled = try await laptop.enroll(server: relayURL, code: code.code, deviceName: "新笔记本")
        #expect(enrolled.district == "150602" && enrolled.role == .visitor)
        let household = try await laptop.fileHousehold(Facts.household(950))
        #expect(try await laptop.sync().relayed == 1)
        // The same code again, at the relay or at the city: no good.
        let again = try Self.client(Ledger()) { relayURL }
        await #expect(throws: DoorstepError.self) { _ = try await again.enroll(server: relayURL, code: code.code, deviceName: "twice") }
        line.setDown(false)
        let atCity = try Self.client(Ledger()) { cityURL }
        await #expect(throws: DoorstepError.self) { _ = try await atCity.enroll(server: cityURL, code: spare.code, deviceName: "at the city") }

        try await syncUntilSettled([laptop], attempts: 400)
        let devices = try WireCoding.decode(DeviceList.self, from: try await admin.request("GET", "/v1/admin/devices").body)
        #expect(devices.devices.first { $0.id == enrolled.device }?.highestSeq == 1, "the city made the device and holds its work")
        let aggregate = try await admin.request("GET", "/v1/households/\(household)")
        #expect(aggregate.status == 200)
        #expect(try await laptop.status().pending == 0)
        await relay.stop()
        await city.stop()
    }

    /// A quiet relay calls the city once an interval (3 requests a round), not back to back: the line is weak.
    @Test func aQuietRelay_callsTheCityOnceAnInterval() async throws {
        let hops = try await Self.cityAndRelay(seed: 4)
        defer { hops.line.shutdown() }
        let (city, line, relay) = (hops.city, hops.line, hops.relay)
        let before = line.dealt.values.reduce(0, +)
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(1.5))
        let rounds = (ContinuousClock.now - started) / .milliseconds(100) + 3
        let requests = line.dealt.values.reduce(0, +) - before
        // At most a round each 100 ms (and a few more: a round may start as one ends); back to back would be hundreds.
        #expect(requests > 0 && Double(requests) <= 3 * (rounds + 4), "\(requests) requests in 1.5 s of quiet")
        await relay.stop()
        await city.stop()
    }

    @Test func aRelayThatChangesABatch_isRefused_andItsTokenReachesOnlyItsDistrict() async throws {
        let city = ServerProcess()
        let cityURL = try await city.start()
        let admin = AdminAPI(url: cityURL, token: try city.adminToken)
        let (relayID, token) = try await admin.relayToken(district: "150602")
        let ledger = Ledger()

        // A laptop of the relay's district and one of another, each with a household at the city.
        let ours = try Self.client(ledger) { cityURL }
        let oursEnrollment = try await ours.enroll(server: cityURL, code: try await admin.code(district: "150602", role: .visitor), deviceName: "ours")
        let theirs = try Self.client(ledger) { cityURL }
        _ = try await theirs.enroll(server: cityURL, code: try await admin.code(district: "150603", role: .visitor), deviceName: "theirs")
        _ = try await theirs.fileHousehold(Facts.household(601, region: "150603"))
        _ = try await theirs.sync()
        _ = try await ours.fileHousehold(Facts.household(600))
        _ = try await theirs.fileHousehold(Facts.household(602, region: "150603"))

        // The batches as each laptop would sign them.
        func signed(_ client: FieldClient) throws -> (body: Data, signature: String) {
            let raw = try #require(Data(base64Encoded: try Self.setting(client, "signingKey")))
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            let device = try Self.setting(client, "device")
            let queue = try DatabaseQueue(path: client.configuration.databasePath)
            return try queue.read { db in
                let bodies = try String.fetchAll(db, sql: "SELECT body FROM outbox WHERE acked = 0 ORDER BY seq")
                let body = Data(#"{"device":"\#(device)","mutations":[\#(bodies.joined(separator: ","))],"protocolVersion":1}"#.utf8)
                return (body, try BatchSignature.sign(body, with: key))
            }
        }
        let (body, signature) = try signed(ours)
        func forward(_ body: Data, _ signature: String?) async throws -> TransportResponse {
            var headers = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token)", "Content-Type": "application/json"]
            headers[BatchSignature.header] = signature
            return try await URLSessionTransport(baseURL: cityURL, timeout: 10).send(
                TransportRequest(method: "POST", path: "/v1/relay/push", headers: headers, body: body))
        }
        func code(_ answer: TransportResponse) -> String? { try? WireCoding.decode(ErrorBody.self, from: answer.body).error.code.rawValue }

        // A relay that changes a name on the way, or drops the signature: refused, nothing applied.
        let tampered = Data(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "王某某", with: "李某某").utf8)
        #expect(tampered != body)
        let forged = try await forward(tampered, signature)
        #expect(forged.status == 422 && code(forged) == "invalidSignature")
        let unsigned = try await forward(body, nil)
        #expect(unsigned.status == 422 && code(unsigned) == "invalidSignature")
        let devices = try WireCoding.decode(DeviceList.self, from: try await admin.request("GET", "/v1/admin/devices").body)
        #expect(devices.devices.first { $0.id == oursEnrollment.device }?.highestSeq == 0)

        // The batch as the laptop made it is applied as if the laptop had pushed it.
        let taken = try await forward(body, signature)
        #expect(taken.status == 200)
        let receipt = try WireCoding.decode(PushReceipt.self, from: taken.body)
        #expect(receipt.results.map(\.outcome) == [.applied] && receipt.device == oursEnrollment.device)

        // Another district's laptop's batch, though rightly signed, is not this relay's to forward.
        let (theirBody, theirSignature) = try signed(theirs)
        let outside = try await forward(theirBody, theirSignature)
        #expect(outside.status == 403 && code(outside) == "outOfScope")

        // The relay's token reads its district only, and does nothing an office or a laptop does.
        let page = try WireCoding.decode(
            PullPage.self, from: try await admin.request("GET", "/v1/pull?limit=1000", token: token).body)
        #expect(!page.households.isEmpty && page.households.allSatisfy { $0.household.heads("district").first?.value == .string("150602") })
        for (method, path) in [("GET", "/v1/review"), ("GET", "/v1/admin/devices"), ("POST", "/v1/push"), ("GET", "/v1/reports")] {
            let answer = try await admin.request(method, path, body: method == "POST" ? body : nil, token: token)
            #expect(answer.status == 403 && code(answer) == "forbiddenForRole", "\(method) \(path): \(answer.status)")
        }
        let list = try WireCoding.decode(RelayDeviceList.self, from: try await admin.request("GET", "/v1/relay/devices", token: token).body)
        #expect(list.devices.map(\.device.district) == ["150602"] && list.relay.id == relayID)

        // Revoked by the city: refused from then on.
        #expect(try await admin.request("POST", "/v1/admin/relays/\(relayID)/revoke").status == 200)
        let afterwards = try await admin.request("GET", "/v1/relay/devices", token: token)
        #expect(afterwards.status == 401 && code(afterwards) == "relayRevoked")
        await city.stop()
    }
}
