import DoorstepCore
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

    init() {
        pushes = registry.makeCounter(name: "doorstep_pushes_total", help: "Batches applied")
        pulls = registry.makeCounter(name: "doorstep_pull_pages_total", help: "Pull pages served")
        refusedBatches = registry.makeCounter(name: "doorstep_push_refused_total", help: "Batches refused as a whole")
        var outcomes: [MutationOutcome: Counter] = [:]
        for outcome in [MutationOutcome.applied, .alreadyApplied, .conflict, .rejected] {
            outcomes[outcome] = registry.makeCounter(name: "doorstep_mutations_total", labels: [("outcome", outcome.rawValue)], help: "Mutations by outcome")
        }
        self.outcomes = outcomes
        conflictFields = registry.makeCounter(name: "doorstep_conflicts_total", help: "Fields left in conflict by a write")
    }

    func recordPush(_ receipt: PushReceipt) {
        pushes.increment()
        for result in receipt.results {
            outcomes[result.outcome]?.increment()
            conflictFields.increment(by: Int64(result.conflictFields?.count ?? 0))
        }
    }

    func recordRefusedPush() { refusedBatches.increment() }
    func recordPull() { pulls.increment() }

    func requestDuration(method: String, route: String, status: Int) -> DurationHistogram {
        registry.makeDurationHistogram(
            name: "doorstep_request_duration_seconds",
            labels: [("method", method), ("route", route), ("status", String(status))],
            buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)],
            help: "Request latency by route"
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
