import Crypto
import DoorstepClient
import Foundation
import Synchronization

/// The load run: enrolls the devices, runs the bursts, reads the server's memory, verifies.
struct LoadRun {
    struct Settings: Sendable {
        var devices: Int
        var visits: Int
        var edits: Int
        var households: Int
        var concurrency: Int
        var bursts: Int
        var maxRSSGrowth: Double
        var seed: UInt64
        var server = URL(string: "http://127.0.0.1:8080")!
        var adminToken = ""
        var serverPID: Int32?
    }

    struct Outcome: Sendable {
        var passed: Bool
    }

    let settings: Settings

    /// One request's answer, or the error that stopped it.
    func send(_ transport: URLSessionTransport, _ method: String, _ path: String, token: String, body: Data? = nil) async throws -> TransportResponse {
        var headers = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token)", "Accept": "application/json"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await transport.send(TransportRequest(method: method, path: path, headers: headers, body: body))
    }

    func run() async throws -> Outcome {
        let s = settings
        say(
            "doorstep-load: \(s.devices) devices (\(s.concurrency) at a time), each day \(s.households) new households, \(s.visits) visits, "
                + "\(s.edits) edits = \(s.households + s.visits + s.edits) mutations; \(s.bursts) burst(s) against \(s.server.absoluteString); seed \(s.seed)")
        let transports = (0..<s.concurrency).map { _ in URLSessionTransport(baseURL: s.server, timeout: 120) }

        // Set-up (not timed as the burst): enrollment codes, enrollment, a first pull for the cursor.
        let started = Date()
        let districts = CityData.ordos.districts.map(\.code)
        let devices = try await parallel(s.devices, transports) { index, transport in
            try await enroll(index: index, district: districts[index % districts.count], transport: transport)
        }
        say(String(format: "set-up: %d devices enrolled in %.1f s", devices.count, Date().timeIntervalSince(started)))

        var peaks: [Int] = []
        var failedDevices = 0
        var rejected = 0
        for burst in 1...s.bursts {
            let stats = Stats()
            let burstStart = Date()
            let finished = Counter()
            let results = try await parallel(s.devices, transports) { index, transport in
                let ok = await day(devices[index], burst: burst, transport: transport, stats: stats)
                // Progress of a long burst, every tenth of the devices.
                if let done = finished.take(below: .max).map({ $0 + 1 }), s.devices >= 100, done % (s.devices / 10) == 0, done < s.devices {
                    say(String(format: "burst %d: %d of %d devices synced (%.0f s)", burst, done, s.devices, Date().timeIntervalSince(burstStart)))
                }
                return ok
            }
            let seconds = Date().timeIntervalSince(burstStart)
            failedDevices += results.filter { !$0 }.count
            rejected += stats.rejected
            let mutations = stats.mutations
            say(
                String(
                    format:
                        "burst %d: %d mutations in %.1f s: %.0f mutations/s, %d requests (%.0f/s); push p50 %@ p99 %@ (%d); pull p50 %@ p99 %@ (%d); errors %d (retried), devices that gave up %d",
                    burst, mutations, seconds, Double(mutations) / max(seconds, 0.001), stats.requests, Double(stats.requests) / max(seconds, 0.001),
                    Stats.millis(stats.percentile(\.push, 0.5)), Stats.millis(stats.percentile(\.push, 0.99)), stats.count(\.push),
                    Stats.millis(stats.percentile(\.pull, 0.5)), Stats.millis(stats.percentile(\.pull, 0.99)), stats.count(\.pull),
                    stats.errors, results.filter { !$0 }.count))
            // The next morning (not timed): every device pulls what the others pushed after it, so each
            // burst starts caught up and the bursts are alike (each pulls one day of its district).
            _ = try await parallel(s.devices, transports) { index, transport in
                if let cursor = try await pullToEnd(devices[index], transport: transport, stats: nil) { devices[index].cursor = cursor }
            }
            if let peak = Self.peakRSSKiB(s.serverPID) {
                peaks.append(peak)
                if let parts = Self.residentParts(s.serverPID) { say("burst \(burst): server resident now: \(parts)") }
                say(String(format: "burst %d (and the next morning's pulls): server peak resident memory (VmHWM) %.1f MiB", burst, Double(peak) / 1024))
            }
        }

        var passed = failedDevices == 0
        if peaks.count == s.bursts, let first = peaks.first, let last = peaks.last, s.bursts > 1 {
            let ratio = Double(last) / Double(max(first, 1))
            let ok = ratio <= s.maxRSSGrowth
            passed = passed && ok
            say(
                String(
                    format: "memory: peak RSS after burst 1 %.1f MiB, after burst %d %.1f MiB: %.3f× (limit %.2f×) %@",
                    Double(first) / 1024, s.bursts, Double(last) / 1024, ratio, s.maxRSSGrowth, ok ? "ok" : "EXCEEDED"))
        } else {
            say("memory: not measured (no server process id: give --server-pid, or use --spawn)")
        }

        let verification = try await verify(devices, transports: transports)
        passed = passed && verification.lost == 0 && verification.duplicated == 0 && verification.visitsFoundOnce == verification.visitsSent
        say(
            "verification: mutations sent \(verification.sent), held once \(verification.heldOnce), lost \(verification.lost), "
                + "duplicated \(verification.duplicated) (rejected \(rejected)); visits sent \(verification.visitsSent), found once \(verification.visitsFoundOnce) "
                + "in a city-wide pull; \(verification.households) households' histories read")
        say(passed ? "doorstep-load: PASS" : "doorstep-load: FAIL")
        return Outcome(passed: passed)
    }

    // MARK: Devices

    /// A simulated device: its identity, clock, cursor, households and what it sent.
    final class Device: @unchecked Sendable {
        let index: Int
        let id: DeviceID
        let token: String
        let district: String
        var clock = HybridLogicalClock()
        var seq: Int64 = 0
        var cursor = "0"
        /// Per household, the last write of each field (the base of the next edit).
        var households: [(id: EntityID, last: [String: WriteID])] = []
        /// Every mutation sent: seq → how many fields it wrote.
        var sent: [Int64: Int] = [:]
        var visits: [EntityID] = []

        init(index: Int, id: DeviceID, token: String, district: String) {
            self.index = index
            self.id = id
            self.token = token
            self.district = district
        }
    }

    func enroll(index: Int, district: String, transport: URLSessionTransport) async throws -> Device {
        let codeBody = try WireCoding.encode(EnrollmentCodeRequest(district: district, role: .visitor))
        let code: EnrollmentCode = try await retried {
            try await expect(201, send(transport, "POST", "/v1/admin/enrollment-codes", token: settings.adminToken, body: codeBody))
        }
        let key = Curve25519.Signing.PrivateKey()
        let body = try WireCoding.encode(
            EnrollRequest(
                code: code.code, deviceName: "load \(index)",
                publicSigningKey: key.publicKey.rawRepresentation.base64EncodedString()))
        let enrolled: EnrollResponse = try await retried { try await expect(201, send(transport, "POST", "/v1/enroll", token: "", body: body)) }
        let device = Device(index: index, id: enrolled.device, token: enrolled.token, district: district)
        device.cursor = try await pullToEnd(device, transport: transport, stats: nil) ?? "0"
        return device
    }

    /// A device's day: file, visit, edit (offline), then push in batches of 200 and pull to the end.
    func day(_ device: Device, burst: Int, transport: URLSessionTransport, stats: Stats) async -> Bool {
        let mutations = makeDay(device, burst: burst)
        do {
            for start in stride(from: 0, to: mutations.count, by: 200) {
                let batch = Array(mutations[start..<min(start + 200, mutations.count)])
                let body = try WireCoding.encode(PushBatch(device: device.id, mutations: batch))
                let receipt: PushReceipt = try await retried(stats: stats) {
                    let begin = Date()
                    let response = try await send(transport, "POST", "/v1/push", token: device.token, body: body)
                    stats.note(\.push, Date().timeIntervalSince(begin))
                    return try expect(200, response)
                }
                stats.add(mutations: batch.count, rejected: receipt.results.filter { $0.outcome == .rejected }.count)
            }
            guard let cursor = try await pullToEnd(device, transport: transport, stats: stats) else { return false }
            device.cursor = cursor
            return true
        } catch {
            FileHandle.standardError.write(Data("device \(device.index) gave up: \(error)\n".utf8))
            return false
        }
    }

    func makeDay(_ device: Device, burst: Int) -> [Mutation] {
        var mutations: [Mutation] = []
        func next(_ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID, fields: [FieldWrite]) -> Mutation {
            device.seq += 1
            let mutation = Mutation(
                device: device.id, seq: device.seq, hlc: device.clock.tick(), op: op, kind: kind, entity: entity,
                household: household, fields: fields)
            device.sent[device.seq] = fields.count
            mutations.append(mutation)
            return mutation
        }
        let s = settings
        var today: [Int] = []
        for h in 0..<s.households {
            let number = ((burst - 1) * s.devices + device.index) * s.households + h
            let id = EntityID.random()
            let facts: [String: JSONValue] = [
                "headName": .string("负载户主\(number)"), "nationalId": .string(nationalID(number)), "address": .string("负载街 \(number) 号"),
                "district": .string(device.district), "fileLevel": "national", "primaryCause": "illness", "difficulty": "general",
                "skillLevel": "none", "monthlyIncomeFen": .int(Int64(100_000 + number)), "epidemicAffected": false, "status": "candidate",
            ]
            let creation = next(
                .create, .household, entity: id, household: id,
                fields: facts.keys.sorted().map { FieldWrite(field: $0, value: facts[$0] ?? .null) })
            device.households.append((id, Dictionary(uniqueKeysWithValues: facts.keys.map { ($0, creation.writeID) })))
            today.append(device.households.count - 1)
        }
        for v in 0..<s.visits {
            let household = device.households[today[v % today.count]].id
            let visit = EntityID.random()
            let fields: [String: JSONValue] = [
                "visitedAt": "2020-04-30T17:30:00+08:00", "visitor": .string("走访员\(device.index)"),
                "mode": "atHome", "conclusion": "eligible", "notes": .string("day \(burst) visit \(v)"),
            ]
            _ = next(
                .create, .visit, entity: visit, household: household, fields: fields.keys.sorted().map { FieldWrite(field: $0, value: fields[$0] ?? .null) })
            device.visits.append(visit)
        }
        let editable = ["notes", "monthlyIncomeFen", "employer", "address"]
        for e in 0..<s.edits {
            let slot = today[e % today.count]
            let field = editable[(e / today.count) % editable.count]
            let value: JSONValue = field == "monthlyIncomeFen" ? .int(Int64(200_000 + burst * 100_000 + e)) : .string("day \(burst) edit \(e)")
            let base = device.households[slot].last[field].map { [$0] } ?? []
            let edit = next(
                .update, .household, entity: device.households[slot].id, household: device.households[slot].id,
                fields: [FieldWrite(field: field, value: value, base: base)])
            device.households[slot].last[field] = edit.writeID
        }
        return mutations
    }

    /// Pulls from the device's cursor until caught up; returns the new cursor.
    func pullToEnd(_ device: Device, transport: URLSessionTransport, stats: Stats?) async throws -> String? {
        struct PageHead: Decodable { var nextCursor: String; var hasMore: Bool }
        var cursor = device.cursor
        while true {
            let path = "/v1/pull?cursor=\(cursor)&limit=200"
            let page: PageHead = try await retried(stats: stats) {
                let begin = Date()
                let response = try await send(transport, "GET", path, token: device.token)
                stats?.note(\.pull, Date().timeIntervalSince(begin))
                return try expect(200, response)
            }
            cursor = page.nextCursor
            if !page.hasMore { return cursor }
        }
    }

    /// A national ID unique to this run: a region code from the seed, a birth date and serial from the number.
    func nationalID(_ number: Int) -> String {
        let region = String(format: "15%04d", Int(settings.seed % 10_000))
        let calendar = Calendar(identifier: .gregorian)
        var components = DateComponents()
        components.year = 1950; components.month = 1; components.day = 1 + number / 1000
        let date = calendar.date(from: components) ?? Date(timeIntervalSince1970: 0)
        let day = calendar.dateComponents([.year, .month, .day], from: date)
        let body = region + String(format: "%04d%02d%02d%03d", day.year ?? 1950, day.month ?? 1, day.day ?? 1, number % 1000)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    // MARK: Verification

    struct Verification {
        var sent = 0, heldOnce = 0, lost = 0, duplicated = 0, visitsSent = 0, visitsFoundOnce = 0, households = 0
    }

    /// Reads back from the server: a city-wide pull (survivors, aliases, visits by id), then the
    /// history of every household of the run, counting each `(device, seq)`'s rows.
    func verify(_ devices: [Device], transports: [URLSessionTransport]) async throws -> Verification {
        var result = Verification()
        let admin = Device(index: -1, id: DeviceID.random(), token: settings.adminToken, district: "")
        var aggregates: [HouseholdAggregate] = []
        var cursor = "0"
        while true {
            let path = "/v1/pull?cursor=\(cursor)&limit=1000"
            let page: PullPage = try await retried { try await expect(200, send(transports[0], "GET", path, token: admin.token)) }
            aggregates.append(contentsOf: page.households)
            cursor = page.nextCursor
            if !page.hasMore { break }
        }
        let ours = Set(devices.flatMap { $0.households.map(\.id) })
        var visitCounts: [EntityID: Int] = [:]
        for aggregate in aggregates {
            for entity in aggregate.entities where entity.kind == .visit { visitCounts[entity.id, default: 0] += 1 }
        }
        let sentVisits = devices.flatMap(\.visits)
        result.visitsSent = sentVisits.count
        result.visitsFoundOnce = sentVisits.filter { visitCounts[$0] == 1 }.count
        let survivors = aggregates.filter { ours.contains($0.household.id) || $0.aliases.contains(where: ours.contains) }.map(\.household.id)
        result.households = survivors.count

        struct History: Decodable { var history: [AuditEntry] }
        struct RowKey: Hashable { var device: DeviceID; var seq: Int64; var field: String; var entity: EntityID }
        let histories = try await parallel(survivors.count, transports) { index, transport in
            try await retried { () -> History in
                try await expect(200, send(transport, "GET", "/v1/households/\(survivors[index])/history", token: settings.adminToken))
            }
        }
        var rows: [String: [Int64: Int]] = [:]
        var repeated = 0
        var seen = Set<RowKey>()
        for history in histories {
            for entry in history.history {
                rows[entry.device.rawValue, default: [:]][entry.seq, default: 0] += 1
                if !seen.insert(RowKey(device: entry.device, seq: entry.seq, field: entry.field, entity: entry.entity)).inserted { repeated += 1 }
            }
        }
        for device in devices {
            let held = rows[device.id.rawValue] ?? [:]
            for (seq, fields) in device.sent {
                result.sent += 1
                switch held[seq] ?? 0 {
                case 0: result.lost += 1
                case fields: result.heldOnce += 1
                case let count where count > fields: result.duplicated += 1
                default: result.lost += 1  // some of its fields missing
                }
            }
        }
        result.duplicated += repeated
        return result
    }

    // MARK: Plumbing

    /// Runs `count` jobs on as many workers as there are transports.
    func parallel<T: Sendable>(
        _ count: Int, _ transports: [URLSessionTransport],
        _ job: @escaping @Sendable (Int, URLSessionTransport) async throws -> T
    ) async throws -> [T] {
        let next = Counter()
        return try await withThrowingTaskGroup(of: [(Int, T)].self) { group in
            for transport in transports {
                group.addTask {
                    var done: [(Int, T)] = []
                    while let index = next.take(below: count) { done.append((index, try await job(index, transport))) }
                    return done
                }
            }
            var results: [(Int, T)] = []
            for try await part in group { results += part }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Retries network errors and 5xx answers with backoff (6 attempts, as the client does).
    func retried<T>(stats: Stats? = nil, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let error as LoadError where !error.retryable {
                stats?.error()
                throw error
            } catch {
                stats?.error()
                if attempt >= 6 { throw error }
                try await Task.sleep(nanoseconds: UInt64(Double.random(in: 0...(0.1 * Double(1 << attempt))) * 1_000_000_000))
            }
        }
    }

    struct LoadError: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var retryable: Bool { status >= 500 || status == 429 }
        var description: String { "HTTP \(status): \(body.prefix(300))" }
    }

    func expect<T: Decodable>(_ status: Int, _ response: TransportResponse) throws -> T {
        guard response.status == status else { throw LoadError(status: response.status, body: String(decoding: response.body, as: UTF8.self)) }
        return try JSONDecoder().decode(T.self, from: response.body)
    }

    /// The resident memory of a process now, by kind (anonymous, file-backed, shared), from /proc.
    static func residentParts(_ pid: Int32?) -> String? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let wanted = ["VmRSS", "RssAnon", "RssFile", "RssShmem"]
        return status.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: ":")
            guard parts.count == 2, wanted.contains(String(parts[0])), let kib = parts[1].split(separator: " ").compactMap({ Int($0) }).first else {
                return nil
            }
            return String(format: "%@ %.1f MiB", String(parts[0]), Double(kib) / 1024)
        }.joined(separator: ", ")
    }

    /// The peak resident memory of a process, in KiB (`VmHWM`).
    static func peakRSSKiB(_ pid: Int32?) -> Int? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        return nil
    }
}

