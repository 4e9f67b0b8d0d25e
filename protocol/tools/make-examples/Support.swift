import DoorstepCore
import Foundation

// MARK: - Values

func ms(_ text: String) -> Int64 {
    guard let date = Instant.parse(text) else { fatalError("bad instant \(text)") }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

func at(_ text: String, _ logical: UInt16 = 0) -> HLC { HLC(wallMillis: ms(text), logical: logical) }
func dev(_ text: String) -> DeviceID { try! DeviceID(text) }
func eid(_ text: String) -> EntityID { try! EntityID(text) }

/// Deterministic entity ids per vector.
struct IDs {
    var rng: SeededGenerator
    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }
    mutating func next() -> EntityID { EntityID.random(using: &rng) }
}

// MARK: - Devices

final class Device {
    let id: DeviceID
    let role: Role
    let district: String?
    var seq: Int64 = 0

    init(_ id: String, _ role: Role, _ district: String?) {
        self.id = dev(id)
        self.role = role
        self.district = district
    }

    var principal: Principal { Principal(device: id, role: role, district: district) }
    var spec: PrincipalSpec { PrincipalSpec(role: role, district: district) }

    private func next() -> Int64 { seq += 1; return seq }

    func create(_ kind: EntityKind, _ entity: EntityID, in household: EntityID, at stamp: HLC, _ fields: [FieldWrite]) -> Mutation {
        Mutation(device: id, seq: next(), hlc: stamp, op: .create, kind: kind, entity: entity, household: household, fields: fields)
    }

    func update(_ kind: EntityKind, _ entity: EntityID, in household: EntityID, at stamp: HLC, _ fields: [FieldWrite]) -> Mutation {
        Mutation(device: id, seq: next(), hlc: stamp, op: .update, kind: kind, entity: entity, household: household, fields: fields)
    }

    func delete(_ kind: EntityKind, _ entity: EntityID, in household: EntityID, at stamp: HLC, base: [WriteID] = [], covers: [WriteID]) -> Mutation {
        Mutation(
            device: id, seq: next(), hlc: stamp, op: .delete, kind: kind, entity: entity, household: household,
            fields: [FieldWrite(field: deletedFieldName, value: true, base: base)], covers: covers)
    }

    func link(_ household: EntityID, _ other: EntityID, at stamp: HLC, state: String, base: [WriteID] = []) -> Mutation {
        Mutation(
            device: id, seq: next(), hlc: stamp, op: .linkDecision, kind: .household, entity: household, household: household,
            fields: [FieldWrite(field: "state", value: .string(state), base: base)], other: other)
    }

    func batch(_ mutations: Mutation...) -> PushBatch { PushBatch(device: id, mutations: mutations) }
}

func w(_ field: String, _ value: JSONValue, _ base: [WriteID] = []) -> FieldWrite { FieldWrite(field: field, value: value, base: base) }

/// A household creation's fields, in catalog order, with overrides (`.null` in overrides removes a field).
func householdFields(_ overrides: [String: JSONValue] = [:]) -> [FieldWrite] {
    let defaults: [String: JSONValue] = [
        "headName": "张三",
        "nationalId": "150602197803120015",
        "phone": "13904771234",
        "address": "东胜区天骄街道天骄社区3号楼2单元501室",
        "district": "150602",
        "employer": "鄂尔多斯市东胜区某建材有限公司",
        "employerUnion": "鄂尔多斯市东胜区某建材有限公司工会",
        "fileLevel": "national",
        "primaryCause": "illness",
        "otherCauses": ["lowIncome", "epidemic"],
        "difficulty": "deep",
        "skillLevel": "primary",
        "monthlyIncomeFen": 210000,
        "epidemicAffected": true,
        "status": "candidate",
    ]
    let merged = defaults.merging(overrides) { $1 }
    return EntityKind.household.fields.compactMap { spec in
        guard let value = merged[spec.name], value != .null else { return nil }
        return w(spec.name, value)
    }
}

func memberFields(
    name: String, relation: String, nationalId: String?, birthDate: String?, health: String, employment: String, skills: String? = nil
) -> [FieldWrite] {
    var fields = [w("name", .string(name)), w("relation", .string(relation))]
    if let nationalId { fields.append(w("nationalId", .string(nationalId))) }
    if let birthDate { fields.append(w("birthDate", .string(birthDate))) }
    fields.append(w("health", .string(health)))
    fields.append(w("employment", .string(employment)))
    if let skills { fields.append(w("skills", .string(skills))) }
    return fields
}

func visitFields(
    visitedAt: String, visitor: String, mode: String = "atHome", verified: [JSONValue], conclusion: String, proposedStatus: String?, observedIncomeFen: Int64?,
    notes: String?
) -> [FieldWrite] {
    var fields = [
        w("visitedAt", .string(visitedAt)), w("visitor", .string(visitor)), w("mode", .string(mode)), w("verified", .array(verified)),
        w("conclusion", .string(conclusion)),
    ]
    if let proposedStatus { fields.append(w("proposedStatus", .string(proposedStatus))) }
    if let observedIncomeFen { fields.append(w("observedIncomeFen", .int(observedIncomeFen))) }
    if let notes { fields.append(w("notes", .string(notes))) }
    return fields
}

// MARK: - Vector format

struct PrincipalSpec: Codable, Hashable {
    var role: Role
    var district: String?
}

