import DoorstepCore
import DoorstepStorage
import Foundation

/// What `doorstep-server backup` wrote.
public struct BackupSummary: Sendable, Hashable {
    /// The copy of the database.
    public var database: String
    /// The folder of attachments' files beside it (`<database>-files`).
    public var filesFolder: String
    /// The files in that folder, their bytes, and those copied this time.
    public var files: Int
    public var fileBytes: Int64
    public var filesCopied: Int
}

/// What `doorstep-server restore` did.
public struct RestoreSummary: Sendable, Hashable {
    /// The database now in the data folder.
    public var database: String
    /// Where the database it replaced was set aside (`--replace`), if there was one.
    public var setAside: String?
    /// The attachments' files of the backup, and those put into the store (the others it held).
    public var files: Int
    public var filesCopied: Int
}

extension DoorstepServerSetup {
    /// Writes a consistent copy of the database while the server may be running, checks it
    /// (`PRAGMA integrity_check`), then copies the attachments' files the server holds whole into
    /// the folder `<path>-files` beside it. Files only ever arrive, never change, and are copied
    /// after the database: every file the server held when the copy was made is in the folder
    /// (an attachment whose bytes had not arrived yet is awaited, as it was on the server, and
    /// sent again by its laptop after a restore). A backup into a folder that holds an earlier
    /// one's files copies only the new ones.
    @discardableResult
    public static func backup(configuration: ServerConfiguration, to path: String) async throws -> BackupSummary {
        guard configuration.databaseURL == nil else {
            throw DoorstepError(
                .invalidOperation,
                "back up a PostgreSQL database with pg_dump (its large objects hold the attachments' files); `backup` copies the embedded SQLite database and its files"
            )
        }
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw DoorstepError(.notFound, "no database at \(configuration.databasePath)")
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw DoorstepError(.invalidValue, "\(path) exists already; a backup never overwrites a file")
        }
        let storage = try SQLiteStorage(path: configuration.databasePath)
        try await storage.backup(to: path)
        do {
            try SQLiteStorage.checkCopy(path)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let store = try FolderFileStore(root: URL(fileURLWithPath: configuration.filesDirectory), clock: configuration.clock)
        let folder = path + "-files"
        let files = try await FileStoreBackup.write(store, to: URL(fileURLWithPath: folder))
        return BackupSummary(database: path, filesFolder: folder, files: files.files, fileBytes: files.bytes, filesCopied: files.copied)
    }

    /// Restores a backup into a data folder: the database (checked first) and the files of the
    /// folder `<backup>-files` (each checked by its hash and type). Refuses while a server runs
    /// on the folder; refuses a backup without its folder of files unless `withoutFiles` (a
    /// backup made before backups held files); and refuses a folder that holds a database unless
    /// `replace`, in which case that database is set aside beside it
    /// (`doorstep.sqlite.before-restore-<time>`), never deleted. The restored copy is made whole
    /// and synced beside the database before anything is set aside; a backup that fails a check,
    /// or a copy that fails, changes nothing.
    public static func restore(
        from backup: String, configuration: ServerConfiguration, replace: Bool, withoutFiles: Bool = false
    ) async throws -> RestoreSummary {
        guard configuration.databaseURL == nil else {
            throw DoorstepError(.invalidOperation, "restore a PostgreSQL database with pg_restore; `restore` puts back the embedded SQLite database")
        }
        let data = configuration.dataDirectory
        guard !DataFolderLock.isHeld(data) else { throw DataFolderLock.held(data) }
        guard FileManager.default.fileExists(atPath: backup) else { throw DoorstepError(.notFound, "no backup at \(backup)") }
        try SQLiteStorage.checkCopy(backup)
        let filesFolder = URL(fileURLWithPath: backup + "-files")
        var isFolder: ObjCBool = false
        let hasFiles = FileManager.default.fileExists(atPath: filesFolder.path, isDirectory: &isFolder) && isFolder.boolValue
        guard hasFiles || withoutFiles else {
            throw DoorstepError(
                .notFound,
                "no folder \(filesFolder.path) beside the backup: a backup keeps the attachments' files there; restore with --without-files to put back only the database (a backup made before backups held files)"
            )
        }
        if hasFiles { _ = try FileStoreBackup.check(filesFolder) }
        let database = configuration.databasePath
        let exists = FileManager.default.fileExists(atPath: database)
        guard !exists || replace else {
            throw DoorstepError(
                .invalidOperation, "\(data) holds a database already; restore with --replace to set it aside and put the backup in its place")
        }
        // Held while restoring: a server started meanwhile stops at once.
        let lock = try DataFolderLock.acquire(data)
        // The copy first, whole and synced beside the database: a failure here changes nothing.
        let partial = database + ".restoring"
        do {
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.copyItem(atPath: backup, toPath: partial)
            // Cursors issued before the restore are refused from now on: devices pull again (§9).
            try SQLiteStorage.markRestored(partial, epoch: UUID().uuidString.lowercased(), at: Instant.format(Date(), in: .gmt))
            guard let handle = FileHandle(forWritingAtPath: partial) else {
                throw DoorstepError(.internalError, "cannot open \(partial) to sync it")
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        // Then the database there (and its journal files, even without it) set aside, the copy renamed in.
        let stamp = Instant.format(Date(), in: .gmt).replacingOccurrences(of: ":", with: "-")
        let aside = database + ".before-restore-\(stamp)"
        var moved: [(from: String, to: String)] = []
        do {
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
                try FileManager.default.moveItem(atPath: database + suffix, toPath: aside + suffix)
                moved.append((database + suffix, aside + suffix))
            }
            try FileManager.default.moveItem(atPath: partial, toPath: database)
        } catch {
            for (from, to) in moved.reversed() { try? FileManager.default.moveItem(atPath: to, toPath: from) }
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        FolderFileStore.syncFolder(URL(fileURLWithPath: data))
        var files = FileStoreBackup.Summary()
        if hasFiles {
            let store = try FolderFileStore(root: URL(fileURLWithPath: configuration.filesDirectory), clock: configuration.clock)
            files = try await FileStoreBackup.restore(from: filesFolder, into: store)
        }
        withExtendedLifetime(lock) {}
        return RestoreSummary(database: database, setAside: exists ? aside : nil, files: files.files, filesCopied: files.copied)
    }
}
