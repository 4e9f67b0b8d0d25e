import DoorstepCore
import DoorstepStorage
import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The server's metrics, in one registry per application (no process-wide state), served as
/// Prometheus text at `GET /metrics`.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let pushes: Counter
    private let pulls: Counter
    private let refusedBatches: Counter
    private let outcomes: [MutationOutcome: Counter]
    private let conflictFields: Counter
    private let uploads: Counter
    private let resumedUploads: Counter
    private let receivedBytes: Counter
    private let filesWhole: Counter
    private let tallyCounted: Counter
    private let storedFiles: Gauge
    private let storedBytes: Gauge
    private let unfinishedUploads: Gauge
    private let receivingUploads: Gauge
    /// The scheduled backups' gauges, only on a server that makes them (a gauge reads 0 until
    /// set: on another server it would say a backup failed).
    private let backupGauges: BackupGauges?

    private struct BackupGauges {
        let lastSuccess: Gauge
        let lastAttempt: Gauge
        let lastOK: Gauge
        let lastBytes: Gauge
        let written: Gauge
        let failed: Gauge
    }
    private let writeTransactions: Counter
    private let devicesActive: Gauge
    private let devicesSilent: Gauge
    private let devicesNotSyncedSinceRestore: Gauge
    private let lostSeqs: Gauge
    private let reviewOpen: [String: Gauge]
    private let diskFree: Gauge
    private let diskSize: Gauge
    private let writeLockWait: Counter
    private let writeLockHeld: Counter
    private let mergeRetries: Counter
    /// The storage's write-lock figures at the last reading (the counters grow by the difference).
    private let writeLockSeen = Mutex(WriteLockStatistics())

    /// The registry; with `backups`, the scheduled backups' gauges too.
    init(backups: Bool = false) {
        pushes = registry.makeCounter(descriptor: Self.name("pushes", "total", "Batches applied"))
        pulls = registry.makeCounter(descriptor: Self.name("pull_pages", "total", "Pull pages served"))
        refusedBatches = registry.makeCounter(descriptor: Self.name("push_refused", "total", "Batches refused as a whole"))
        var outcomes: [MutationOutcome: Counter] = [:]
        for outcome in [MutationOutcome.applied, .alreadyApplied, .conflict, .rejected] {
            outcomes[outcome] = registry.makeCounter(
                descriptor: Self.name("mutations", "total", "Mutations by outcome"), labels: [("outcome", outcome.rawValue)])
        }
        self.outcomes = outcomes
        conflictFields = registry.makeCounter(descriptor: Self.name("conflicts", "total", "Fields left in conflict by a write"))
        uploads = registry.makeCounter(descriptor: Self.name("file_upload_requests", "total", "Upload requests answered 204"))
        resumedUploads = registry.makeCounter(descriptor: Self.name("file_uploads_resumed", "total", "Upload requests that went on from bytes held"))
        receivedBytes = registry.makeCounter(descriptor: Self.name("file_received", "bytes", "Bytes of files received and kept"))
        filesWhole = registry.makeCounter(descriptor: Self.name("files_completed", "total", "Uploads that made a file whole"))
        tallyCounted = registry.makeCounter(
            descriptor: Self.name("tally_households_counted", "total", "Households counted again into the office tally after a change"))
        storedFiles = registry.makeGauge(descriptor: Self.name("files_stored", "", "Attachments' files held whole"))
        storedBytes = registry.makeGauge(descriptor: Self.name("files_stored", "bytes", "Bytes of the attachments' files held whole"))
        unfinishedUploads = registry.makeGauge(
            descriptor: Self.name("file_uploads_unfinished", "", "Uploads begun and not finished (kept 7 days after their last write)"))
        receivingUploads = registry.makeGauge(descriptor: Self.name("file_uploads_receiving", "", "Upload requests being received now"))
        backupGauges =
            backups
            ? BackupGauges(
                lastSuccess: registry.makeGauge(
                    descriptor: Self.name(
                        "backup_last_success", "timestamp_seconds", "When the newest scheduled backup was written and checked (Unix time)")),
                lastAttempt: registry.makeGauge(
                    descriptor: Self.name(
                        "backup_last_attempt", "timestamp_seconds", "When the last scheduled backup was tried (Unix time; 0 before the first)")),
                lastOK: registry.makeGauge(
                    descriptor: Self.name("backup_last_succeeded", "", "1 if the last scheduled backup was written and checked, 0 if it failed")),
                lastBytes: registry.makeGauge(
                    descriptor: Self.name("backup_last", "bytes", "Bytes of the last good backup: its database and every file it holds")),
                written: registry.makeGauge(descriptor: Self.name("backups_written", "", "Scheduled backups written since the server started")),
                failed: registry.makeGauge(descriptor: Self.name("backups_failed", "", "Scheduled backups that failed since the server started")))
            : nil
        devicesActive = registry.makeGauge(descriptor: Self.name("devices_enrolled", "", "Devices enrolled and not revoked"))
        devicesSilent = registry.makeGauge(
            descriptor: Self.name(
                "devices_silent_3d", "", "Devices enrolled and not revoked that have not synced for 3 days (or since their enrollment 3 days ago)"))
        devicesNotSyncedSinceRestore = registry.makeGauge(
            descriptor: Self.name(
                "devices_unsynced_since_restore", "",
                "Devices not revoked that have not caught up since the last restore from a backup: their work after the backup may still be missing (0 on a server never restored)"
            ))
        lostSeqs = registry.makeGauge(
            descriptor: Self.name(
                "lost_mutations", "", "Mutations devices declared lost: confirmed once, lost by a restore, no longer on the laptop (protocol 1.7)"))
        var reviewOpen: [String: Gauge] = [:]
        for kind in ["conflicts", "duplicates", "rejections"] {
            reviewOpen[kind] = registry.makeGauge(
                descriptor: Self.name("review_open", "", "Items waiting in the offices' review queue, by kind"), labels: [("kind", kind)])
        }
        self.reviewOpen = reviewOpen
        diskFree = registry.makeGauge(descriptor: Self.name("data_disk_free", "bytes", "Free bytes on the file system of the data folder"))
        diskSize = registry.makeGauge(descriptor: Self.name("data_disk_size", "bytes", "Size of the file system of the data folder"))
        writeTransactions = registry.makeCounter(
            descriptor: Self.name("write_lock_transactions", "total", "Write transactions that took the database's write lock (PostgreSQL)"))
        writeLockWait = registry.makeCounter(
            descriptor: Self.name("write_lock_wait", "seconds_total", "Seconds write transactions waited for the write lock (PostgreSQL)"))
        writeLockHeld = registry.makeCounter(
            descriptor: Self.name("write_lock_held", "seconds_total", "Seconds write transactions held the write lock, to their commit (PostgreSQL)"))
        mergeRetries = registry.makeCounter(
            descriptor: Self.name(
                "write_lock_retries", "total", "Pushes begun again because another push held a household, device or national ID they needed (PostgreSQL)"))
    }

    /// Sets the file store's gauges, before the metrics are read.
    func record(_ statistics: FileStoreStatistics) {
        storedFiles.set(Int64(statistics.files))
        storedBytes.set(statistics.bytes)
        unfinishedUploads.set(Int64(statistics.unfinishedUploads))
        receivingUploads.set(Int64(statistics.receiving))
    }

    /// Sets the devices' gauges from every device record, before the metrics are read.
    func record(devices list: DeviceList, now: Date) {
        let devices = list.devices
        devicesNotSyncedSinceRestore.set(Int64(list.notSyncedSinceRestore.count))
        lostSeqs.set(list.lostMutations)
        let active = devices.filter { !$0.isRevoked }
        let limit = now.addingTimeInterval(-3 * 86_400)
        let silent = active.filter { device in
            let last = [device.lastPushAt, device.lastPullAt, device.enrolledAt].compactMap { $0.flatMap(Instant.parse) }.max()
            return (last ?? .distantPast) < limit
        }
        devicesActive.set(Int64(active.count))
        devicesSilent.set(Int64(silent.count))
    }

    /// Sets the review queue's gauges.
    func record(review: ReviewQueue) {
        reviewOpen["conflicts"]?.set(Int64(review.conflicts.count))
        reviewOpen["duplicates"]?.set(Int64(review.duplicates.count))
        reviewOpen["rejections"]?.set(Int64(review.rejections.count))
    }

    /// Sets the data folder's disk gauges.
    func recordDisk(of folder: String) {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: folder) else { return }
        if let free = attributes[.systemFreeSize] as? NSNumber { diskFree.set(free.int64Value) }
        if let size = attributes[.systemSize] as? NSNumber { diskSize.set(size.int64Value) }
    }

    /// Sets the scheduled backups' gauges, before the metrics are read.
    func record(_ status: BackupStatus) {
        guard let gauges = backupGauges else { return }
        if let at = status.lastSuccessAt { gauges.lastSuccess.set(at.timeIntervalSince1970) }
        if let at = status.lastAttemptAt { gauges.lastAttempt.set(at.timeIntervalSince1970) }
        // Before the first attempt since start, the last result is the newest backup's: good.
        gauges.lastOK.set(Int64((status.lastSucceeded ?? (status.lastSuccessAt != nil)) ? 1 : 0))
        gauges.lastBytes.set(status.lastBytes)
        gauges.written.set(Int64(status.written))
        gauges.failed.set(Int64(status.failed))
    }

    /// Brings the write-lock counters up to the storage's figures, before the metrics are read.
    func record(_ statistics: WriteLockStatistics) {
        // Readings may arrive out of order (two scrapes at once): the counters only go forward.
        let seen = writeLockSeen.withLock { seen in
            defer {
                seen.transactions = max(seen.transactions, statistics.transactions)
                seen.waitSeconds = max(seen.waitSeconds, statistics.waitSeconds)
                seen.heldSeconds = max(seen.heldSeconds, statistics.heldSeconds)
                seen.retries = max(seen.retries, statistics.retries)
            }
            return seen
        }
        if statistics.transactions > seen.transactions { writeTransactions.increment(by: Int64(statistics.transactions - seen.transactions)) }
        if statistics.waitSeconds > seen.waitSeconds { writeLockWait.increment(by: statistics.waitSeconds - seen.waitSeconds) }
        if statistics.heldSeconds > seen.heldSeconds { writeLockHeld.increment(by: statistics.heldSeconds - seen.heldSeconds) }
        if statistics.retries > seen.retries { mergeRetries.increment(by: Int64(statistics.retries - seen.retries)) }
    }

    /// The metrics as Prometheus text, as `GET /metrics` sends them.
    var text: String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }

    /// `doorstep_NAME_UNIT`, as Prometheus names it.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "doorstep", metricName: metric, unitName: unit, helpText: help)
    }

    func recordPush(_ receipt: PushReceipt) {
        pushes.increment()
        for result in receipt.results {
            outcomes[result.outcome]?.increment()
            conflictFields.increment(by: Int64(result.conflictFields?.count ?? 0))
        }
    }

    func recordRefusedPush() { refusedBatches.increment() }

    /// An upload request from `offset`, answered with the file's state after it.
    func recordUpload(from offset: Int64, _ state: FileState) {
        uploads.increment()
        if offset > 0 { resumedUploads.increment() }
        receivedBytes.increment(by: max(0, state.held - offset))
        if case .whole = state, state.held > offset { filesWhole.increment() }
    }
    func recordPull() { pulls.increment() }

    /// Households the office tally counted again.
    func tallied(_ households: Int) { tallyCounted.increment(by: Int64(households)) }

    func requestDuration(method: String, route: String, status: Int) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.name("request_duration", "seconds", "Request latency by route"),
            labels: [("method", method), ("route", route), ("status", String(status))],
            buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)]
        )
    }
}

/// Times every request by its route pattern (never the concrete path: ids stay out of metrics).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        metrics.requestDuration(method: request.method.rawValue, route: route, status: response.status.code)
            .record(ContinuousClock.now - start)
        return response
    }
}
