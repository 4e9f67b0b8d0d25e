import Crypto
import DoorstepCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The file store that every server process on one PostgreSQL database shares: each file a
/// large object, named in `files` once whole and checked; an upload under way a large object
/// named in `file_uploads` by its hash and length, with the bytes held and its first bytes.
///
/// A request's body is appended in parts of at most ``flushBytes``, each in a short transaction
/// that moves `held` on only from where this request found it (so two requests writing one
/// upload, in any process, cannot both write: the second is told where to go on from) and that
/// commits (PostgreSQL's fsync) before the next; no transaction waits on the network. A link cut
/// mid-body keeps every byte that arrived. The check of a whole upload (its SHA-256 read back,
/// its type) and its naming in `files` commit together, so a file is never whole unchecked.
public final class PostgresFileStore: FileStore {
    let storage: PostgresStorage
    private let clock: @Sendable () -> Int64
    /// Upload requests this process is writing now.
    private let receiving = Mutex(0)
    /// When unfinished uploads were last swept.
    private let sweeps = SweepSchedule()
    /// The bytes committed at a time: what a cut link can cost is what had not arrived.
    static let flushBytes = 256 * 1024

    /// A store in `storage`'s database; `clock` gives Unix milliseconds.
    public init(storage: PostgresStorage, clock: @escaping @Sendable () -> Int64) {
        self.storage = storage
        self.clock = clock
    }

    private var logger: Logger { storage.logger }

    public func state(of sha256: String) async throws -> FileState {
        try FolderFileStore.check(sha256)
        let cutoff = clock() - Self.unfinishedLifetimeMillis
        return try await storage.read { connection in
            if let whole = try await self.whole(connection, sha256) { return whole }
            for try await (held, length) in try await connection.query(
                "SELECT held, length FROM file_uploads WHERE sha256 = \(sha256) AND updated_at >= \(cutoff) ORDER BY held DESC LIMIT 1",
                logger: logger
            ).decode((Int64, Int64).self) {
                return .partial(held: held, length: length)
            }
            return .absent
        }
    }

    /// An upload under way: its large object, the bytes it holds and its first bytes.
    private struct Upload: Sendable {
        var object: Int64
        var held: Int64
        var head: Data
    }

