import DoorstepCore
import DoorstepTestSupport
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// Pushes on PostgreSQL merge side by side, each under locks of the households, devices and
/// national IDs it reads and writes (issue 21, `PostgresMergeLocks`): whatever runs together,
/// the database must end as if the pushes had run one at a time. Seeded pushes of six devices
/// through three storages on one database (three server processes), all of a round at once, with
/// the same households edited by several devices, the same person filed by several, and a batch
/// sent twice at once.
@Suite(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
struct PostgresSideBySideTests {
    static let now = "2020-04-10T09:00:00Z"
    static let clock: @Sendable () -> Int64 = { 1_586_500_000_000 }

    final class Device: @unchecked Sendable {
        let principal: Principal
        var seq: Int64 = 0
        var clock = HybridLogicalClock(physicalMillis: PostgresSideBySideTests.clock)

        init(principal: Principal) { self.principal = principal }

        func make(_ op: MutationOperation, _ kind: EntityKind, entity: EntityID, household: EntityID, fields: [FieldWrite]) -> Mutation {
            seq += 1
            return Mutation(device: principal.device, seq: seq, hlc: clock.tick(), op: op, kind: kind, entity: entity, household: household, fields: fields)
        }
    }

    @Test func pushesSideBySide_loseNoWrite_linkEveryDuplicate_andRefreshEveryConflict() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let storages = try (0..<3).map { index in try PostgresStorage(url: url, logger: Logger(label: "side-by-side-\(index)")) }
        let pools = storages.map { storage in Task { await storage.run() } }
        defer { for pool in pools { pool.cancel() } }
        try await storages[0].migrate()
        let engine = MergeEngine()
        var random = SeededGenerator(seed: 20_261_206)
        var devices: [Device] = []
        for index in 0..<6 {
            try await storages[0].insertEnrollmentCode(
                EnrollmentCodeRecord(
                    codeHash: "code-\(index)", district: "150602", role: .visitor, createdBy: "test",
                    createdAt: "2020-01-01T00:00:00Z", expiresAt: "2099-01-01T00:00:00Z"))
            let record = try await storages[0].redeemEnrollmentCode(
                hash: "code-\(index)", now: "2020-01-02T00:00:00Z",
                device: NewDevice(
                    id: try DeviceID(EntityID.random(using: &random).description), name: "d\(index)", tokenHash: "token-\(index)", signingKey: nil))
            devices.append(Device(principal: record.principal))
        }
        /// Checks that the review queue lists exactly the conflicts the households hold: none
        /// missed, none left over. Returns how many.
        @discardableResult
        func sameConflicts(_ storage: PostgresStorage, survivors ids: Set<EntityID>, _ note: String) async throws -> Int {
            var held = Set<String>()
            for id in ids {
                guard let aggregate = try await storage.household(id, engine: engine) else { continue }
                held.formUnion(aggregate.conflicts.map { "\($0.household)/\($0.entity)/\($0.field)" })
            }
            let listed = try await storage.reviewQueue(district: nil).conflicts.map { "\($0.record.household)/\($0.record.entity)/\($0.record.field)" }
            #expect(listed.sorted() == held.sorted(), "\(note): the conflicts listed differ from those held")
            return held.count
        }
        let push: @Sendable (Device, [Mutation], PostgresStorage) async throws -> PushReceipt = { device, mutations, storage in
            try await storage.push(
                PushBatch(device: device.principal.device, mutations: mutations), from: device.principal, engine: engine, actor: nil, now: Self.now,
                physicalMillis: Self.clock)
        }

        // Twelve households, each with a member, filed by the first device.
        var base: [(household: EntityID, member: EntityID)] = []
        var setup: [Mutation] = []
        for n in 0..<12 {
            let household = EntityID.random(using: &random), member = EntityID.random(using: &random)
            base.append((household, member))
            setup.append(
                devices[0].make(.create, .household, entity: household, household: household, fields: Sample.household(nationalID: Sample.nationalID(500 + n))))
            setup.append(
                devices[0].make(
                    .create, .member, entity: member, household: household,
                    fields: [
                        FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "child"),
                        FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "student"),
                    ]))
        }
        _ = try await push(devices[0], setup, storages[0])
        var expectedMutations = setup.count

        // Rounds: every device's batch at once, each through one of the storages.
        var edits: [(household: EntityID, entity: EntityID, field: String, write: Mutation)] = []
        var filings: [Int: [EntityID]] = [:]
        var visits = Set<EntityID>()
        for round in 0..<10 {
            var batches: [(Device, [Mutation])] = []
            // Households filed in earlier rounds (one filed in this round may not exist yet when an edit of it is merged).
            let filedBefore = filings.values.flatMap { $0 }.sorted()
            for device in devices {
                var batch: [Mutation] = []
                var editedHere = Set<String>()
                if round % 3 == 2 {
                    // Every device files the same person at once, nothing else: only the national
                    // ID is shared between the pushes.
                    let id = EntityID.random(using: &random)
                    batches.append(
                        (
                            device,
                            [device.make(.create, .household, entity: id, household: id, fields: Sample.household(nationalID: Sample.nationalID(4 + round)))]
                        ))
                    filings[4 + round, default: []].append(id)
                    expectedMutations += 1
                    continue
                }
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let roll = Int.random(in: 0..<100, using: &random)
                    if roll < 20 {
                        // A small pool of people: the same person filed by several devices at once is linked.
                        let id = EntityID.random(using: &random)
                        let person = Int.random(in: 0..<4, using: &random)
                        batch.append(
                            device.make(.create, .household, entity: id, household: id, fields: Sample.household(nationalID: Sample.nationalID(person))))
                        filings[person, default: []].append(id)
                    } else if roll < 28, let filed = filedBefore.randomElement(using: &random) {
                        // An edit through a household filed several times (an alias or its survivor):
                        // the survivor is found, and locked, only once the push has begun.
                        guard editedHere.insert("\(filed)/address").inserted else { continue }
                        batch.append(
                            device.make(
                                .update, .household, entity: filed, household: filed,
                                fields: [FieldWrite(field: "address", value: .string("第 \(round) 轮 \(device.seq) 号"), base: [])]))
                    } else if roll < 40 {
                        let target = base[Int.random(in: 0..<base.count, using: &random)]
                        let id = EntityID.random(using: &random)
                        batch.append(device.make(.create, .visit, entity: id, household: target.household, fields: Sample.visit(day: 1 + round)))
                        visits.insert(id)
                    } else {
                        // Blind edits (an empty base): every one stays a head, edits of one field by
                        // several devices are a conflict, whatever order they ran in.
                        let target = base[Int.random(in: 0..<base.count, using: &random)]
                        let onMember = roll < 70
                        let entity = onMember ? target.member : target.household
                        let field = onMember ? "name" : ["address", "monthlyIncomeFen"][Int.random(in: 0..<2, using: &random)]
                        guard editedHere.insert("\(entity)/\(field)").inserted else { continue }
                        let value: JSONValue =
                            field == "monthlyIncomeFen"
                            ? .int(Int64(100_000 + round * 100 + Int(device.seq))) : .string("第 \(round) 轮 \(device.seq)")
                        let mutation = device.make(
                            .update, onMember ? .member : .household, entity: entity, household: target.household,
                            fields: [FieldWrite(field: field, value: value, base: [])])
                        batch.append(mutation)
                        edits.append((target.household, entity, field, mutation))
                    }
                }
                batches.append((device, batch))
                expectedMutations += batch.count
            }
            let sent = batches
            let receipts = try await withThrowingTaskGroup(of: (Int, PushReceipt).self) { group in
                for (index, (device, batch)) in sent.enumerated() {
                    let storage = storages[index % storages.count]
                    group.addTask { (index, try await push(device, batch, storage)) }
                }
                // The first device's batch sent twice at once (a retry racing its first try).
                let again = storages[1]
                group.addTask { (-1, try await push(sent[0].0, sent[0].1, again)) }
                // A pull (it ticks the clock under the numbering lock) and the office tally, beside them.
                let reader = devices[5].principal
                group.addTask {
                    _ = try await storages[2].pull(for: reader, after: 0, limit: 5, engine: engine, now: Self.now, physicalMillis: Self.clock)
                    _ = try await storages[0].refreshTally(city: engine.city, engine: engine, limit: 50)
                    return (-2, PushReceipt(device: reader.device, highestContiguousSeq: 0, serverClock: .zero, results: [], clockSkew: false))
                }
                var receipts: [Int: [PushReceipt]] = [:]
                for try await (index, receipt) in group where index >= -1 { receipts[max(0, index), default: []].append(receipt) }
                return receipts
            }
            for (index, (_, batch)) in batches.enumerated() {
                for receipt in receipts[index] ?? [] {
                    #expect(receipt.results.count == batch.count)
                    #expect(receipt.results.allSatisfy { $0.outcome != .rejected }, "round \(round): \(receipt.results.filter { $0.outcome == .rejected })")
                }
            }
            // Every person filed more than once is one household, at the end of each round (a later
            // filing links those that missed each other, so only a check each round sees a miss).
            for (person, ids) in filings where ids.count > 1 {
                var groups = Set<EntityID>()
                for id in ids {
                    if let aggregate = try await storages[0].household(id, engine: engine) { groups.insert(aggregate.household.id) }
                }
                #expect(groups.count == 1, "round \(round): person \(person), filed \(ids.count) times, is in \(groups.count) households")
            }
            // The conflicts listed are those the households hold, each round (a later write to a
            // household would mend a stale row).
            try await sameConflicts(
                storages[round % storages.count], survivors: Set(base.map(\.household)).union(filings.values.flatMap { $0 }), "round \(round)")
            let twice = receipts[0] ?? []
            #expect(twice.count == 2)
            #expect(
                twice.filter { receipt in receipt.results.allSatisfy { $0.outcome == .alreadyApplied } }.count == 1,
                "round \(round): one of the two sends of one batch applies it, the other finds it applied")
        }

        // Every mutation logged once.
        let logged = try await storages[0].read { connection in
            var count: Int64 = 0
            for try await value in try await connection.query("SELECT COUNT(*) FROM mutations", logger: Logger(label: "test")).decode(Int64.self) {
                count = value
            }
            return Int(count)
        }
        #expect(logged == expectedMutations)

        // No write lost: every blind edit is still a head of its field.
        var aggregates: [EntityID: HouseholdAggregate] = [:]
        for (household, _) in base { aggregates[household] = try await storages[2].household(household, engine: engine) }
        var lostEdits = 0
        for edit in edits {
            guard let aggregate = aggregates[edit.household] else {
                Issue.record("household \(edit.household) is gone")
                continue
            }
            let state = edit.entity == edit.household ? aggregate.household : aggregate.entities.first { $0.id == edit.entity }
            let heads = Set(state?.heads(edit.field).map(\.write) ?? [])
            if !heads.contains(edit.write.writeID) { lostEdits += 1 }
        }
        #expect(lostEdits == 0, "\(lostEdits) of \(edits.count) edits were overwritten by a push that ran beside them")
        let visitsHeld = aggregates.values.flatMap(\.entities).filter { $0.kind == .visit }.map(\.id)
        #expect(Set(visitsHeld) == visits)

        // Every person filed more than once is one household with the others as its aliases, listed once each.
        let queue = try await storages[1].reviewQueue(district: nil)
        var survivors = Set(base.map(\.household))
        for (person, ids) in filings {
            var groups = Set<EntityID>()
            for id in ids {
                if let aggregate = try await storages[0].household(id, engine: engine) { groups.insert(aggregate.household.id) }
            }
            #expect(groups.count == 1, "person \(person), filed \(ids.count) times, is in \(groups.count) households")
            survivors.formUnion(groups)
            let listed = queue.duplicates.filter { Set(ids).contains($0.alias) }
            #expect(listed.count == ids.count - 1, "person \(person): \(listed.count) duplicates listed for \(ids.count) filings")
        }

        #expect(try await sameConflicts(storages[0], survivors: survivors, "at the end") > 0, "the rounds must make conflicts")

        // The office tally, counted beside the pushes, equals a count of every household from scratch.
        try await TallyTests.compare(storages[1], city: engine.city, engine: engine, note: "after the rounds")

        // A device pulling from the start receives every household as the server holds it (the
        // order of the feed under pushes held open is PostgresBackendTests' to prove).
        let reader = devices[5].principal
        var cursor: Int64 = 0
        var pulled: [EntityID: HouseholdAggregate] = [:]
        while true {
            let page = try await storages[2].pull(for: reader, after: cursor, limit: 7, engine: engine, now: Self.now, physicalMillis: Self.clock)
            for household in page.households { pulled[household.household.id] = household }
            for id in page.removed { pulled[id] = nil }
            cursor = Int64(page.nextCursor) ?? cursor
            if !page.hasMore { break }
        }
        #expect(Set(pulled.keys) == survivors)
        for survivor in survivors {
            #expect(pulled[survivor] == (try await storages[0].household(survivor, engine: engine)), "household \(survivor) pulled differs from the server's")
        }
    }
}

