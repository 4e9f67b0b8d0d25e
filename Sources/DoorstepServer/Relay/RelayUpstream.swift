import DoorstepBundle
import DoorstepClient
import DoorstepCore
import DoorstepStorage
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A relay's link to the city (protocol 1.8, `protocol/README.md` §19.4): each round learns the
/// district's devices (a revocation made at the city is enforced from then on), forwards the
/// batches its devices pushed, each as its device signed it, takes the city's outcomes, and
/// pulls the district's pages. Rounds run one at a time, every few seconds and as soon as a
/// device pushes; a round that cannot reach the city leaves everything held for the next.
actor RelayUpstream {
    let store: RelayStore
    /// The files its devices uploaded, sent on to the city, kept ``keepFilesFor`` after the city holds them.
    let files: FolderFileStore
    let keepFilesFor: Duration
    /// The most bytes one `PATCH` to the city carries.
    let chunkBytes = 1024 * 1024
    let api: ServerAPI
    let upstream: URL
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// The time between two rounds while nothing wakes the loop.
    let interval: Duration
    private let wakeup = Wakeup()
    /// What a round set aside (a device's batches, a file) and why; the round goes on with the rest.
    private var problems: [String] = []
    private var checkedWholeFiles = false
    /// Whether this round caught up with a restore of the city already.
    private var handledRestore = false

    init(
        store: RelayStore, files: FolderFileStore, keepFilesFor: Duration, upstream: URL, token: String, transport: any SyncTransport,
        interval: Duration, clock: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        self.store = store
        self.files = files
        self.keepFilesFor = keepFilesFor
        self.upstream = upstream
        self.clock = clock
        self.logger = logger
        self.interval = interval
        api = ServerAPI(
            transport: transport, token: token, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.2, maxDelay: 1), compression: true,
            // The line to the city is the weak one: bodies go zstd-coded (§18) to a city that serves
            // relays (1.8, so 1.5 too); a forwarded batch's signed bytes are what the city decodes.
            compressBodies: true)
    }

    /// Asks for a round soon (a device pushed): the city hears of it without waiting for the interval.
    nonisolated func wake() { wakeup.wake() }

    var now: String { Instant.format(Date(timeIntervalSince1970: Double(clock()) / 1000), in: .gmt) }

    /// Runs rounds until cancelled.
    func run() async {
        while !Task.isCancelled {
            _ = await round()
            await wakeup.wait(upTo: interval)
        }
    }

    /// One round; whether the city answered all of it. Only the loop runs rounds, one at a time, in
    /// its own task, so that a shutdown cancels a round under way (its steps are each safe to repeat).
    @discardableResult
    func round() async -> Bool {
        await roundBody()
    }

    private func roundBody() async -> Bool {
        do {
            problems = []
            handledRestore = false
            try await learnCity()
            try await reportEnrollments()
            try await sendRevocations()
            try await learnDevices()
            try await forward()
            try await forwardFiles()
            try await pull()
            try removeFilesHeldAtCity()
            try await keepCampaigns()
            try store.set(.reachable, "1")
            try store.set(.lastContactAt, now)
            // What was set aside this round (a batch or a file the city would not take yet) is said.
            try store.set(.lastError, problems.isEmpty ? nil : problems.joined(separator: "; "))
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

    /// Devices enrolled here with the relay's codes, for the city to make (§19.6); before any of
    /// their batches is forwarded.
    private func reportEnrollments() async throws {
        for enrollment in try store.enrollmentsToReport() {
            do {
                _ = try await api.call("POST", "/v1/relay/enrollments", body: try WireCoding.encode(enrollment), as: DeviceRecord.self)
                try store.enrollmentReported(enrollment.device, made: true, now: now)
            } catch let error as DoorstepError where error.code == .invalidEnrollmentCode || error.code == .invalidValue {
                // A definite refusal (a report sent again after a lost answer is answered with the device).
                logger.warning("relay: the city refused an enrollment made here", metadata: ["device": "\(enrollment.device)", "code": "\(error.code)"])
                try store.enrollmentReported(enrollment.device, made: false, now: now)
            } catch let error as DoorstepError where error.code != .serverUnreachable && error.code != .relayRevoked && error.code != .unauthorized {
                problems.append("enrollment of \(enrollment.device): \(error.code): \(error.message)")
            }
        }
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
        store.absorb(list.serverClock)
        if try store.takeDevices(list.devices, complete: true), try store.value(.checkProgress) == nil {
            // Devices the city listed before are gone from its list: restored from a backup, seen
            // before the pull (whose cursor it would refuse) and before their work goes to it.
            logger.warning("relay: the city's devices show it restored from a backup: its district is pulled again")
            try store.cityRestored()
            handledRestore = true
        }
        if let again = try store.restoreProgress(list.devices) {
            logger.warning("relay: the restored city lacks work the relay forwarded: sent again", metadata: ["batches": "\(again)"])
        }
        for device in try store.devicesUnknownAtCity() {
            problems.append(
                "\(device): its work waits here: the city does not know this device yet (its enrollment here not yet made there) or any more (restored from a backup taken before it was enrolled: enroll it again)"
            )
        }
        try store.takeCodes(list.codes ?? [])
        try store.set(.revoked, list.relay.isRevoked ? "1" : nil)
    }

    /// Forwards the batches held, one at a time in the order they came (``ForwardingQueue``), until
    /// none is left that the city takes. The city lacking work the relay forwarded is a city
    /// restored from a backup: caught up with first (§19.8), then the order is read again.
    private func forward() async throws {
        var stuck = Set<String>()
        var queue = try store.forwardingQueue()
        while let next = queue.next(excluding: stuck) {
            guard let batch = try store.waitingBatch(next.id) else {
                queue.went(next.id, of: next.device)
                continue
            }
            do {
                let receipt = try await api.call(
                    "POST", "/v1/relay/push", body: batch.body, headers: [BatchSignature.header: batch.signature], as: PushReceipt.self)
                try store.takeReceipt(receipt, batch: next.id, now: now)
                queue.went(next.id, of: next.device)
            } catch let error as DoorstepError {
                switch error.code {
                case .invalidSignature, .outOfScope, .invalidBatch, .seqReuse:
                    // Refused for good, whatever is tried again: answered to the device as the city's refusal.
                    logger.warning("relay: the city refused a batch", metadata: ["device": "\(batch.device)", "code": "\(error.code)"])
                    try store.refuse(batch: next.id, error, now: now)
                    queue.went(next.id, of: next.device)
                case .missingPredecessor:
                    if !handledRestore, let resume = error.details.resumeFrom, try store.forwarded(device: batch.device, from: resume) {
                        // It lacks work the relay forwarded and it took: restored from a backup.
                        logger.warning("relay: the city lacks work it took from the relay (restored from a backup)", metadata: ["device": "\(batch.device)"])
                        if try store.value(.checkProgress) == nil { try store.cityRestored() }
                        handledRestore = true
                        try await learnDevices()
                        queue = try store.forwardingQueue()
                        continue
                    }
                    // Work the relay never held (sent to the city directly): the laptop sends it
                    // again at its next sync (§19.8); its batches wait this round. (A restore is caught
                    // up with once a round: a city that still lacks work after it waits for the next.)
                    logger.warning("relay: the city lacks earlier work of a device", metadata: ["device": "\(batch.device)"])
                    stuck.insert(next.device)
                case .serverUnreachable, .rateLimited, .unauthorized, .relayRevoked, .forbiddenForRole:
                    throw error
                default:
                    // Anything else (a city not yet on 1.8, a version or schema it does not serve yet, a
                    // body too large for it, a failure there) may pass later: this device's work is
                    // kept and set aside for this round; the others' goes on.
                    logger.warning("relay: a batch set aside", metadata: ["device": "\(batch.device)", "code": "\(error.code)"])
                    problems.append("\(batch.device): \(error.code): \(error.message)")
                    stuck.insert(next.device)
                }
            }
        }
        if try store.forwardingWaitsForEnrollment() {
            problems.append("forwarding waits until the city makes a device enrolled here (its enrollment is reported at each round)")
        }
    }

    /// Sends on to the city each file the relay holds whole and the city does not, from the byte the
    /// city holds (§17.2): a cut line costs at most a part, sent again next round.
    private func forwardFiles() async throws {
        if !checkedWholeFiles {
            // Once a start: a file made whole just before a kill, before it was noted.
            try store.noteWholeFiles(try await files.wholeFiles(), now: now)
            checkedWholeFiles = true
        }
        for file in try store.filesToForward() {
            do {
                switch try await forwardFile(file) {
                case .atCity: try store.fileAtCity(file.sha256, now: now)
                case .gone: try store.forgetFile(file.sha256)
                case .notYet: break
                }
            } catch let error as DoorstepError where error.code != .serverUnreachable && error.code != .relayRevoked && error.code != .unauthorized {
                problems.append("file \(file.sha256.prefix(12)): \(error.code): \(error.message)")
            }
        }
    }

    /// Removes the relay's copies of files the city has held whole for ``keepFilesFor``: the relay
    /// serves its laptops' recent photos with the line down, and its disk does not grow all season.
    /// A laptop asking for an older one is passed on to the city. After the round's pull (a restore
    /// of the city is known by then), and not while a restore is being caught up with.
    private func removeFilesHeldAtCity() throws {
        guard try store.value(.checkProgress) == nil else { return }
        let cutoff = Instant.format(
            Date(timeIntervalSince1970: Double(clock()) / 1000 - Double(keepFilesFor.components.seconds)), in: .gmt)
        for sha256 in try store.filesHeldAtCity(before: cutoff) {
            do {
                _ = try files.remove(sha256)
                try store.forgetFile(sha256)
            } catch {
                problems.append("file \(sha256.prefix(12)): its copy could not be removed: \(error)")
            }
        }
    }

    /// What became of a file sent on.
    enum Forwarded { case atCity, notYet, gone }

    /// Sends one file on from the byte the city holds; whether the city now holds it whole.
    private func forwardFile(_ file: (sha256: String, length: Int64)) async throws -> Forwarded {
        let path = "/v1/files/\(file.sha256)"
        func header(_ answer: TransportResponse, _ name: String) -> String? { answer.headers.first { $0.key.lowercased() == name }?.value }
        let asked = try await api.exchange("HEAD", path)
        if header(asked, "doorstep-file") == "whole" { return .atCity }
        // A copy removed here (the city held it, then was restored without it): its laptop sends it again.
        guard files.holdsWhole(file.sha256) else { return .gone }
        // Another length's part the city holds is not this file's: from the start.
        var held = header(asked, "upload-length") == String(file.length) ? Int64(header(asked, "upload-offset") ?? "") ?? 0 : 0
        while held < file.length {
            let end = min(file.length, held + Int64(chunkBytes)) - 1
            guard let stream = try await files.read(file.sha256, range: held...end) else {
                return files.holdsWhole(file.sha256) ? .notYet : .gone
            }
            var part = Data()
            for try await bytes in stream { part.append(contentsOf: bytes) }
            let answer: TransportResponse
            do {
                answer = try await api.sendingOnce.exchange(
                    "PATCH", path, body: part, contentType: "application/offset+octet-stream",
                    headers: ["Upload-Offset": String(held), "Upload-Length": String(file.length)])
            } catch let error as DoorstepError where error.code == .uploadOffsetMismatch {
                // The city holds other bytes of it than thought (a part taken before a lost answer): from
                // there, or next round when it says the same offset again (another writer at work).
                guard let resume = error.details.resumeFrom, resume != held else { return .notYet }
                held = resume
                continue
            }
            held = Int64(answer.headers.first { $0.key.lowercased() == "upload-offset" }?.value ?? "") ?? (end + 1)
            if answer.headers.first(where: { $0.key.lowercased() == "doorstep-file" })?.value == "whole" { return .atCity }
        }
        return .notYet
    }

    /// Pulls the district's pages after the relay's cursor; a cursor the city refuses (it was
    /// restored from a backup) starts over from the beginning, and what the relay forwarded or sent
    /// on is checked again with the city (``RelayStore/cityRestored()``). A page the line cut is
    /// kept as far as it came and asked for from there (§18), in this round or the next.
    private func pull() async throws {
        var startedOver = false
        while true {
            let asked = try store.receiptMark()
            let cursor = try store.value(.cityCursor)
            let path =
                "/v1/pull?limit=\(Self.pageLimit)" + (cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? "")
            // What came of this very request before the line cut it (another cursor's bytes are no use).
            let unfinished = try store.value(.partialPage).flatMap(UnfinishedPage.init(text:)).flatMap { $0.path == path ? $0 : nil }
            let store = store
            let resume = PageResume(held: unfinished?.answer) { answer in
                try? store.set(.partialPage, answer.flatMap { UnfinishedPage(path: path, answer: $0).text })
            }
            let page: PullPage
            do {
                page = try await api.call("GET", path, resuming: resume) { data in try WireCoding.decode(PullPage.self, from: data) }
            } catch let error as DoorstepError where error.code == .invalidCursor && !startedOver {
                startedOver = true
                logger.warning("relay: the city refused the relay's cursor (restored from a backup): its district is pulled again")
                if handledRestore {
                    try store.pullAgain()
                } else {
                    // Caught up with before the new pull ends (its end removes what it did not deliver).
                    try store.cityRestored()
                    handledRestore = true
                    try await learnDevices()
                }
                continue
            }
            store.absorb(page.serverClock)
            try store.takeCityPage(page, asked: asked)
            if !page.hasMore { return }
        }
    }

    /// The households a page of the relay's pull from the city holds at most.
    static let pageLimit = 200

    private func keepCampaigns() async throws {
        let data = try await api.call("GET", "/v1/campaigns") { $0 }
        try store.set(.campaigns, String(decoding: data, as: UTF8.self))
    }
}

/// A wake-up for the rounds' loop: `wake()` ends the current or the next `wait(upTo:)` at once
/// (several wakes before it count as one); otherwise the wait ends after its interval, or when
/// its task is cancelled.
final class Wakeup: Sendable {
    private let state = Mutex<(woken: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.woken = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(upTo interval: Duration) async {
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: interval)) != nil else { return }
            self?.wake()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.woken {
                        state.woken = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
        timer.cancel()
        // A wake the timer gave as it was cancelled would start the next round early: forgotten.
        _ = await timer.result
        state.withLock { $0.woken = false }
    }
}

/// Runs a relay's rounds with the application, until it shuts down.
struct RelayUpstreamService: Service {
    let upstream: RelayUpstream

    func run() async throws {
        await cancelWhenGracefulShutdown { await upstream.run() }
    }
}
