import Crypto
public import DoorstepCore
public import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An attachment as this laptop shows it (protocol 1.4, `protocol/README.md` §17).
public struct AttachmentSummary: Sendable, Hashable, Codable {
    public var id: EntityID
    public var household: EntityID
    /// The household or the entry it belongs to.
    public var of: EntityID
    public var sha256: String
    public var mediaType: AttachmentMediaType?
    public var size: Int64
    public var fileName: String
    public var caption: String?
    /// Whether the laptop holds its bytes.
    public var held: Bool
    /// Whether the server holds its file whole, as far as this laptop knows (it uploaded or
    /// downloaded it).
    public var onServer: Bool
}

extension FieldClient {
    /// The folder of attachments' files, beside the database (created owner-only).
    var filesFolder: URL { URL(fileURLWithPath: configuration.databasePath + "-files") }

    func filePath(_ sha256: String) -> URL { filesFolder.appendingPathComponent(sha256) }

    /// Attaches a proof document (a photo or scan) to a household, or to one of its entries with
    /// `of`: the file is checked (its type by its first bytes: JPEG, PNG, HEIC or PDF; at most
    /// 20 MiB), kept in the laptop's folder of files, and its attachment recorded as any change,
    /// in one local transaction. Its bytes go to the server after a sync's pull, never holding the
    /// sync's mutations back. Returns the attachment's id.
    @discardableResult
    public func attach(
        fileAt url: URL, to household: EntityID, of owner: EntityID? = nil, caption: String? = nil, fileName: String? = nil
    ) async throws -> EntityID {
        let prepared = try prepareDocument(try Self.readAttachable(url), fileName: fileName ?? url.lastPathComponent)
        let id = EntityID.random()
        try await record(household: household) { context in
            let parent = try context.requireHouseholdID()
            let target = owner ?? parent
            if target != parent { _ = try context.requireEntry(target) }
            return try Self.attachment(prepared, id: id, of: target, household: parent, caption: caption, context)
        }
        return id
    }

    /// A document checked and kept, ready to be attached.
    struct PreparedDocument: Sendable {
        var sha256: String
        var size: Int64
        var mediaType: AttachmentMediaType
        var fileName: String
    }

    /// Checks a document's bytes (type by its first bytes, at most 20 MiB) and keeps them in the
    /// folder of files under their hash.
    func prepareDocument(_ data: Data, fileName: String) throws -> PreparedDocument {
        // A server before 1.4 would refuse the whole batch that carried an attachment.
        if let revision = try pool.read({ db in try LocalStore.setting(db, .serverRevision) }), !ProtocolVersion.readsAttachments(revision) {
            throw DoorstepError(
                .invalidOperation, "the server (protocol revision \(revision)) does not take attachments yet; it must be updated first",
                zh: "服务器的版本（协议 \(revision)）还不能接收证明材料，请联系管理员先升级服务器")
        }
        guard data.count <= AttachmentFile.maxBytes else {
            throw DoorstepError(.payloadTooLarge, rule: "fileTooLarge", ErrorDetails(limit: AttachmentFile.maxBytes))
        }
        guard let type = AttachmentFile.mediaType(ofFirstBytes: data) else {
            throw DoorstepError(.unsupportedMediaType, rule: "mediaType", ErrorDetails(allowed: AttachmentMediaType.wireNames))
        }
        let sha = Self.sha256(data)
        try keepFile(data, sha256: sha)
        let name = fileName.trimmingCharacters(in: .whitespacesAndNewlines)
        return PreparedDocument(
            sha256: sha, size: Int64(data.count), mediaType: type,
            fileName: String((name.isEmpty ? "\(sha.prefix(12)).\(type.fileExtension)" : name).prefix(200)))
    }

    /// The creation of an attachment, inside a write's transaction: the file noted as this
    /// laptop's to upload.
    static func attachment(
        _ document: PreparedDocument, id: EntityID, of owner: EntityID, household: EntityID, caption: String?, _ context: WriteContext
    ) throws -> Content {
        try context.db.execute(
            sql: """
                INSERT INTO attachment_files (sha256, size, media_type, held, mine, uploaded, used_at) VALUES (?, ?, ?, 1, 1, 0, ?)
                ON CONFLICT(sha256) DO UPDATE SET held = 1, mine = 1, used_at = excluded.used_at
                """, arguments: [document.sha256, document.size, document.mediaType.rawValue, Self.usedStamp()])
        var fields: [String: JSONValue] = [
            "of": .string(owner.description), "sha256": .string(document.sha256), "mediaType": .string(document.mediaType.rawValue),
            "size": .int(document.size), "fileName": .string(document.fileName),
        ]
        if let caption, !caption.trimmingCharacters(in: .whitespaces).isEmpty { fields["caption"] = .string(caption) }
        return Content(op: .create, kind: .attachment, entity: id, fields: writes(fields, base: { _ in [] }), household: household)
    }

