import Crypto
import DoorstepBundle
public import DoorstepCore
public import Foundation
import GRDB

/// What an export wrote: the bundle files, the changes and the attachments' files they carry.
public struct BundleExport: Sendable, Hashable, Codable {
    /// The files written, the first at the path asked for, the others beside it (`-2`, `-3`…).
    public var paths: [String]
    /// The unsynced changes carried (all in the first file).
    public var mutations: Int
    /// The attachments' files carried: those this laptop made that the server does not hold yet.
    public var attachments: Int
}

extension FieldClient {
    /// Exports the pending work to an encrypted, signed bundle file (for a USB stick).
    ///
    /// The work stays in the outbox: it leaves when a receipt acknowledges it, by this device's
    /// next push or after an office uploads the bundle (the push then answers `alreadyApplied`).
    /// Returns whether a file was written: `false` when nothing is pending and `allowEmpty` is false;
    /// with nothing pending and `allowEmpty`, throws `invalidOperation` (a bundle is never empty).
    @discardableResult
    public func exportBundle(to path: String, allowEmpty: Bool = true) async throws -> Bool {
        try await exportBundles(to: path, allowEmpty: allowEmpty) != nil
    }

    /// Exports the pending work and the attachments' files the server does not hold yet to
    /// encrypted, signed bundle files (protocol §14).
    ///
    /// The changes go in the first file, at `path`, with as many files as fit in a bundle's
    /// 64 MiB; the other files follow in bundles beside it (`name-2.dsbundle`, …), each of which
    /// the server takes alone. A bundle without files is of version 1 (what every server reads).
    /// The work stays pending, and the files waiting, until a sync finds the server holds them.
    /// `nil` when there is nothing to carry and `allowEmpty` is false; with nothing and
    /// `allowEmpty`, throws `invalidOperation`.
    ///
    /// Refused (`invalidOperation`) while this laptop still has to tell a restored server about
    /// changes it lost (protocol 1.7): the server would refuse the bundle's changes until then.
    @discardableResult
    public func exportBundles(to path: String, allowEmpty: Bool = true) async throws -> BundleExport? {
        try await exportBundles(to: path, allowEmpty: allowEmpty, revoking: false)
    }

