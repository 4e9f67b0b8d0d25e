import Testing

@testable import DoorstepCore

/// Random offline work on 3 to 5 devices of one district, synced in random orders with
/// duplicated, re-delivered and interrupted batches and pulls (issue 2, item 8).
struct ConvergenceTests {
    static let district = "150602"

    /// Runs one seeded schedule and returns the server and devices at the end.
    static func run(seed: UInt64, steps: Int = 60) throws -> (SimServer, [SimDevice]) {
        var random = SeededGenerator(seed: seed)
        let deviceCount = Int.random(in: 3...5, using: &random)
        var now: Int64 = 1_588_291_200_000
        let time = TimeSource(start: now)
        let server = SimServer(clock: HybridLogicalClock(physicalMillis: { time.read() }))
        var devices: [SimDevice] = []
        for index in 0..<deviceCount {
            let role: Role = index == 0 ? .office : .visitor
            let device = DeviceID(unchecked: "d\(index)-\(seed % 1000)")
            let principal = Principal(device: device, role: role, district: district)
            server.principals[device] = principal
            let offset = Int64.random(in: -2_000...2_000, using: &random)
            devices.append(SimDevice(principal: principal, clock: HybridLogicalClock(physicalMillis: { time.read() + offset })))
        }
        let nationalIDs = (0..<6).map { Fixtures.nationalID(Int(seed % 97) * 7 + $0) }

        for _ in 0..<steps {
            now += Int64.random(in: 1...5_000, using: &random)
            time.set(now)
            let device = devices[Int.random(in: 0..<devices.count, using: &random)]
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<45: work(on: device, nationalIDs: nationalIDs, random: &random)
            case 45..<75: try push(device, server: server, random: &random, reliable: false)
            default: try pull(device, server: server, random: &random, reliable: false)
            }
        }
        // Day end: everyone syncs until nothing moves.
        for _ in 0..<3 {
            for device in devices {
                while !device.pending.isEmpty { try push(device, server: server, random: &random, reliable: true) }
            }
            for device in devices { try pull(device, server: server, random: &random, reliable: true) }
        }
        return (server, devices)
    }

    static func work(on device: SimDevice, nationalIDs: [String], random: inout SeededGenerator) {
        let known = device.knownHouseholds
        let roll = Int.random(in: 0..<100, using: &random)
        if known.isEmpty || roll < 12 {
            let id = EntityID.random(using: &random)
            let nationalID = nationalIDs[Int.random(in: 0..<nationalIDs.count, using: &random)]
            let status = device.principal.role == .office && random.chance(0.5) ? "filed" : "candidate"
            device.record(
                .create, kind: .household, entity: id, household: id,
                fields: Fixtures.householdFields(nationalID: nationalID, status: status, income: Int64.random(in: 5...15, using: &random) * 10_000))
            return
        }
        let householdID = known[Int.random(in: 0..<known.count, using: &random)]
        guard let view = device.view(householdID) else { return }
        let household = view.household
        let visibleMembers = view.entities.filter { $0.kind == .member && $0.isVisible }
        switch roll {
        case 12..<40:
            let choices: [(String, [JSONValue])] = [
                ("monthlyIncomeFen", [80_000, 95_000, 120_000, 150_000]),
                ("phone", ["13912345678", "0477-8581234", "15847700000"]),
                ("difficulty", ["general", "deep"]),
                ("notes", ["复核收入", "子女就学", .null]),
            ]
            let (field, values) = choices[Int.random(in: 0..<choices.count, using: &random)]
            var writes = [FieldWrite(field: field, value: values[Int.random(in: 0..<values.count, using: &random)], base: household.heads(field).map(\.write))]
            if random.chance(0.3) {
                writes.append(FieldWrite(field: "skillLevel", value: random.chance(0.5) ? "primary" : "none", base: household.heads("skillLevel").map(\.write)))
            }
            device.record(.update, kind: .household, entity: household.id, household: household.id, fields: writes)
        case 40..<52:
            let shown = household["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:)) ?? .candidate
            let legal = shown.allowedNext
            let next =
                random.chance(0.85) && !legal.isEmpty
                ? legal[Int.random(in: 0..<legal.count, using: &random)] : HouseholdStatus.allCases.randomElement(using: &random) ?? .filed
            device.record(
                .update, kind: .household, entity: household.id, household: household.id,
                fields: [FieldWrite(field: "status", value: .string(next.rawValue), base: household.heads("status").map(\.write))])
        case 52..<64:
            device.record(
                .create, kind: .member, entity: EntityID.random(using: &random), household: household.id,
                fields: Fixtures.memberFields(name: random.chance(0.5) ? "李某" : "赵某"))
        case 64..<74:
            guard let member = visibleMembers.randomElement(using: &random) else { return }
            let employment: JSONValue = ["employed", "unemployed", "student"].randomElement(using: &random) ?? "employed"
            device.record(
                .update, kind: .member, entity: member.id, household: member.household,
                fields: [FieldWrite(field: "employment", value: employment, base: member.heads("employment").map(\.write))])
        case 74..<80:
            guard let member = visibleMembers.randomElement(using: &random) else { return }
            device.record(
                .delete, kind: .member, entity: member.id, household: member.household,
                fields: [FieldWrite(field: deletedFieldName, value: true, base: member.heads(deletedFieldName).map(\.write))],
                covers: member.allFieldHeads)
        case 80..<92:
            device.record(
                .create, kind: .visit, entity: EntityID.random(using: &random), household: household.id,
                fields: Fixtures.visitFields(day: Int.random(in: 2...28, using: &random)))
        default:
            // The office settles a conflict: confirm the shown value, or restore a deleted member.
            guard device.principal.role == .office else { return }
            if let conflict = view.conflicts.first(where: { $0.reason == .concurrentValues }), let shown = conflict.shown {
                let target = conflict.kind == .household ? household : view.entities.first { $0.id == conflict.entity }
                guard let target else { return }
                device.record(
                    .update, kind: target.kind, entity: target.id, household: target.kind == .household ? target.id : target.household,
                    fields: [FieldWrite(field: conflict.field, value: shown.value, base: target.heads(conflict.field).map(\.write))])
            } else if let conflict = view.conflicts.first(where: { $0.reason == .deleteVersusEdit }),
                let target = view.entities.first(where: { $0.id == conflict.entity })
            {
                device.record(
                    .update, kind: target.kind, entity: target.id, household: target.household,
                    fields: [FieldWrite(field: deletedFieldName, value: false, base: target.heads(deletedFieldName).map(\.write))])
            }
        }
    }

    static func push(_ device: SimDevice, server: SimServer, random: inout SeededGenerator, reliable: Bool) throws {
        if !reliable, random.chance(0.15), let old = device.sentBatches.randomElement(using: &random) {
            // A batch delivered again (a retry after a lost answer, a proxy that duplicates).
            device.take(try server.push(old))
            return
        }
        guard !device.pending.isEmpty else { return }
        let size = Int.random(in: 1...6, using: &random)
        let batch = PushBatch(device: device.id, mutations: Array(device.pending.prefix(size)))
        if !reliable && random.chance(0.05) { return }  // lost on the way: the server never saw it
        let receipt = try server.push(batch)
        device.sentBatches.append(batch)
        if !reliable && random.chance(0.15) { return }  // the answer is lost: the device will resend
        device.take(receipt)
    }

    static func pull(_ device: SimDevice, server: SimServer, random: inout SeededGenerator, reliable: Bool) throws {
        var pages = 0
        while true {
            let page = try server.pull(after: device.cursor, limit: Int.random(in: 1...4, using: &random), for: device.principal)
            if !reliable && random.chance(0.1) { return }  // connection dropped mid-response: page not taken
            device.take(page)
            pages += 1
            guard page.hasMore else { return }
            if !reliable && pages >= 2 && random.chance(0.3) { return }  // sync cancelled between pages
        }
    }

    static let seeds: [UInt64] = Array(1...1000)

    @Test("Every device ends with exactly the server's state", arguments: [0, 1, 2, 3])
    func devicesConvergeOnServerState(slice: Int) throws {
        for seed in Self.seeds where Int(seed % 4) == slice {
            let (server, devices) = try Self.run(seed: seed)
            let expected = try server.normalizedState(for: devices[0].principal)
            for device in devices {
                #expect(device.pending.isEmpty, "seed \(seed): \(device.id) still has pending work")
                #expect(device.acked.isEmpty, "seed \(seed): \(device.id) still overlays acknowledged work")
                let copy = device.normalizedCopy
                #expect(copy == expected, "seed \(seed): \(device.id) differs from the server")
                if copy != expected { return }
            }
            try Self.checkNothingLost(server: server, devices: devices, seed: seed)
            try Self.checkConflictsMatchOracle(server: server, seed: seed)
        }
    }

    static func checkNothingLost(server: SimServer, devices: [SimDevice], seed: UInt64) throws {
        // Every seq each device made is on the server exactly once, and every accepted visit is there.
        for device in devices {
            let progress = server.store.progress(of: device.id)
            #expect(progress.highestSeq == device.nextSeq - 1, "seed \(seed): server holds up to \(progress.highestSeq) of \(device.nextSeq - 1)")
            for seq in 1..<device.nextSeq {
                #expect(server.store.loggedMutation(device: device.id, seq: seq) != nil, "seed \(seed): seq \(seq) of \(device.id) lost")
            }
        }
        let accepted = server.firstSeen.filter { $0.mutation.kind == .visit && $0.result.outcome != .rejected }.map(\.mutation.entity)
        #expect(Set(accepted).count == accepted.count, "seed \(seed): a visit was applied twice")
        let held = Set(server.store.entities.values.filter { $0.kind == .visit }.map(\.id))
        #expect(held == Set(accepted), "seed \(seed): visits held differ from visits accepted")
        let applied = server.firstSeen.filter { $0.result.outcome != .rejected }.count
        #expect(server.store.audit.count == applied, "seed \(seed): audit history has \(server.store.audit.count) entries for \(applied) applied mutations")
    }

    /// An independent oracle: from the writes the server accepted and the bases their writers
    /// named (a rejected write standing for its own base), the heads of each field are the
    /// writes no base names. A conflict is open exactly where those heads disagree.
    static func checkConflictsMatchOracle(server: SimServer, seed: UInt64) throws {
        var rejectedBase: [WriteID: [String: [WriteID]]] = [:]
        var writes: [EntityID: [String: [(id: WriteID, value: JSONValue, base: [WriteID])]]] = [:]
        func expand(_ base: [WriteID], field: String) -> [WriteID] {
            base.flatMap { id in rejectedBase[id]?[field].map { expand($0, field: field) } ?? [id] }
        }
        for (mutation, write, result) in server.firstSeen where mutation.op != .linkDecision {
            if result.outcome == .rejected {
                var bases: [String: [WriteID]] = [:]
                for field in mutation.fields { bases[field.field] = expand(field.base, field: field.field) }
                rejectedBase[write] = bases
                continue
            }
            for field in mutation.fields {
                writes[mutation.entity, default: [:]][field.field, default: []].append((write, field.value, expand(field.base, field: field.field)))
            }
        }
        for survivor in server.survivors {
            guard let aggregate = try server.store.aggregate(survivor, engine: server.engine) else { continue }
            let members = [survivor] + aggregate.aliases
            for state in [aggregate.household] + aggregate.entities {
                let owners = state.kind == .household ? members : [state.id]
                var fieldNames = Set(state.fields.keys)
                for owner in owners { fieldNames.formUnion(writes[owner]?.keys.map { $0 } ?? []) }
                for field in fieldNames {
                    let all = owners.flatMap { writes[$0]?[field] ?? [] }
                    let named = Set(all.flatMap(\.base))
                    let heads = all.filter { !named.contains($0.id) }
                    let expectedIDs = Set(heads.map(\.id))
                    let actual = state.fields[field]
                    #expect(Set(actual?.headIDs ?? []) == expectedIDs, "seed \(seed): heads of \(state.kind).\(field) differ from the oracle")
                    let oracleConflict = Set(heads.map(\.value)).count > 1
                    #expect((actual?.isConflicted ?? false) == oracleConflict, "seed \(seed): conflict on \(state.kind).\(field) differs from the oracle")
                }
            }
        }
    }

    @Test("The same writes delivered in another causal order give the same state")
    func deliveryOrderDoesNotMatter() throws {
        for seed in Self.seeds.prefix(300) {
            let (server, _) = try Self.run(seed: seed)
            var random = SeededGenerator(seed: seed &* 31 &+ 7)
            let replay = SimServer(clock: HybridLogicalClock(physicalMillis: { 1_588_291_200_000 }))
            replay.principals = server.principals
            // Which mutation made each write, so a mutation waits for the writes it names.
            var maker: [WriteID: Int] = [:]
            var creator: [EntityID: Int] = [:]
            for (index, entry) in server.firstSeen.enumerated() {
                maker[entry.write] = index
                if entry.mutation.op == .create { creator[entry.mutation.entity] = index }
            }
            var queues: [DeviceID: [Int]] = [:]
            for (index, entry) in server.firstSeen.enumerated() { queues[entry.mutation.device, default: []].append(index) }
            var delivered = Set<Int>()
            func ready(_ index: Int) -> Bool {
                let mutation = server.firstSeen[index].mutation
                let named = mutation.fields.flatMap(\.base) + mutation.covers
                let needs = named.compactMap { maker[$0] } + [creator[mutation.entity], creator[mutation.household]].compactMap { $0 }
                return needs.allSatisfy { $0 == index || delivered.contains($0) }
            }
            while delivered.count < server.firstSeen.count {
                let candidates = queues.filter { !$0.value.isEmpty && ready($0.value[0]) }.keys.sorted()
                guard let device = candidates.randomElement(using: &random), let index = queues[device]?.removeFirst() else {
                    Issue.record("seed \(seed): no mutation is ready; the dependency graph has a cycle")
                    return
                }
                _ = try replay.push(PushBatch(device: device, mutations: [server.firstSeen[index].mutation]))
                delivered.insert(index)
            }
            let a = try server.normalizedState(for: Principal(device: DeviceID(unchecked: "city"), role: .city, district: nil))
            let b = try replay.normalizedState(for: Principal(device: DeviceID(unchecked: "city"), role: .city, district: nil))
            #expect(a == b, "seed \(seed): delivery order changed the state")
            let rejectedA = Set(server.firstSeen.filter { $0.result.outcome == .rejected }.map { "\($0.mutation.device)#\($0.mutation.seq)" })
            let rejectedB = Set(replay.firstSeen.filter { $0.result.outcome == .rejected }.map { "\($0.mutation.device)#\($0.mutation.seq)" })
            #expect(rejectedA == rejectedB, "seed \(seed): delivery order changed which mutations were rejected")
            if a != b { return }
        }
    }
}