    public func append<Bytes: AsyncSequence & Sendable>(
        to sha256: String, offset: Int64, length: Int64, bytes: Bytes
    ) async throws -> FileState where Bytes.Element == [UInt8] {
        try FolderFileStore.check(sha256)
        guard length >= 1 else {
            throw DoorstepError(.malformedInput, "Upload-Length must be a whole number of at least 1", details: ErrorDetails(field: "Upload-Length"))
        }
        guard length <= AttachmentFile.maxBytes else {
            throw DoorstepError(.payloadTooLarge, rule: "fileTooLarge", ErrorDetails(limit: AttachmentFile.maxBytes))
        }
        receiving.withLock { $0 += 1 }
        defer { receiving.withLock { $0 -= 1 } }
        sweepIfDue()
        if let whole = try await storage.read({ connection in try await self.whole(connection, sha256) }) { return whole }
        let upload = try await open(sha256, length: length)
        // Every byte held but not yet checked: check it now, whatever this request sends.
        if upload.held == length { return try await finish(sha256, length: length) }
        guard offset == upload.held else { throw FolderFileStore.mismatch(held: upload.held) }
        let start = upload.held
        var held = upload.held
        // A request from 0 sniffs its own first bytes (a head left by a request that was given back is not its).
        var head = upload.held == 0 ? Data() : upload.head
        var buffer = Data()
        /// Commits the bytes received, only if the upload still holds what this request found.
        func flush() async throws {
            guard !buffer.isEmpty else { return }
            let part = buffer
            let from = held
            let moved = try await storage.transaction { connection in
                var updated = false
                for try await _ in try await connection.query(
                    """
                    UPDATE file_uploads SET held = \(from + Int64(part.count)), head = \(head), updated_at = \(self.clock())
                    WHERE sha256 = \(sha256) AND length = \(length) AND held = \(from) RETURNING 1
                    """, logger: self.logger
                ) {
                    updated = true
                }
                if updated { try await connection.query("SELECT lo_put(\(upload.object)::oid, \(from), \(part))", logger: self.logger) }
                return updated
            }
            guard moved else { throw FolderFileStore.mismatch(held: try await self.held(sha256, length: length)) }
            held += Int64(part.count)
            buffer.removeAll(keepingCapacity: true)
        }
        let needed = Int(min(Int64(AttachmentFile.sniffBytes), length))
        do {
            for try await chunk in bytes {
                guard !chunk.isEmpty else { continue }
                guard held + Int64(buffer.count) + Int64(chunk.count) <= length else {
                    throw DoorstepError(.malformedInput, "the body holds more bytes than Upload-Length leaves (\(length - start))")
                }
                buffer.append(contentsOf: chunk)
                if head.count < needed {
                    head.append(contentsOf: chunk.prefix(needed - head.count))
                    if head.count == needed, AttachmentFile.mediaType(ofFirstBytes: head) == nil { throw FolderFileStore.notAccepted() }
                }
                if buffer.count >= Self.flushBytes { try await flush() }
            }
            if start == 0, head.count < needed { throw FolderFileStore.notAccepted() }
            try await flush()
        } catch let error as DoorstepError where error.code == .malformedInput || error.code == .unsupportedMediaType {
            // As before the request: what it committed is given back (a refused type, the upload itself).
            try await storage.transaction { connection in
                if start == 0, error.code == .unsupportedMediaType {
                    // Only the row this request still holds, and so only its object: another request
                    // may have gone on with the upload meanwhile.
                    try await self.remove(
                        connection, "DELETE FROM file_uploads WHERE sha256 = \(sha256) AND length = \(length) AND held = \(held) RETURNING object::bigint")
                } else {
                    let kept = start == 0 ? Data() : head
                    try await connection.query(
                        "UPDATE file_uploads SET held = \(start), head = \(kept) WHERE sha256 = \(sha256) AND length = \(length) AND held = \(held)",
                        logger: self.logger)
                }
            }
            throw error
        } catch let error as DoorstepError where error.code == .uploadOffsetMismatch {
            throw error
        } catch {
            // The link was cut: what arrived is committed, and the next HEAD says so.
            try? await flush()
            throw error
        }
        guard held == length else { return .partial(held: held, length: length) }
        return try await finish(sha256, length: length)
    }

    /// The upload of `sha256` with `length`, begun if there is none (an expired one removed first).
    private func open(_ sha256: String, length: Int64) async throws -> Upload {
        let cutoff = clock() - Self.unfinishedLifetimeMillis
        return try await storage.transaction { connection in
            func find() async throws -> (Upload, Int64)? {
                for try await (object, held, head, updated) in try await connection.query(
                    "SELECT object::bigint, held, head, updated_at FROM file_uploads WHERE sha256 = \(sha256) AND length = \(length)",
                    logger: self.logger
                ).decode((Int64, Int64, Data, Int64).self) {
                    return (Upload(object: object, held: held, head: head), updated)
                }
                return nil
            }
            if let (upload, updated) = try await find() {
                guard updated < cutoff else { return upload }
                // Older than an unfinished upload is kept: gone, as if swept.
                try await self.remove(
                    connection, "DELETE FROM file_uploads WHERE sha256 = \(sha256) AND length = \(length) RETURNING object::bigint")
            }
            var inserted = false
            for try await _ in try await connection.query(
                """
                INSERT INTO file_uploads (sha256, length, object, held, head, updated_at)
                VALUES (\(sha256), \(length), 0, 0, \(Data()), \(self.clock())) ON CONFLICT DO NOTHING RETURNING 1
                """, logger: self.logger
            ) {
                inserted = true
            }
            guard inserted else {
                // Begun a moment ago by another request.
                guard let (upload, _) = try await find() else { throw DoorstepError(.internalError, "the file store could not begin an upload") }
                return upload
            }
            for try await object in try await connection.query(
                "UPDATE file_uploads SET object = lo_create(0) WHERE sha256 = \(sha256) AND length = \(length) RETURNING object::bigint",
                logger: self.logger
            ).decode(Int64.self) {
                return Upload(object: object, held: 0, head: Data())
            }
            throw DoorstepError(.internalError, "the file store could not begin an upload")
        }
    }

