public import DoorstepCore
public import Foundation
import Synchronization

/// Where the server holds a file named by its SHA-256 (protocol 1.4, §17.2).
public enum FileState: Sendable, Hashable {
    /// No byte of it.
    case absent
    /// An upload has begun: `held` of `length` bytes, durable.
    case partial(held: Int64, length: Int64)
    /// Held whole, its hash checked, of the type its first bytes show.
    case whole(length: Int64, mediaType: AttachmentMediaType)

    /// The bytes held: what `Upload-Offset` says.
    public var held: Int64 {
        switch self {
        case .absent: 0
        case .partial(let held, _): held
        case .whole(let length, _): length
        }
    }

    /// The file's length once an upload of it has begun.
    public var length: Int64? {
        switch self {
        case .absent: nil
        case .partial(_, let length), .whole(let length, _): length
        }
    }

    /// `whole`, `partial` or `absent`: what `Doorstep-File` says.
    public var name: String {
        switch self {
        case .absent: "absent"
        case .partial: "partial"
        case .whole: "whole"
        }
    }
}

/// A content-addressed store of attachments' bytes, behind which the embedded default (a
/// folder beside the database, ``FolderFileStore``) and a shared store for several server
/// processes can stand. Uploads are resumable: bytes are appended at the offset the store
/// holds, made durable before the append returns, and a file counts only once whole with its
/// hash and type checked (`protocol/README.md` §17).
public protocol FileStore: Sendable {
    /// What the store holds of a file.
    func state(of sha256: String) async throws -> FileState

    /// Appends `bytes` to the file at `offset` (which must be what the store holds) for a file
    /// of `length` bytes; the state after, durable. Throws `uploadOffsetMismatch` (details
    /// `resumeFrom`), `payloadTooLarge`, `unsupportedMediaType`, `hashMismatch` or
    /// `malformedInput`, each changing nothing the store had acknowledged before.
    func append<Bytes: AsyncSequence & Sendable>(
        to sha256: String, offset: Int64, length: Int64, bytes: Bytes
    ) async throws -> FileState where Bytes.Element == [UInt8]

    /// The bytes `range` of a whole file, in chunks; `nil` when the file is not whole.
    func read(_ sha256: String, range: ClosedRange<Int64>) async throws -> AsyncThrowingStream<[UInt8], any Error>?

    /// Removes the unfinished uploads last written to before `cutoff` (Unix milliseconds).
    func removeUnfinished(before cutoff: Int64) async throws -> Int

    /// What the store holds and receives now, for metrics.
    func statistics() async throws -> FileStoreStatistics

    /// Every file held whole, by hash, with its length (for backups).
    func wholeFiles() async throws -> [(sha256: String, length: Int64)]
}

/// What a file store holds and receives now (`/metrics`).
public struct FileStoreStatistics: Sendable, Hashable {
    /// Files held whole, and their bytes.
    public var files: Int
    public var bytes: Int64
    /// Uploads begun and not finished (kept 7 days after their last write).
    public var unfinishedUploads: Int
    /// Upload requests being written now.
    public var receiving: Int

    public init(files: Int, bytes: Int64, unfinishedUploads: Int, receiving: Int) {
        self.files = files
        self.bytes = bytes
        self.unfinishedUploads = unfinishedUploads
        self.receiving = receiving
    }
}

extension FileStore {
    /// How long an unfinished upload is kept after its last write (§15).
    public static var unfinishedLifetimeMillis: Int64 { 7 * 86_400_000 }
}

extension FileStore {
    /// Stores a file whose bytes are all at hand (a bundle's, §14): appended from the byte the
    /// store holds of it (an upload of it under way is gone on from), checked as any upload.
    /// Returns the state after: whole, or the error of the check that refused it.
    public func put(_ sha256: String, data: Data) async throws -> FileState {
        let length = Int64(data.count)
        var offset: Int64 = 0
        var attempts = 0
        var startedOver = false
        while true {
            let current = try await state(of: sha256)
            if case .whole = current { return current }
            do {
                let state = try await append(to: sha256, offset: offset, length: length, bytes: DataChunks(data: data, from: Int(offset)))
                if case .whole = state { return state }
                offset = state.held
            } catch let error as DoorstepError where error.code == .hashMismatch && !startedOver {
                // An unfinished upload of other bytes under this hash was gone on from: the store
                // removed it; these bytes are checked already, so once more from the start.
                startedOver = true
                offset = 0
            } catch let error as DoorstepError where error.code == .uploadOffsetMismatch {
                // Another request is writing this file now, or holds part of it: go on from there.
                attempts += 1
                guard attempts < 20 else { throw error }
                offset = min(max(0, error.details.resumeFrom ?? 0), length)
                try await Task.sleep(for: .milliseconds(50 * attempts))
            }
        }
    }
}

/// When a file store last swept its unfinished uploads: a sweep at most once an hour, started
/// by an upload request (both stores).
final class SweepSchedule: Sendable {
    private let last = Mutex<Int64>(0)

    /// Starts `store`'s sweep of uploads older than their lifetime, if an hour has passed since the last.
    func sweepIfDue(_ store: some FileStore, now: Int64) {
        let due = last.withLock { last in
            guard now - last >= 3_600_000 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let cutoff = now - type(of: store).unfinishedLifetimeMillis
        Task { _ = try? await store.removeUnfinished(before: cutoff) }
    }
}

/// Bytes at hand as an upload's body: chunks of 1 MiB from an offset.
public struct DataChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let data: Data
    let from: Int

    /// The bytes of `data` from `from` on.
    public init(data: Data, from: Int = 0) {
        self.data = data
        self.from = from
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let data: Data
        var at: Int

        public mutating func next() async -> [UInt8]? {
            guard at < data.count else { return nil }
            let end = Swift.min(data.count, at + (1 << 20))
            defer { at = end }
            return [UInt8](data[(data.startIndex + at)..<(data.startIndex + end)])
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(data: data, at: from) }
}