    /// The attachments of a household as this laptop shows it (deleted ones left out), oldest first.
    public func attachments(of household: EntityID) async throws -> [AttachmentSummary] {
        try await pool.read { db in
            guard let view = try LocalStore.view(db, household) else { return [] }
            // Only this household's files, not the laptop's whole table.
            let hashes = Set(view.entities.filter { $0.kind == .attachment }.compactMap { $0["sha256"].stringValue })
            let files = Dictionary(
                try Row.fetchAll(
                    db, sql: "SELECT sha256, held, uploaded FROM attachment_files WHERE sha256 IN (\(databaseQuestionMarks(count: max(1, hashes.count))))",
                    arguments: StatementArguments(hashes.isEmpty ? [""] : Array(hashes))
                ).map { row in
                    (row["sha256"] as String, (held: (row["held"] as Int64) != 0, uploaded: (row["uploaded"] as Int64) != 0))
                }, uniquingKeysWith: { first, _ in first })
            return view.entities.filter { $0.kind == .attachment && $0.isVisible }.sorted { $0.created < $1.created }.compactMap { entity in
                guard let sha = entity["sha256"].stringValue, let of = entity["of"].stringValue.flatMap({ try? EntityID($0) }) else { return nil }
                let file = files[sha]
                return AttachmentSummary(
                    id: entity.id, household: view.household.id, of: of, sha256: sha,
                    mediaType: entity["mediaType"].stringValue.flatMap(AttachmentMediaType.init(rawValue:)), size: entity["size"].intValue ?? 0,
                    fileName: entity["fileName"].stringValue ?? "", caption: entity["caption"].stringValue,
                    held: file?.held == true && FileManager.default.fileExists(atPath: filePath(sha).path), onServer: file?.uploaded == true)
            }
        }
    }

