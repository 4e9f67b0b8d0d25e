import Crypto
import DoorstepBundle
public import DoorstepCore
public import Foundation
import GRDB
import Synchronization

extension FieldClient {
    /// Pushes pending work in batches, then pulls pages until caught up.
    ///
    /// Safe to cancel at any point: each step commits on its own, and the next sync resumes
    /// where this one stopped (a batch the server applied but whose receipt was lost is answered
    /// `alreadyApplied`). Network errors and 5xx are retried with backoff. When the server says
    /// the device was revoked, the unsynced work is first exported to a bundle file, then the
    /// local copy of the district is wiped, and `deviceRevoked` is thrown with the bundle's path.
    ///
    /// With `server`, the enrolled server is reached at that address this time (a tunnel, a new
    /// name), once ``verifyServer(at:)`` has found the same server there.
    @discardableResult
    public func sync(via server: URL? = nil, progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        guard syncGate.enter() else {
            throw DoorstepError(.invalidOperation, "a sync is already running on this device")
        }
        defer { syncGate.leave() }
        let started = Date()
        let (enrollment, token, known) = try await pool.read { db -> (Enrollment?, String?, String?) in
            (try Self.enrollment(db), try LocalStore.setting(db, .token), try LocalStore.setting(db, .serverRevision))
        }
        if let enrollment, enrollment.revokedAt != nil {
            // The photos go with the district's data (again, should the first wipe have been cut short).
            try? FileManager.default.removeItem(at: filesFolder)
            throw Self.revokedError(bundle: enrollment.revokedBundle)
        }
        guard let enrollment, let token else {
            throw DoorstepError(.notEnrolled, "this device is not enrolled yet: run enroll with the code from the office")
        }
        let address = server ?? enrollment.server
        try checkTransport(address)
        let meter = ByteMeter()
        let api = ServerAPI(
            transport: configuration.transport(address), token: token, retry: configuration.retry, meter: meter,
            compression: configuration.compresses(with: address),
            compressBodies: configuration.compresses(with: address) && ProtocolVersion.readsCompression(known))
        var summary = SyncSummary(
            pushed: 0, alreadyApplied: 0, conflicts: 0, quarantined: 0, pulledHouseholds: 0,
            removedHouseholds: 0, clockSkew: false, seconds: 0)
        let ticker = ProgressTicker(meter: meter, forward: progress)
        let ticking = Task { await ticker.run() }
        defer { ticking.cancel() }
        let progress: @Sendable (SyncProgress) -> Void = { ticker.report($0) }
        let pace = LinkPace(secondsPerRequest: configuration.secondsPerRequest)
        do {
            if let server, server != enrollment.server { try await verifyServer(at: server) }
            try await push(api: api, device: enrollment.device, pace: pace, summary: &summary, progress: progress)
            try await pull(api: api, pace: pace, summary: &summary, progress: progress)
            var unfinished: DoorstepError?
            if try await pool.read({ db in try LocalStore.setting(db, .askWhereServerStands) }) != nil {
                // The server refused the cursor (restored from a backup): what it lacks of this
                // laptop's confirmed work is sent again, then pulled back (protocol 1.7, §16 step 3).
                // A server that cannot take what is lost stops only this: the rest of the sync
                // goes on, the error is kept, and the next sync tries again.
                do {
                    if let again = try await catchUp(api: api, device: enrollment.device) {
                        summary.sentAgain = (summary.sentAgain ?? 0) + again.sent
                        if again.lost > 0 { summary.declaredLost = (summary.declaredLost ?? 0) + again.lost }
                        try await push(api: api, device: enrollment.device, pace: pace, summary: &summary, progress: progress)
                        try await pull(api: api, pace: pace, summary: &summary, progress: progress)
                    }
                    try await pool.write { db in
                        try LocalStore.set(db, .askWhereServerStands, nil)
                        try LocalStore.set(db, .catchingUpThrough, nil)
                    }
                } catch let error as DoorstepError where error.code == .missingPredecessor {
                    unfinished = error
                }
            }
            try await keepCampaigns(api: api)
            // What the server reads, so that nothing it would refuse is written or sent here
            // (attachments, 1.4; compressed bodies, 1.5): asked until the server is known to read
            // this client's revision, then no more (a request less per sync).
            // (A push may have forgotten it: a server rolled back.)
            let stored = try await pool.read { db in try LocalStore.setting(db, .serverRevision) }
            if !ProtocolVersion.readsCurrent(stored), let info = try? await api.call("GET", "/v1/server", as: ServerInfo.self) {
                let revision = info.protocolRevision ?? "1.0"
                if revision != stored { try await pool.write { db in try LocalStore.set(db, .serverRevision, revision) } }
            }
            // Files last: a sync's mutations never wait for a file (protocol 1.4, §16 step 7).
            let files = try await sendFiles(api: api)
            if files.sent > 0 || files.waiting > 0 {
                summary.filesSent = files.sent
                summary.filesWaiting = files.waiting
            }
            // Within the laptop's budget for files: what the server holds may go (fetched again when opened).
            _ = try? await evictFiles()
            if let unfinished {
                // The rest of the sync is done; what the restored server lacks is not: said as the
                // sync's failure (kept as the last error), and tried again at the next sync.
                throw unfinished
            }
            let finished = Instant.format(Date(), in: .gmt)
            try await pool.write { db in
                try LocalStore.set(db, .lastSyncAt, finished)
                try LocalStore.set(db, .lastSyncError, nil)
                // Every batch was taken and pulled back: nothing acknowledged is missing any more.
                try LocalStore.set(db, .catchingUpThrough, nil)
            }
        } catch let error as DoorstepError where error.code == .deviceRevoked {
            throw try await handleRevocation(error)
        } catch let error as DoorstepError {
            try? await pool.write { db in try LocalStore.set(db, .lastSyncError, "\(error.code): \(error.message)") }
            throw error
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.bytes = meter.bytes
        progress(SyncProgress(phase: .done, done: summary.pushed, total: summary.pushed, bytes: meter.bytes))
        return summary
    }

    private func push(
        api: ServerAPI, device: DeviceID, pace: LinkPace, summary: inout SyncSummary, progress: @Sendable (SyncProgress) -> Void
    ) async throws {
        var api = api
        let largest = max(1, configuration.batchSize)
        let total = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE acked IN (0, 2, 3)") ?? 0 }
        var done = 0
        let start = ContinuousClock.now
        let startBytes = api.meter?.bytes ?? 0
        progress(SyncProgress(phase: .pushing, done: 0, total: total, bytes: startBytes))
        let signingKey = try await pushSigningKey()
        // What a relay answered `relayed` stays unsent-but-held; it is sent again at the next sync
        // (to learn the city's outcome), not again in this one.
        var sentThrough: Int64 = 0
        while true {
            try Task.checkCancellation()
            // The stored bodies go out as they are (each was validated and encoded when recorded),
            // as many as the link carries in a few seconds.
            let limit = pace.limit(.mutation, largest: largest, first: largest)
            let (batch, lost, acknowledged) = try await pool.read { [sentThrough] db in
                let (batch, lost) = try Self.nextBatch(db, limit: limit, after: sentThrough)
                return (batch, lost, try LocalStore.setting(db, .catchingUpThrough).flatMap { Int64($0) })
            }
            guard !batch.isEmpty || lost != nil else { return }
            var writer = JSONTextWriter()
            writer.beginObject()
            if let acknowledged {
                writer.key("acknowledgedThrough", first: true)
                writer.int(acknowledged)
            }
            writer.key("device", first: acknowledged == nil)
            writer.string(device.rawValue)
            if let lost {
                writer.key("lost")
                lost.write(to: &writer)
            }
            writer.key("mutations")
            writer.array(batch) { $0.rawJSON($1.body) }
            writer.key("protocolVersion")
            writer.int(Int64(ProtocolVersion.current))
            writer.endObject()
            let body = Data(writer.bytes)
            let signature = try Self.signature(of: body, by: signingKey)
            let receipt: PushReceipt
            let sent = PaceMark(api)
            do {
                do {
                    receipt = try await api.call("POST", "/v1/push", body: body, headers: signature, as: PushReceipt.self)
                } catch let error as DoorstepError
                    where api.compressBodies && (error.code == .unsupportedMediaType || error.code == .malformedInput)
                {
                    // A server that no longer reads 1.5 (rolled back): asked again what it reads
                    // at the end of this sync, and sent this batch as it is.
                    try await pool.write { db in try LocalStore.set(db, .serverRevision, nil) }
                    api = api.sendingPlain
                    receipt = try await api.call("POST", "/v1/push", body: body, headers: signature, as: PushReceipt.self)
                }
                sent.note(.mutation, items: batch.count, in: pace)
            } catch let error as DoorstepError where error.code == .missingPredecessor {
                // The server lacks work it once acknowledged (restored from an older backup): send
                // again from where it says what this laptop still holds, declare the rest lost to a
                // server that takes it (1.7), else say so.
                let before = lost?.from ?? batch.first?.seq ?? 0
                // Caught up only once the server holds everything acknowledged before this batch:
                // said in each batch from now on (1.7), so the office is not told too early.
                try await pool.write { db in
                    let said = try LocalStore.setting(db, .catchingUpThrough).flatMap { Int64($0) } ?? 0
                    try LocalStore.set(db, .catchingUpThrough, String(max(said, before - 1)))
                }
                guard let resume = error.details.resumeFrom, let again = try await recover(from: resume, before: before, api: api) else { throw error }
                // What it put back from `resume` on is sent in this sync, even past seqs a relay held.
                sentThrough = min(sentThrough, resume - 1)
                summary.sentAgain = (summary.sentAgain ?? 0) + again.sent
                if again.lost > 0 { summary.declaredLost = (summary.declaredLost ?? 0) + again.lost }
                continue
            }
            try await pool.write { db in
                try Self.take(receipt, batch: batch, db)
                if lost != nil { try LocalStore.noteDeclared(db, held: receipt.highestContiguousSeq) }
            }
            if let lost, receipt.highestContiguousSeq < lost.through {
                // A server that ignored `lost` (one rolled back to before 1.7): asked again what it
                // reads at the next sync; sending the same batch again would change nothing.
                try await pool.write { db in try LocalStore.set(db, .serverRevision, nil) }
                throw DoorstepError(
                    .missingPredecessor,
                    "the server did not take seqs \(lost.from)-\(lost.through) as lost (it is older than protocol 1.7); update the server",
                    zh: "服务器未能记录序号 \(lost.from)–\(lost.through) 的丢失（其版本早于协议 1.7），请先升级服务器",
                    details: ErrorDetails(rule: "resumeFrom", resumeFrom: receipt.highestContiguousSeq + 1))
            }
            checkpointer.noteWrite()
            for result in receipt.results {
                switch result.outcome {
                case .applied: summary.pushed += 1
                case .alreadyApplied: summary.alreadyApplied += 1
                case .conflict: summary.pushed += 1; summary.conflicts += 1
                case .rejected: summary.quarantined += 1
                case .relayed: summary.relayed = (summary.relayed ?? 0) + 1
                }
            }
            sentThrough = max(sentThrough, batch.last?.seq ?? 0, lost?.through ?? 0)
            summary.clockSkew = summary.clockSkew || receipt.clockSkew
            done += batch.count
            progress(
                SyncProgress.estimated(
                    phase: .pushing, done: min(done, total), total: total, bytes: api.meter?.bytes ?? 0, since: start, startBytes: startBytes))
        }
    }

    /// The next batch to push: the unsent outbox rows in seq order, and the seqs to declare lost
    /// before them (1.7), at most `limit` mutations, consecutive, stopping before another range to
    /// declare.
    static func nextBatch(_ db: Database, limit: Int, after sent: Int64 = 0) throws -> (batch: [OutboxEntry], lost: SeqRange?) {
        let ranges = try LocalStore.lostToDeclare(db).filter { $0.through > sent }
        let firstUnsent = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM outbox WHERE acked IN (0, 2, 3) AND seq > ?", arguments: [sent])
        var lost: SeqRange?
        var after: Int64 = sent
        var before = Int64.max
        if let range = ranges.first {
            if firstUnsent.map({ range.from < $0 }) ?? true {
                lost = range
                after = range.through
                before = ranges.dropFirst().first?.from ?? .max
            } else {
                before = range.from
            }
        }
        let batch = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT seq, household, body FROM outbox WHERE acked IN (0, 2, 3) AND seq > ? AND seq < ? ORDER BY seq LIMIT ?"),
            arguments: [after, before, limit]
        )
        .map { row in OutboxEntry(seq: row["seq"], household: try EntityID(row["household"] as String), body: row["body"]) }
        // Consecutive only: a relay's answers (1.8) can leave a seq between two unsent ones answered
        // (the city's outcome came back for it, not yet for them); the rest goes in the next batch.
        var run = min(batch.count, 1)
        while run < batch.count, batch[run].seq == batch[run - 1].seq + 1 { run += 1 }
        return (Array(batch.prefix(run)), lost)
    }