    /// What checking a whole upload found, committed before it is told.
    private enum Checked: Sendable {
        case whole(FileState)
        case refused(DoorstepError)
    }

    /// Checks a whole upload (its SHA-256 read back, its type) and names it in `files`, in one
    /// transaction holding its row; an upload that fails is removed and the refusal thrown after.
    private func finish(_ sha256: String, length: Int64) async throws -> FileState {
        let checked: Checked = try await storage.transaction { connection in
            var found: Upload?
            for try await (object, held, head) in try await connection.query(
                "SELECT object::bigint, held, head FROM file_uploads WHERE sha256 = \(sha256) AND length = \(length) FOR UPDATE",
                logger: self.logger
            ).decode((Int64, Int64, Data).self) {
                found = Upload(object: object, held: held, head: head)
            }
            guard let upload = found, upload.held == length else {
                // Finished by another request meanwhile, or no longer whole: as it stands.
                if let whole = try await self.whole(connection, sha256) { return .whole(whole) }
                return .whole(.partial(held: found?.held ?? 0, length: length))
            }
            var hasher = SHA256()
            var at: Int64 = 0
            var first = Data()
            while at < length {
                let count = Int32(min(Int64(1 << 20), length - at))
                var chunk = Data()
                for try await part in try await connection.query("SELECT lo_get(\(upload.object)::oid, \(at), \(count))", logger: self.logger)
                    .decode(Data.self)
                {
                    chunk = part
                }
                guard !chunk.isEmpty else { break }
                if at == 0 { first = chunk.prefix(AttachmentFile.sniffBytes) }
                hasher.update(data: chunk)
                at += Int64(chunk.count)
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            try await connection.query("DELETE FROM file_uploads WHERE sha256 = \(sha256) AND length = \(length)", logger: self.logger)
            guard at == length, digest == sha256, let type = AttachmentFile.mediaType(ofFirstBytes: first) else {
                try await connection.query("SELECT lo_unlink(\(upload.object)::oid)", logger: self.logger)
                return .refused(digest == sha256 ? FolderFileStore.notAccepted() : DoorstepError(.hashMismatch, rule: "hashMismatch"))
            }
            var named = false
            for try await _ in try await connection.query(
                """
                INSERT INTO files (sha256, size, media_type, object) VALUES (\(sha256), \(length), \(type.rawValue), \(upload.object)::oid)
                ON CONFLICT (sha256) DO NOTHING RETURNING 1
                """, logger: self.logger
            ) {
                named = true
            }
            if !named { try await connection.query("SELECT lo_unlink(\(upload.object)::oid)", logger: self.logger) }
            return .whole(.whole(length: length, mediaType: type))
        }
        switch checked {
        case .whole(let state): return state
        case .refused(let error): throw error
        }
    }

    private func whole(_ connection: PostgresConnection, _ sha256: String) async throws -> FileState? {
        for try await (size, type) in try await connection.query(
            "SELECT size, media_type FROM files WHERE sha256 = \(sha256)", logger: logger
        ).decode((Int64, String).self) {
            if let mediaType = AttachmentMediaType(rawValue: type) { return .whole(length: size, mediaType: mediaType) }
        }
        return nil
    }

    /// The bytes held of an upload, read apart (after a refused lock).
    private func held(_ sha256: String, length: Int64) async throws -> Int64 {
        try await storage.read { connection in
            for try await held in try await connection.query(
                "SELECT held FROM file_uploads WHERE sha256 = \(sha256) AND length = \(length)", logger: logger
            ).decode(Int64.self) {
                return held
            }
            return 0
        }
    }

    public func read(_ sha256: String, range: ClosedRange<Int64>) async throws -> AsyncThrowingStream<[UInt8], any Error>? {
        try FolderFileStore.check(sha256)
        let found: (object: Int64, size: Int64)? = try await storage.read { connection in
            for try await (object, size) in try await connection.query(
                "SELECT object::bigint, size FROM files WHERE sha256 = \(sha256)", logger: self.logger
            ).decode((Int64, Int64).self) {
                return (object, size)
            }
            return nil
        }
        guard let found else { return nil }
        guard range.lowerBound >= 0, range.upperBound < found.size else {
            throw DoorstepError(.invalidValue, "the range is outside the file")
        }
        let storage = self.storage
        let logger = self.logger
        let position = Mutex(range.lowerBound)
        let end = range.upperBound + 1
        return AsyncThrowingStream {
            let at = position.withLock { $0 }
            guard at < end else { return nil }
            let count = Int32(min(Int64(256 * 1024), end - at))
            let chunk: Data = try await storage.read { connection in
                for try await part in try await connection.query("SELECT lo_get(\(found.object)::oid, \(at), \(count))", logger: logger).decode(Data.self) {
                    return part
                }
                return Data()
            }
            guard !chunk.isEmpty else { throw DoorstepError(.internalError, "a stored file is shorter than it was") }
            position.withLock { $0 = at + Int64(chunk.count) }
            return [UInt8](chunk)
        }
    }

    public func removeUnfinished(before cutoff: Int64) async throws -> Int {
        try await storage.transaction { connection in
            try await self.remove(connection, "DELETE FROM file_uploads WHERE updated_at < \(cutoff) RETURNING object::bigint")
        }
    }

    public func statistics() async throws -> FileStoreStatistics {
        let cutoff = clock() - Self.unfinishedLifetimeMillis
        let (files, bytes, unfinished): (Int64, Int64, Int64) = try await storage.read { connection in
            for try await row in try await connection.query(
                """
                SELECT (SELECT COUNT(*) FROM files), (SELECT COALESCE(SUM(size), 0)::bigint FROM files),
                       (SELECT COUNT(*) FROM file_uploads WHERE updated_at >= \(cutoff))
                """, logger: logger
            ).decode((Int64, Int64, Int64).self) {
                return row
            }
            return (0, 0, 0)
        }
        return FileStoreStatistics(files: Int(files), bytes: bytes, unfinishedUploads: Int(unfinished), receiving: receiving.withLock { $0 })
    }

    public func wholeFiles() async throws -> [(sha256: String, length: Int64)] {
        try await storage.read { connection in
            var files: [(sha256: String, length: Int64)] = []
            for try await (sha, size) in try await connection.query("SELECT sha256, size FROM files ORDER BY sha256", logger: logger).decode(
                (String, Int64).self)
            {
                files.append((sha, size))
            }
            return files
        }
    }

    /// Runs a `DELETE … RETURNING object::bigint` of uploads and unlinks exactly the large objects
    /// of the rows it removed (an object that is already gone is passed over); how many rows.
    @discardableResult
    private func remove(_ connection: PostgresConnection, _ delete: PostgresQuery) async throws -> Int {
        var objects: [Int64] = []
        for try await object in try await connection.query(delete, logger: logger).decode(Int64.self) { objects.append(object) }
        for object in objects where object != 0 {
            try await connection.query(
                "SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE oid = \(object)::oid", logger: logger)
        }
        return objects.count
    }

    /// Sweeps unfinished uploads at most once an hour, when an upload request comes.
    private func sweepIfDue() { sweeps.sweepIfDue(self, now: clock()) }
}