    /// The file of an attachment on this laptop, fetched from the server first if the laptop does
    /// not hold it (its bytes checked against the attachment's SHA-256 before they count).
    public func attachmentFile(_ id: EntityID, in household: EntityID) async throws -> URL {
        guard let attachment = try await attachments(of: household).first(where: { $0.id == id }) else {
            throw DoorstepError(.notFound, "no attachment \(id) in household \(household) on this device", zh: "本机这一户没有这份证明材料")
        }
        let path = filePath(attachment.sha256)
        if attachment.held {
            let now = Self.usedStamp()
            try await pool.write { db in
                try db.execute(sql: "UPDATE attachment_files SET used_at = ? WHERE sha256 = ?", arguments: [now, attachment.sha256])
            }
            return path
        }
        let (enrollment, token) = try await pool.read { db -> (Enrollment?, String?) in (try Self.enrollment(db), try LocalStore.setting(db, .token)) }
        guard let enrollment, let token else {
            throw DoorstepError(.notEnrolled, "this device is not enrolled yet: run enroll with the code from the office")
        }
        try checkTransport(enrollment.server)
        let api = ServerAPI(
            transport: configuration.transport(enrollment.server), token: token, retry: configuration.retry,
            compression: configuration.compresses(with: enrollment.server))
        let answer = try await api.exchange("GET", "/v1/attachments/\(id)/file")
        guard Self.sha256(answer.body) == attachment.sha256, let type = AttachmentFile.mediaType(ofFirstBytes: answer.body) else {
            throw DoorstepError(.hashMismatch, rule: "hashMismatch")
        }
        try keepFile(answer.body, sha256: attachment.sha256)
        let now = Self.usedStamp()
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO attachment_files (sha256, size, media_type, held, uploaded, used_at) VALUES (?, ?, ?, 1, 1, ?)
                    ON CONFLICT(sha256) DO UPDATE SET held = 1, uploaded = 1, used_at = excluded.used_at
                    """, arguments: [attachment.sha256, Int64(answer.body.count), type.rawValue, now])
        }
        return path
    }

    /// Sends the files this laptop made that the server does not hold whole, each from the byte
    /// the server holds (`HEAD`, then `PATCH`es of ``ClientConfiguration/fileChunkBytes``). A
    /// network failure stops the sending, not the sync: the next sync goes on from there; a file
    /// the server keeps refusing is left for the next sync and the others are sent.
    func sendFiles(api: ServerAPI) async throws -> (sent: Int, waiting: Int) {
        let pending = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, size FROM attachment_files WHERE mine = 1 AND uploaded = 0 AND held = 1 ORDER BY sha256")
                .map { (sha256: $0["sha256"] as String, size: $0["size"] as Int64) }
        }
        var sent = 0
        var waiting = 0
        for (index, file) in pending.enumerated() {
            do {
                if try await sendFile(file.sha256, size: file.size, api: api) { sent += 1 }
                try await pool.write { db in try db.execute(sql: "UPDATE attachment_files SET uploaded = 1 WHERE sha256 = ?", arguments: [file.sha256]) }
            } catch let error as DoorstepError where error.code == .deviceRevoked {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as DoorstepError where error.code == .hashMismatch || error.code == .unsupportedMediaType {
                // The server found other bytes than the hash names: if the laptop's copy is not the
                // file (damaged on disk) it is not sent again; else the next sync tries again.
                let path = filePath(file.sha256)
                if (try? Data(contentsOf: path)).map({ Self.sha256($0) != file.sha256 }) ?? true {
                    try await pool.write { db in try db.execute(sql: "UPDATE attachment_files SET held = 0 WHERE sha256 = ?", arguments: [file.sha256]) }
                } else {
                    waiting += 1
                }
            } catch let error as DoorstepError where error.code == .serverUnreachable {
                return (sent, waiting + pending.count - index)
            } catch {
                waiting += 1
            }
        }
        return (sent, waiting)
    }

    /// Sends one file from the byte the server holds; whether any byte had to be sent. Returns
    /// only once the server said the file is whole.
    private func sendFile(_ sha256: String, size: Int64, api: ServerAPI) async throws -> Bool {
        let path = "/v1/files/\(sha256)"
        /// Where to go on from, by a `HEAD`: `nil` once the file is whole.
        func held() async throws -> Int64? {
            let answer = try await api.exchange("HEAD", path)
            if answer.headers["doorstep-file"] == "whole" { return nil }
            // Another upload of the hash (another length) is none of this laptop's: from 0.
            guard answer.headers["upload-length"].flatMap({ Int64($0) }) == size else { return 0 }
            return Int64(answer.headers["upload-offset"] ?? "0").map { min(max(0, $0), size - 1) } ?? 0
        }
        guard var offset = try await held() else { return false }
        guard let handle = FileHandle(forReadingAtPath: filePath(sha256).path) else {
            throw DoorstepError(.hashMismatch, rule: "hashMismatch")
        }
        defer { try? handle.close() }
        // A part is sent once: when its answer is lost, the server is asked what it holds (HEAD,
        // retried as any request) rather than the part sent again, so a cut link costs no byte twice.
        let once = api.sendingOnce
        var setbacks = 0
        while true {
            try Task.checkCancellation()
            guard setbacks < max(10, configuration.retry.maxAttempts) else {
                throw DoorstepError(.serverUnreachable, "the server did not take this file's parts; the next sync tries again")
            }
            try handle.seek(toOffset: UInt64(offset))
            let chunk = try handle.read(upToCount: Int(min(Int64(max(1, configuration.fileChunkBytes)), size - offset))) ?? Data()
            guard !chunk.isEmpty else { throw DoorstepError(.hashMismatch, rule: "hashMismatch") }
            do {
                let answer = try await once.exchange(
                    "PATCH", path, body: chunk, contentType: "application/offset+octet-stream",
                    headers: ["Upload-Offset": String(offset), "Upload-Length": String(size)])
                if answer.headers["doorstep-file"] == "whole" { return true }
                let next = Int64(answer.headers["upload-offset"] ?? "") ?? (offset + Int64(chunk.count))
                if next > offset && next < size {
                    offset = next
                    setbacks = 0
                } else {
                    // No progress, or all bytes held but not whole: ask the server where it stands.
                    setbacks += 1
                    guard let resume = try await held() else { return true }
                    offset = resume
                }
            } catch let error as DoorstepError where error.code == .uploadOffsetMismatch {
                // The server holds another part than this laptop thought (another laptop sending
                // the same file): go on from there, after a pause.
                setbacks += 1
                try await configuration.retry.sleep(configuration.retry.baseDelay * Double(setbacks))
                guard let resume = error.details.resumeFrom, (0..<size).contains(resume) else {
                    guard let asked = try await held() else { return true }
                    offset = asked
                    continue
                }
                offset = resume
            } catch let error as DoorstepError where error.code == .serverUnreachable {
                setbacks += 1
                try await configuration.retry.sleep(configuration.retry.baseDelay * Double(setbacks))
                guard let resume = try await held() else { return true }
                offset = resume
            }
        }
    }

    /// Keeps the laptop's files within ``ClientConfiguration/fileBudgetBytes``: the files the
    /// server holds are removed, used longest ago first, until the rest fit; files it does not
    /// hold yet are never removed. A removed file is marked first, then deleted, so a process
    /// killed between the two leaves a stray file (removed here next time), never a file counted
    /// as held that is not there. Returns the files removed.
    @discardableResult
    public func evictFiles() async throws -> Int {
        let budget = max(0, configuration.fileBudgetBytes)
        // Within the budget (the usual case): nothing written.
        let total = try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM attachment_files WHERE held = 1") ?? 0 }
        let evicted =
            total <= budget
            ? []
            : try await pool.write { db -> [String] in
                var held = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM attachment_files WHERE held = 1") ?? 0
                guard held > budget else { return [] }
                var chosen: [String] = []
                let candidates = try Row.fetchAll(
                    db, sql: "SELECT sha256, size FROM attachment_files WHERE held = 1 AND uploaded = 1 ORDER BY used_at IS NOT NULL, used_at, sha256")
                for row in candidates where held > budget {
                    let sha: String = row["sha256"]
                    chosen.append(sha)
                    held -= row["size"] as Int64
                    try db.execute(sql: "UPDATE attachment_files SET held = 0 WHERE sha256 = ?", arguments: [sha])
                }
                return chosen
            }
        for sha in evicted {
            // Attached or fetched again meanwhile: held again, so it stays.
            let heldAgain = try await pool.read { db in
                try Bool.fetchOne(db, sql: "SELECT held = 1 FROM attachment_files WHERE sha256 = ?", arguments: [sha]) ?? false
            }
            if !heldAgain { try? FileManager.default.removeItem(at: filePath(sha)) }
        }
        // Stray files: marked not held (an eviction cut short) or half written (`.part`), looked
        // for at most once an hour.
        let now = Date()
        let due = lastStraySweep.withLock { last in
            guard last.map({ now.timeIntervalSince($0) >= 3600 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return evicted.count }
        let kept = Set(try await pool.read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM attachment_files WHERE held = 1") })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: filesFolder.path)) ?? [] where !kept.contains(name) {
            let path = filesFolder.appendingPathComponent(name)
            // A file kept a moment ago may not be recorded yet (a fetch or an attach under way):
            // only strays an hour old go.
            let modified = (try? FileManager.default.attributesOfItem(atPath: path.path))?[.modificationDate] as? Date
            guard let modified, Date().timeIntervalSince(modified) > 3600 else { continue }
            try? FileManager.default.removeItem(at: path)
        }
        return evicted.count
    }

    /// Reads a file to attach: at most 20 MiB, not empty; a missing or unreadable file is a clear error.
    static func readAttachable(_ url: URL) throws -> Data {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        } catch {
            throw DoorstepError(.notFound, "no file at \(url.path)", zh: "找不到文件 \(url.path)")
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        guard size <= AttachmentFile.maxBytes else {
            throw DoorstepError(.payloadTooLarge, rule: "fileTooLarge", ErrorDetails(limit: AttachmentFile.maxBytes))
        }
        guard size > 0, let data = FileManager.default.contents(atPath: url.path), !data.isEmpty else {
            throw DoorstepError(.unsupportedMediaType, rule: "mediaType", ErrorDetails(allowed: AttachmentMediaType.wireNames))
        }
        return data
    }

    /// When a file was last used, to the millisecond (UTC, `…T10:35:07.123Z`): the order of eviction.
    static func usedStamp(_ date: Date = Date()) -> String {
        let millis = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let digits = String(millis)
        return String(Instant.format(date, in: .gmt).dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// Keeps bytes in the folder of files under their hash: written beside, synced, renamed into
    /// place, the folder synced, so a killed process never leaves a half file under a hash.
    func keepFile(_ data: Data, sha256: String) throws {
        let folder = filesFolder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = filePath(sha256)
        if let existing = try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber, existing.intValue == data.count {
            return
        }
        let part = folder.appendingPathComponent("\(sha256).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: part.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: part.path)
        else {
            throw DoorstepError(.internalError, "could not write into \(folder.path)", zh: "无法写入文件夹 \(folder.path)")
        }
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
            try FileManager.default.moveItem(at: part, to: target)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: part)
            throw error
        }
        let descriptor = open(folder.path, O_RDONLY)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            _ = close(descriptor)
        }
    }
}
