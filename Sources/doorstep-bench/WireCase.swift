import DoorstepClient
import DoorstepCore
import Foundation
import Synchronization

/// Bytes on the wire (issue 20): a new laptop's first sync of a seeded district and a day-end
/// push, each by a client that asks for no compression (the baseline: protocol 1.4's bytes) and
/// by one that compresses (1.5: zstd), against the same server in the same run.
enum WireCase {
    static func run(_ options: Options) async throws -> WireResult {
        let sizes = options.sizes
        let data = Workspace.shared.path("wire-server")
        let local = try await LocalStorage(backend: .sqlite, data: data)
        let seeder = try await Seeder.enroll(local.storage)
        Log.note("wire: seeding \(sizes.wireHouseholds) households")
        try await seeder.grow(to: sizes.wireHouseholds, visits: sizes.visitsPerHousehold)
        local.close()
        let server = try await ServerProcess.start(data: data, database: nil, name: "wire-server")
        defer { server.stop() }
        let records = sizes.wireHouseholds * sizes.changesPerHousehold
        var result = WireResult(households: sizes.wireHouseholds, records: records, dayMutations: sizes.wireDayVisits + sizes.wireDayEdits)
        for compressed in [false, true] {
            let meter = WireMeter()
            var configuration = ClientConfiguration(databasePath: Workspace.shared.path("wire-\(compressed ? "compressed" : "plain").sqlite"))
            configuration.compression = compressed ? .always : .never
            configuration.transport = { meter.transport($0) }
            let client = try FieldClient(configuration: configuration)
            try await client.enroll(server: server.url, code: try await server.enrollmentCode(), deviceName: "doorstep-bench wire")
            let start = ContinuousClock.now
            let first = try await client.sync()
            let seconds = (ContinuousClock.now - start).seconds
            guard first.pulledHouseholds == sizes.wireHouseholds else {
                throw BenchError("the first sync brought \(first.pulledHouseholds) households, expected \(sizes.wireHouseholds)")
            }
            let pulled = meter.bytes(prefix: "/v1/pull")
            // A day at the doors: visits and edits, then the day-end sync.
            let households = try await client.households().prefix(sizes.wireDayVisits).map(\.id)
            for (n, household) in households.enumerated() {
                _ = try await client.recordVisit(to: household, Facts.visit(9_000_000 + n))
                if n < sizes.wireDayEdits {
                    try await client.editHousehold(
                        household, set: ["monthlyIncomeFen": .int(Int64(180_000 + n * 100)), "address": .string("东胜区 建设街 \(n + 1) 号 \(n + 2) 室")])
                }
            }
            let before = meter.bytes(prefix: "/v1/push")
            let day = try await client.sync()
            guard day.pushed == sizes.wireDayVisits + sizes.wireDayEdits else { throw BenchError("the day-end sync pushed \(day.pushed)") }
            let pushed = meter.bytes(prefix: "/v1/push") - before
            Log.note(
                "  \(compressed ? "compressed" : "plain"): first sync \(pulled) bytes (\(Table.number(Double(pulled) / Double(records), digits: 1)) per record) in \(Table.number(seconds, digits: 2)) s; day-end push \(pushed) bytes"
            )
            if compressed {
                result.firstSyncGzipBytes = pulled
                result.firstSyncGzipSeconds = seconds
                result.pushGzipBytes = pushed
            } else {
                result.firstSyncPlainBytes = pulled
                result.firstSyncPlainSeconds = seconds
                result.pushPlainBytes = pushed
            }
        }
        result.firstSyncRatio = Double(result.firstSyncGzipBytes) / Double(max(1, result.firstSyncPlainBytes))
        result.pushRatio = Double(result.pushGzipBytes) / Double(max(1, result.pushPlainBytes))
        return result
    }
}

/// Counts the bytes of each request and answer body as they travel, by path.
final class WireMeter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func transport(_ url: URL) -> any SyncTransport { Counting(base: ClientConfiguration.platformTransport(url), meter: self) }

    /// The bytes of every exchange whose path starts with `prefix`, both ways.
    func bytes(prefix: String) -> Int { counts.withLock { $0.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) } }

    struct Counting: SyncTransport {
        let base: any SyncTransport
        let meter: WireMeter
        func send(_ request: TransportRequest) async throws -> TransportResponse {
            let answer = try await base.send(request)
            let path = String(request.path.prefix { $0 != "?" })
            meter.counts.withLock { $0[path, default: 0] += (request.body?.count ?? 0) + answer.body.count }
            return answer
        }
    }
}