struct Refusal: Codable, Hashable {
    var batch: Int
    var code: DoorstepError.Code
}

struct ExpectedHousehold: Codable, Hashable {
    var id: EntityID
    var aliases: [EntityID]
    var fields: [String: [Head]]
}

struct ExpectedEntity: Codable, Hashable {
    var id: EntityID
    var kind: EntityKind
    var household: EntityID
    var fields: [String: [Head]]
}

struct ExpectedConflict: Codable, Hashable {
    var entity: EntityID
    var field: String
    var reason: ConflictRecord.Reason
}

struct Expect: Codable, Hashable {
    var results: [[MutationResult]]
    var refusals: [Refusal]?
    var clockSkew: [Bool]?
    var households: [ExpectedHousehold]
    var entities: [ExpectedEntity]?
    var conflicts: [ExpectedConflict]
}

struct MergeVector: Codable, Hashable {
    var name: String
    var description: String
    var serverMillis: Int64
    var principals: [String: PrincipalSpec]
    var batches: [PushBatch]
    var expect: Expect
}

// MARK: - Running

final class World {
    let engine = MergeEngine()
    let store = MemoryMergeStore()
    var clock: HybridLogicalClock
    var devices: [DeviceID: Device] = [:]
    var batches: [PushBatch] = []
    var results: [[MutationResult]] = []
    var skews: [Bool] = []
    var refusals: [Refusal] = []
    var receipts: [PushReceipt?] = []
    var errors: [DoorstepError?] = []
    let serverMillis: Int64

    init(serverTime: String) {
        let fixed = ms(serverTime)
        serverMillis = fixed
        clock = HybridLogicalClock(last: .zero, physicalMillis: { fixed })
    }

    func register(_ devices: Device...) {
        for device in devices { self.devices[device.id] = device }
    }

    @discardableResult
    func push(_ batch: PushBatch) -> PushReceipt? {
        batches.append(batch)
        guard let device = devices[batch.device] else { fatalError("unknown device") }
        do {
            let receipt = try engine.apply(batch, from: device.principal, store: store, clock: &clock)
            results.append(
                receipt.results.map {
                    var r = $0; r.reason = nil; return r
                })
            skews.append(receipt.clockSkew)
            receipts.append(receipt)
            errors.append(nil)
            return receipt
        } catch let error as DoorstepError {
            results.append([])
            skews.append(false)
            refusals.append(Refusal(batch: batches.count - 1, code: error.code))
            receipts.append(nil)
            errors.append(error)
            return nil
        } catch {
            fatalError("\(error)")
        }
    }

    func merged(_ id: EntityID) -> EntityState {
        guard let state = try! engine.household(id, store: store) else { fatalError("no household \(id)") }
        return state
    }

    func expectedHousehold(_ id: EntityID, fields: [String]) -> ExpectedHousehold {
        precondition(store.canonical(of: id) == id, "\(id) is not a survivor")
        let state = merged(id)
        let aliases = store.linkMembers(of: id).filter { $0 != id }
        var out: [String: [Head]] = [:]
        for field in fields { out[field] = state.heads(field) }
        return ExpectedHousehold(id: id, aliases: aliases, fields: out)
    }

    func expectedEntity(_ id: EntityID, fields: [String]) -> ExpectedEntity {
        let state = store.entities[id]!
        var out: [String: [Head]] = [:]
        for field in fields { out[field] = state.heads(field) }
        return ExpectedEntity(id: id, kind: state.kind, household: state.household, fields: out)
    }

    /// The survivors, sorted.
    var survivors: [EntityID] {
        store.entities.values.filter { $0.kind == .household && store.canonicalByHousehold[$0.id] == $0.id }.map(\.id).sorted()
    }

    func aggregate(_ survivor: EntityID) -> HouseholdAggregate {
        try! store.aggregate(survivor, engine: engine)!
    }

    var allConflicts: [ExpectedConflict] {
        survivors.flatMap { aggregate($0).conflicts }
            .map { ExpectedConflict(entity: $0.entity, field: $0.field, reason: $0.reason) }
            .sorted { ($0.entity, $0.field) < ($1.entity, $1.field) }
    }

    func vector(
        name: String, description: String, households: [(EntityID, [String])], entities: [(EntityID, [String])] = [], showSkew: Bool = false
    ) -> MergeVector {
        var principals: [String: PrincipalSpec] = [:]
        for device in devices.values { principals[device.id.rawValue] = device.spec }
        return MergeVector(
            name: name,
            description: description,
            serverMillis: serverMillis,
            principals: principals,
            batches: batches,
            expect: Expect(
                results: results,
                refusals: refusals.isEmpty ? nil : refusals,
                clockSkew: showSkew ? skews : nil,
                households: households.map { expectedHousehold($0.0, fields: $0.1) },
                entities: entities.isEmpty ? nil : entities.map { expectedEntity($0.0, fields: $0.1) },
                conflicts: allConflicts
            )
        )
    }
}

func write(_ value: some Encodable, to path: String) {
    let data = try! WireCoding.encode(value, pretty: true)
    let url = URL(fileURLWithPath: path)
    try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! data.write(to: url)
}

/// `push-signature.json` (protocol 1.8, §19.2): a device's public key, a push body, and the
/// device's signature of `doorstep-push-1` and a newline followed by the body.
struct PushSignatureExample: Codable {
    var publicSigningKey: String
    var body: String
    var signature: String
}
