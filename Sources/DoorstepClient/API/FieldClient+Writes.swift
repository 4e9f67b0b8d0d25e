public import DoorstepCore
import Foundation
import GRDB

extension FieldClient {
    /// Files a new household as `candidate` (an office device may file it as `filed`), in the
    /// device's district unless `district` is given in the fields. Returns its id.
    ///
    /// A national ID that a household on this device already holds is refused with
    /// `nationalIdOnFile` (the message names that household; ``households(withNationalID:)``
    /// lists them), since the server would link the two as one person filed twice; with
    /// `allowingSameNationalID`, it is filed all the same (a genuinely separate household).
    @discardableResult
    public func fileHousehold(_ fields: [String: JSONValue], allowingSameNationalID: Bool = false) async throws -> EntityID {
        let id = EntityID.random()
        try await record(household: id) { context in
            if !allowingSameNationalID, let typed = fields["nationalId"]?.stringValue, let number = try? NationalID(typed).value,
                let existing = try Self.summaries(context.db, nationalID: number).first
            {
                throw DoorstepError(
                    .nationalIdOnFile,
                    "household \(existing.id) on this device has this national ID number already; file it again only if it is a separate household",
                    zh: "本机已有同一身份证号的困难户（编号 \(existing.id.description.prefix(8))）；只有确实是另一户时才应再次建档"
                )
            }
            var values = fields
            if values["status"] == nil { values["status"] = "candidate" }
            if values["district"] == nil, let district = context.principal.district { values["district"] = .string(district) }
            if values["epidemicAffected"] == nil { values["epidemicAffected"] = false }
            return Content(op: .create, kind: .household, entity: id, fields: Self.writes(values, base: { _ in [] }))
        }
        return id
    }

    /// The households on this device whose head has this national ID (any form; none when it is not one).
    public func households(withNationalID text: String) async throws -> [HouseholdSummary] {
        guard let number = try? NationalID(text).value else { return [] }
        return try await pool.read { db in try Self.summaries(db, nationalID: number) }
    }

    static func summaries(_ db: Database, nationalID: String) throws -> [HouseholdSummary] {
        try summaries(db, HouseholdQuery(nationalID: nationalID))
    }

    /// Changes household facts; each field's base is what this device shows now, or, in `bases`,
    /// what a form showed when it was filled in (a change made meanwhile then stands beside this
    /// one as a conflict, instead of being written over unseen).
    public func editHousehold(_ id: EntityID, set fields: [String: JSONValue], bases: [String: [WriteID]] = [:]) async throws {
        try await record(household: id) { context in
            let household = try context.requireView().household
            return Content(
                op: .update, kind: .household, entity: household.id,
                fields: Self.writes(fields, base: { bases[$0] ?? household.heads($0).map(\.write) }))
        }
    }

    /// An office's status decision (the status table of `docs/DOMAIN.md` applies from the status shown now).
    public func setStatus(_ id: EntityID, to status: HouseholdStatus) async throws {
        try await editHousehold(id, set: ["status": .string(status.rawValue)])
    }

    /// Adds a member, liaison, problem-list or assistance-list item to a household. Returns its id.
    @discardableResult
    public func addEntry(_ kind: EntityKind, to household: EntityID, _ fields: [String: JSONValue]) async throws -> EntityID {
        guard kind.isDeletable else {
            throw DoorstepError(.invalidOperation, "use fileHousehold or recordVisit for a \(kind.rawValue)")
        }
        let id = EntityID.random()
        try await record(household: household) { context in
            let parent = try context.requireHouseholdID()
            return Content(op: .create, kind: kind, entity: id, fields: Self.writes(fields, base: { _ in [] }), household: parent)
        }
        return id
    }

    /// Changes a member, liaison or list item (`bases` as for ``editHousehold(_:set:bases:)``).
    public func editEntry(_ id: EntityID, in household: EntityID, set fields: [String: JSONValue], bases: [String: [WriteID]] = [:]) async throws {
        try await record(household: household) { context in
            let entry = try context.requireEntry(id)
            return Content(
                op: .update, kind: entry.kind, entity: id, fields: Self.writes(fields, base: { bases[$0] ?? entry.heads($0).map(\.write) }),
                household: entry.household)
        }
    }

    /// Deletes a member, liaison or list item (a tombstone naming everything this device saw of it).
    public func removeEntry(_ id: EntityID, in household: EntityID) async throws {
        try await record(household: household) { context in
            let entry = try context.requireEntry(id)
            guard entry.kind.isDeletable else {
                throw DoorstepError(.invalidOperation, "a \(entry.kind.rawValue) cannot be deleted")
            }
            let deletion = entry.deletion
            return Content(op: .delete, kind: entry.kind, entity: id, fields: deletion.fields, covers: deletion.covers, household: entry.household)
        }
    }

