import Crypto
import DoorstepBundle
public import DoorstepCore
public import Foundation
import GRDB

extension FieldClient {
    /// Exports the pending work to an encrypted, signed bundle file (for a USB stick).
    ///
    /// The work stays in the outbox: it leaves when a receipt acknowledges it, by this device's
    /// next push or after an office uploads the bundle (the push then answers `alreadyApplied`).
    /// Returns whether a file was written: `false` when nothing is pending and `allowEmpty` is false;
    /// with nothing pending and `allowEmpty`, throws `invalidOperation` (a bundle is never empty).
    @discardableResult
    public func exportBundle(to path: String, allowEmpty: Bool = true) async throws -> Bool {
        let limit = max(1, min(configuration.batchSize, MergeEngine.defaultMaxBatchSize))
        let (enrollment, keys, pending) = try await pool.read { db in
            (
                try Self.enrollment(db),
                (try LocalStore.setting(db, .signingKey), try LocalStore.setting(db, .serverPublicKey), try LocalStore.setting(db, .serverKeyID)),
                try String.fetchAll(db, sql: "SELECT body FROM outbox WHERE acked = 0 ORDER BY seq").map { try LocalStore.decode(Mutation.self, $0) }
            )
        }
        guard let enrollment else { throw DoorstepError(.notEnrolled, "this device is not enrolled yet") }
        guard !pending.isEmpty else {
            if allowEmpty { throw DoorstepError(.invalidOperation, "there is no unsynced work to export") }
            return false
        }
        guard let signing = keys.0.flatMap({ Data(base64Encoded: $0) }), let server = keys.1.flatMap({ Data(base64Encoded: $0) }), let keyID = keys.2 else {
            throw DoorstepError(.internalError, "the device's keys are missing from the local database")
        }
        let batches = stride(from: 0, to: pending.count, by: limit).map {
            PushBatch(device: enrollment.device, mutations: Array(pending[$0..<min($0 + limit, pending.count)]))
        }
        let data = try BundleWriter.seal(
            batches: batches, device: enrollment.device,
            signingKey: try Curve25519.Signing.PrivateKey(rawRepresentation: signing),
            serverPublicKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: server),
            serverKeyID: keyID, createdAt: Instant.format(Date(), in: .gmt)
        )
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw DoorstepError(.invalidValue, "cannot write \(path)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw DoorstepError(.invalidValue, "cannot write \(path)")
        }
        return true
    }
}

extension OfficeClient {
    /// Uploads a bundle file by hand: the server applies it like a push (idempotent), or holds a
    /// revoked device's work for review.
    public func upload(bundle: Data) async throws -> BundleUploadResult {
        try await api.call("POST", "/v1/bundles", body: bundle, contentType: "application/octet-stream", as: BundleUploadResult.self)
    }

    /// The campaign report of a district (or, for the city, all districts), as of `today`.
    public func report(district: String? = nil, campaign: String? = nil, today: String? = nil) async throws -> CampaignReport {
        try await api.call("GET", "/v1/reports" + Self.query(["district": district, "campaign": campaign, "today": today]), as: CampaignReport.self)
    }
}
