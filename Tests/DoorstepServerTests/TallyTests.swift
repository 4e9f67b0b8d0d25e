import DoorstepCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import DoorstepStorage

/// The office tally (kept counters) against the full recomputation over every household, on
/// both backends: after each round of a seeded season of work (creations, duplicates linked and
/// unlinked, visits at home and online, voided visits, assistance items, members added and
/// deleted, income edits, the office's status decisions, months of clock), every report the
/// offices can ask for (each campaign, the city and each district, several days "as of") must be
/// the same value whether summed from the tally or computed from every household.
@Suite struct TallyTests {
    /// A clock the test moves: the server's and the devices' physical time.
    final class Clock: Sendable {
        private let millis: Mutex<Int64>
        init(_ start: Int64) { millis = Mutex(start) }
        func now() -> Int64 { millis.withLock { $0 } }
        func advance(days: Int) { millis.withLock { $0 += Int64(days) * 86_400_000 } }
        var text: String { Instant.format(Date(timeIntervalSince1970: Double(now()) / 1000), in: .gmt) }
    }

    /// A visitor's device of the workload.
    final class Device {
        let principal: Principal
        var seq: Int64 = 0
        var clock: HybridLogicalClock
        init(_ principal: Principal, clock: Clock) {
            self.principal = principal
            self.clock = HybridLogicalClock(physicalMillis: { clock.now() })
        }
        func make(_ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID, fields: [FieldWrite], covers: [WriteID] = []) -> Mutation
        {
            seq += 1
            return Mutation(
                device: principal.device, seq: seq, hlc: clock.tick(), op: op, kind: kind, entity: entity, household: household, fields: fields,
                covers: covers)
        }
    }

    /// A second campaign besides the city data's, stored as an administrator would: its windows
    /// cut the same season differently (an identification stage in May and June).
    static let laterCampaign = Campaign(
        id: "2020b", name: LocalizedName(zh: "2020 年下半年", en: "2020, second half"),
        stages: [
            CampaignStage(
                stage: .identification, name: LocalizedName(zh: "摸底", en: "Identification"), start: try! LocalDate("2020-05-10"),
                end: try! LocalDate("2020-06-20")),
            CampaignStage(stage: .exit, name: LocalizedName(zh: "退出", en: "Exit"), start: try! LocalDate("2020-06-21"), end: try! LocalDate("2020-10-31")),
        ])

    @Test func theKeptTally_equalsTheFullRecomputation_onSQLite() async throws {
        try await TestDatabase.withSQLiteStorage("tally") { storage in try await Self.season(storage) }
    }

    @Test(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
    func theKeptTally_equalsTheFullRecomputation_onPostgreSQL() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let postgres = try PostgresStorage(url: url, logger: Logger(label: "tally"))
        let running = Task { await postgres.run() }
        defer { running.cancel() }
        try await postgres.migrate()
        try await Self.season(postgres)
    }

