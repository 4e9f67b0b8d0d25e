import Crypto
import DoorstepCore
public import Foundation

/// Attachments' files in a backup: a folder laid out as the embedded store's (`ab/<sha256>`),
/// written from any ``FileStore`` and restored into any, every file checked by its hash and type.
public enum FileStoreBackup {
    /// What a backup or a restore of files did.
    public struct Summary: Sendable, Hashable {
        /// The files the backup holds (or the restore put into the store).
        public var files = 0
        /// Their bytes.
        public var bytes: Int64 = 0
        /// The files copied this time; the others were in the folder already (an earlier backup
        /// into the same folder) or in the store already (a restore).
        public var copied = 0

        /// Nothing yet.
        public init() {}
    }

    /// Copies every whole file of `store` into `folder`: each written beside, synced and renamed
    /// into place, so a backup cut short never holds a half file under a hash. A file the folder
    /// holds already with its length is kept (files never change: a backup into the same folder
    /// copies only the new ones).
    public static func write(_ store: any FileStore, to folder: URL) async throws -> Summary {
        var summary = Summary()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for file in try await store.wholeFiles() {
            let target = path(of: file.sha256, in: folder)
            summary.files += 1
            summary.bytes += file.length
            if size(of: target) == file.length { continue }
            guard file.length > 0, let stream = try await store.read(file.sha256, range: 0...(file.length - 1)) else { continue }
            let subfolder = target.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: subfolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let part = subfolder.appendingPathComponent(".\(file.sha256).part")
            guard FileManager.default.createFile(atPath: part.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: part.path)
            else {
                throw DoorstepError(.internalError, "cannot write the backup's files into \(folder.path)")
            }
            do {
                for try await chunk in stream { try handle.write(contentsOf: chunk) }
                try handle.synchronize()
                try handle.close()
                if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
                try FileManager.default.moveItem(at: part, to: target)
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(at: part)
                throw error
            }
            FolderFileStore.syncFolder(subfolder)
            summary.copied += 1
        }
        FolderFileStore.syncFolder(folder)
        return summary
    }

    /// Checks every file of a backup folder without changing anything: named by a SHA-256, its
    /// bytes of that hash and of an accepted type. Throws `invalidValue` naming the first file
    /// that is not; returns what the folder holds.
    public static func check(_ folder: URL) throws -> Summary {
        var summary = Summary()
        for (sha256, url) in try files(in: folder) {
            guard let handle = FileHandle(forReadingAtPath: url.path) else {
                throw DoorstepError(.invalidValue, "the backup's file \(url.path) cannot be read")
            }
            defer { try? handle.close() }
            var hasher = SHA256()
            var head = Data()
            var length: Int64 = 0
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                if head.count < AttachmentFile.sniffBytes { head.append(chunk.prefix(AttachmentFile.sniffBytes - head.count)) }
                length += Int64(chunk.count)
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            guard digest == sha256, AttachmentFile.mediaType(ofFirstBytes: head) != nil, length <= AttachmentFile.maxBytes else {
                throw DoorstepError(.invalidValue, "the backup's file \(url.path) is damaged: its bytes are not the file its name says")
            }
            summary.files += 1
            summary.bytes += length
        }
        return summary
    }

    /// Puts every file of a backup folder into `store`, each checked by the store as an upload
    /// is (hash, type); one the store holds already is left as it is.
    public static func restore(from folder: URL, into store: any FileStore) async throws -> Summary {
        var summary = Summary()
        for (sha256, url) in try files(in: folder) {
            let data = try Data(contentsOf: url)
            summary.files += 1
            summary.bytes += Int64(data.count)
            if case .whole = try await store.state(of: sha256) { continue }
            _ = try await store.put(sha256, data: data)
            summary.copied += 1
        }
        return summary
    }

    /// Hard-links every file of an earlier backup's folder into a new one (files never change), so
    /// that ``write(_:to:)`` then copies only the files that arrived since; returns how many were
    /// linked. A file that cannot be linked (another file system) is left for `write` to copy.
    @discardableResult
    public static func link(from earlier: URL, to folder: URL) -> Int {
        var linked = 0
        for (sha256, url) in (try? files(in: earlier)) ?? [] {
            let target = path(of: sha256, in: folder)
            guard
                (try? FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])) != nil
            else { continue }
            if (try? FileManager.default.linkItem(at: url, to: target)) != nil { linked += 1 }
        }
        return linked
    }

    /// The files of a backup folder: `ab/<sha256>` (other names, such as a copy cut short, are not files).
    static func files(in folder: URL) throws -> [(String, URL)] {
        var found: [(String, URL)] = []
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where sub.count == 2 {
            let url = folder.appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where AttachmentFile.isSHA256(name) && name.hasPrefix(sub) {
                found.append((name, url.appendingPathComponent(name)))
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    static func path(of sha256: String, in folder: URL) -> URL {
        folder.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    static func size(of url: URL) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
    }
}
