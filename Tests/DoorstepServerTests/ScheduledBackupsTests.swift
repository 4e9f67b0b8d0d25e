import DoorstepCore
import DoorstepStorage
import DoorstepTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import DoorstepServer

/// Backups the server makes itself (`backup.every`): each checked, the newest `keep` kept, the
/// files linked from the backup before, the last one's result in `/health` and `/metrics`.
@Suite struct ScheduledBackupsTests {
    static func prepared(keep: Int = 2, folder: String? = nil) async throws -> (DoorstepServerSetup, ServerConfiguration) {
        let data = Scratch.folder("scheduled-backups").path
        var configuration = ServerConfiguration(port: 0, dataDirectory: data)
        configuration.backups = BackupSchedule(every: 3_600, keep: keep, folder: folder ?? data + "/backups")
        let setup = try await DoorstepServerSetup.prepare(configuration: configuration, logger: Logger(label: "test"))
        return (setup, configuration)
    }

    @Test func eachBackupIsChecked_theNewestAreKept_andFilesAreLinkedFromTheOneBefore() async throws {
        let (setup, configuration) = try await Self.prepared(keep: 2)
        let backups = try #require(setup.api.backups)
        let photo = AttachmentTests.photo(40_000)
        let sha = AttachmentTests.sha(photo)
        _ = try await setup.api.files.put(sha, data: Data(photo))
        let folder = try #require(configuration.backups?.folder)
        // A backup made by hand into the folder, and one cut short (a kill mid-copy).
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("by hand".utf8).write(to: URL(fileURLWithPath: folder + "/doorstep-2020-04-30.sqlite"))
        try Data("cut short".utf8).write(to: URL(fileURLWithPath: folder + "/doorstep-20200101-000000-000.sqlite.part"))
        for _ in 0..<3 { #expect(await backups.backUp()) }
        let kept = backups.backups()
        #expect(kept.count == 2, "\(kept)")
        #expect(kept == kept.sorted() && kept.allSatisfy(ScheduledBackups.isScheduledName))
        for name in kept {
            let path = folder + "/" + name
            try SQLiteStorage.checkCopy(path)
            let summary = try FileStoreBackup.check(URL(fileURLWithPath: path + "-files"))
            #expect(summary.files == 1)
        }
        // The newest backup's file is the one before's, linked (one inode, two links).
        let copies = kept.map { "\(folder)/\($0)-files/\(sha.prefix(2))/\(sha)" }
        let attributes = try copies.map { try FileManager.default.attributesOfItem(atPath: $0) }
        #expect(attributes.map { $0[.systemFileNumber] as? NSNumber }.allSatisfy { $0 == attributes[0][.systemFileNumber] as? NSNumber })
        // Nothing of the removed backup is left.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(
            Set(names) == Set(kept + kept.map { $0 + "-files" } + ["doorstep-2020-04-30.sqlite"]), "the hand-made backup is never pruned, the cut one is swept")
        let status = backups.status.withLock { $0 }
        #expect(status.written == 3 && status.failed == 0 && status.lastSucceeded == true && status.lastFile == folder + "/" + (kept.last ?? ""))
    }

    @Test func aFailedBackup_isReportedInHealthAndMetrics_andTheServerStaysUp() async throws {
        let blocker = Scratch.folder("scheduled-backups-blocker").path + "/not-a-folder"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let (setup, _) = try await Self.prepared(folder: blocker)
        let backups = try #require(setup.api.backups)
        #expect(await backups.backUp() == false)
        let (healthy, body) = await setup.api.healthReport()
        #expect(healthy)
        guard case .object(let object) = body, case .object(let backup)? = object["backup"] else {
            Issue.record("no backup in \(body)")
            return
        }
        #expect(backup["lastSucceeded"] == .bool(false) && backup["failed"] == .int(1) && backup["lastError"] != nil)
        #expect(backup["lastSuccessAt"] == nil)
        setup.api.metrics.record(backups.status.withLock { $0 })
        let metrics = setup.api.metrics.text
        #expect(metrics.contains("doorstep_backup_last_succeeded 0"), "\(metrics)")
        #expect(metrics.contains("doorstep_backups_failed 1"))
    }

    @Test func theService_backsUpOnItsSchedule_untilShutdown() async throws {
        let (setup, configuration) = try await Self.prepared(keep: 10)
        let schedule = BackupSchedule(every: 0.15, keep: 10, folder: try #require(configuration.backups?.folder))
        let service = ScheduledBackups(configuration: configuration, schedule: schedule, logger: Logger(label: "test"), firstDelay: .milliseconds(20))
        _ = setup
        let task = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while service.status.withLock({ $0.written }) < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        try await task.value
        #expect(service.status.withLock { $0.written } >= 3)
        #expect(service.backups().count == service.status.withLock { $0.written })
    }
}