    /// The seeded season, checked after every round.
    static func season(_ storage: any ServerStorage) async throws {
        let engine = MergeEngine()
        var random = SeededGenerator(seed: 20_261_205)
        // 2020-03-20, before the campaign; each round moves the clock on by eleven days.
        let clock = Clock(1_584_662_400_000)
        let identity = try JSONDecoder().decode(
            ServerIdentity.self, from: Data(#"{"device":"\#(EntityID.random(using: &random))","bundlePrivateKey":"AAAA","keyID":"k"}"#.utf8))
        _ = try await storage.identity { identity }
        let city = Principal(device: identity.device, role: .city, district: nil)
        var devices: [Device] = []
        for (index, district) in ["150602", "150602", "150603"].enumerated() {
            try await storage.insertEnrollmentCode(
                EnrollmentCodeRecord(
                    codeHash: "code-\(index)", district: district, role: .visitor, createdBy: "test", createdAt: "2020-01-01T00:00:00Z",
                    expiresAt: "2099-01-01T00:00:00Z"))
            let record = try await storage.redeemEnrollmentCode(
                hash: "code-\(index)", now: "2020-01-02T00:00:00Z",
                device: NewDevice(id: try DeviceID(EntityID.random(using: &random).description), name: "d\(index)", tokenHash: "t-\(index)", signingKey: nil))
            devices.append(Device(record.principal, clock: clock))
        }
        var households: [String: [EntityID]] = [:]
        var visits: [EntityID] = []
        var moves = 0
        var cityData = CityData.ordos

        for round in 0..<16 {
            for device in devices {
                let district = device.principal.district ?? ""
                var batch: [Mutation] = []
                for _ in 0..<Int.random(in: 2...9, using: &random) {
                    let roll = Int.random(in: 0..<100, using: &random)
                    guard roll >= 22, let id = households[district]?.randomElement(using: &random) else {
                        // A small pool of people: the same person filed twice is linked as a duplicate.
                        let id = EntityID.random(using: &random)
                        let person = Int.random(in: 0..<40, using: &random)
                        var fields = Sample.household(
                            nationalID: Sample.nationalID(person, region: district), district: district,
                            status: Bool.random(using: &random) ? "candidate" : "filed", income: Int64.random(in: 20_000...200_000, using: &random))
                        if Int.random(in: 0..<4, using: &random) == 0 {
                            fields = fields.map { $0.field == "primaryCause" ? FieldWrite(field: "primaryCause", value: "disability") : $0 }
                        }
                        batch.append(device.make(.create, .household, entity: id, household: id, fields: fields))
                        households[district, default: []].append(id)
                        continue
                    }
                    switch roll {
                    case ..<50:
                        let visit = EntityID.random(using: &random)
                        let at = Date(timeIntervalSince1970: Double(clock.now()) / 1000 - Double(Int.random(in: 0...9, using: &random) * 86_400))
                        batch.append(
                            device.make(
                                .create, .visit, entity: visit, household: id,
                                fields: [
                                    FieldWrite(field: "visitedAt", value: .string(Instant.format(at, in: TimeZone(identifier: "Asia/Shanghai") ?? .gmt))),
                                    FieldWrite(field: "visitor", value: "走访员甲"),
                                    FieldWrite(field: "mode", value: Int.random(in: 0..<4, using: &random) == 0 ? "online" : "atHome"),
                                    FieldWrite(field: "conclusion", value: Int.random(in: 0..<3, using: &random) == 0 ? "notEligible" : "eligible"),
                                ]))
                        visits.append(visit)
                    case ..<62:
                        let due = Int.random(in: 0...150, using: &random)
                        batch.append(
                            device.make(
                                .create, .assistance, entity: EntityID.random(using: &random), household: id,
                                fields: [
                                    FieldWrite(field: "category", value: "employment"), FieldWrite(field: "measure", value: "岗位推荐"),
                                    FieldWrite(field: "leadDepartment", value: "humanResources"),
                                    FieldWrite(field: "dueDate", value: .string((try LocalDate("2020-04-01")).adding(days: due).description)),
                                    FieldWrite(
                                        field: "status",
                                        value: .string(["planned", "inProgress", "done", "cancelled"].randomElement(using: &random) ?? "planned")),
                                ]))
                    case ..<72:
                        batch.append(
                            device.make(
                                .update, .household, entity: id, household: id,
                                fields: [FieldWrite(field: "monthlyIncomeFen", value: .int(Int64.random(in: 20_000...200_000, using: &random)))]))
                    case ..<84:
                        batch.append(
                            device.make(
                                .create, .member, entity: EntityID.random(using: &random), household: id,
                                fields: [
                                    FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "child"),
                                    FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "student"),
                                ]))
                    default:
                        if let aggregate = try await storage.household(id, engine: engine),
                            let member = aggregate.entities.first(where: { $0.kind == .member && !$0.isDeleted })
                        {
                            batch.append(
                                device.make(
                                    .delete, .member, entity: member.id, household: member.household,
                                    fields: [FieldWrite(field: deletedFieldName, value: true, base: member.heads(deletedFieldName).map(\.write))],
                                    covers: member.allFieldHeads))
                        }
                    }
                }
                _ = try await storage.push(
                    PushBatch(device: device.principal.device, mutations: batch), from: device.principal, engine: engine, actor: nil,
                    now: clock.text, physicalMillis: { clock.now() })
            }

            // The office's decisions: statuses along the status table, a visit voided, a link undone.
            for _ in 0..<10 {
                guard let id = households.values.joined().randomElement(using: &random),
                    let aggregate = try await storage.household(id, engine: engine),
                    let status = aggregate.household["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:)),
                    // Mostly forward (candidate → filed → out of hardship or the safety net), sometimes any allowed move.
                    let next = Int.random(in: 0..<3, using: &random) > 0
                        ? [HouseholdStatus.candidate: .filed, .filed: Bool.random(using: &random) ? .outOfHardship : .safetyNet][status]
                            .flatMap({ status.allowedNext.contains($0) ? $0 : nil }) ?? status.allowedNext.randomElement(using: &random)
                        : status.allowedNext.randomElement(using: &random)
                else { continue }
                _ = try? await storage.decide(
                    .setStatus(household: aggregate.household.id, to: next), by: city, actor: "office", engine: engine, now: clock.text,
                    physicalMillis: { clock.now() })
            }
            if round % 3 == 1, let visit = visits.randomElement(using: &random) {
                _ = try? await storage.decide(
                    .voidVisit(visit, reason: "录错了"), by: city, actor: "office", engine: engine, now: clock.text, physicalMillis: { clock.now() })
            }
            if round % 4 == 3 {
                for id in households.values.joined() {
                    guard let aggregate = try await storage.household(id, engine: engine), let alias = aggregate.aliases.first else { continue }
                    _ = try? await storage.decide(
                        .unlink(survivor: aggregate.household.id, alias: alias), by: city, actor: "office", engine: engine, now: clock.text,
                        physicalMillis: { clock.now() })
                    break
                }
            }
            if round % 5 == 2 {
                // The city moves a household to the other district (its counters and list rows move with it).
                for id in households["150602", default: []].shuffled(using: &random) {
                    guard let aggregate = try await storage.household(id, engine: engine), aggregate.household.id == id else { continue }
                    let moved = try? await storage.decide(
                        .overturn(entity: id, field: "district", value: "150603"), by: city, actor: "office", engine: engine, now: clock.text,
                        physicalMillis: { clock.now() })
                    if moved?.outcome == .applied { moves += 1 }
                    break
                }
            }
            if round == 9 {
                // A campaign stored mid-season: the tally is counted again under the new city data;
                // while the count is under way, what is read says it is partial.
                cityData = try cityData.addingCampaigns([laterCampaign])
                _ = try await storage.refreshTally(city: cityData, engine: engine, limit: 3)
                #expect(try await storage.reportTallies(district: nil, campaign: "2020", listLimit: nil).complete == false)
                #expect(try await storage.householdsPage(HouseholdsQuery()).complete == false)
            }
            // Part of the rounds count in small steps first, as the background count does.
            if round % 2 == 0 { _ = try await storage.refreshTally(city: cityData, engine: engine, limit: 3) }
            try await compare(storage, city: cityData, engine: engine, note: "round \(round)")
            clock.advance(days: 11)
        }
        // The season touched every figure: the comparison compared something.
        let last = try await storage.reportTallies(district: nil, campaign: "2020", listLimit: nil)
        let total = CampaignReport.make(city: cityData, campaign: CityData.ordos.campaigns[0], today: try LocalDate("2020-06-15"), tallies: last).total
        #expect(total.households > 15 && total.filesByStatus.now.outOfHardship > 0 && total.filesByStatus.now.safetyNet > 0)
        #expect(total.filesByStatus.atStart.total > 0 && total.filesByStatus.createdSinceStart > 0 && total.exitRate.denominator > 0)
        #expect(total.visitCoverage.rate.numerator > 0 && total.visitCoverage.missedCount > 0 && total.wrong > 0 && total.twice > 0)
        #expect(total.assistance.done > 0 && total.assistance.overdue > 0 && total.assistance.cancelled > 0 && total.belowMinimumLiving > 0)
        #expect(total.causes["disability", default: 0] > 0)
        #expect(moves > 0, "no household moved district")
    }

    /// Every report both ways, the lists cut to a limit, the weeks and the households list.
    static func compare(_ storage: any ServerStorage, city: CityData, engine: MergeEngine, note: String) async throws {
        let result = try await storage.refreshTally(city: city, engine: engine, limit: .max)
        #expect(result.current)
        #expect(try await storage.reportTallies(district: nil, campaign: city.campaigns[0].id, listLimit: nil).complete)
        for district in [nil, "150602", "150603"] as [String?] {
            let inputs = try await storage.reportInputs(district: district, engine: engine)
            for campaign in city.campaigns {
                let tallies = try await storage.reportTallies(district: district, campaign: campaign.id, listLimit: nil)
                for today in ["2020-04-01", "2020-06-15", "2020-10-01"] {
                    let day = try LocalDate(today)
                    let full = CampaignReport.make(city: city, campaign: campaign, today: day, districts: district.map { [$0] }, inputs: inputs)
                    let kept = CampaignReport.make(city: city, campaign: campaign, today: day, districts: district.map { [$0] }, tallies: tallies)
                    #expect(kept == full, "\(note), \(campaign.id), \(district ?? "city"), as of \(today): \(difference(full, kept))")
                }
                let limited = try await storage.reportTallies(district: district, campaign: campaign.id, listLimit: 2)
                let day = try LocalDate("2020-06-15")
                let full = CampaignReport.make(city: city, campaign: campaign, today: day, districts: district.map { [$0] }, inputs: inputs)
                let short = CampaignReport.make(
                    city: city, campaign: campaign, today: day, districts: district.map { [$0] }, tallies: limited, listLimit: 2)
                #expect(short.total.visitCoverage.missed == Array(full.total.visitCoverage.missed.prefix(2)), "\(note): the missed list's first two")
                #expect(short.total.wrongHouseholds == Array(full.total.wrongHouseholds.prefix(2)), "\(note): the wrong list's first two")
                #expect(short.total.visitCoverage.missedCount == full.total.visitCoverage.missed.count)
            }

            // Week by week, counted here from every household.
            var weeks: [String: Int] = [:]
            let byHousehold = Dictionary(grouping: inputs.statusHistory, by: \.household)
            let zone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
            for aggregate in inputs.households where city.districts.contains(where: { $0.code == aggregate.household["district"].stringValue }) {
                for visit in aggregate.entities where visit.kind == .visit && visit.isVisible && !visit.isVoided && visit["mode"] == "atHome" {
                    guard let at = visit["visitedAt"].stringValue.flatMap(Instant.parse) else { continue }
                    weeks["week.visits." + LocalDate(at, in: zone).weekStart.description, default: 0] += 1
                }
                for change in byHousehold[aggregate.household.id] ?? [] where change.from != nil && change.from != change.to {
                    guard let at = Instant.parse(change.at) else { continue }
                    let week = LocalDate(at, in: zone).weekStart.description
                    if change.to == .outOfHardship { weeks["week.outOfHardship." + week, default: 0] += 1 }
                    if change.to == .safetyNet { weeks["week.safetyNet." + week, default: 0] += 1 }
                }
            }
            #expect(try await storage.weeklyTallies(district: district) == weeks, "\(note): weeks of \(district ?? "the city")")

            // The households list: every page, any status, a search, against every household read.
            let shown = try await storage.householdSummaries(district: district, engine: engine)
                .sorted { ($0.district, $0.headName ?? "", $0.id) < ($1.district, $1.headName ?? "", $1.id) }
            var listed: [ShownHousehold] = []
            while true {
                let page = try await storage.householdsPage(HouseholdsQuery(district: district, offset: listed.count, limit: 7))
                #expect(page.total == shown.count)
                listed += page.households
                if page.households.count < 7 { break }
            }
            #expect(listed == shown, "\(note): the households list of \(district ?? "the city")")
            // What a page answers from every household read (while the tally counts again) is the same page.
            for query in [HouseholdsQuery(district: district, limit: 7), HouseholdsQuery(district: district, status: .filed, offset: 3, limit: 5)] {
                let kept = try await storage.householdsPage(query)
                #expect(query.select(from: shown) == HouseholdsPage(households: kept.households, total: kept.total))
            }
            let filed = try await storage.householdsPage(HouseholdsQuery(district: district, status: .filed, limit: 1_000))
            #expect(filed.households == shown.filter { $0.status == .filed })
            if let someone = shown.first(where: { $0.nationalId != nil }), let number = someone.nationalId {
                let found = try await storage.householdsPage(HouseholdsQuery(district: district, search: String(number.suffix(4)).lowercased(), limit: 1_000))
                #expect(found.households == shown.filter { ($0.nationalId ?? "").hasSuffix(String(number.suffix(4))) })
            }
        }
        for pattern in ["%", "_", "\\", "某_"] {
            let nothing = try await storage.householdsPage(HouseholdsQuery(search: pattern, limit: 10))
            #expect(nothing.total == 0 && nothing.households.isEmpty, "a search text's \(pattern) is letters, not a pattern")
        }
    }

    /// Where two reports first differ, for the failure message.
    static func difference(_ first: CampaignReport, _ second: CampaignReport) -> String {
        guard first != second else { return "" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let a = (try? encoder.encode(first)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let b = (try? encoder.encode(second)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let prefix = zip(a, b).prefix { $0 == $1 }.count
        let start = a.index(a.startIndex, offsetBy: max(0, prefix - 120))
        let startB = b.index(b.startIndex, offsetBy: max(0, prefix - 120))
        return "full …\(a[start...].prefix(300)) / kept …\(b[startB...].prefix(300))"
    }
}
