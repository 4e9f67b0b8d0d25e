import DoorstepCore
import DoorstepStorage
public import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The last scheduled backup, for `/health` and `/metrics`.
public struct BackupStatus: Sendable, Hashable {
    /// When the last backup was tried and whether it was written and checked (`nil` before the
    /// first attempt since the server started).
    public var lastAttemptAt: Date?
    public var lastSucceeded: Bool?
    /// When the newest good backup was finished (also one made before the server started), its
    /// file and its size (the database and every file it holds).
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
/// so only new files are copied), named by the time in UTC (`doorstep-20261206-030000-000.sqlite`);
/// the newest `keep` are kept. A backup is written under a `.part` name and renamed once checked:
/// a backup cut short (a crash, a kill) is never taken for a good one, and is swept at the next.
/// Only names of this form are the schedule's: a backup made by hand into the same folder is
/// never pruned. The first comes one interval after the newest backup already in the folder, or a
/// minute after start when there is none or it is overdue. The copying runs on a thread of its
/// own, not on the threads that answer requests.
final class ScheduledBackups: Service, Sendable {
    let configuration: ServerConfiguration
    let schedule: BackupSchedule
    let logger: Logger
    let status: Mutex<BackupStatus>
    /// The wait before the first backup when none is due sooner.
    let firstDelay: Duration

    init(configuration: ServerConfiguration, schedule: BackupSchedule, logger: Logger, firstDelay: Duration = .seconds(60)) {
        self.configuration = configuration
        self.schedule = schedule
        self.logger = logger
        self.firstDelay = firstDelay
        var initial = BackupStatus()
        if let newest = Self.backups(in: schedule.folder).last {
            let path = (schedule.folder as NSString).appendingPathComponent(newest)
            initial.lastSuccessAt = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
            initial.lastFile = path
        }
        status = Mutex(initial)
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

    /// The schedule's backups in `folder`, oldest first.
    static func backups(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter(isScheduledName).sorted()
    }

    /// `doorstep-YYYYMMDD-HHMMSS-mmm.sqlite`, and nothing else.
    static func isScheduledName(_ name: String) -> Bool {
        let pattern = Array("doorstep-00000000-000000-000.sqlite".utf8)
        let bytes = Array(name.utf8)
        guard bytes.count == pattern.count else { return false }
        return zip(bytes, pattern).allSatisfy { byte, expected in expected == 0x30 ? (0x30...0x39).contains(byte) : byte == expected }
    }

    func backups() -> [String] { Self.backups(in: schedule.folder) }

    private func firstWait() -> Duration {
        guard let made = status.withLock({ $0.lastSuccessAt }) else { return firstDelay }
        let due = made.addingTimeInterval(schedule.every).timeIntervalSinceNow
        return due > 0 ? max(firstDelay, .milliseconds(Int64(due * 1000))) : firstDelay
    }

    private func path(_ name: String) -> String { (schedule.folder as NSString).appendingPathComponent(name) }

    /// The name of a backup started at `date`: after the newest one even if the clock went back
    /// (names sort by time, and the oldest are pruned), and not taken.
    private func name(at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "yyyyMMdd-HHmmss-SSS"
        var moment = date
        if let newest = backups().last, let made = formatter.date(from: String(newest.dropFirst("doorstep-".count).dropLast(".sqlite".count))),
            made >= moment
        {
            moment = made.addingTimeInterval(0.001)
        }
        var name = "doorstep-\(formatter.string(from: moment)).sqlite"
        for _ in 0..<1_000 where FileManager.default.fileExists(atPath: path(name)) {
            moment = moment.addingTimeInterval(0.001)
            name = "doorstep-\(formatter.string(from: moment)).sqlite"
        }
        return name
    }

    /// Writes one backup now, then removes the oldest beyond `keep`; never throws (a failure is
    /// logged and shown in `/health` and `/metrics`).
    @discardableResult
    func backUp() async -> Bool {
        let started = Date()
        status.withLock { $0.lastAttemptAt = started }
        let name = name(at: started)
        let target = path(name)
        let part = target + ".part"
        do {
            try FileManager.default.createDirectory(atPath: schedule.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            sweepParts()
            if let previous = backups().last {
                FileStoreBackup.link(from: URL(fileURLWithPath: path(previous) + "-files"), to: URL(fileURLWithPath: part + "-files"))
            }
            let configuration = configuration
            let summary = try await withTaskExecutorPreference(BackupThread.shared) {
                try await DoorstepServerSetup.backup(configuration: configuration, to: part)
            }
            // Checked: the files first, the database last, so a name without .part is always whole.
            try FileManager.default.moveItem(atPath: part + "-files", toPath: target + "-files")
            try FileManager.default.moveItem(atPath: part, toPath: target)
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
            for leftover in [part, part + "-files", target + "-files"] { try? FileManager.default.removeItem(atPath: leftover) }
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

    /// Removes what a backup cut short left (`….sqlite.part`, `….sqlite.part-files`).
    private func sweepParts() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: schedule.folder)) ?? []
        where name.hasPrefix("doorstep-") && (name.hasSuffix(".sqlite.part") || name.hasSuffix(".sqlite.part-files")) {
            try? FileManager.default.removeItem(atPath: path(name))
        }
    }

    /// Removes the oldest of the schedule's backups beyond `keep` (each with its folder of files).
    private func prune() {
        for name in backups().dropLast(schedule.keep) {
            for suffix in ["-files", "-wal", "-shm", "-journal", ""] { try? FileManager.default.removeItem(atPath: path(name) + suffix) }
            logger.info("old backup removed", metadata: ["file": "\(path(name))"])
        }
    }
}

/// A thread of its own for the backups' copying and checking (SQLite's backup, the integrity
/// check and the files are blocking calls): the threads that answer requests go on meanwhile.
final class BackupThread: TaskExecutor {
    static let shared = BackupThread()
    private let queue = DispatchQueue(label: "doorstep.backups")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
