import DoorstepCore
import DoorstepStorage
import Hummingbird
import Prometheus

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

    init() {
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
    }

    /// Sets the file store's gauges, before the metrics are read.
    func record(_ statistics: FileStoreStatistics) {
        storedFiles.set(Int64(statistics.files))
        storedBytes.set(statistics.bytes)
        unfinishedUploads.set(Int64(statistics.unfinishedUploads))
        receivingUploads.set(Int64(statistics.receiving))
    }

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
