public import DoorstepCore
import Foundation

/// What the bundle upload needs from storage beyond a push (`protocol/README.md`, "Bundles").
public protocol BundleStorage: Sendable {
    /// Holds a revoked device's batches for review instead of applying them.
    ///
    /// Each mutation the server does not hold yet becomes a row of the rejection log with
    /// `code` and `reason` (so offices see it in review); nothing else changes: no entity,
    /// no audit row, no mutation-log row, and the device's progress stays where it was.
    /// Holding the same batches again changes nothing. A mutation the server already holds
    /// (pushed before the revocation) answers as it did then, with `alreadyApplied`.
    ///
    /// - Returns: one receipt per batch: `rejected` with `code` for each held mutation.
    func holdForReview(_ batches: [PushBatch], device: DeviceRecord, code: DoorstepError.Code, reason: String,
                       now: String, physicalMillis: @escaping @Sendable () -> Int64) async throws -> [PushReceipt]

    /// Applies a held change as the office's decision (``OfficeDecision/acceptHeld(_:)``: the
    /// server's device and clock, the office's role), with the held device, seq and stamp kept
    /// as the history's `origin`, and closes its row of the review queue, in one transaction.
    /// `notFound` when no open held change has that key in the principal's scope; a refused
    /// decision throws and changes nothing.
    func acceptHeld(device: DeviceID, seq: Int64, by principal: Principal, actor: String, engine: MergeEngine, now: String,
                    physicalMillis: @escaping @Sendable () -> Int64) async throws -> MutationResult

    /// Closes an open row of the rejection log (a held change, or a refused one) with a reason:
    /// it leaves the review queue and the report's count; nothing is applied. `notFound` when no
    /// open row has that key in the principal's scope.
    func dismissRejection(device: DeviceID, seq: Int64, by principal: Principal, actor: String, reason: String,
                          now: String) async throws -> ClosedRejection
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
            throw DoorstepError(.invalidOperation, "only a change held from a revoked device can be accepted; a refused change is fixed and sent again by its device",
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

    static let notFound = DoorstepError(.notFound, "no open change with that device and seq in your district",
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