/// A settable clock shared by the simulated devices and server.
final class TimeSource: @unchecked Sendable {
    private var value: Int64
    init(start: Int64) { value = start }
    func read() -> Int64 { value }
    func set(_ new: Int64) { value = new }
}

extension ConvergenceTests {
    /// The schedules must actually exercise the rules they claim to prove; this counts what happened.
    @Test("Schedules exercise conflicts, links, deletions, rejections and resolutions")
    func schedulesExerciseTheRules() throws {
        var conflictsOpen = 0, links = 0, deleteConflicts = 0, rejections = 0, resolutions = 0, resent = 0, visits = 0
        for seed in Self.seeds.prefix(200) {
            let (server, devices) = try Self.run(seed: seed)
            for survivor in server.survivors {
                guard let aggregate = try server.store.aggregate(survivor, engine: server.engine) else { continue }
                conflictsOpen += aggregate.conflicts.filter { $0.reason == .concurrentValues }.count
                deleteConflicts += aggregate.conflicts.filter { $0.reason == .deleteVersusEdit }.count
                links += aggregate.aliases.count
                visits += aggregate.entities.filter { $0.kind == .visit }.count
                for state in [aggregate.household] + aggregate.entities {
                    #expect(state.conflictCount == state.conflicts.count, "conflictCount of \(state.id)")
                }
            }
            rejections += server.store.rejections.count
            resolutions +=
                server.firstSeen.filter { entry in
                    entry.mutation.device == devices[0].id && entry.mutation.op == .update
                        && entry.mutation.fields.contains { $0.base.count > 1 }
                }.count
            resent += devices.map { $0.sentBatches.count }.reduce(0, +)
        }
        print(
            "200 schedules: open conflicts \(conflictsOpen), delete conflicts \(deleteConflicts), links \(links), rejections \(rejections), resolutions \(resolutions), visits \(visits), batches \(resent)"
        )
        #expect(conflictsOpen > 20)
        #expect(deleteConflicts > 0)
        #expect(links > 20)
        #expect(rejections > 20)
        #expect(resolutions > 5)
        #expect(visits > 200)
    }
}
