import Foundation
public import HTTPTypes
public import Hummingbird

/// The time a page took on the server, in a standard `Server-Timing` header (browsers' developer
/// tools show it; `doorstep-bench` reads it to measure a page without the network).
public struct WebTimingMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The metric's name in the header (`app;dur=3.25`).
    public let metric: String

    /// Times every request under the middleware as `metric`.
    public init(metric: String) { self.metric = metric }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        WebTiming.stamp(&response, metric: metric, since: start)
        return response
    }
}

/// Reading and writing the `Server-Timing` header.
public enum WebTiming {
    /// The header's name.
    public static let header = HTTPField.Name("Server-Timing")

    /// Adds `metric;dur=` the milliseconds since `start` to the response.
    public static func stamp(_ response: inout Response, metric: String, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        guard let header else { return }
        response.headers[header] = "\(metric);dur=\((milliseconds * 100).rounded() / 100)"
    }

    /// The milliseconds of `metric` in a `Server-Timing` header's value, if it names it.
    public static func milliseconds(of metric: String, in value: String) -> Double? {
        for entry in value.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first == metric else { continue }
            for parameter in parts.dropFirst() where parameter.hasPrefix("dur=") {
                return Double(parameter.dropFirst(4))
            }
        }
        return nil
    }
}
