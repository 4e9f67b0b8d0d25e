import DoorstepClient
import DoorstepCore
import Foundation

/// The server's current address, which changes when a killed server comes back on a new port.
final class MovingAddress: @unchecked Sendable {
    private let lock = NSLock()
    private var url: URL?
    private var transports: [URL: URLSessionTransport] = [:]

    init(_ url: URL? = nil) { self.url = url }

    func set(_ url: URL?) { lock.withLock { self.url = url } }

    var current: URL? { lock.withLock { url } }

    /// The transport to the current address (`nil` while the server is down).
    func transport() -> URLSessionTransport? {
        lock.withLock {
            guard let url else { return nil }
            if let known = transports[url] { return known }
            let made = URLSessionTransport(baseURL: url, timeout: 20)
            transports[url] = made
            return made
        }
    }
}

/// What the server acknowledged: every `(device, seq)` a push receipt answered, with its outcome.
final class Ledger: @unchecked Sendable {
    struct Key: Hashable, Sendable, Comparable {
        var device: String
        var seq: Int64
        static func < (a: Key, b: Key) -> Bool { (a.device, a.seq) < (b.device, b.seq) }
    }

    struct Entry: Sendable {
        var mutation: Mutation
        var outcome: MutationOutcome
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private(set) var receipts = 0

    /// Notes a push and its answer.
    func note(_ request: TransportRequest, _ response: TransportResponse) {
        guard request.path.hasPrefix("/v1/push"), response.status == 200, let body = request.body,
            let batch = try? JSONDecoder().decode(PushBatch.self, from: body),
            let receipt = try? JSONDecoder().decode(PushReceipt.self, from: response.body)
        else { return }
        let bySeq = Dictionary(batch.mutations.map { ($0.seq, $0) }, uniquingKeysWith: { a, _ in a })
        lock.withLock {
            receipts += 1
            for result in receipt.results where result.outcome != .relayed {
                // A relay's `relayed` is not the city's answer yet (protocol 1.8): the city's comes later.
                guard let mutation = bySeq[result.seq] else { continue }
                let key = Key(device: batch.device.rawValue, seq: result.seq)
                // The first acknowledgement counts (a replay answers alreadyApplied).
                if entries[key] == nil { entries[key] = Entry(mutation: mutation, outcome: result.outcome) }
            }
        }
    }

    var acknowledged: [Key: Entry] { lock.withLock { entries } }
}

/// A transport to wherever the server is now, noting every receipt in a ledger.
struct MovingTransport: SyncTransport {
    let address: MovingAddress
    let ledger: Ledger?

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        guard let transport = address.transport() else { throw URLError(.cannotConnectToHost) }
        let response = try await transport.send(request)
        ledger?.note(request, response)
        return response
    }
}

/// A fixed address, noting receipts in a ledger (for the proxy tests).
struct LedgerTransport: SyncTransport {
    let inner: any SyncTransport
    let ledger: Ledger

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let response = try await inner.send(request)
        ledger.note(request, response)
        return response
    }
}

extension RetryPolicy {
    /// Few quick attempts: the harness loops over syncs itself.
    static let quick = RetryPolicy(maxAttempts: 3, baseDelay: 0.02, maxDelay: 0.1, sleep: { try await Task.sleep(nanoseconds: UInt64($0 * 1_000_000_000)) })
}

/// The field client's transport on this platform (``ClientConfiguration/platformTransport``), with another timeout.
func platformTransport(_ url: URL, timeout: TimeInterval) -> any SyncTransport {
    #if os(Linux)
    HTTPClientTransport(baseURL: url, timeout: timeout)
    #else
    URLSessionTransport(baseURL: url, timeout: timeout)
    #endif
}
