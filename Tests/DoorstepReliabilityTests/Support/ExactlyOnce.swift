import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import Testing

/// Checks, against the server's own database file and the replicas, that every mutation the
/// server acknowledged is held exactly once, that every replica holds all of its work on the
/// server, and that the replicas converged.
struct ExactlyOnce {
    /// What a check found (printed by the tests, and quoted in docs/GUARANTEES.md).
    struct Report: CustomStringConvertible {
        var acknowledged = 0
        var heldOnce = 0
        var lost = 0
        var duplicated = 0
        var recorded = 0
        var visits = 0
        var replicas = 0
        var households = 0

        var description: String {
            "acknowledged \(acknowledged), held once \(heldOnce), lost \(lost), duplicated \(duplicated); "
                + "recorded on devices \(recorded); visits \(visits); \(replicas) replicas converged on \(households) households"
        }
    }

    let databasePath: String
    /// The server's PostgreSQL database, when it runs on one (then `databasePath` is not read).
    var postgresURL: String? = nil

    typealias ServerRows = (mutations: [Ledger.Key: String], audit: [Ledger.Key: Int], repeatedAudit: Int, visits: [String], integrity: String)

    /// The server's rows from its SQLite file, or from its PostgreSQL database through `psql`.
    func rows() async throws -> ServerRows {
        guard let postgresURL else { return try serverRows() }
        func query(_ sql: String) async throws -> [[String]] {
            let result = try await ChildProcess.run(program: "psql", [postgresURL, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            guard result.status == 0 else { throw DoorstepError(.internalError, "psql: \(result.stderr)") }
            return result.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }
        var mutations: [Ledger.Key: String] = [:]
        for row in try await query("SELECT device, seq, result FROM mutations") where row.count == 3 {
            mutations[Ledger.Key(device: row[0], seq: Int64(row[1]) ?? -1)] = row[2]
        }
        var audit: [Ledger.Key: Int] = [:]
        for row in try await query("SELECT device, seq, COUNT(*) FROM audit GROUP BY device, seq") where row.count == 3 {
            audit[Ledger.Key(device: row[0], seq: Int64(row[1]) ?? -1)] = Int(row[2]) ?? 0
        }
        let repeated = try await query(
            "SELECT COUNT(*) FROM (SELECT device, seq, field, entity FROM audit GROUP BY device, seq, field, entity HAVING COUNT(*) > 1) AS r")
        let visits = try await query("SELECT id FROM entities WHERE kind = 'visit'").compactMap(\.first)
        return (mutations, audit, Int(repeated.first?.first ?? "") ?? -1, visits, "ok")
    }

    /// The server's mutation log: `(device, seq)` → result, and audit rows per `(device, seq)`.
    func serverRows() throws -> ServerRows {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
        return try queue.read { db in
            var mutations: [Ledger.Key: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT device, seq, result FROM mutations") {
                mutations[Ledger.Key(device: row["device"], seq: row["seq"])] = row["result"]
            }
            var audit: [Ledger.Key: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT device, seq, COUNT(*) AS n FROM audit GROUP BY device, seq") {
                audit[Ledger.Key(device: row["device"], seq: row["seq"])] = row["n"]
            }
            let repeated =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM (SELECT device, seq, field, entity FROM audit GROUP BY device, seq, field, entity HAVING COUNT(*) > 1)
                        """) ?? 0
            let visits = try String.fetchAll(db, sql: "SELECT id FROM entities WHERE kind = 'visit'")
            let integrity = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "?"
            return (mutations, audit, repeated, visits, integrity)
        }
    }

    /// The highest seq a client's local database has numbered (its `nextSeq` − 1).
    static func lastSeq(ofClientDatabase path: String) throws -> (device: String, seq: Int64) {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            let device = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'device'") ?? ""
            let next = Int64(try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'nextSeq'") ?? "1") ?? 1
            return (device, next - 1)
        }
    }

    /// The full check. `clients` are field clients that synced last (their outboxes empty);
    /// `recordedVisits` are the visit ids the devices recorded.
    @discardableResult
    func verify(
        ledger: Ledger, clients: [FieldClient], recordedVisits: Set<EntityID>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Report {
        var report = Report()
        let server = try await rows()
        #expect(server.integrity == "ok", "the server's database is damaged: \(server.integrity)", sourceLocation: sourceLocation)

        // 1. Everything acknowledged is held, exactly once.
        let acknowledged = ledger.acknowledged
        report.acknowledged = acknowledged.count
        for (key, entry) in acknowledged.sorted(by: { $0.key < $1.key }) {
            guard server.mutations[key] != nil else {
                report.lost += 1
                Issue.record("acknowledged \(key.device)#\(key.seq) (\(entry.outcome)) is not in the server's mutation log", sourceLocation: sourceLocation)
                continue
            }
            if entry.outcome == .applied || entry.outcome == .conflict {
                let rows = server.audit[key] ?? 0
                // One audit row per field the mutation wrote (a visit or an edit always changes its fields).
                if rows == 0 {
                    report.lost += 1
                    Issue.record("acknowledged \(key.device)#\(key.seq) left no trace in the history", sourceLocation: sourceLocation)
                    continue
                }
                if rows > entry.mutation.fields.count {
                    report.duplicated += 1
                    Issue.record(
                        "\(key.device)#\(key.seq) is in the history \(rows) times for \(entry.mutation.fields.count) fields", sourceLocation: sourceLocation)
                    continue
                }
            }
            report.heldOnce += 1
        }
        #expect(server.repeatedAudit == 0, "\(server.repeatedAudit) (device, seq, field) written twice in the history", sourceLocation: sourceLocation)
        report.duplicated += server.repeatedAudit

        // 2. Every device's numbered work reached the server: seqs 1…last, no gap, nothing more.
        for client in clients {
            let local = try Self.lastSeq(ofClientDatabase: client.configuration.databasePath)
            report.recorded += Int(local.seq)
            let held = server.mutations.keys.filter { $0.device == local.device }.map(\.seq).sorted()
            #expect(
                held == (local.seq > 0 ? Array(1...local.seq) : []),
                "device \(local.device): numbered 1…\(local.seq), the server holds \(held.count) seqs (first gap at \(Self.firstGap(held)))",
                sourceLocation: sourceLocation)
            let status = try await client.status()
            #expect(
                status.pending == 0 && status.awaitingConfirmation == 0 && status.quarantined == 0,
                "device \(local.device) still has work: \(status)", sourceLocation: sourceLocation)
        }

        // 3. Visits: each recorded one is on the server once, and the server has no other.
        let serverVisits = server.visits.compactMap { try? EntityID($0) }
        report.visits = serverVisits.count
        #expect(Set(serverVisits) == recordedVisits, "visits: server \(serverVisits.count), recorded \(recordedVisits.count)", sourceLocation: sourceLocation)
        #expect(Set(serverVisits).count == serverVisits.count, sourceLocation: sourceLocation)

        // 4. Convergence: every replica shows every household the same way, each visit once.
        var reference: [EntityID: Data]?
        for client in clients {
            var views: [EntityID: Data] = [:]
            for summary in try await client.households() {
                guard let view = try await client.household(summary.id) else { continue }
                let visits = view.entities.filter { $0.kind == .visit }.map(\.id)
                #expect(Set(visits).count == visits.count, "a visit is shown twice in \(summary.id)", sourceLocation: sourceLocation)
                views[summary.id] = try WireCoding.encode(view)
            }
            if let reference {
                #expect(Set(views.keys) == Set(reference.keys), "replicas hold different households", sourceLocation: sourceLocation)
                for (id, data) in views where reference[id] != data {
                    Issue.record("replicas disagree on household \(id)", sourceLocation: sourceLocation)
                }
            } else {
                reference = views
                report.households = views.count
                let shown = Set(
                    views.values.flatMap { data -> [EntityID] in
                        ((try? JSONDecoder().decode(HouseholdAggregate.self, from: data))?.entities ?? []).filter { $0.kind == .visit }.map(\.id)
                    })
                #expect(shown == recordedVisits, "the replica shows \(shown.count) visits of \(recordedVisits.count) recorded", sourceLocation: sourceLocation)
            }
            report.replicas += 1
        }
        return report
    }

    static func firstGap(_ seqs: [Int64]) -> String {
        for (index, seq) in seqs.enumerated() where seq != Int64(index + 1) { return "\(index + 1)" }
        return "none"
    }
}

/// Syncs until the outbox is empty (or the attempts run out), then once more so every replica
/// has pulled everything the others pushed.
func syncUntilSettled(_ clients: [FieldClient], attempts: Int = 30) async throws {
    for client in clients {
        var left = attempts
        while true {
            left -= 1
            do {
                try await client.sync()
                let status = try await client.status()
                if status.pending == 0 && status.awaitingConfirmation == 0 { break }
            } catch {
                if left <= 0 { throw error }
            }
            if left <= 0 { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }
    for client in clients {
        var left = attempts
        while (try? await client.sync()) == nil && left > 0 {
            left -= 1
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
