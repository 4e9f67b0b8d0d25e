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
    func holdForReview(
        _ batches: [PushBatch], device: DeviceRecord, code: DoorstepError.Code, reason: String,
        now: String, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> [PushReceipt]

    /// Applies a held change as the office's decision (``OfficeDecision/acceptHeld(_:)``: the
    /// server's device and clock, the office's role), with the held device, seq and stamp kept
    /// as the history's `origin`, and closes its row of the review queue, in one transaction.
    /// `notFound` when no open held change has that key in the principal's scope; a refused
    /// decision throws and changes nothing.
    func acceptHeld(
        device: DeviceID, seq: Int64, by principal: Principal, actor: String, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> MutationResult

    /// Closes an open row of the rejection log (a held change, or a refused one) with a reason:
    /// it leaves the review queue and the report's count; nothing is applied. `notFound` when no
    /// open row has that key in the principal's scope.
    func dismissRejection(
        device: DeviceID, seq: Int64, by principal: Principal, actor: String, reason: String,
        now: String
    ) async throws -> ClosedRejection
}