    /// The export; `revoking`: the export a revocation makes before the wipe, whatever is pending
    /// (its changes go to the office's review in any case).
    func exportBundles(to path: String, allowEmpty: Bool, revoking: Bool) async throws -> BundleExport? {
        let limit = max(1, min(configuration.batchSize, MergeEngine.defaultMaxBatchSize))
        if !revoking, let lost = try await pool.read({ db in try LocalStore.lostToDeclare(db) }).first {
            throw DoorstepError(
                .invalidOperation,
                "this laptop must first tell the server it no longer holds seqs \(lost.from)-\(lost.through) (a restored server lost them): sync once the server (protocol 1.7 or later) is reachable; a bundle now would be refused",
                zh: "本机须先告知服务器已不再保存序号 \(lost.from)–\(lost.through) 的工作（服务器从备份恢复后缺少它们）：请在能连上服务器（须为支持协议 1.7 的版本）时同步一次；现在导出的数据包会被拒收")
        }
        let (enrollment, keys, pending, waiting) = try await pool.read { db in
            (
                try Self.enrollment(db),
                (try LocalStore.setting(db, .signingKey), try LocalStore.setting(db, .serverPublicKey), try LocalStore.setting(db, .serverKeyID)),
                try String.fetchAll(db, sql: "SELECT body FROM outbox WHERE acked IN (0, 2, 3) ORDER BY seq").map { try LocalStore.decode(Mutation.self, $0) },
                try Row.fetchAll(db, sql: "SELECT sha256, size FROM attachment_files WHERE mine = 1 AND uploaded = 0 AND held = 1 ORDER BY sha256")
                    .map { (sha256: $0["sha256"] as String, size: $0["size"] as Int64) }
            )
        }
        guard let enrollment else { throw DoorstepError(.notEnrolled, "this device is not enrolled yet") }
        // Only files the laptop still holds whole: a damaged copy would make the bundle refused.
        let files = waiting.filter { file in
            (try? FileManager.default.attributesOfItem(atPath: filePath(file.sha256).path)[.size] as? NSNumber)?.int64Value == file.size
        }
        guard !pending.isEmpty || !files.isEmpty else {
            if allowEmpty { throw DoorstepError(.invalidOperation, "there is no unsynced work to export") }
            return nil
        }
        guard let signing = keys.0.flatMap({ Data(base64Encoded: $0) }), let server = keys.1.flatMap({ Data(base64Encoded: $0) }), let keyID = keys.2 else {
            throw DoorstepError(.internalError, "the device's keys are missing from the local database")
        }
        let batches = stride(from: 0, to: pending.count, by: limit).map {
            PushBatch(device: enrollment.device, mutations: Array(pending[$0..<min($0 + limit, pending.count)]))
        }
        // The files shared out among bundles: the first also carries the changes.
        let batchBytes = try batches.reduce(0) { $0 + (try WireCoding.encode($1)).count }
        var groups = Self.shareFiles(files, batchBytes: batchBytes)
        if batches.isEmpty { groups.removeAll { $0.isEmpty } }
        // Compressed (version 3) for a server known to read 1.5; else what it reads.
        let compressed = ProtocolVersion.readsCompression(try await pool.read { db in try LocalStore.setting(db, .serverRevision) })
        let signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: signing)
        let serverKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: server)
        let createdAt = Instant.format(Date(), in: .gmt)
        var written: [String] = []
        var damaged = 0
        do {
            for (index, group) in groups.enumerated() {
                var carried: [BundleFile] = []
                for file in group {
                    // A copy that is not its file any more (damaged on disk) is left out, and no longer
                    // counted as held: a bundle carries a file only under the hash that names it.
                    guard let data = FileManager.default.contents(atPath: filePath(file.sha256).path), Self.sha256(data) == file.sha256 else {
                        try await pool.write { db in try db.execute(sql: "UPDATE attachment_files SET held = 0 WHERE sha256 = ?", arguments: [file.sha256]) }
                        damaged += 1
                        continue
                    }
                    carried.append(BundleFile(data: data))
                }
                if carried.isEmpty && (index > 0 || batches.isEmpty) { continue }
                let data = try BundleWriter.seal(
                    batches: index == 0 ? batches : [], files: carried.isEmpty ? nil : carried, compressed: compressed, device: enrollment.device,
                    signingKey: signingKey, serverPublicKey: serverKey, serverKeyID: keyID, createdAt: createdAt)
                let target = Self.bundlePath(path, part: written.count + 1)
                try Self.writeBundle(data, to: target)
                written.append(target)
            }
        } catch {
            for path in written { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        guard !written.isEmpty else {
            if allowEmpty { throw DoorstepError(.invalidOperation, "there is no unsynced work to export") }
            return nil
        }
        return BundleExport(paths: written, mutations: pending.count, attachments: groups.reduce(0) { $0 + $1.count } - damaged)
    }

    /// Shares files among bundles: each within ``BundleFormat/maxPlaintextBytes`` (the first also
    /// holds `batchBytes` of changes) and ``BundleFormat/maxFiles``, in the order given. The first
    /// group may be empty (changes alone); no other is.
    static func shareFiles(_ files: [(sha256: String, size: Int64)], batchBytes: Int) -> [[(sha256: String, size: Int64)]] {
        var groups: [[(sha256: String, size: Int64)]] = [[]]
        var used = BundleWriter.overhead(batchBytes: batchBytes, files: 0)
        let perFile = BundleWriter.overhead(batchBytes: 0, files: 1) - BundleWriter.overhead(batchBytes: 0, files: 0)
        for file in files {
            let cost = Int(file.size) + perFile
            let current = groups[groups.count - 1]
            let fresh = current.isEmpty && groups.count > 1
            if !fresh, used + cost > BundleFormat.maxPlaintextBytes || current.count >= BundleFormat.maxFiles {
                groups.append([])
                used = BundleWriter.overhead(batchBytes: 0, files: 0)
            }
            groups[groups.count - 1].append(file)
            used += cost
        }
        return groups
    }

    /// The path of the `part`th bundle of an export: `path` itself, then `name-2.dsbundle`, ….
    static func bundlePath(_ path: String, part: Int) -> String {
        guard part > 1 else { return path }
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? url.lastPathComponent : String(url.lastPathComponent.dropLast(ext.count + 1))
        let name = "\(stem)-\(part)" + (ext.isEmpty ? "" : ".\(ext)")
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Writes a bundle beside its place, owner-only, and renames it into place.
    static func writeBundle(_ data: Data, to path: String) throws {
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw DoorstepError(.invalidValue, "cannot write \(path)", zh: "无法写入 \(path)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw DoorstepError(.invalidValue, "cannot write \(path)", zh: "无法写入 \(path)")
        }
    }
}

extension OfficeClient {
    /// Uploads a bundle file by hand: the server applies it like a push (idempotent), or holds a
    /// revoked device's work for review.
    public func upload(bundle: Data) async throws -> BundleUploadResult {
        try await api.call("POST", "/v1/bundles", body: bundle, contentType: "application/octet-stream", as: BundleUploadResult.self)
    }

    /// The campaign report of a district (or, for the city, all districts), as of `today`; with
    /// `lists`, each list names at most that many households (a server before 1.6 lists them all).
    public func report(district: String? = nil, campaign: String? = nil, today: String? = nil, lists: Int? = nil) async throws -> CampaignReport {
        try await api.call(
            "GET", "/v1/reports" + Self.query(["district": district, "campaign": campaign, "today": today, "lists": lists.map(String.init)]),
            as: CampaignReport.self)
    }
}