/// The locks themselves, on a real database, with two transactions held open by hand.
@Suite(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
struct PostgresMergeLocksTests {
    /// Two ids whose locks sort in a known order.
    static func ordered() -> (low: MergeLock, high: MergeLock) {
        var names = (0..<64).map { MergeLock(MergeLock.idSpace, "household-\($0)") }
        names.sort()
        return (names[0], names[63])
    }

    @Test func aLockNeededOutOfOrder_whileAnotherHoldsIt_beginsThePushAgain_withEveryLockItHeld() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let storage = try PostgresStorage(url: url, logger: Logger(label: "locks"))
        let pool = Task { await storage.run() }
        defer { pool.cancel() }
        try await storage.migrate()
        let (low, high) = Self.ordered()
        let holding = AsyncStream<Void>.makeStream()
        // One transaction holds the low lock until another transaction waits for a lock (in this
        // test's database: other tests run beside it).
        let holder = Task {
            try await storage.transaction { connection in
                let locks = PostgresMergeLocks(connection: connection, logger: Logger(label: "holder")) { _, _ in }
                try await locks.begin(with: [low])
                holding.continuation.yield()
                while true {
                    var waiting: Int64 = 0
                    for try await count in try await connection.query(
                        """
                        SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """, logger: Logger(label: "holder")
                    ).decode(Int64.self) {
                        waiting = count
                    }
                    if waiting > 0 { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        for await _ in holding.stream { break }
        // A push holding the high lock that finds it needs the low one cannot wait for it (it
        // comes before a lock it holds): it is told to begin again with both.
        await #expect(throws: PostgresMergeLocks.Busy(locks: [low, high])) {
            try await storage.transaction { connection in
                let locks = PostgresMergeLocks(connection: connection, logger: Logger(label: "pusher")) { _, _ in }
                try await locks.begin(with: [high])
                try await locks.need(locks: [low])
            }
        }
        // Through mergeWrite, the first attempt is told so and the second waits for both from its
        // start (the holder commits once it sees it wait) and goes through.
        let attempts = Mutex(0)
        let retriesBefore = storage.writeLockStatistics()?.retries ?? 0
        let pushed = Task {
            try await storage.mergeWrite(locks: [high]) { _, locks in
                let attempt = attempts.withLock {
                    $0 += 1; return $0
                }
                #expect(locks != nil)
                try await locks?.need(locks: [low])
                return attempt
            }
        }
        let attempt = try await pushed.value
        try await holder.value
        #expect(attempt == 2)
        #expect((storage.writeLockStatistics()?.retries ?? 0) == retriesBefore + 1)
    }

    @Test func aPushNeedingMoreLocksThanTheMaximum_runsAlone() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let storage = try PostgresStorage(url: url, logger: Logger(label: "locks"))
        let pool = Task { await storage.run() }
        defer { pool.cancel() }
        try await storage.migrate()
        let many = Set((0...PostgresMergeLocks.maximum).map { MergeLock(MergeLock.idSpace, "household-\($0)") })
        #expect(many.count > PostgresMergeLocks.maximum)
        let alone = try await storage.mergeWrite(locks: many) { _, locks in locks == nil }
        #expect(alone)
        let few = try await storage.mergeWrite(locks: Set(many.prefix(10))) { _, locks in locks == nil }
        #expect(!few)
    }
}