    /// Records a home visit: an immutable event. Returns its id.
    @discardableResult
    public func recordVisit(to household: EntityID, _ fields: [String: JSONValue]) async throws -> EntityID {
        let id = EntityID.random()
        try await record(household: household) { context in
            let parent = try context.requireHouseholdID()
            var values = fields
            if values["verified"] == nil { values["verified"] = [] }
            return Content(op: .create, kind: .visit, entity: id, fields: Self.writes(values, base: { _ in [] }), household: parent)
        }
        return id
    }

    /// Records a home verification (入户核实) as one save, in one local transaction: the corrections
    /// to the household's facts and entries found at the door, the new problem- and
    /// assistance-list items, and the visit itself. When any part is refused, nothing is saved
    /// (the error's details name the field). Returns the ids of the visit and the new items.
    @discardableResult
    public func recordVerification(_ verification: HomeVerification, for household: EntityID) async throws -> SavedVerification {
        var builds: [@Sendable (WriteContext) throws -> Content] = []
        if !verification.householdChanges.isEmpty {
            let changes = verification.householdChanges
            let bases = verification.householdBases
            builds.append { context in
                let current = try context.requireView().household
                return Content(
                    op: .update, kind: .household, entity: current.id,
                    fields: Self.writes(changes, base: { bases[$0] ?? current.heads($0).map(\.write) }))
            }
        }
        for (id, changes) in verification.entryChanges.sorted(by: { $0.key.description < $1.key.description }) where !changes.isEmpty {
            builds.append { context in
                let entry = try context.requireEntry(id)
                return Content(
                    op: .update, kind: entry.kind, entity: id, fields: Self.writes(changes, base: { entry.heads($0).map(\.write) }), household: entry.household)
            }
        }
        var created: [EntityID] = []
        for entry in verification.newEntries {
            guard entry.kind.isDeletable else {
                throw DoorstepError(.invalidOperation, "a home verification adds members, liaisons and list items, not a \(entry.kind.rawValue)")
            }
            let id = EntityID.random()
            created.append(id)
            let fields = entry.fields
            builds.append { context in
                Content(op: .create, kind: entry.kind, entity: id, fields: Self.writes(fields, base: { _ in [] }), household: try context.requireHouseholdID())
            }
        }
        let visit = EntityID.random()
        var values = verification.visit
        if values["verified"] == nil { values["verified"] = [] }
        let visitValues = values
        builds.append { context in
            Content(op: .create, kind: .visit, entity: visit, fields: Self.writes(visitValues, base: { _ in [] }), household: try context.requireHouseholdID())
        }
        // The documents, checked and kept in the folder of files first, are attached to the visit
        // in the same transaction (a refused save leaves only unreferenced bytes behind).
        var documents: [EntityID] = []
        for document in verification.documents {
            let prepared = try prepareDocument(document.data, fileName: document.fileName)
            let id = EntityID.random()
            documents.append(id)
            let caption = document.caption
            builds.append { context in
                try Self.attachment(prepared, id: id, of: visit, household: try context.requireHouseholdID(), caption: caption, context)
            }
        }
        try await record(household: household, builds)
        return SavedVerification(visit: visit, newEntries: created, documents: documents)
    }

    static func writes(_ fields: [String: JSONValue], base: (String) -> [WriteID]) -> [FieldWrite] {
        fields.keys.sorted().map { FieldWrite(field: $0, value: fields[$0] ?? .null, base: base($0)) }
    }

    /// What a write sees: the device's role and the household as this device shows it. Only what
    /// the write needs is read: the listed row for a new entry, the household's state (decoded
    /// once) for a household write, the one entry an entry write names.
    final class WriteContext {
        let db: Database
        let principal: Principal
        let household: EntityID
        /// The household's district as listed; `nil` when the device holds no such household.
        let listedDistrict: String?
        private var decoded: HouseholdAggregate??

        init(db: Database, principal: Principal, household: EntityID, listedDistrict: String?) {
            self.db = db
            self.principal = principal
            self.household = household
            self.listedDistrict = listedDistrict
        }

        /// The household's view without its entries (``HouseholdAggregate/entities`` is empty).
        func view() throws -> HouseholdAggregate? {
            if let decoded { return decoded }
            let top = try LocalStore.top(db, household)
            decoded = .some(top)
            return top
        }

        func requireView() throws -> HouseholdAggregate {
            guard let view = try view(), view.household.isVisibleHousehold else {
                throw DoorstepError(.notFound, "no household \(household) on this device")
            }
            return view
        }

        /// The household a new entry goes under (it must be shown here: created, with a district).
        func requireHouseholdID() throws -> EntityID {
            guard listedDistrict != nil else { throw DoorstepError(.notFound, "no household \(household) on this device") }
            return household
        }

