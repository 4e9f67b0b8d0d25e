import Crypto
import DoorstepCore
import DoorstepServer
import DoorstepStorage
import Foundation

/// Sample values, valid under the shipped Ordos city data.
enum Facts {
    static let district = "150602"
    /// The districts the office case spreads its households over.
    static let districts = ["150602", "150603"]

    /// A valid, distinct national ID for household number `n` (distinct IDs: no duplicate links).
    static func nationalID(_ n: Int) -> String {
        let day = n / 900
        var components = DateComponents()
        components.year = 1950
        components.month = 1
        components.day = 1 + day
        let calendar = Calendar(identifier: .gregorian)
        let date = calendar.date(from: components) ?? Date(timeIntervalSince1970: 0)
        let parts = calendar.dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let birth = String(format: "%04d%02d%02d", parts.year ?? 1950, parts.month ?? 1, parts.day ?? 1)
        let body = district + birth + String(100 + n % 900)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    static func household(_ n: Int) -> [String: JSONValue] {
        [
            "headName": .string("王某\(n)"), "nationalId": .string(nationalID(n)), "address": .string("东胜区 建设街 \(n % 500 + 1) 号"),
            "district": .string(district), "fileLevel": "national", "primaryCause": "illness", "difficulty": "general", "skillLevel": "none",
            "monthlyIncomeFen": .int(Int64(80_000 + n % 70_000)), "epidemicAffected": false, "status": "filed",
        ]
    }

    static let member: [String: JSONValue] = ["name": "王小某", "relation": "child", "health": "healthy", "employment": "student"]

    static func visit(_ n: Int) -> [String: JSONValue] {
        [
            "visitedAt": .string(String(format: "2020-04-%02dT10:30:00+08:00", 1 + n % 28)), "visitor": "走访员甲", "mode": "atHome",
            "conclusion": "eligible", "verified": ["income", "members"], "observedIncomeFen": .int(Int64(90_000 + n % 1000)),
            "notes": "入户核实, 家庭情况与档案一致",
        ]
    }

    static func writes(_ fields: [String: JSONValue]) -> [FieldWrite] {
        fields.keys.sorted().map { FieldWrite(field: $0, value: fields[$0] ?? .null) }
    }
}

/// Fills a server quickly through its storage layer (no HTTP): households with one member and
/// visits each, pushed by a city device of the server in batches of 1,000 through the merge engine,
/// so the rows are exactly those a real push writes.
final class Seeder: @unchecked Sendable {
    let storage: any ServerStorage
    let engine = MergeEngine()
    let device: DeviceID
    private var seq: Int64 = 0
    private var clock = HybridLogicalClock()
    private var pending: [Mutation] = []
    /// Every seeded household, in the order it was created (the order devices receive them).
    private(set) var households: [EntityID] = []
    private(set) var mutations = 0
    private var visitNumber = 0

    private init(storage: any ServerStorage, device: DeviceID) {
        self.storage = storage
        self.device = device
    }

    /// Seeds as the server's own device (a city device, as imports are stamped), creating the
    /// server's identity in storage when it has none yet.
    static func enroll(_ storage: any ServerStorage) async throws -> Seeder {
        let identity = try await storage.identity {
            let key = Curve25519.KeyAgreement.PrivateKey()
            let keyID = SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
            let fields = ["device": DeviceID.random().rawValue, "bundlePrivateKey": key.rawRepresentation.base64EncodedString(), "keyID": keyID]
            return try JSONDecoder().decode(ServerIdentity.self, from: JSONEncoder().encode(fields))
        }
        let seeder = Seeder(storage: storage, device: identity.device)
        seeder.seq = try await storage.device(id: identity.device)?.highestSeq ?? 0
        return seeder
    }

    private var principal: Principal { Principal(device: device, role: .city, district: nil) }

    @discardableResult
    private func add(
        _ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID, _ fields: [String: JSONValue], base: [WriteID] = []
    ) async throws -> WriteID {
        seq += 1
        let writes = Facts.writes(fields).map { FieldWrite(field: $0.field, value: $0.value, base: base) }
        let mutation = Mutation(device: device, seq: seq, hlc: clock.tick(), op: op, kind: kind, entity: entity, household: household, fields: writes)
        pending.append(mutation)
        if pending.count >= engine.maxBatchSize { try await flush() }
        return mutation.writeID
    }

