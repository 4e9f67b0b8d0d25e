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
    /// the folder `<path>-files` beside it. Files only ever arrive, never change, so every file
    /// the copied database names is in that folder (copied after it); a backup into a folder
    /// that holds an earlier one's files copies only the new ones.
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
    /// on the folder, and refuses a folder that holds a database unless `replace`, in which case
    /// that database is set aside beside it (`doorstep.sqlite.before-restore-<time>`), never
    /// deleted. A backup that fails a check changes nothing.
    public static func restore(from backup: String, configuration: ServerConfiguration, replace: Bool) async throws -> RestoreSummary {
        guard configuration.databaseURL == nil else {
            throw DoorstepError(.invalidOperation, "restore a PostgreSQL database with pg_restore; `restore` puts back the embedded SQLite database")
        }
        let data = configuration.dataDirectory
        guard !DataFolderLock.isHeld(data) else { throw DataFolderLock.held(data) }
        guard FileManager.default.fileExists(atPath: backup) else { throw DoorstepError(.notFound, "no backup at \(backup)") }
        try SQLiteStorage.checkCopy(backup)
        let filesFolder = URL(fileURLWithPath: backup + "-files")
        _ = try FileStoreBackup.check(filesFolder)
        let database = configuration.databasePath
        let exists = FileManager.default.fileExists(atPath: database)
        guard !exists || replace else {
            throw DoorstepError(
                .invalidOperation, "\(data) holds a database already; restore with --replace to set it aside and put the backup in its place")
        }
        // Held while restoring: a server started meanwhile stops at once.
        let lock = try DataFolderLock.acquire(data)
        var setAside: String?
        if exists {
            let stamp = Instant.format(Date(), in: .gmt).replacingOccurrences(of: ":", with: "-")
            let aside = database + ".before-restore-\(stamp)"
            try FileManager.default.moveItem(atPath: database, toPath: aside)
            for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
                try FileManager.default.moveItem(atPath: database + suffix, toPath: aside + suffix)
            }
            setAside = aside
        }
        let partial = database + ".restoring"
        try? FileManager.default.removeItem(atPath: partial)
        try FileManager.default.copyItem(atPath: backup, toPath: partial)
        // Cursors issued before the restore are refused from now on: devices pull again (§9).
        try SQLiteStorage.markRestored(partial, epoch: UUID().uuidString.lowercased())
        if let handle = FileHandle(forWritingAtPath: partial) {
            try handle.synchronize()
            try handle.close()
        }
        try FileManager.default.moveItem(atPath: partial, toPath: database)
        let store = try FolderFileStore(root: URL(fileURLWithPath: configuration.filesDirectory), clock: configuration.clock)
        let files = try await FileStoreBackup.restore(from: filesFolder, into: store)
        withExtendedLifetime(lock) {}
        return RestoreSummary(database: database, setAside: setAside, files: files.files, filesCopied: files.copied)
    }
}