/// Hands out job numbers.
final class Counter: Sendable {
    private let value = Mutex(0)

    func take(below limit: Int) -> Int? {
        value.withLock { value in
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}

/// Latencies, counts and errors of a burst.
final class Stats: Sendable {
    struct Latencies { var push: [Double] = []; var pull: [Double] = [] }
    private struct State {
        var latencies = Latencies()
        var mutations = 0, rejected = 0, errors = 0
    }
    private let state = Mutex(State())

    func note(_ kind: WritableKeyPath<Latencies, [Double]>, _ seconds: Double) { state.withLock { $0.latencies[keyPath: kind].append(seconds) } }
    func add(mutations: Int, rejected: Int) {
        state.withLock {
            $0.mutations += mutations; $0.rejected += rejected
        }
    }
    func error() { state.withLock { $0.errors += 1 } }

    var mutations: Int { state.withLock { $0.mutations } }
    var rejected: Int { state.withLock { $0.rejected } }
    var errors: Int { state.withLock { $0.errors } }
    var requests: Int { state.withLock { $0.latencies.push.count + $0.latencies.pull.count } }
    func count(_ kind: KeyPath<Latencies, [Double]>) -> Int { state.withLock { $0.latencies[keyPath: kind].count } }

    func percentile(_ kind: KeyPath<Latencies, [Double]>, _ p: Double) -> Double? {
        let sorted = state.withLock { $0.latencies[keyPath: kind] }.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    static func millis(_ seconds: Double?) -> String {
        seconds.map { String(format: "%.0f ms", $0 * 1000) } ?? "-"
    }
}

/// Writes a line to standard output at once (CI logs show progress as it happens).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
