import DoorstepCore
import Foundation

extension FieldClient {
    /// Exports the pending work to an encrypted, signed bundle file. The work stays in the outbox
    /// until a receipt acknowledges it (by push, or by the office's upload). Returns whether a
    /// file was written (`false` when there was nothing to export and `allowEmpty` is false).
    @discardableResult
    public func exportBundle(to path: String, allowEmpty: Bool = true) async throws -> Bool {
        throw DoorstepError(.internalError, "bundles are not built yet")
    }
}
