import DoorstepCore
import Foundation

/// Which district's office reviews a change that was not applied (a refused push, a held change
/// of a revoked device): the one place that says it.
enum ReviewRouting {
    /// What the rule needs from storage: a backend answers it with one query.
    enum Question: Hashable {
        /// The district the device is enrolled in.
        case writerDistrict(DeviceID)
        /// The stored district of the household's survivor (as linked now); `nil` when the server
        /// holds no such household.
        case householdDistrict(EntityID)
    }

    /// The routing of a change: a district already known, or a question to ask storage first.
    enum Routing: Hashable {
        case district(String?)
        case ask(Question)
    }

    /// A mutation the merge engine refused. Refused for writing outside its district
    /// (`outOfScope`): the writer's office can act on it, not the household's; otherwise the
    /// household's office.
    static func refused(_ mutation: Mutation, code: DoorstepError.Code?) -> Routing {
        code == .outOfScope ? .ask(.writerDistrict(mutation.device)) : .ask(.householdDistrict(mutation.household))
    }

    /// A change held from a revoked device's bundle: the device's own district (its office
    /// uploaded the bundle; a bundle never puts rows into another district's review); for a
    /// city device, the household's.
    static func held(_ mutation: Mutation, device: DeviceRecord) -> Routing {
        device.district.map { .district($0) } ?? .ask(.householdDistrict(mutation.household))
    }

    /// The district, from storage's answer to the question: a household the server does not
    /// place yet is reviewed by the district a new household names.
    static func district(_ question: Question, answer: String?, for mutation: Mutation) -> String? {
        switch question {
        case .writerDistrict: answer
        case .householdDistrict: answer ?? namedDistrict(of: mutation)
        }
    }

    /// The district a household creation names, if any.
    static func namedDistrict(of mutation: Mutation) -> String? {
        guard mutation.kind == .household else { return nil }
        return mutation.fields.first { $0.field == "district" }?.value.stringValue
    }
}

extension ReviewRouting.Routing {
    /// The district, asking storage (a synchronous backend) when the routing needs it. A change to a
    /// household no district holds (its creation was refused, so the change is `dependsOnRejected`)
    /// goes to the writer's district: every refusal reaches an office's queue.
    func district(for mutation: Mutation, asking answer: (ReviewRouting.Question) throws -> String?) rethrows -> String? {
        switch self {
        case .district(let district): return district
        case .ask(let question):
            if let district = ReviewRouting.district(question, answer: try answer(question), for: mutation) { return district }
            guard case .householdDistrict = question else { return nil }
            return try answer(.writerDistrict(mutation.device))
        }
    }

    /// The district, asking storage (an asynchronous backend) when the routing needs it (as the synchronous one).
    func district(for mutation: Mutation, asking answer: (ReviewRouting.Question) async throws -> String?) async rethrows -> String? {
        switch self {
        case .district(let district): return district
        case .ask(let question):
            if let district = ReviewRouting.district(question, answer: try await answer(question), for: mutation) { return district }
            guard case .householdDistrict = question else { return nil }
            return try await answer(.writerDistrict(mutation.device))
        }
    }
}

/// Holding a revoked device's batches for review (``BundleStorage/holdForReview(_:device:code:reason:now:physicalMillis:)``).
struct HoldForReview {
    /// A row to add to the rejection log (ignored when the log already has its device and seq).
    struct Row {
        var mutation: Mutation
        var district: String?
    }

    /// The receipts to answer with, one per batch.
    var receipts: [PushReceipt] = []
    /// The rows to add to the rejection log, in order.
    var rows: [Row] = []

    /// Plans the hold of `batches` of `device` from what storage holds: the device's logged
    /// mutations of those seqs (`logged`), its highest contiguous seq, and the review district of
    /// each held mutation (`district`). A mutation already logged (pushed before the revocation)
    /// answers as a replay would: `alreadyApplied`, or `seqReuse` when the seq carried another
    /// mutation; every other is held, `rejected` with `code` and `reason`.
    init(
        _ batches: [PushBatch], device: DeviceRecord, highestSeq: Int64, logged: [Int64: LoggedMutation], code: DoorstepError.Code,
        reason: String, clock: inout HybridLogicalClock, district: (Mutation) throws -> String?
    ) rethrows {
        for batch in batches {
            var results: [MutationResult] = []
            for mutation in batch.mutations {
                if let logged = logged[mutation.seq] {
                    results.append(Self.replayAnswer(to: mutation, logged: logged))
                    continue
                }
                rows.append(Row(mutation: mutation, district: try district(mutation)))
                results.append(MutationResult(seq: mutation.seq, outcome: .rejected, code: code, reason: reason))
            }
            receipts.append(PushReceipt(device: device.id, highestContiguousSeq: highestSeq, serverClock: clock.tick(), results: results, clockSkew: false))
        }
    }

