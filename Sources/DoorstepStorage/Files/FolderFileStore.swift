import Crypto
import DoorstepCore
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded file store: a folder beside the database. A whole file is `ab/<sha256>` (its
/// hash's first two digits as a subfolder); an upload under way is `partial/<sha256>-<length>`,
/// appended to, synced after each request, checked and renamed into place once whole, and the
/// folder synced, so a crash never leaves a half file counted as whole.
public final class FolderFileStore: FileStore {
    /// The folder (created if missing).
    public let root: URL
    private let clock: @Sendable () -> Int64
    /// The files an append is writing now: one writer per file.
    private let writing = Mutex<Set<String>>([])
    /// When unfinished uploads were last swept.
    private let sweeps = SweepSchedule()
    /// The files held whole and their bytes: counted from the folder once, then kept up to date.
    private let totals = Mutex<(files: Int, bytes: Int64)?>(nil)

    /// A store in `root`; `clock` gives Unix milliseconds (for the age of unfinished uploads).
    public init(root: URL, clock: @escaping @Sendable () -> Int64) throws {
        self.root = root
        self.clock = clock
        try FileManager.default.createDirectory(at: root.appendingPathComponent("partial"), withIntermediateDirectories: true)
    }

    private var partialFolder: URL { root.appendingPathComponent("partial") }

    private func wholePath(_ sha256: String) -> URL {
        root.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    private func partialPath(_ sha256: String, length: Int64) -> URL {
        partialFolder.appendingPathComponent("\(sha256)-\(length)")
    }

    /// The unfinished uploads of a file, one per length it was begun with (an upload is its hash
    /// and its length, so one begun with a wrong length holds no other back): path, length and the
    /// bytes held. One last written to more than ``unfinishedLifetimeMillis`` ago is removed here.
    private func partials(_ sha256: String) -> [(path: URL, length: Int64, held: Int64)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: partialFolder.path)) ?? []
        let cutoff = clock() - Self.unfinishedLifetimeMillis
        var found: [(path: URL, length: Int64, held: Int64)] = []
        for name in names where name.hasPrefix(sha256 + "-") {
            guard let length = Int64(name.dropFirst(sha256.count + 1)) else { continue }
            let path = partialFolder.appendingPathComponent(name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path.path) else { continue }
            if let modified = attributes[.modificationDate] as? Date, Int64(modified.timeIntervalSince1970 * 1000) < cutoff {
                try? FileManager.default.removeItem(at: path)
                continue
            }
            found.append((path, length, (attributes[.size] as? NSNumber)?.int64Value ?? 0))
        }
        return found.sorted { $0.held > $1.held }
    }

    public func state(of sha256: String) async throws -> FileState {
        try Self.check(sha256)
        if let whole = try wholeState(sha256) { return whole }
        if let partial = partials(sha256).first { return .partial(held: partial.held, length: partial.length) }
        return .absent
    }

    private func wholeState(_ sha256: String) throws -> FileState? {
        let path = wholePath(sha256)
        guard let handle = FileHandle(forReadingAtPath: path.path) else { return nil }
        defer { try? handle.close() }
        let head = try handle.read(upToCount: AttachmentFile.sniffBytes) ?? Data()
        let length = try handle.seekToEnd()
        guard let type = AttachmentFile.mediaType(ofFirstBytes: head) else { return nil }
        return .whole(length: Int64(length), mediaType: type)
    }

    public func append<Bytes: AsyncSequence & Sendable>(
        to sha256: String, offset: Int64, length: Int64, bytes: Bytes
    ) async throws -> FileState where Bytes.Element == [UInt8] {
        try Self.check(sha256)
        guard length >= 1 else {
            throw DoorstepError(.malformedInput, "Upload-Length must be a whole number of at least 1", details: ErrorDetails(field: "Upload-Length"))
        }
        guard length <= AttachmentFile.maxBytes else {
            throw DoorstepError(.payloadTooLarge, rule: "fileTooLarge", ErrorDetails(limit: AttachmentFile.maxBytes))
        }
        let key = "\(sha256)-\(length)"
        guard writing.withLock({ $0.insert(key).inserted }) else {
            // Another request is writing this upload now: go on from what it will have left.
            throw Self.mismatch(held: partials(sha256).first { $0.length == length }?.held ?? 0)
        }
        defer { _ = writing.withLock { $0.remove(key) } }
        if let whole = try wholeState(sha256) { return whole }
        let existing = partials(sha256).first { $0.length == length }
        // Every byte held but not yet checked (a check that failed for want of disk, say): check
        // it now, whatever this request sends.
        if let existing, existing.held == length { return try finish(sha256, path: existing.path, length: length) }
        let held = existing?.held ?? 0
        guard offset == held else {
            throw Self.mismatch(held: held)
        }
        if existing == nil { sweepIfDue() }
        let path = existing?.path ?? partialPath(sha256, length: length)
        if existing == nil {
            guard FileManager.default.createFile(atPath: path.path, contents: nil) else {
                throw DoorstepError(.internalError, "the file store could not create an upload")
            }
            Self.syncFolder(partialFolder)
        }
        guard let handle = FileHandle(forWritingAtPath: path.path) else {
            throw DoorstepError(.internalError, "the file store could not open an upload")
        }
        var written: Int64 = 0
        var head: [UInt8] = []
        let needed = Int(min(Int64(AttachmentFile.sniffBytes), length))
        do {
            defer { try? handle.close() }
            _ = try handle.seekToEnd()
            do {
                for try await chunk in bytes {
                    guard !chunk.isEmpty else { continue }
                    guard held + written + Int64(chunk.count) <= length else {
                        try handle.truncate(atOffset: UInt64(held))
                        try handle.synchronize()
                        throw DoorstepError(.malformedInput, "the body holds more bytes than Upload-Length leaves (\(length - held))")
                    }
                    try handle.write(contentsOf: chunk)
                    written += Int64(chunk.count)
                    if held == 0, head.count < needed {
                        head += chunk.prefix(needed - head.count)
                        if head.count == needed, AttachmentFile.mediaType(ofFirstBytes: head) == nil { throw Self.notAccepted() }
                    }
                }
            } catch let error as DoorstepError where error.code == .unsupportedMediaType {
                throw error
            } catch let error as DoorstepError where error.code == .malformedInput {
                throw error
            } catch {
                // The link was cut: what arrived is kept, durable, and the next HEAD says so.
                try? handle.synchronize()
                throw error
            }
            if held == 0, head.count < needed { throw Self.notAccepted() }
            try handle.synchronize()
        } catch let error as DoorstepError where error.code == .unsupportedMediaType {
            try? FileManager.default.removeItem(at: path)
            throw error
        }
        let now = held + written
        guard now == length else { return .partial(held: now, length: length) }
        return try finish(sha256, path: path, length: length)
    }

    /// Checks a whole upload and moves it into place; the upload is removed if it fails.
    private func finish(_ sha256: String, path: URL, length: Int64) throws -> FileState {
        var hasher = SHA256()
        var head: [UInt8] = []
        do {
            guard let handle = FileHandle(forReadingAtPath: path.path) else {
                throw DoorstepError(.internalError, "the file store could not read an upload")
            }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                if head.count < AttachmentFile.sniffBytes { head += chunk.prefix(AttachmentFile.sniffBytes - head.count) }
            }
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == sha256 else {
            try? FileManager.default.removeItem(at: path)
            throw DoorstepError(.hashMismatch, rule: "hashMismatch")
        }
        guard let type = AttachmentFile.mediaType(ofFirstBytes: head) else {
            try? FileManager.default.removeItem(at: path)
            throw Self.notAccepted()
        }
        let target = wholePath(sha256)
        let folder = target.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            Self.syncFolder(root)
        }
        if FileManager.default.fileExists(atPath: target.path) {
            try? FileManager.default.removeItem(at: path)
        } else {
            try FileManager.default.moveItem(at: path, to: target)
            totals.withLock { totals in
                if let counted = totals { totals = (counted.files + 1, counted.bytes + length) }
            }
        }
        Self.syncFolder(folder)
        Self.syncFolder(partialFolder)
        return .whole(length: length, mediaType: type)
    }

    public func read(_ sha256: String, range: ClosedRange<Int64>) async throws -> AsyncThrowingStream<[UInt8], any Error>? {
        try Self.check(sha256)
        let path = wholePath(sha256)
        guard let handle = FileHandle(forReadingAtPath: path.path) else { return nil }
        let size = Int64(try handle.seekToEnd())
        guard range.lowerBound >= 0, range.upperBound < size else {
            try? handle.close()
            throw DoorstepError(.invalidValue, "the range is outside the file")
        }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        let box = HandleBox(handle, left: range.upperBound - range.lowerBound + 1)
        return AsyncThrowingStream(unfolding: { try box.next() })
    }

    public func removeUnfinished(before cutoff: Int64) async throws -> Int {
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: partialFolder.path)) ?? [] {
            let path = partialFolder.appendingPathComponent(name)
            if writing.withLock({ $0.contains(name) }) { continue }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path.path)[.modificationDate] as? Date) ?? nil
            guard let modified, Int64(modified.timeIntervalSince1970 * 1000) < cutoff else { continue }
            if (try? FileManager.default.removeItem(at: path)) != nil { removed += 1 }
        }
        return removed
    }

    public func statistics() async throws -> FileStoreStatistics {
        var counted = totals.withLock { $0 }
        if counted == nil {
            let files = try await wholeFiles()
            let found = (files.count, files.reduce(0) { $0 + $1.length })
            counted = totals.withLock { totals in
                if totals == nil { totals = found }
                return totals
            }
        }
        let unfinished = ((try? FileManager.default.contentsOfDirectory(atPath: partialFolder.path)) ?? []).count
        return FileStoreStatistics(
            files: counted?.files ?? 0, bytes: counted?.bytes ?? 0, unfinishedUploads: unfinished, receiving: writing.withLock { $0.count })
    }

    public func wholeFiles() async throws -> [(sha256: String, length: Int64)] {
        var files: [(sha256: String, length: Int64)] = []
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] where folder.count == 2 {
            let url = root.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where AttachmentFile.isSHA256(name) {
                let size = (try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent(name).path)[.size] as? NSNumber)?.int64Value
                files.append((name, size ?? 0))
            }
        }
        return files.sorted { $0.sha256 < $1.sha256 }
    }

    /// Whether the folder holds a file whole (a failure to open it is not its absence).
    public func holdsWhole(_ sha256: String) -> Bool {
        (try? Self.check(sha256)) != nil && FileManager.default.fileExists(atPath: wholePath(sha256).path)
    }

    /// Removes a file held whole (a relay's copy once the city holds it); the bytes freed, 0 when
    /// it was not held. A read under way keeps its bytes until it ends.
    public func remove(_ sha256: String) throws -> Int64 {
        try Self.check(sha256)
        let path = wholePath(sha256)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path.path)[.size] as? NSNumber)?.int64Value else { return 0 }
        try FileManager.default.removeItem(at: path)
        totals.withLock { totals in
            if let counted = totals { totals = (counted.files - 1, counted.bytes - size) }
        }
        Self.syncFolder(path.deletingLastPathComponent())
        return size
    }

    /// Sweeps unfinished uploads at most once an hour, when a new one begins.
    private func sweepIfDue() { sweeps.sweepIfDue(self, now: clock()) }

    static func check(_ sha256: String) throws {
        guard AttachmentFile.isSHA256(sha256) else {
            throw DoorstepError(.invalidValue, rule: "sha256", ErrorDetails(field: "sha256", limit: 64))
        }
    }

    /// The upload does not start where the server holds the file to (another length, another
    /// offset, or another upload of it under way): send from `held`.
    static func mismatch(held: Int64) -> DoorstepError {
        DoorstepError(.uploadOffsetMismatch, rule: "uploadOffset", ErrorDetails(resumeFrom: held))
    }

    static func notAccepted() -> DoorstepError {
        DoorstepError(.unsupportedMediaType, rule: "mediaType", ErrorDetails(allowed: AttachmentMediaType.wireNames))
    }

    /// Syncs a folder, so that a file moved into it is there after a crash.
    public static func syncFolder(_ folder: URL) {
        let descriptor = open(folder.path, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }
}

/// A file handle read by one stream, one chunk at a time (the stream never asks twice at once).
private final class HandleBox: @unchecked Sendable {
    private let handle: FileHandle
    private var left: Int64

    init(_ handle: FileHandle, left: Int64) {
        self.handle = handle
        self.left = left
    }

    /// The next chunk of at most 256 KiB; `nil` (and the handle closed) after the last.
    func next() throws -> [UInt8]? {
        guard left > 0 else {
            try? handle.close()
            return nil
        }
        guard let data = try handle.read(upToCount: Int(min(left, 256 * 1024))), !data.isEmpty else {
            try? handle.close()
            throw DoorstepError(.internalError, "a stored file is shorter than it was")
        }
        left -= Int64(data.count)
        return [UInt8](data)
    }
}