        func requireEntry(_ id: EntityID) throws -> EntityState {
            guard let entry = try LocalStore.viewEntry(db, owner: try requireHouseholdID(), id) else {
                throw DoorstepError(.notFound, "no entry \(id) in household \(household) on this device")
            }
            return entry
        }
    }

    /// What a write does, before validation and numbering.
    struct Content {
        var op: MutationOperation
        var kind: EntityKind
        var entity: EntityID
        var fields: [FieldWrite]
        var covers: [WriteID] = []
        /// The household of a child entry (for a household, `nil`).
        var household: EntityID?
    }

    /// Validates a change by the shared rules and commits it with its outbox entry in one transaction.
    ///
    /// With `resolving`, the quarantined mutation with that seq is dropped in the same transaction
    /// (a fixed, resent mutation replaces it exactly once, whatever happens to the process).
    func record(household: EntityID, resolving quarantined: Int64? = nil, _ build: @escaping @Sendable (WriteContext) throws -> Content) async throws {
        try await record(household: household, resolving: quarantined, [build])
    }

    /// Validates several changes to one household and commits them, each with its outbox entry, in
    /// one transaction: all of them or, when one is refused, none. Each sees the ones before it.
    func record(household: EntityID, resolving quarantined: Int64? = nil, _ builds: [@Sendable (WriteContext) throws -> Content]) async throws {
        let city = configuration.city
        let physical = configuration.clock
        try await pool.write { db in
            for build in builds {
                try Self.recordOne(db, household: household, city: city, physical: physical, build)
            }
            if let quarantined { try db.execute(sql: "DELETE FROM quarantine WHERE seq = ?", arguments: [quarantined]) }
        }
        checkpointer.noteWrite()
    }

    /// One change of a `record`, inside its transaction.
    private static func recordOne(
        _ db: Database, household: EntityID, city: CityData, physical: @escaping @Sendable () -> Int64,
        _ build: (WriteContext) throws -> Content
    ) throws {
        let prelude = try LocalStore.writePrelude(db, household: household)
        guard let device = prelude.device.flatMap({ try? DeviceID($0) }), let role = prelude.role.flatMap(Role.init(rawValue:)) else {
            throw DoorstepError(.notEnrolled, "this device is not enrolled yet: run enroll with the code from the office")
        }
        let principal = Principal(device: device, role: role, district: prelude.district)
        let survivor = prelude.survivor
        let context = WriteContext(db: db, principal: principal, household: survivor, listedDistrict: prelude.listedDistrict)
        let content = try build(context)
        let fields = try MutationValidator.validate(content.op, kind: content.kind, fields: content.fields, city: city)
        try MutationValidator.checkVisitTime(kind: content.kind, writes: fields, writtenAtMillis: physical())
        try Permissions.check(content.op, kind: content.kind, writes: fields, role: principal.role)
        let district =
            content.kind == .household && content.op == .create
            ? fields.first { $0.field == "district" }?.value.stringValue
            : context.listedDistrict
        guard let district, principal.covers(district: district) else {
            throw DoorstepError(.outOfScope, "district \(district ?? "-") is outside this device's district \(principal.district ?? "-")")
        }
        if content.kind == .household, content.op == .update, let status = fields.first(where: { $0.field == "status" }),
            let next = status.value.stringValue.flatMap(HouseholdStatus.init(rawValue:))
        {
            let seen = (try context.view()?.household.heads("status") ?? []).compactMap { $0.value.stringValue.flatMap(HouseholdStatus.init(rawValue:)) }
            try HouseholdStatus.checkChange(from: seen, to: next)
        }
        var clock = HybridLogicalClock(last: prelude.last, physicalMillis: physical)
        let seq = prelude.nextSeq
        let parent = content.kind == .household ? content.entity : (content.household ?? survivor)
        let mutation = Mutation(
            device: principal.device, seq: seq, hlc: clock.tick(), op: content.op, kind: content.kind,
            entity: content.entity, household: parent, fields: fields, covers: content.covers)
        try db.cachedStatement(sql: "INSERT INTO outbox (seq, household, body, created_at, hlc) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [seq, parent.description, try LocalStore.encode(mutation), Instant.format(Date(), in: .gmt), mutation.hlc.description])
        if context.listedDistrict == nil {
            try LocalStore.refreshView(db, survivor)  // a new household (or one not shown yet)
        } else if mutation.kind == .household || mutation.op == .linkDecision {
            if let view = try context.view() { try LocalStore.extendView(db, view, with: mutation) } else { try LocalStore.refreshView(db, survivor) }
        } else {
            try LocalStore.extendEntry(db, owner: survivor, with: mutation)
        }
    }
}

extension EntityState {
    /// A household this device can show (it has been created, locally or on the server).
    var isVisibleHousehold: Bool { kind == .household && !fields.isEmpty }
}
