import Crypto
import DoorstepBundle
import DoorstepCore
import DoorstepStorage
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// Manual upload of bundle files.
    func addBundleRoutes(to group: RouterGroup<DoorstepRequestContext>) {
        group.post("bundles") { request, context in try await uploadBundle(request, context) }
    }

    static let revokedHoldReason = "held for review: the device was revoked"

    /// `POST /v1/bundles`: a bundle file (`application/octet-stream`), opened with the server's
    /// key and checked against the enrolled key of its device, then applied like pushes.
    ///
    /// Uploaded by the bundle's own device, an office of its district, or the city. A revoked
    /// device's bundle only by an office or the city, and then its mutations are not applied:
    /// each goes to the rejection log (`deviceRevoked`) for review. A batch refused as a whole
    /// refuses the upload from that batch on (the earlier batches stay applied; a later upload
    /// of the same bundle answers them `alreadyApplied`).
    func uploadBundle(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let data = try await bytes(request, limit: configuration.limits.maxBundleBytes)
        let serverKey = try ServerKeys.privateKey(of: identity)
        var found: DeviceRecord?
        let opened = try await BundleReader.open(data, serverPrivateKey: serverKey, serverKeyID: identity.keyID) { id in
            guard let record = try await storage.device(id: id), record.id != identity.device else { return nil }
            found = record
            guard let text = record.signingKey, let raw = Data(base64Encoded: text) else { return nil }
            return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        }
        guard let device = found else {
            throw DoorstepError(.bundleInvalid, "device \(opened.device) is not enrolled on this server")
        }
        try authorizeUpload(of: device, by: caller)
        let logMetadata: Logger.Metadata = [
            "device": "\(device.id)", "by": "\(caller.actor)", "batches": "\(opened.batches.count)", "mutations": "\(opened.mutationCount)",
            "files": "\(opened.files.count)",
        ]
        // The files first (a version 2 bundle): each held whole before any change that names it
        // is applied, as if the device had uploaded it; one already held changes nothing.
        for file in opened.files {
            let before = try await files.state(of: file.sha256)
            let state = try await files.put(file.sha256, data: file.data)
            if case .whole = before {} else { metrics.recordUpload(from: before.held, state) }
        }
        let carried = opened.manifest.files == nil ? nil : opened.files.count

        if device.isRevoked {
            let receipts = try await storage.holdForReview(
                opened.batches, device: device, code: .deviceRevoked, reason: Self.revokedHoldReason,
                now: now, physicalMillis: configuration.clock)
            context.logger.info("bundle of a revoked device held for review", metadata: logMetadata)
            return try JSONResponse.make(
                BundleUploadResult(receipts: receipts, device: device.id, batches: receipts.count, heldForReview: true, files: carried))
        }

        var receipts: [PushReceipt] = []
        for (index, batch) in opened.batches.enumerated() {
            do {
                let receipt = try await storage.push(
                    batch, from: device.principal, engine: engine, actor: caller.actor, now: now,
                    physicalMillis: configuration.clock)
                metrics.recordPush(receipt)
                keepTally()
                receipts.append(receipt)
            } catch let error as DoorstepError {
                metrics.recordRefusedPush()
                let range = "seqs \(batch.mutations.first?.seq ?? 0)–\(batch.mutations.last?.seq ?? 0)"
                let before = index == 0 ? "nothing was applied" : "the \(index) batch(es) before it were applied, nothing from it on"
                context.logger.info("bundle refused", metadata: logMetadata.merging(["batch": "\(index + 1)", "code": "\(error.code)"]) { $1 })
                throw DoorstepError(error.code, "batch \(index + 1) of \(opened.batches.count) (\(range)) was refused, \(before): \(error.message)")
            }
        }
        context.logger.info("bundle applied", metadata: logMetadata)
        return try JSONResponse.make(
            BundleUploadResult(receipts: receipts, device: device.id, batches: receipts.count, heldForReview: false, files: carried))
    }

    /// Who may upload a device's bundle: the device itself (when not revoked: its token is then
    /// refused before this), an office of its district, or the city.
    func authorizeUpload(of device: DeviceRecord, by caller: Caller) throws {
        let principal = caller.principal
        if principal.role == .city { return }
        if case .device(let uploader) = caller, uploader.id == device.id { return }
        guard principal.role == .office, let district = device.district, principal.district == district else {
            if principal.role == .office {
                throw DoorstepError(.outOfScope, "this bundle belongs to a device of another district; its own office or the city uploads it")
            }
            throw DoorstepError(
                .forbiddenForRole, "a visitor's device uploads only its own bundles; an office of the device's district or the city uploads the others")
        }
    }
}