    func flush() async throws {
        guard !pending.isEmpty else { return }
        let batch = PushBatch(device: device, mutations: pending)
        let receipt = try await storage.push(
            batch, from: principal, engine: engine, actor: nil, now: Instant.format(Date(), in: .gmt),
            physicalMillis: HybridLogicalClock.systemMillis)
        if let refused = receipt.results.first(where: { $0.outcome == .rejected }) {
            throw BenchError("seeding: the server rejected mutation \(refused.seq): \(refused.code.map { "\($0)" } ?? "") \(refused.reason ?? "")")
        }
        clock.absorb(receipt.serverClock)
        mutations += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    /// Seeds households (each with one member and `visits` visits) until the scope holds `total`.
    func grow(to total: Int, visits: Int, progress: (Int) -> Void = { _ in }) async throws {
        while households.count < total {
            let n = households.count
            let id = EntityID.random()
            try await add(.create, .household, entity: id, household: id, Facts.household(n))
            try await add(.create, .member, entity: EntityID.random(), household: id, Facts.member)
            for _ in 0..<visits {
                visitNumber += 1
                try await add(.create, .visit, entity: EntityID.random(), household: id, Facts.visit(visitNumber))
            }
            households.append(id)
            if households.count % 10_000 == 0 { progress(households.count) }
        }
        try await flush()
    }

    /// Seeds a city as offices see it until it holds `total` households: two districts, every
    /// status, two visits each (one in seven online, so missed; one in thirteen not eligible, so
    /// wrong while filed), a member, and an assistance item in every fourth household.
    func growCity(to total: Int, progress: (Int) -> Void = { _ in }) async throws {
        let statuses = ["candidate", "filed", "filed", "outOfHardship", "safetyNet"]
        while households.count < total {
            let n = households.count
            let id = EntityID.random()
            var household = Facts.household(n)
            household["district"] = .string(Facts.districts[n % Facts.districts.count])
            let status = statuses[n % statuses.count]
            household["status"] = status == "candidate" ? "candidate" : "filed"
            let created = try await add(.create, .household, entity: id, household: id, household)
            if status != "candidate" && status != "filed" {
                // Out of hardship or into the safety net after the visits, as the office decides.
                try await add(.update, .household, entity: id, household: id, ["status": .string(status)], base: [created])
            }
            try await add(.create, .member, entity: EntityID.random(), household: id, Facts.member)
            for _ in 0..<2 {
                visitNumber += 1
                var visit = Facts.visit(visitNumber)
                // In the last weeks (the office case's campaign is under way): the weeks of its course have visits.
                let at = Date().addingTimeInterval(-Double((n + visitNumber) % 30) * 86_400)
                visit["visitedAt"] = .string(Instant.format(at, in: TimeZone(identifier: "Asia/Shanghai") ?? .gmt))
                if n % 7 == 0 { visit["mode"] = "online" }
                if n % 13 == 0 { visit["conclusion"] = "notEligible" }
                try await add(.create, .visit, entity: EntityID.random(), household: id, visit)
            }
            if n % 4 == 0 {
                try await add(
                    .create, .assistance, entity: EntityID.random(), household: id,
                    [
                        "category": "employment", "measure": "岗位推荐", "leadDepartment": "humanResources",
                        "dueDate": .string(String(format: "2020-%02d-15", 5 + n % 5)), "status": n % 8 == 0 ? "done" : "planned",
                    ])
            }
            households.append(id)
            if households.count % 10_000 == 0 { progress(households.count) }
        }
        try await flush()
    }

    /// One new visit to each of `count` distinct households chosen at random: `count` new changes.
    func addVisits(count: Int) async throws {
        var generator = SystemRandomNumberGenerator()
        var chosen = Set<EntityID>()
        while chosen.count < min(count, households.count) {
            chosen.insert(households[Int.random(in: 0..<households.count, using: &generator)])
        }
        for household in chosen {
            visitNumber += 1
            try await add(.create, .visit, entity: EntityID.random(), household: household, Facts.visit(visitNumber))
        }
        try await flush()
    }
}
