public import DoorstepCore

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
}
