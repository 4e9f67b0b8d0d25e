import Foundation
import Synchronization

/// What the link carries, as measured on this sync's requests: pages and batches are sized so
/// that each takes about ``ClientConfiguration/secondsPerRequest`` (protocol 1.5, §18, "Weak
/// links"). On a hotspot a cut then costs one small page again; on a LAN pages stay full size.
final class LinkPace: Sendable {
    private struct State {
        /// Bytes per second the link delivered, smoothed; `nil` before the first request.
        var bytesPerSecond: Double?
        /// Bytes one household (pull) or one mutation (push) took on the wire, smoothed.
        var bytesPerItem: [Kind: Double] = [:]
        /// Bytes a request moved before the link cut it, smoothed; `nil` while no cut was seen.
        var cutSpan: Double?
    }
    /// What one request may move when the link cuts: a sixth of what it moved between cuts, so a
    /// cut costs a page of that size again at most (and half of one on average).
    static let cutShare = 6.0
    /// The smallest span between cuts believed (a cut at a request's first byte says little).
    static let smallestCutSpan = 16.0 * 1024
    enum Kind { case household, mutation }

    private let state = Mutex(State())
    let secondsPerRequest: Double

    init(secondsPerRequest: Double) { self.secondsPerRequest = max(0.5, secondsPerRequest) }

    /// Notes a request that moved `bytes` (both ways) in `seconds` for `items` households or mutations.
    func observe(_ kind: Kind, bytes: Int64, seconds: Double, items: Int) {
        guard bytes > 0, seconds > 0 else { return }
        state.withLock { state in
            // Requests much shorter than a round trip say little of the link: weigh by duration.
            let rate = Double(bytes) / seconds
            let weight = min(0.7, max(0.2, seconds / secondsPerRequest))
            state.bytesPerSecond = state.bytesPerSecond.map { $0 * (1 - weight) + rate * weight } ?? rate
            if items > 0 {
                let size = Double(bytes) / Double(items)
                state.bytesPerItem[kind] = state.bytesPerItem[kind].map { $0 * 0.5 + size * 0.5 } ?? size
            }
            // A request that went through: the link may have got better; trust it a little more.
            if let span = state.cutSpan {
                state.cutSpan = span * 1.2 > rate * secondsPerRequest * Self.cutShare * 2 ? nil : span * 1.2
            }
        }
    }

    /// Notes that the link cut requests after they had moved `bytes` (the bytes lost with them).
    func observeCut(bytes: Int64) {
        state.withLock { state in
            let span = max(Self.smallestCutSpan, Double(bytes))
            state.cutSpan = state.cutSpan.map { min($0, $0 * 0.5 + span * 0.5) } ?? span
        }
    }

    /// How many households or mutations the next request should carry: what the link moves in
    /// ``secondsPerRequest``, between 1 and `largest`; `first` before anything was measured.
    func limit(_ kind: Kind, largest: Int, first: Int) -> Int {
        state.withLock { state in
            guard let rate = state.bytesPerSecond, let size = state.bytesPerItem[kind], size > 0 else { return max(1, min(first, largest)) }
            var budget = rate * secondsPerRequest
            if let span = state.cutSpan { budget = min(budget, span / Self.cutShare) }
            let fits = budget / size
            guard fits.isFinite else { return largest }
            return max(1, min(largest, Int(fits)))
        }
    }
}

/// Passes a sync's progress on, and says it again at least once a second with the bytes that
/// moved since (a long page on a slow link moves the bar while it travels).
final class ProgressTicker: Sendable {
    private let forward: @Sendable (SyncProgress) -> Void
    private let meter: ByteMeter
    private let last = Mutex<(progress: SyncProgress, at: ContinuousClock.Instant)?>(nil)

    init(meter: ByteMeter, forward: @escaping @Sendable (SyncProgress) -> Void) {
        self.meter = meter
        self.forward = forward
    }

    /// A step of the sync: passed on at once.
    func report(_ progress: SyncProgress) {
        last.withLock { $0 = (progress, .now) }
        forward(progress)
    }

    /// Runs until cancelled: each second, the last step again with the bytes and time left now.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { return }
            guard let (progress, at) = last.withLock({ $0 }), progress.phase != .done else { continue }
            var now = progress
            now.bytes = max(progress.bytes, meter.bytes)
            if let left = progress.secondsLeft {
                now.secondsLeft = max(0, left - (ContinuousClock.now - at).inSeconds)
            }
            forward(now)
        }
    }
}

extension Duration {
    /// The duration in seconds, as a number.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The meter and clock when a request began: afterwards, what it moved and lost tells the pace.
struct PaceMark {
    let start = ContinuousClock.now
    let bytes: Int64
    let lost: Int64
    let meter: ByteMeter?

    init(_ api: ServerAPI) {
        meter = api.meter
        bytes = api.meter?.bytes ?? 0
        lost = api.meter?.lost ?? 0
    }

    /// Tells `pace` what the request (its cut attempts apart) moved for `items`, and what cuts cost.
    func note(_ kind: LinkPace.Kind, items: Int, in pace: LinkPace) {
        guard let meter else { return }
        let lostNow = meter.lost - lost
        if lostNow > 0 { pace.observeCut(bytes: lostNow) }
        pace.observe(kind, bytes: meter.bytes - bytes - lostNow, seconds: (ContinuousClock.now - start).inSeconds, items: items)
    }
}
