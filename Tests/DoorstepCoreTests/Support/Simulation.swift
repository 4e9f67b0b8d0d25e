@testable import DoorstepCore

/// A simulated device of the star: an outbox, a pulled copy of its scope, and a view that
/// overlays its own unsent and unconfirmed mutations on the copy, as the client library does.
final class SimDevice {
    let principal: Principal
    var clock: HybridLogicalClock
    var nextSeq: Int64 = 1
    var pending: [Mutation] = []
    var acked: [Mutation] = []
    var quarantined: [Mutation] = []
    var cursor: Int64 = 0
    var aggregates: [EntityID: HouseholdAggregate] = [:]
    var aliasOf: [EntityID: EntityID] = [:]
    var sentBatches: [PushBatch] = []

    init(principal: Principal, clock: HybridLogicalClock) {
        self.principal = principal
        self.clock = clock
    }

    var id: DeviceID { principal.device }

    func canonical(_ id: EntityID) -> EntityID { aliasOf[id] ?? id }

    /// Households this device can see: pulled ones and those it created and has not yet pulled.
    var knownHouseholds: [EntityID] {
        var ids = Set(aggregates.keys)
        for mutation in acked + pending where mutation.kind == .household && mutation.op == .create {
            ids.insert(canonical(mutation.entity))
        }
        return ids.sorted()
    }

    func view(_ household: EntityID) -> HouseholdAggregate? {
        let key = canonical(household)
        let local = acked + pending
        var aggregate = aggregates[key]
        if aggregate == nil, let creation = local.first(where: { $0.kind == .household && $0.op == .create && $0.entity == key }) {
            aggregate = HouseholdAggregate(household: EntityState(kind: .household, id: key, household: key, created: creation.writeID))
        }
        guard let aggregate else { return nil }
        let ids = Set(aggregate.ids)
        return aggregate.applying(local.filter { ids.contains(canonical($0.household)) || ids.contains($0.household) })
    }

    func record(
        _ op: MutationOperation, kind: EntityKind, entity: EntityID, household: EntityID,
        fields: [FieldWrite], covers: [WriteID] = [], other: EntityID? = nil
    ) {
        let mutation = Mutation(
            device: id, seq: nextSeq, hlc: clock.tick(), op: op, kind: kind,
            entity: entity, household: household, fields: fields, covers: covers, other: other
        )
        nextSeq += 1
        pending.append(mutation)
    }

    func take(_ receipt: PushReceipt) {
        clock.absorb(receipt.serverClock)
        for result in receipt.results {
            guard let index = pending.firstIndex(where: { $0.seq == result.seq }) else { continue }
            let mutation = pending.remove(at: index)
            if result.outcome == .rejected { quarantined.append(mutation) } else { acked.append(mutation) }
        }
    }

    func take(_ page: PullPage) {
        clock.absorb(page.serverClock)
        for id in page.removed {
            aggregates[id] = nil
        }
        for aggregate in page.households {
            let survivor = aggregate.household.id
            aggregates[survivor] = aggregate
            aliasOf[survivor] = nil
            for alias in aggregate.aliases {
                aggregates[alias] = nil
                aliasOf[alias] = survivor
            }
            let ids = Set(aggregate.ids)
            acked.removeAll { ids.contains($0.household) || ids.contains(canonical($0.household)) }
        }
        cursor = Int64(page.nextCursor) ?? cursor
        // Caught up: the copy now holds the server's state as of a moment after every receipt
        // taken so far, so acknowledged work needs no overlay any more.
        if !page.hasMore { acked.removeAll() }
    }

    /// The device's copy in a form comparable with the server's.
    var normalizedCopy: [EntityID: HouseholdAggregate] {
        aggregates.mapValues(Simulation.normalize)
    }
}

/// The server of the star, in memory, with a record of what it accepted for the oracle.
final class SimServer {
    let engine = MergeEngine()
    let store = MemoryMergeStore()
    var clock: HybridLogicalClock
    /// Every mutation in the order the server first handled it, with the write id it used and its result.
    var firstSeen: [(mutation: Mutation, write: WriteID, result: MutationResult)] = []
    var principals: [DeviceID: Principal] = [:]

    init(clock: HybridLogicalClock) { self.clock = clock }

    func push(_ batch: PushBatch) throws -> PushReceipt {
        guard let principal = principals[batch.device] else { throw DoorstepError(.unauthorized, "unknown device") }
        let before = store.progress(of: batch.device).highestSeq
        let receipt = try engine.apply(batch, from: principal, store: store, clock: &clock)
        for (mutation, result) in zip(batch.mutations, receipt.results) where mutation.seq > before {
            firstSeen.append((mutation, WriteID(hlc: result.stamp ?? mutation.hlc, device: mutation.device), result))
        }
        return receipt
    }

    func pull(after cursor: Int64, limit: Int, for principal: Principal) throws -> PullPage {
        try store.pull(after: cursor, limit: limit, for: principal, engine: engine, clock: &clock)
    }

    var survivors: [EntityID] {
        store.canonicalByHousehold.filter { $0.key == $0.value }.map(\.key).sorted()
    }

    func normalizedState(for principal: Principal) throws -> [EntityID: HouseholdAggregate] {
        var result: [EntityID: HouseholdAggregate] = [:]
        for id in survivors {
            guard let aggregate = try store.aggregate(id, engine: engine) else { continue }
            guard let district = aggregate.household["district"].stringValue, principal.covers(district: district) else { continue }
            result[id] = Simulation.normalize(aggregate)
        }
        return result
    }
}

enum Simulation {
    static func normalize(_ aggregate: HouseholdAggregate) -> HouseholdAggregate {
        var copy = aggregate
        copy.aliases.sort()
        copy.entities.sort { $0.id < $1.id }
        // Superseded ids are the server's bookkeeping; devices hold heads only.
        copy.household = strip(copy.household)
        copy.entities = copy.entities.map(strip)
        return copy
    }

    static func strip(_ state: EntityState) -> EntityState {
        var copy = state
        copy.fields = state.fields.mapValues { Register(heads: $0.heads) }
        return copy
    }
}
