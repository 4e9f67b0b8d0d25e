import DoorstepCore

// The storage layer's rules, written once for every backend (this folder): a backend is its
// schema, its queries and its transactions, and calls these for every decision. A rule here
// reads what a backend fetched (or a `MergeStore` over its transaction) and says what to write.

/// An office's writes as the server: decisions and imported households, stamped with the
/// server's device, its next seq and its clock, and applied through the merge engine with the
/// office's role and district.
enum OfficeWrites {
    /// Applies an office's decision over `store` (a store of the open write transaction) and
    /// answers with its result. A refused decision throws (the code and reason of the refusal):
    /// the caller's transaction rolls back and nothing is logged.
    static func decide(
        _ decision: OfficeDecision, by principal: Principal, server: DeviceID, engine: MergeEngine,
        store: some MergeStore, clock: inout HybridLogicalClock
    ) throws -> MutationResult {
        let seq = try store.progress(of: server).highestSeq + 1
        let mutation = try DecisionBuilder(store: store, engine: engine).mutation(for: decision, device: server, seq: seq, hlc: clock.tick())
        let result = try apply(mutation, by: principal, server: server, engine: engine, store: store, clock: &clock)
        if result.outcome == .rejected {
            throw DoorstepError(result.code ?? .invalidOperation, result.reason ?? "the decision was refused")
        }
        return result
    }

    /// Applies an imported row as a new household `id` over `store`; a refusal is the result (the
    /// caller discards the row's writes, see ``ImportCommitPolicy``).
    static func importRow(
        _ row: ImportedHousehold, as id: EntityID, by principal: Principal, server: DeviceID, engine: MergeEngine,
        store: some MergeStore, clock: inout HybridLogicalClock
    ) throws -> MutationResult {
        let seq = try store.progress(of: server).highestSeq + 1
        let mutation = Mutation(
            device: server, seq: seq, hlc: clock.tick(), op: .create, kind: .household,
            entity: id, household: id, fields: row.fields)
        return try apply(mutation, by: principal, server: server, engine: engine, store: store, clock: &clock)
    }

    /// A mutation of the server's device, applied with the principal's role and district.
    private static func apply(
        _ mutation: Mutation, by principal: Principal, server: DeviceID, engine: MergeEngine,
        store: some MergeStore, clock: inout HybridLogicalClock
    ) throws -> MutationResult {
        let acting = Principal(device: server, role: principal.role, district: principal.district)
        let receipt = try engine.apply(PushBatch(device: server, mutations: [mutation]), from: acting, store: store, clock: &clock)
        guard let result = receipt.results.first else { throw DoorstepError(.internalError, "no result for the server's mutation") }
        return result
    }

    /// The server's identity from its stored text, or `internalError` before it has one.
    static func identity(_ text: String?) throws -> ServerIdentity {
        guard let text else { throw DoorstepError(.internalError, "the server has no identity yet") }
        return try StoredJSON.decode(ServerIdentity.self, text)
    }
}

extension ImportOutcome {
    /// Notes a row the merge engine refused, with the field behind the refusal where one is known.
    mutating func refuse(line: Int, _ result: MutationResult) {
        let code = result.code ?? .invalidValue
        rejected.append(ImportIssue(line: line, field: Self.field(causing: code), code: code, message: result.reason ?? "the household was refused"))
    }

    /// The field behind an engine rejection of a household creation whose values already passed
    /// `normalize`: the role rule on creation concerns only the status.
    static func field(causing code: DoorstepError.Code) -> String? {
        switch code {
        case .forbiddenForRole: "status"
        case .outOfScope: "district"
        case .invalidNationalId: "nationalId"
        default: nil
        }
    }
}

extension ImportCommitPolicy {
    /// Whether an import with this outcome commits.
    func commits(_ outcome: ImportOutcome, allSound: Bool) -> Bool {
        switch self {
        case .never: false
        case .allOrNothing: allSound && outcome.rejected.isEmpty
        case .keepValid: true
        }
    }
}