    /// This laptop's enrolled key: each push body is signed with it (1.8, §19.2), so that a district
    /// relay can forward it to the city byte for byte and the city can tell it is this laptop's.
    func pushSigningKey() async throws -> Curve25519.Signing.PrivateKey? {
        try await pool.read { db in try LocalStore.setting(db, .signingKey) }
            .flatMap { Data(base64Encoded: $0) }.flatMap { try? Curve25519.Signing.PrivateKey(rawRepresentation: $0) }
    }

    /// The header that carries a push body's signature (none without a key: an enrollment before 1.2).
    static func signature(of body: Data, by key: Curve25519.Signing.PrivateKey?) throws -> [String: String] {
        try key.map { [BatchSignature.header: try BatchSignature.sign(body, with: $0)] } ?? [:]
    }

    static func take(_ receipt: PushReceipt, batch: [OutboxEntry], _ db: Database) throws {
        // Acknowledged work stays in the outbox and in the view until a pull brings the server's
        // copy, so only a household with refused work shows anything new.
        var touched = Set<EntityID>()
        let now = Instant.format(Date(), in: .gmt)
        for (mutation, result) in zip(batch, receipt.results) where result.seq == mutation.seq {
            if result.outcome == .rejected {
                touched.insert(mutation.household)
                try db.execute(sql: "DELETE FROM outbox WHERE seq = ?", arguments: [mutation.seq])
                try db.execute(
                    sql: "INSERT OR REPLACE INTO quarantine (seq, household, body, code, reason, reason_zh, at, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        mutation.seq, mutation.household.description, mutation.body,
                        result.code?.rawValue ?? "rejected", result.reason ?? "", result.reasonZh, now,
                        try result.details.map { String(decoding: try WireCoding.encode($0), as: UTF8.self) },
                    ]
                )
            } else if result.outcome == .relayed {
                // Held by a district relay, the city's outcome still to come (1.8): kept in the outbox
                // (`acked = 2`, in the view until the relay's copy of its household comes, §19.3) and
                // sent again at the next sync to learn it.
                try db.cachedStatement(sql: "UPDATE outbox SET acked = 2 WHERE seq = ? AND acked = 0").execute(arguments: [mutation.seq])
            } else if mutation.seq <= receipt.highestContiguousSeq,
                try Int.fetchOne(db.cachedStatement(sql: "SELECT acked FROM outbox WHERE seq = ?"), arguments: [mutation.seq]) == 3
            {
                // Confirmed by the city, and already out of the view (the relay's copy held it): settled.
                try LocalStore.keepSettled(db, where: "seq = ?", [mutation.seq])
            } else if mutation.seq <= receipt.highestContiguousSeq {
                try db.cachedStatement(sql: "UPDATE outbox SET acked = 1, stamp = ? WHERE seq = ?").execute(arguments: [
                    result.stamp?.description, mutation.seq,
                ])
                if result.stamp != nil { touched.insert(mutation.household) }
            }
        }
        try absorb(receipt.serverClock, db)
        for household in touched { try LocalStore.refreshView(db, household) }
    }

    /// Pulls pages until caught up. The next page is fetched while the current one is written
    /// (the server's answer names the next cursor), so the network and the disk work at once; the
    /// cursor is stored with each written page, so a page fetched but not written is simply asked
    /// for again by the next sync.
    private func pull(api: ServerAPI, pace: LinkPace, summary: inout SyncSummary, progress: @Sendable (SyncProgress) -> Void) async throws {
        let largest = max(1, configuration.pullPageSize)
        let keepFor = configuration.keepSettledFor
        // A page an earlier sync was cut in the middle of: asked again as it was, from its bytes.
        let stored = try await pool.read { db in try LocalStore.setting(db, .partialPage) }
        let unfinished = UnfinishedPage.Slot(stored.flatMap(UnfinishedPage.init(text:)))
        let pool = pool
        @Sendable func fetch(_ cursor: String, estimate: Bool = false) async throws -> PulledPage {
            // No cursor for the first page (§9); an older database's "0" means the same. The
            // first page of a sync asks how much remains (1.3; an older server ignores it). A page
            // holds what the link carries in a few seconds (the largest, before anything is measured).
            let limit = pace.limit(.household, largest: largest, first: largest)
            let encoded = cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            var path = "/v1/pull?cursor=\(encoded)&limit=\(limit)" + (estimate ? "&estimate=true" : "")
            var held: PartialAnswer?
            if let earlier = unfinished.take(), earlier.path.hasPrefix("/v1/pull?cursor=\(encoded)&") {
                path = earlier.path
                held = earlier.answer
            }
            let resume = PageResume(held: held) { [path] answer in
                // Kept even as the sync is cancelled (the laptop shut): a task of its own, which
                // the cancellation does not reach.
                let text = answer.flatMap { UnfinishedPage(path: path, answer: $0).text }
                await Task { try? await pool.write { db in try LocalStore.set(db, .partialPage, text) } }.value
            }
            let started = PaceMark(api)
            let page = try await api.call("GET", path, resuming: resume) { data in try FastJSON.decodePulledPage(data) }
            started.note(.household, items: page.page.households.count + page.page.removed.count, in: pace)
            return page
        }
        let start = ContinuousClock.now
        let startBytes = api.meter?.bytes ?? 0
        var expected: Int?
        var askedEstimate = false
        var prefetched: Task<PulledPage, any Error>?
        defer { prefetched?.cancel() }
        while true {
            try Task.checkCancellation()
            let pulled: PulledPage
            if let next = prefetched {
                prefetched = nil
                do {
                    pulled = try await withTaskCancellationHandler {
                        try await next.value
                    } onCancel: {
                        next.cancel()
                    }
                } catch let error as DoorstepError where error.code == .invalidCursor {
                    continue  // asked again from the stored cursor, where an unknown cursor is recovered from
                }
            } else {
                let cursor = try await pool.read { db in try LocalStore.setting(db, .cursor) ?? "" }
                do {
                    let estimate = !askedEstimate
                    askedEstimate = true
                    pulled = try await fetch(cursor, estimate: estimate)
                } catch let error as DoorstepError where error.code == .invalidCursor && !cursor.isEmpty && cursor != "0" {
                    // The server no longer knows this cursor (restored from a backup): take the whole
                    // scope again, then ask what it lacks of this laptop's work (1.7).
                    try await pool.write { db in
                        try LocalStore.set(db, .askWhereServerStands, "1")
                        try db.execute(sql: "DELETE FROM households WHERE pulled IS NOT NULL")
                        try db.execute(sql: "DELETE FROM aliases")
                        try LocalStore.set(db, .cursor, "")
                        try LocalStore.set(db, .partialPage, nil)
                        try Self.askAgainForFiles(db)
                        for household in try String.fetchAll(db, sql: "SELECT DISTINCT household FROM outbox").compactMap({ try? EntityID($0) }) {
                            try LocalStore.refreshView(db, household)
                        }
                    }
                    // The whole scope again: its first page estimates anew.
                    askedEstimate = false
                    expected = nil
                    continue
                }
            }
            let page = pulled.page
            if expected == nil, let remaining = page.remaining {
                // An estimate, bounded so that no server's number overflows the sums below.
                let left = page.hasMore ? min(max(0, remaining), SyncProgress.largestEstimate) : 0
                expected = summary.pulledHouseholds + page.households.count + left
            }
            if page.hasMore {
                let next = page.nextCursor
                prefetched = Task { try await fetch(next) }
            }
            try await pool.write { db in
                try LocalStore.apply(pulled, db)
                try LocalStore.set(db, .cursor, page.nextCursor)
                try Self.absorb(page.serverClock, db)
                if !page.hasMore {
                    // A page an earlier sync kept that this pull did not need any more (a write
                    // only then: a day-end sync's last page does nothing more than before).
                    if stored != nil { try LocalStore.set(db, .partialPage, nil) }
                    // Caught up: the copy holds the server's state after every receipt taken so far.
                    let settled = try String.fetchAll(db, sql: "SELECT DISTINCT household FROM outbox WHERE acked IN (1, 2)").compactMap {
                        try? EntityID($0)
                    }
                    try LocalStore.keepSettled(db, where: "acked = 1")
                    try db.execute(sql: "UPDATE outbox SET acked = 3 WHERE acked = 2")
                    // Kept work settled longer ago than the laptop keeps it is forgotten here, in a
                    // transaction the sync makes anyway.
                    try db.execute(
                        sql: "DELETE FROM kept WHERE settled_at <= ?", arguments: [Instant.format(Date(timeIntervalSinceNow: -keepFor), in: .gmt)])
                    for household in settled { try LocalStore.refreshView(db, household) }
                }
            }
            checkpointer.noteWrite()
            summary.pulledHouseholds += page.households.count
            summary.removedHouseholds += page.removed.count
            progress(
                SyncProgress.estimated(
                    phase: .pulling, done: summary.pulledHouseholds, total: expected.map { max($0, summary.pulledHouseholds) },
                    bytes: api.meter?.bytes ?? 0, since: start, startBytes: startBytes))
            if !page.hasMore { return }
        }
    }

    /// Keeps the server's campaigns, so that the worklist knows the stage under way offline
    /// (protocol 1.2). A server before 1.2 has no such route: the laptop keeps what it had. Any
    /// other failure leaves the sync done (its work is committed) and the old list in place.
    private func keepCampaigns(api: ServerAPI) async throws {
        let campaigns: [Campaign]
        do {
            campaigns = try await api.call("GET", "/v1/campaigns", as: CampaignList.self).campaigns
        } catch let error as DoorstepError where error.code == .deviceRevoked {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return
        }
        let text = String(decoding: try WireCoding.encode(CampaignList(campaigns: campaigns)), as: UTF8.self)
        // Written only when they changed: most syncs find the same campaigns, and skip a commit.
        guard try await pool.read({ db in try LocalStore.setting(db, .campaigns) }) != text else { return }
        try await pool.write { db in try LocalStore.set(db, .campaigns, text) }
    }

    /// The campaigns the server gave at the last sync; empty before any (the city data's then count).
    func storedCampaigns() async throws -> [Campaign] {
        let text = try await pool.read { db in try LocalStore.setting(db, .campaigns) }
        guard let text, let list = try? WireCoding.decode(CampaignList.self, from: Data(text.utf8)) else { return [] }
        return list.campaigns
    }

    static func absorb(_ stamp: HLC, _ db: Database) throws {
        var clock = HybridLogicalClock(last: try LocalStore.counters(db).last)
        clock.absorb(stamp)
        try LocalStore.set(db, .hlc, clock.last.description)
    }

    // MARK: Quarantine

    /// The mutations the server refused, with its reasons.
    public func quarantine() async throws -> [QuarantinedMutation] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, household, body, code, reason, reason_zh, at, details FROM quarantine ORDER BY seq").compactMap { row in
                guard let household = try? EntityID(row["household"] as String) else { return nil }
                return QuarantinedMutation(
                    seq: row["seq"], household: household, mutation: try LocalStore.decode(Mutation.self, row["body"]),
                    code: DoorstepError.Code(row["code"] as String), reason: row["reason"], reasonZh: row["reason_zh"], at: row["at"],
                    details: (row["details"] as String?).flatMap { try? WireCoding.decode(ErrorDetails.self, from: Data($0.utf8)) })
            }
        }
    }

    /// Drops a refused mutation for good.
    public func discard(_ seq: Int64) async throws {
        try await pool.write { db in
            guard let household = try String.fetchOne(db, sql: "SELECT household FROM quarantine WHERE seq = ?", arguments: [seq]) else {
                throw DoorstepError(.notFound, "nothing in quarantine with seq \(seq)")
            }
            try db.execute(sql: "DELETE FROM quarantine WHERE seq = ?", arguments: [seq])
            if let id = try? EntityID(household) { try LocalStore.refreshView(db, id) }
        }
    }

    /// Sends a refused mutation again with some values changed: a new mutation (new seq, bases as
    /// the device sees the entity now), validated like any write; the quarantined one is dropped.
    public func resend(_ seq: Int64, with changes: [String: JSONValue] = [:]) async throws {
        guard let item = try await quarantine().first(where: { $0.seq == seq }) else {
            throw DoorstepError(.notFound, "nothing in quarantine with seq \(seq)")
        }
        var values: [String: JSONValue] = [:]
        for field in item.mutation.fields { values[field.field] = field.value }
        for (field, value) in changes { values[field] = value }
        let original = item.mutation
        let fields = values
        try await record(household: original.household, resolving: seq) { context in
            switch original.op {
            case .create:
                // The same id again: the server lets an id whose creation was rejected be created anew.
                return Content(
                    op: .create, kind: original.kind, entity: original.entity, fields: Self.writes(fields, base: { _ in [] }),
                    household: original.kind == .household ? nil : original.household)
            case .update:
                let target = original.kind == .household ? try context.requireView().household : try context.requireEntry(original.entity)
                return Content(
                    op: .update, kind: original.kind, entity: target.id, fields: Self.writes(fields, base: { target.heads($0).map(\.write) }),
                    household: original.kind == .household ? nil : target.household)
            case .delete:
                let entry = try context.requireEntry(original.entity)
                let deletion = entry.deletion
                return Content(op: .delete, kind: entry.kind, entity: entry.id, fields: deletion.fields, covers: deletion.covers, household: entry.household)
            case .linkDecision:
                throw DoorstepError(.invalidOperation, "link decisions are made again from the review queue")
            }
        }
    }

    // MARK: Revocation

    /// Exports unsynced work (and the photos the server does not hold) to bundles beside the
    /// database, then wipes the district's data, the laptop's copies of files among it.
    func handleRevocation(_ error: DoorstepError) async throws -> DoorstepError {
        let revokedAt = Instant.format(Date(), in: .gmt)
        let path = configuration.databasePath + ".revoked-\(revokedAt.replacingOccurrences(of: ":", with: "-")).dsbundle"
        let exported = try await exportBundles(to: path, allowEmpty: false, revoking: true)
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM households")
            try db.execute(sql: "DELETE FROM aliases")
            try db.execute(sql: "DELETE FROM outbox")
            try db.execute(sql: "DELETE FROM quarantine")
            try db.execute(sql: "DELETE FROM kept")
            try db.execute(sql: "DELETE FROM attachment_files")
            try LocalStore.set(db, .token, nil)
            try LocalStore.set(db, .revokedAt, revokedAt)
            try LocalStore.set(db, .revokedBundle, exported?.paths.first)
            try LocalStore.set(db, .lastSyncError, "\(error.code): device revoked; local data wiped")
        }
        try? FileManager.default.removeItem(at: filesFolder)
        return Self.revokedError(bundle: exported?.paths.first)
    }

    /// What a revoked device says, in both languages: where its unsynced work is and what to do with it.
    /// The bundles written beside the first (`name-2.dsbundle`, …, when photos filled several) are named too.
    static func revokedError(bundle: String?) -> DoorstepError {
        guard let bundle else {
            return DoorstepError(
                .deviceRevoked,
                "this device's access was revoked. There was no unsynced work. The district's data on this device has been wiped.",
                zh: "本设备的访问权限已被撤销。本机没有未同步的工作；本旗区的数据已从本机清除。"
            )
        }
        var more = 0
        while FileManager.default.fileExists(atPath: bundlePath(bundle, part: more + 2)) { more += 1 }
        let others = more > 0 ? " and \(more) more file(s) beside it (\(bundlePath(bundle, part: 2)), …)" : ""
        let othersZH = more > 0 ? "及其旁边的另外 \(more) 个文件（\(bundlePath(bundle, part: 2)) 等）" : ""
        return DoorstepError(
            .deviceRevoked,
            "this device's access was revoked. Unsynced work was saved to \(bundle)\(others) (encrypted); copy it to a USB stick and give it to the district office, which uploads it with doorstep upload and reviews it. The district's data on this device has been wiped.",
            zh: "本设备的访问权限已被撤销。尚未同步的工作已加密保存到 \(bundle)\(othersZH)；请把这些文件拷到U盘交给旗区工会，由工会用 doorstep upload 上传并审核。本旗区的数据已从本机清除。"
        )
    }
}

