import DoorstepBundle
import DoorstepClient
import DoorstepCore
import Foundation
import Logging
import ServiceLifecycle

/// A relay's link to the city (protocol 1.8, `protocol/README.md` §19.4): each round learns the
/// district's devices (a revocation made at the city is enforced from then on), forwards the
/// batches its devices pushed, each as its device signed it, takes the city's outcomes, and
/// pulls the district's pages. Rounds run one at a time, every few seconds and as soon as a
/// device pushes; a round that cannot reach the city leaves everything held for the next.
actor RelayUpstream {
    let store: RelayStore
    let api: ServerAPI
    let upstream: URL
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// The time between two rounds while nothing wakes the loop.
    let interval: Duration
    private var running: Task<Bool, Never>?
    private let wakes: AsyncStream<Void>
    private let waker: AsyncStream<Void>.Continuation

    init(
        store: RelayStore, upstream: URL, token: String, transport: any SyncTransport, interval: Duration, clock: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        self.store = store
        self.upstream = upstream
        self.clock = clock
        self.logger = logger
        self.interval = interval
        api = ServerAPI(
            transport: transport, token: token, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.2, maxDelay: 1), compression: true)
        (wakes, waker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a round soon (a device pushed): the city hears of it without waiting for the interval.
    nonisolated func wake() { waker.yield() }

    var now: String { Instant.format(Date(timeIntervalSince1970: Double(clock()) / 1000), in: .gmt) }

    /// Runs rounds until cancelled.
    func run() async {
        while !Task.isCancelled {
            _ = await round()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [interval] in try? await Task.sleep(for: interval) }
                group.addTask { [wakes] in
                    for await _ in wakes { return }
                }
                await group.next()
                group.cancelAll()
            }
        }
        waker.finish()
    }

    /// One round, after the one running (if any) ends; whether the city answered all of it.
    @discardableResult
    func round() async -> Bool {
        if let current = running { _ = await current.value }
        if let current = running { return await current.value }
        let task = Task { await self.roundBody() }
        running = task
        let reachable = await task.value
        if running == task { running = nil }
        return reachable
    }

    private func roundBody() async -> Bool {
        do {
            try await learnCity()
            try await sendRevocations()
            try await learnDevices()
            try await forward()
            try await pull()
            try await keepCampaigns()
            try store.set(.reachable, "1")
            try store.set(.lastContactAt, now)
            try store.set(.lastError, nil)
            return true
        } catch {
            let failure = error as? DoorstepError ?? DoorstepError(.serverUnreachable, String(describing: error))
            logger.notice("relay: the city did not answer this round", metadata: ["code": "\(failure.code)", "error": "\(failure.message)"])
            try? store.set(.reachable, failure.code == .serverUnreachable ? "0" : "1")
            try? store.set(.lastError, "\(failure.code): \(failure.message)")
            if failure.code == .relayRevoked { try? store.set(.revoked, "1") }
            return false
        }
    }

    /// The city's identity, once: the relay answers devices with it (`GET /v1/server`).
    private func learnCity() async throws {
        guard try store.value(.cityKeyID) == nil else { return }
        let info = try await api.call("GET", "/v1/server", as: ServerInfo.self)
        try store.set(.cityPublicKey, info.serverPublicKey)
        try store.set(.cityKeyID, info.serverKeyID)
    }

    /// Revocations an office made at the relay, for the city (§19.5).
    private func sendRevocations() async throws {
        for device in try store.revocationsToSend() {
            do {
                _ = try await api.call("POST", "/v1/relay/devices/\(device)/revoke", as: DeviceRecord.self)
            } catch let error as DoorstepError where error.code == .notFound {
                // No longer a device of the district at the city: nothing there to revoke.
                logger.warning("relay: the city has no such device to revoke", metadata: ["device": "\(device)"])
            }
            try store.revocationSent(device)
        }
    }

    private func learnDevices() async throws {
        let list = try await api.call("GET", "/v1/relay/devices", as: RelayDeviceList.self)
        try store.takeDevices(list.devices)
        try store.set(.revoked, list.relay.isRevoked ? "1" : nil)
    }

    /// Forwards the batches held, oldest first for each device, until none is left that the city takes.
    private func forward() async throws {
        var stuck = Set<Int64>()
        while true {
            let batches = try store.batchesToForward().filter { !stuck.contains($0.id) }
            guard !batches.isEmpty else { return }
            for batch in batches {
                do {
                    let receipt = try await api.call(
                        "POST", "/v1/relay/push", body: batch.body, headers: [BatchSignature.header: batch.signature], as: PushReceipt.self)
                    try store.takeReceipt(receipt, batch: batch.id, now: now)
                } catch let error as DoorstepError {
                    switch error.code {
                    case .serverUnreachable, .internalError, .rateLimited, .unauthorized, .relayRevoked, .forbiddenForRole:
                        throw error
                    case .missingPredecessor:
                        // The city lacks earlier work of this device that the relay never held (it went
                        // elsewhere): kept, and tried again next round, once the device has sent it.
                        logger.warning("relay: the city lacks earlier work of a device", metadata: ["device": "\(batch.device)"])
                        stuck.insert(batch.id)
                    default:
                        logger.warning("relay: the city refused a batch", metadata: ["device": "\(batch.device)", "code": "\(error.code)"])
                        try store.refuse(batch: batch.id, error, now: now)
                    }
                }
            }
        }
    }

    /// Pulls the district's pages after the relay's cursor; a cursor the city refuses (it was
    /// restored from a backup) starts over from the beginning.
    private func pull() async throws {
        var startedOver = false
        while true {
            let asked = try store.receiptMark()
            let cursor = try store.value(.cityCursor)
            let path = "/v1/pull?limit=200" + (cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? "")
            let page: PullPage
            do {
                page = try await api.call("GET", path, as: PullPage.self)
            } catch let error as DoorstepError where error.code == .invalidCursor && !startedOver {
                startedOver = true
                try store.forgetCityCursor()
                continue
            }
            try store.takeCityPage(page, asked: asked)
            if !page.hasMore { return }
        }
    }

    private func keepCampaigns() async throws {
        let data = try await api.call("GET", "/v1/campaigns") { $0 }
        try store.set(.campaigns, String(decoding: data, as: UTF8.self))
    }
}

/// Runs a relay's rounds with the application, until it shuts down.
struct RelayUpstreamService: Service {
    let upstream: RelayUpstream

    func run() async throws {
        await cancelWhenGracefulShutdown { await upstream.run() }
    }
}