    /// The answer to a held mutation the server already logged, as a replayed push gets it.
    static func replayAnswer(to mutation: Mutation, logged: LoggedMutation) -> MutationResult {
        guard logged.mutation == mutation else {
            return MutationResult(
                seq: mutation.seq, outcome: .rejected, code: .seqReuse,
                reason: "seq \(mutation.seq) of this device was already used for a different mutation; not held")
        }
        var result = logged.result
        if result.outcome != .rejected { result.outcome = .alreadyApplied }
        return result
    }

    /// The households whose review district storage must be asked for (see ``ReviewRouting``).
    static func questions(_ batches: [PushBatch], device: DeviceRecord) -> Set<ReviewRouting.Question> {
        var questions = Set<ReviewRouting.Question>()
        for mutation in batches.flatMap(\.mutations) {
            if case .ask(let question) = ReviewRouting.held(mutation, device: device) { questions.insert(question) }
        }
        return questions
    }
}

/// An open row of the rejection log as storage reads it for closing: its district and its held change.
struct OpenRejection {
    var district: String?
    var body: String?

    /// The held change; `invalidOperation` for a refused change (its device fixes it), `notFound`
    /// outside the principal's scope.
    func heldChange(in scope: Principal) throws -> Mutation {
        try check(scope)
        guard let body else {
            throw DoorstepError(
                .invalidOperation, "only a change held from a revoked device can be accepted; a refused change is fixed and sent again by its device",
                zh: "只能接受被撤销设备留待审核的修改；被拒绝的修改由原设备修正后重新发送")
        }
        return try StoredJSON.decode(Mutation.self, body)
    }

    /// `notFound` when the row lies outside the principal's scope (as if it did not exist).
    func check(_ scope: Principal) throws {
        guard scope.role == .city || district.map(scope.covers(district:)) == true else {
            throw OpenRejection.notFound
        }
    }

    static let notFound = DoorstepError(
        .notFound, "no open change with that device and seq in your district",
        zh: "本旗区没有这一待审核的修改（设备和序号）")

    /// The reason of a dismissal: 1 to 500 characters.
    static func checkedReason(_ reason: String) throws -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(trimmed.count) else {
            throw DoorstepError(.missingField, "a dismissal needs a reason of 1 to 500 characters", zh: "不予采纳时须说明理由（1 至 500 字）")
        }
        return trimmed
    }
}

/// The rows of the review queue as both backends read them, made into its entries.
enum ReviewQueueRows {
    /// A conflict row (`record`: the stored ``ConflictRecord``); `nil` when it does not decode.
    static func conflict(district: String?, record: String) -> ReviewQueue.Conflict? {
        (try? StoredJSON.decode(ConflictRecord.self, record)).map { ReviewQueue.Conflict(district: district, record: $0) }
    }

    /// An alias and its survivor; `nil` when an id is not valid.
    static func duplicate(alias: String, survivor: String, district: String?) -> ReviewQueue.Duplicate? {
        guard let alias = try? EntityID(alias), let survivor = try? EntityID(survivor) else { return nil }
        return ReviewQueue.Duplicate(survivor: survivor, alias: alias, district: district)
    }

    /// An open row of the rejection log (`body`: the held change, for held rows); `nil` when an id does not read.
    static func rejection(
        device: String, seq: Int64, household: String?, entity: String, kind: String, district: String?,
        code: String, reason: String, at: String, body: String?, reasonZh: String? = nil, details: String? = nil
    ) -> ReviewQueue.Rejection? {
        guard let device = try? DeviceID(device), let entity = try? EntityID(entity), let kind = EntityKind(rawValue: kind) else { return nil }
        return ReviewQueue.Rejection(
            device: device, seq: seq, household: household.flatMap { try? EntityID($0) }, entity: entity, kind: kind, district: district,
            code: DoorstepError.Code(code), reason: reason, at: at, mutation: body.flatMap { try? StoredJSON.decode(Mutation.self, $0) },
            reasonZh: reasonZh, details: details.flatMap { try? StoredJSON.decode(ErrorDetails.self, $0) }
        )
    }
}
