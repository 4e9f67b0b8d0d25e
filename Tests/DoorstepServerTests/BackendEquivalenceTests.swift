import DoorstepCore
import DoorstepTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// The embedded SQLite storage and the PostgreSQL one are two implementations of one contract:
/// the same seeded day of work through both must give the same receipts, the same pull pages,
/// the same review queue and the same histories, byte for byte (each backend writes its rows its
/// own way: SQLite row by row, PostgreSQL a batch's rows in a few statements).
@Suite(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
struct BackendEquivalenceTests {
    static let now = "2020-04-10T09:00:00Z"
    static let clock: @Sendable () -> Int64 = { 1_586_500_000_000 }

    /// A device of the workload, with what it last pulled (its view may be stale: concurrent edits).
    final class Device {
        let principal: Principal
        let district: String
        var seq: Int64 = 0
        var clock = HybridLogicalClock(physicalMillis: BackendEquivalenceTests.clock)
        var cursors: [Int64] = [0, 0]
        var known: [EntityID: HouseholdAggregate] = [:]

        init(principal: Principal) {
            self.principal = principal
            district = principal.district ?? ""
        }

        func make(_ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID, fields: [FieldWrite], covers: [WriteID] = []) -> Mutation
        {
            seq += 1
            return Mutation(
                device: principal.device, seq: seq, hlc: clock.tick(), op: op, kind: kind, entity: entity, household: household,
                fields: fields, covers: covers)
        }
    }

    @Test func aSeededDayOfWork_givesTheSameAnswersOnBothBackends() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let postgres = try PostgresStorage(url: url, logger: Logger(label: "equivalence"))
        let running = Task { await postgres.run() }
        defer { running.cancel() }
        try await postgres.migrate()
        try await TestDatabase.withSQLiteStorage("equivalence") { sqlite in
            let storages: [any ServerStorage] = [sqlite, postgres]
            let engine = MergeEngine()
            var random = SeededGenerator(seed: 20_261_130)
            func deviceID() throws -> DeviceID { try DeviceID(EntityID.random(using: &random).description) }
            let identity = try JSONDecoder().decode(
                ServerIdentity.self, from: Data(#"{"device":"\#(try deviceID())","bundlePrivateKey":"AAAA","keyID":"k"}"#.utf8))
            var devices: [Device] = []
            var office: Principal?
            for (index, (district, role)) in [("150602", Role.visitor), ("150602", .visitor), ("150603", .visitor), ("150602", .office)].enumerated() {
                let id = try deviceID()
                var principals: [Principal] = []
                for storage in storages {
                    _ = try await storage.identity { identity }
                    try await storage.insertEnrollmentCode(
                        EnrollmentCodeRecord(
                            codeHash: "code-\(index)", district: district, role: role, createdBy: "test",
                            createdAt: "2020-01-01T00:00:00Z", expiresAt: "2099-01-01T00:00:00Z"))
                    principals.append(
                        try await storage.redeemEnrollmentCode(
                            hash: "code-\(index)", now: "2020-01-02T00:00:00Z",
                            device: NewDevice(
                                id: id, name: "d\(index)", tokenHash: "token-\(index)", signingKey: nil)
                        ).principal)
                }
                #expect(principals[0] == principals[1])
                if role == .office { office = principals[0] } else { devices.append(Device(principal: principals[0])) }
            }

            func same<T: Encodable>(_ values: [T], _ what: String) throws {
                let encoded = try values.map { String(decoding: try WireCoding.encode($0), as: UTF8.self) }
                #expect(encoded[0] == encoded[1], "\(what) differs between SQLite and PostgreSQL: \(Self.difference(encoded[0], encoded[1]))")
            }
            // Cursors are opaque and numbered by each backend (SQLite numbers every touch of a
            // household, PostgreSQL each household once per batch): each backend keeps its own,
            // and the pages must be the same but for it.
            func pages(_ principal: Principal, after cursors: [Int64], limit: Int) async throws -> (page: PullPage, next: [Int64]) {
                var texts: [String] = []
                var next: [Int64] = []
                for (index, storage) in storages.enumerated() {
                    let bytes = try await storage.pullEncoded(
                        for: principal, after: cursors[index], limit: limit, engine: engine, now: Self.now,
                        physicalMillis: Self.clock)
                    let page = try WireCoding.decode(PullPage.self, from: Data(bytes))
                    next.append(Int64(page.nextCursor) ?? -1)
                    texts.append(
                        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"nextCursor\":\"\(page.nextCursor)\"", with: "\"nextCursor\":\"…\""))
                }
                #expect(texts[0] == texts[1], "a pull page after \(cursors) differs: \(Self.difference(texts[0], texts[1]))")
                return (try WireCoding.decode(PullPage.self, from: Data(texts[0].utf8)), next)
            }
            func pull(_ device: Device) async throws {
                let (page, next) = try await pages(device.principal, after: device.cursors, limit: 5)
                for household in page.households { device.known[household.household.id] = household }
                for id in page.removed { device.known[id] = nil }
                device.cursors = next
                if page.hasMore { try await pull(device) }
            }

            var filed: [EntityID] = []
            for round in 0..<14 {
                for device in devices {
                    var batch: [Mutation] = []
                    for _ in 0..<Int.random(in: 1...8, using: &random) {
                        let households = device.known.values.sorted { $0.household.id < $1.household.id }
                        let roll = Int.random(in: 0..<100, using: &random)
                        if roll < 25 || households.isEmpty {
                            // A small pool of national IDs: the same person filed twice is linked.
                            let id = EntityID.random(using: &random)
                            let person = Int.random(in: 0..<10, using: &random)
                            batch.append(
                                device.make(
                                    .create, .household, entity: id, household: id,
                                    fields: Sample.household(
                                        nationalID: Sample.nationalID(person, region: device.district), district: device.district,
                                        income: Int64.random(in: 50_000...200_000, using: &random))))
                            filed.append(id)
                        } else if let household = households.randomElement(using: &random) {
                            let id = household.household.id
                            switch roll {
                            case ..<50:
                                batch.append(
                                    device.make(
                                        .create, .visit, entity: EntityID.random(using: &random), household: id,
                                        fields: Sample.visit(day: Int.random(in: 1...28, using: &random))))
                            case ..<70:
                                // From what the device last pulled: another device may have written since (a conflict).
                                let field = ["monthlyIncomeFen", "address"].randomElement(using: &random) ?? "address"
                                let value: JSONValue =
                                    field == "address"
                                    ? .string("东胜区 建设街 \(Int.random(in: 1...99, using: &random)) 号")
                                    : .int(Int64.random(in: 50_000...200_000, using: &random))
                                batch.append(
                                    device.make(
                                        .update, .household, entity: id, household: id,
                                        fields: [FieldWrite(field: field, value: value, base: household.household.heads(field).map(\.write))]))
                            case ..<82:
                                batch.append(
                                    device.make(
                                        .create, .member, entity: EntityID.random(using: &random), household: id,
                                        fields: [
                                            FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "child"),
                                            FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "student"),
                                        ]))
                            case ..<92:
                                if let member = household.entities.first(where: { $0.kind == .member && !$0.isDeleted }) {
                                    batch.append(
                                        device.make(
                                            .delete, .member, entity: member.id, household: id,
                                            fields: [FieldWrite(field: deletedFieldName, value: true, base: member.heads(deletedFieldName).map(\.write))],
                                            covers: member.allFieldHeads))
                                }
                            default:
                                // Outside the device's district (refused), or a visit changed (refused).
                                if let other = filed.randomElement(using: &random) {
                                    batch.append(
                                        device.make(.create, .visit, entity: EntityID.random(using: &random), household: other, fields: Sample.visit()))
                                }
                            }
                        }
                    }
                    var receipts: [PushReceipt] = []
                    for storage in storages {
                        receipts.append(
                            try await storage.push(
                                PushBatch(device: device.principal.device, mutations: batch), from: device.principal, engine: engine,
                                actor: nil, now: Self.now, physicalMillis: Self.clock))
                    }
                    try same(receipts, "round \(round): a receipt")
                    if round % 2 == 1 || Int.random(in: 0..<3, using: &random) == 0 { try await pull(device) }
                }
            }

            func compareEverything(_ note: String) async throws {
                let city = Principal(device: identity.device, role: .city, district: nil)
                var cursors: [Int64] = [0, 0]
                while true {
                    // Each backend writes its pages from stored texts: the same bytes as encoding its built page.
                    for (index, storage) in storages.enumerated() {
                        let (built, encoded) = try await storage.pages(
                            for: city, after: cursors[index], limit: 7, engine: engine, now: Self.now,
                            physicalMillis: Self.clock)
                        let text = String(decoding: try WireCoding.encode(built), as: UTF8.self), written = String(decoding: encoded, as: UTF8.self)
                        #expect(written == text, "\(note): backend \(index)'s written page differs from its built one: \(Self.difference(text, written))")
                    }
                    let (page, next) = try await pages(city, after: cursors, limit: 7)
                    cursors = next
                    if !page.hasMore { break }
                }
                var queues: [ReviewQueue] = []
                for storage in storages { queues.append(try await storage.reviewQueue(district: nil)) }
                try same(queues, "\(note): the review queue")
                var written = 0
                for household in filed {
                    var histories: [[AuditEntry]] = []
                    for storage in storages { histories.append(try await storage.history(of: household)) }
                    try same(histories, "\(note): the history of \(household)")
                    if histories[0].contains(where: { $0.entity == household }) { written += 1 }
                }
                #expect(written == filed.count, "\(note): every filed household's history shows its own creation (\(written) of \(filed.count))")
                // Each device's district, from where it stood.
                for device in devices { try await pull(device) }
            }
            try await compareEverything("after the day")

            // The workload must have reached what it is for: links, conflicts, refusals, deletions.
            let queue = try await sqlite.reviewQueue(district: nil)
            #expect(
                !queue.conflicts.isEmpty && !queue.duplicates.isEmpty && !queue.rejections.isEmpty,
                "\(queue.conflicts.count) \(queue.duplicates.count) \(queue.rejections.count)")
            let everything = devices.flatMap(\.known.values).flatMap(\.entities)
            #expect(everything.contains { $0.isDeleted })

            // The office settles a conflict and separates a duplicate, on both.
            let officer = try #require(office)
            var decisions: [OfficeDecision] = []
            if let conflict = queue.conflicts.first(where: { $0.district == "150602" }) {
                decisions.append(.confirm(entity: conflict.record.entity, field: conflict.record.field))
            }
            if let duplicate = queue.duplicates.first(where: { $0.district == "150602" }) {
                decisions.append(.unlink(survivor: duplicate.survivor, alias: duplicate.alias))
            }
            #expect(decisions.count == 2)
            for decision in decisions {
                var results: [MutationResult] = []
                for storage in storages {
                    results.append(try await storage.decide(decision, by: officer, actor: "office", engine: engine, now: Self.now, physicalMillis: Self.clock))
                }
                try same(results, "the result of \(decision)")
            }
            try await compareEverything("after the office's decisions")
        }
    }

    /// Where two texts part, with some context on each side (a page is too long to print whole).
    static func difference(_ a: String, _ b: String) -> String {
        let x = Array(a.utf8), y = Array(b.utf8)
        let at = zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(x.count, y.count)
        func around(_ bytes: [UInt8]) -> String {
            String(decoding: bytes[max(0, at - 150)..<min(bytes.count, at + 150)], as: UTF8.self)
        }
        return "at byte \(at) of \(x.count) / \(y.count):\nSQLite:     …\(around(x))…\nPostgreSQL: …\(around(y))…"
    }
}