/// Lets one sync run at a time on a client.
final class SyncGate: Sendable {
    private let state = LockedFlag()

    func enter() -> Bool { state.setIfClear() }
    func leave() { state.clear() }
}

/// A Boolean behind a lock.
final class LockedFlag: Sendable {
    private let value = Mutex(false)

    func setIfClear() -> Bool {
        value.withLock { value in
            if value { return false }
            value = true
            return true
        }
    }

    func clear() {
        value.withLock { $0 = false }
    }
}

/// A pull page cut on the way when a sync ended: its request and what came of it, kept in the
/// local database so that the next sync asks for the rest (protocol 1.5, §18); a relay keeps
/// its own pull's the same way.
package struct UnfinishedPage: Codable, Sendable {
    /// Holds an unfinished page until the first page of a pull takes it.
    final class Slot: Sendable {
        private let page: Mutex<UnfinishedPage?>
        init(_ page: UnfinishedPage?) { self.page = Mutex(page) }
        /// The page, once.
        func take() -> UnfinishedPage? {
            page.withLock { page in
                defer { page = nil }; return page
            }
        }
    }

    /// The request's path and query.
    package var path: String
    var status: Int
    var headers: [String: String]
    /// The bytes that came, base64.
    var body: String

    package init(path: String, answer: PartialAnswer) {
        self.path = path
        status = answer.status
        headers = answer.headers
        body = answer.body.base64EncodedString()
    }

    /// The page as kept in a setting; `nil` for a setting that does not read as one.
    package init?(text: String) {
        guard let page = try? JSONDecoder().decode(Self.self, from: Data(text.utf8)), Data(base64Encoded: page.body) != nil else { return nil }
        self = page
    }

    /// The page as a setting's text.
    package var text: String? { (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } }
    /// The bytes that came, as the answer they began.
    package var answer: PartialAnswer { PartialAnswer(status: status, headers: headers, body: Data(base64Encoded: body) ?? Data()) }
}
