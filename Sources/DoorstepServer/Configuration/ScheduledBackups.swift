import DoorstepCore
import DoorstepStorage
public import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The last scheduled backup, for `/health` and `/metrics`.
public struct BackupStatus: Sendable, Hashable {
    /// When the last backup was tried and whether it was written and checked.
    public var lastAttemptAt: Date?
    public var lastSucceeded: Bool?
    /// When the last good backup was finished, its file and its size (database and new files).
    public var lastSuccessAt: Date?
    public var lastFile: String?
    public var lastBytes: Int64 = 0
    /// Why the last backup failed.
    public var lastError: String?
    /// Backups written and failed since the server started.
    public var written = 0
    public var failed = 0
}

/// Backups the server makes itself (`backup.every`): a copy of the database, checked with SQLite's
/// integrity check, and the attachments' files beside it (hard-linked from the previous backup,
/// so only new files are copied), named by the time (`doorstep-20261206-030000-000.sqlite`, UTC); the
/// newest `keep` are kept. The first comes one interval after the newest backup already in the
/// folder, or a minute after start when there is none or it is overdue.
final class ScheduledBackups: Service, Sendable {
    let configuration: ServerConfiguration
    let schedule: BackupSchedule
    let logger: Logger
    let status = Mutex(BackupStatus())
    /// The wait before the first backup when none is due sooner.
    let firstDelay: Duration

    init(configuration: ServerConfiguration, schedule: BackupSchedule, logger: Logger, firstDelay: Duration = .seconds(60)) {
        self.configuration = configuration
        self.schedule = schedule
        self.logger = logger
        self.firstDelay = firstDelay
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var wait = self.firstWait()
                while true {
                    try await Task.sleep(for: wait)
                    await self.backUp()
                    wait = .milliseconds(Int64(self.schedule.every * 1000))
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// The backups in the folder, oldest first.
    func backups() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: schedule.folder)) ?? []
        return names.filter { $0.hasPrefix("doorstep-") && $0.hasSuffix(".sqlite") }.sorted()
    }

    private func firstWait() -> Duration {
        guard let newest = backups().last,
            let made = (try? FileManager.default.attributesOfItem(atPath: path(newest))[.modificationDate]) as? Date
        else { return firstDelay }
        let due = made.addingTimeInterval(schedule.every).timeIntervalSinceNow
        return due > 0 ? max(firstDelay, .seconds(due)) : firstDelay
    }

    private func path(_ name: String) -> String { (schedule.folder as NSString).appendingPathComponent(name) }

    /// Writes one backup now, then removes the oldest beyond `keep`; never throws (a failure is
    /// logged and shown in `/health` and `/metrics`).
    @discardableResult
    func backUp() async -> Bool {
        let started = Date()
        status.withLock { $0.lastAttemptAt = started }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "yyyyMMdd-HHmmss-SSS"
        // Names sort by time: a name taken already (two backups in one millisecond) moves on a millisecond.
        var moment = started
        var name = "doorstep-\(formatter.string(from: moment)).sqlite"
        while FileManager.default.fileExists(atPath: path(name)) || (backups().last.map { $0 >= name } ?? false) {
            moment = moment.addingTimeInterval(0.001)
            name = "doorstep-\(formatter.string(from: moment)).sqlite"
        }
        let target = path(name)
        do {
            try FileManager.default.createDirectory(atPath: schedule.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if let previous = backups().last {
                FileStoreBackup.link(from: URL(fileURLWithPath: path(previous) + "-files"), to: URL(fileURLWithPath: target + "-files"))
            }
            let summary = try await DoorstepServerSetup.backup(configuration: configuration, to: target)
            let size = ((try? FileManager.default.attributesOfItem(atPath: target)[.size]) as? NSNumber)?.int64Value ?? 0
            status.withLock {
                $0.lastSucceeded = true
                $0.lastSuccessAt = Date()
                $0.lastFile = target
                $0.lastBytes = size + summary.fileBytes
                $0.lastError = nil
                $0.written += 1
            }
            logger.notice(
                "backup written and checked",
                metadata: ["file": "\(target)", "bytes": "\(size)", "files": "\(summary.files)", "filesCopied": "\(summary.filesCopied)"])
            prune()
            return true
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            try? FileManager.default.removeItem(atPath: target + "-files")
            let message = (error as? DoorstepError)?.message ?? String(describing: error)
            status.withLock {
                $0.lastSucceeded = false
                $0.lastError = message
                $0.failed += 1
            }
            logger.error("backup failed", metadata: ["file": "\(target)", "error": "\(message)"])
            return false
        }
    }

    /// Removes the oldest backups beyond `keep` (each with its folder of files).
    private func prune() {
        let all = backups()
        for name in all.dropLast(schedule.keep) {
            for suffix in ["-files", "-wal", "-shm", "-journal", ""] { try? FileManager.default.removeItem(atPath: path(name) + suffix) }
            logger.info("old backup removed", metadata: ["file": "\(path(name))"])
        }
    }
}
