import Foundation

/// Everything one run measured. Encoded with snake_case keys (`ingest.ratio`, `first_sync.client_memory_ratio`…);
/// BENCHMARKS.md documents each key. A case not run is absent.
struct Results: Codable, Sendable {
    var mode: String
    var build: String
    var cores: Int
    var directory: String
    var seconds: Double = 0
    var ingest: IngestResult?
    var firstSync: FirstSyncResult?
    var pull: PullResult?
    var localWrite: LocalWriteResult?
    var bundles: BundleResult?
    var postgres: PostgresResult?
    var fieldApp: FieldAppResult?
    var files: FilesResult?
    var wire: WireResult?
    var office: OfficeResult?
    var relay: RelayResult?
}

/// A district's laptops syncing through its relay against the same with the city directly.
struct RelayResult: Codable, Sendable {
    var households: Int
    var laptops: Int
    var visitsPerLaptop: Int
    var directFirstSyncSeconds = 0.0
    var relayFirstSyncSeconds = 0.0
    var directDayEndSeconds = 0.0
    var relayDayEndSeconds = 0.0
    var relayAtCitySeconds = 0.0
    var relayOutcomesSeconds = 0.0
    var relayPeakKib = 0
    var cityPeakKib = 0
    /// The laptops' day-end sync with the relay over the same with the city.
    var dayEndRatio = 0.0
    /// Everything at the city through the relay over the laptops' day end with the city directly.
    var atCityRatio = 0.0
}

/// One office operation's times at one scope.
struct OfficeTiming: Codable, Sendable {
    var p50Ms: Double
    var p99Ms: Double

    init(_ milliseconds: [Double]) {
        p50Ms = Stats.percentile(milliseconds, 50)
        p99Ms = Stats.percentile(milliseconds, 99)
    }
}

/// The office operations at one scope.
struct OfficePoint: Codable, Sendable {
    var households: Int
    var tallyCatchUpSeconds = 0.0
    /// Lines of the roster compared (as many as households, up to a file's limit).
    var rosterLines = 0
    /// Rows of the file imported into an empty server (as many as households, up to a file's limit),
    /// and that server's peak memory after the import.
    var importRows = 0
    var importServerPeakKib = 0
    /// `doorstep-server backup` of the scope's database while the server runs: bytes written and
    /// the backup process's peak memory.
    var backupBytes = 0
    var backupPeakKib = 0
    var operations: [String: OfficeTiming] = [:]
    var serverPeakKib = 0
    /// The server's peak resident memory after each operation, in the order they ran: which one raised it.
    var serverPeakKibAfter: [String: Int] = [:]
}

/// The office's side at city scale: each operation at each scope, and the largest scope's p99 over the smallest's.
struct OfficeResult: Codable, Sendable {
    var backend: String
    var samples: Int
    var scopes: [OfficePoint] = []
    var p99Ratios: [String: Double] = [:]
    /// The server's peak memory at the largest scope over the one before it.
    var memoryRatio = 0.0
}

/// Bytes on the wire: a first sync and a day-end push without compression and with it.
struct WireResult: Codable, Sendable {
    var households: Int
    var records: Int
    var dayMutations: Int
    var firstSyncPlainBytes = 0
    var firstSyncGzipBytes = 0
    var firstSyncPlainSeconds = 0.0
    var firstSyncGzipSeconds = 0.0
    var pushPlainBytes = 0
    var pushGzipBytes = 0
    var firstSyncRatio = 0.0
    var pushRatio = 0.0
}

/// Attachments' files: upload and download rates against a raw copy, and the server's peak
/// memory with 20 devices uploading at once (large files against small ones).
struct FilesResult: Codable, Sendable {
    var fileBytes: Int
    var rounds: Int
    var devices: Int
    var rawCopyMBPerSecond: Double = 0
    var uploadMBPerSecond: Double = 0
    var downloadMBPerSecond: Double = 0
    var uploadRatio: Double = 0
    var downloadRatio: Double = 0
    var smallFileBytes: Int = 0
    var largeFileBytes: Int = 0
    var smallPeakKib: Int = 0
    var largePeakKib: Int = 0
    var memoryRatio: Double = 0
}

struct IngestResult: Codable, Sendable {
    var backend: String
    var mutations: Int
    var clients: Int
    var batchSize: Int
    /// Wall time from the first push request to the last push answer, all clients together.
    var seconds: Double
    var perSecond: Double
    /// CPU time the server process spent in that window, and the rate it would reach with a core of its own.
    var serverCpuSeconds: Double
    var perServerCpuSecond: Double
    /// The same rows written straight with prepared statements (SQLite only).
    var rawSeconds: Double?
    var rawPerSecond: Double?
    var ratio: Double?
    /// The same visits as plain rows (one table, the visit's own columns), same transactions and mode (SQLite only).
    var plainSeconds: Double?
    var plainPerSecond: Double?
    var plainRatio: Double?
    /// Bytes the server's database grew by per visit and per household edit, in all and by table
    /// (SQLite's `dbstat`, pages; the office tally's tables apart: they hold a row per household).
    var bytesPerVisit: Double?
    var bytesPerEdit: Double?
    var visitBytesByTable: [String: Double]?
    var editBytesByTable: [String: Double]?
}

struct ScopeResult: Codable, Sendable {
    var households: Int
    /// Households, members and visits delivered.
    var records: Int
    var seconds: Double
    var recordsPerSecond: Double
    var householdsPerSecond: Double
    var clientPeakKib: Int
    var serverPeakKib: Int
    /// CPU time of the client process (the whole sync) and of the server process during it.
    var clientCpuSeconds: Double
    var serverCpuSeconds: Double
}

struct FirstSyncResult: Codable, Sendable {
    var backend: String
    var scopes: [ScopeResult]
    /// The largest scope's client rows (`households` table) inserted straight, one transaction per page (SQLite only).
    var rawHouseholdsPerSecond: Double?
    var rawRecordsPerSecond: Double?
    /// Client households/s over raw households/s, largest scope.
    var ratio: Double?
    /// Peak memory at the largest scope over the one before it.
    var clientMemoryRatio: Double?
    var serverMemoryRatio: Double?
}

struct PullPoint: Codable, Sendable {
    /// Changes the server held (its change sequence) before the timed pulls.
    var changes: Int
    var households: Int
    var medianSeconds: Double
    var minSeconds: Double
}

struct PullResult: Codable, Sendable {
    var backend: String
    var delta: Int
    var rounds: Int
    var points: [PullPoint]
    /// Median pull time at the largest history over the smallest.
    var ratio: Double?
}

struct LocalWriteResult: Codable, Sendable {
    var samples: Int
    var p50Ms: Double
    var p99Ms: Double
    var bareP50Ms: Double
    var bareP99Ms: Double
    /// recordVisit p99 over the bare insert's p99.
    var ratio: Double
}

struct BundleResult: Codable, Sendable {
    var mutations: Int
    var bytes: Int
    var exportSeconds: Double
    var exportMbPerSecond: Double
    var uploadSeconds: Double
    var uploadMbPerSecond: Double
    var uploadMutationsPerSecond: Double
}

/// The field app's pages on a laptop of `households`, each on the app's side (`Server-Timing`)
/// against the library call it makes, `samples` requests each.
struct FieldAppResult: Codable, Sendable {
    struct Timing: Codable, Sendable {
        var p50Ms: Double
        var p99Ms: Double
        var libraryP50Ms: Double
        var libraryP99Ms: Double

        init(_ page: [Double], library: [Double]) {
            p50Ms = Stats.percentile(page, 50)
            p99Ms = Stats.percentile(page, 99)
            libraryP50Ms = Stats.percentile(library, 50)
            libraryP99Ms = Stats.percentile(library, 99)
        }
    }

    var households: Int
    var samples: Int
    var worklist: Timing?
    var search: Timing?
    var household: Timing?
    var savedVisit: Timing?
}

struct PostgresResult: Codable, Sendable {
    var ingest: IngestResult?
    var scaleOut: ScaleOutResult?
    var firstSync: FirstSyncResult?
    var pull: PullResult?
    var office: OfficeResult?
}

/// PostgreSQL ingest with several server processes on one database.
struct ScaleOutResult: Codable, Sendable {
    var mutations: Int
    var clients: Int
    var points: [ScaleOutPoint] = []
}

/// The ingest with one number of server processes.
struct ScaleOutPoint: Codable, Sendable {
    var processes: Int
    /// Whether each client visits households of its own (as visitors of different areas do), not
    /// households every client visits.
    var ownHouseholds = false
    var seconds: Double
    var perSecond: Double
    /// CPU of every server process during the pushes.
    var serverCpuSeconds = 0.0
    /// Time the processes spent answering pushes (summed over requests).
    var pushSeconds = 0.0
    var lockWaitSeconds = 0.0
    var lockHeldSeconds = 0.0
    var writeTransactions = 0.0
    /// Pushes begun again because another push held a lock they needed.
    var retries = 0.0
    /// The write lock's held time over the pushes' time: the part of a push that runs one at a time.
    var heldShareOfPush = 0.0
    /// The write lock's held time over the window: near 1, the lock is what caps the rate.
    var lockBusyShare = 0.0
}

/// Statistics over samples.
enum Stats {
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }

    static func median(_ values: [Double]) -> Double { percentile(values, 50) }
}

/// The table printed at the end of a run.
enum Table {
    struct Line {
        var area: String
        var measure: String
        var value: String
        var target: String = ""
        var verdict: String = ""
    }

    /// `12,345.6`: thousands grouped, a fixed number of decimals.
    static func number(_ value: Double, digits: Int = 0) -> String {
        guard value.isFinite else { return "-" }
        let text = String(format: "%.\(digits)f", abs(value))
        let parts = text.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        return (value < 0 ? "-" : "") + whole + grouped + (parts.count > 1 ? "." + parts[1] : "")
    }

    static func check(_ ok: Bool) -> String { ok ? "met" : "SHORT" }

    static func lines(_ results: Results) -> [Line] {
        var lines: [Line] = []
        if let ingest = results.ingest { lines += ingestLines(ingest, sqlite: nil) }
        if let first = results.firstSync { lines += firstSyncLines(first) }
        if let pull = results.pull { lines += pullLines(pull) }
        if let local = results.localWrite {
            let area = "local write"
            lines.append(
                Line(
                    area: area, measure: "recordVisit p50 / p99 (\(local.samples) visits)",
                    value: "\(number(local.p50Ms, digits: 2)) / \(number(local.p99Ms, digits: 2)) ms"))
            lines.append(
                Line(
                    area: area, measure: "bare 1-row insert p50 / p99, same disk",
                    value: "\(number(local.bareP50Ms, digits: 2)) / \(number(local.bareP99Ms, digits: 2)) ms"))
            lines.append(
                Line(
                    area: area, measure: "p99 ratio (recordVisit / bare)", value: number(local.ratio, digits: 2), target: "≤ 3",
                    verdict: check(local.ratio <= 3)))
        }
        if let bundle = results.bundles {
            let area = "bundles"
            let megabytes = Double(bundle.bytes) / 1_000_000
            lines.append(
                Line(
                    area: area, measure: "export \(number(Double(bundle.mutations))) mutations (\(number(megabytes, digits: 2)) MB)",
                    value: "\(number(bundle.exportSeconds, digits: 2)) s, \(number(bundle.exportMbPerSecond, digits: 1)) MB/s"))
            lines.append(
                Line(
                    area: area, measure: "upload and apply (office, HTTP)",
                    value:
                        "\(number(bundle.uploadSeconds, digits: 2)) s, \(number(bundle.uploadMbPerSecond, digits: 2)) MB/s, \(number(bundle.uploadMutationsPerSecond)) mut/s"
                ))
        }
        if let app = results.fieldApp { lines += fieldAppLines(app) }
        if let files = results.files { lines += filesLines(files) }
        if let wire = results.wire { lines += wireLines(wire) }
        if let office = results.office { lines += officeLines(office) }
        if let relay = results.relay { lines += relayLines(relay) }
        if let postgres = results.postgres {
            if let ingest = postgres.ingest { lines += ingestLines(ingest, sqlite: results.ingest) }
            if let scaleOut = postgres.scaleOut { lines += scaleOutLines(scaleOut) }
            if let first = postgres.firstSync { lines += firstSyncLines(first) }
            if let pull = postgres.pull { lines += pullLines(pull) }
            if let office = postgres.office { lines += officeLines(office) }
        }
        return lines
    }

    /// Operations with a p99 target at any size (issue 21).
    static let officeFastOperations: Set<String> = ["households page", "households search", "household page", "review queue"]
    /// Operations with a p99 target of 300 ms and a ratio largest/smallest of at most 2.
    static let officeCountedOperations: Set<String> = ["report city", "report district", "overview city", "overview district"]

    static func officeLines(_ office: OfficeResult) -> [Line] {
        var lines: [Line] = []
        let area = "office (\(office.backend))"
        let names = Set(office.scopes.flatMap(\.operations.keys)).sorted()
        for name in names {
            let figures = office.scopes.compactMap { point in
                point.operations[name].map { "\(number(Double(point.households))): \(number($0.p50Ms, digits: 1))/\(number($0.p99Ms, digits: 1))" }
            }
            var target = "", verdict = ""
            let ratio = office.p99Ratios[name]
            let largest = office.scopes.last?.operations[name]?.p99Ms ?? 0
            if officeCountedOperations.contains(name) {
                target = "p99 < 300 ms, ratio ≤ 2"
                verdict = check(largest < 300 && (ratio ?? 0) <= 2)
            } else if officeFastOperations.contains(name) {
                target = "p99 < 100 ms"
                verdict = check(office.scopes.allSatisfy { ($0.operations[name]?.p99Ms ?? 0) < 100 })
            }
            lines.append(
                Line(
                    area: area, measure: "\(name): p50/p99 ms by households, ratio",
                    value: figures.joined(separator: " · ") + (ratio.map { ", \(number($0, digits: 2))" } ?? ""), target: target, verdict: verdict))
        }
        lines.append(
            Line(
                area: area, measure: "tally catch-up after seeding (s) by households",
                value: office.scopes.map { "\(number(Double($0.households))): \(number($0.tallyCatchUpSeconds, digits: 2))" }.joined(separator: " · ")))
        lines.append(
            Line(
                area: area, measure: "server peak memory (MiB) by households, ratio last two",
                value: office.scopes.map { "\(number(Double($0.households))): \($0.serverPeakKib / 1024)" }.joined(separator: " · ")
                    + ", \(number(office.memoryRatio, digits: 2))", target: "≤ 1.5", verdict: check(office.memoryRatio <= 1.5)))
        let imports = office.scopes.filter { $0.importRows > 0 }
        if !imports.isEmpty {
            lines.append(
                Line(
                    area: area, measure: "import into an empty server: rows, µs per row, its peak MiB",
                    value: imports.map { point in
                        let perRow = (point.operations["import"]?.p50Ms ?? 0) * 1000 / Double(max(1, point.importRows))
                        return "\(number(Double(point.importRows))): \(number(perRow, digits: 0)), \(point.importServerPeakKib / 1024)"
                    }.joined(separator: " · ")))
        }
        let backups = office.scopes.filter { $0.backupBytes > 0 }
        if !backups.isEmpty {
            lines.append(
                Line(
                    area: area, measure: "backup while serving: MiB, MB/s, the backup's peak MiB",
                    value: backups.map { point in
                        let seconds = (point.operations["backup"]?.p50Ms ?? 0) / 1000
                        return
                            "\(point.backupBytes / 1_048_576), \(number(Double(point.backupBytes) / 1e6 / max(seconds, 1e-9), digits: 0)), \(point.backupPeakKib / 1024)"
                    }.joined(separator: " · ")))
        }
        return lines
    }

    static func relayLines(_ relay: RelayResult) -> [Line] {
        let area = "relay"
        return [
            Line(
                area: area, measure: "\(relay.laptops) laptops take in \(number(Double(relay.households))) households at once: city / relay",
                value: "\(number(relay.directFirstSyncSeconds, digits: 2)) / \(number(relay.relayFirstSyncSeconds, digits: 2)) s"),
            Line(
                area: area, measure: "their day end, \(relay.visitsPerLaptop) visits each, at once: city / relay (laptops done), ratio",
                value:
                    "\(number(relay.directDayEndSeconds, digits: 2)) / \(number(relay.relayDayEndSeconds, digits: 2)) s, \(number(relay.dayEndRatio, digits: 2))"
            ),
            Line(
                area: area, measure: "all at the city through the relay; over the direct day end",
                value: "\(number(relay.relayAtCitySeconds, digits: 2)) s, \(number(relay.atCityRatio, digits: 2))"),
            Line(area: area, measure: "the city's outcomes back on the laptops (their next sync)", value: "\(number(relay.relayOutcomesSeconds, digits: 2)) s"),
            Line(area: area, measure: "peak memory: relay / city", value: "\(relay.relayPeakKib / 1024) / \(relay.cityPeakKib / 1024) MiB"),
        ]
    }

    static func wireLines(_ wire: WireResult) -> [Line] {
        let area = "wire"
        let records = Double(wire.records)
        let mutations = Double(max(1, wire.dayMutations))
        return [
            Line(
                area: area, measure: "first sync, \(number(Double(wire.households))) households: bytes per record, plain / compressed, ratio",
                value:
                    "\(number(Double(wire.firstSyncPlainBytes) / records, digits: 1)) / \(number(Double(wire.firstSyncGzipBytes) / records, digits: 1)) B, \(number(wire.firstSyncRatio, digits: 3))",
                target: "≤ 0.25", verdict: check(wire.firstSyncRatio <= 0.25)),
            Line(
                area: area, measure: "first sync on loopback: seconds, plain / compressed",
                value: "\(number(wire.firstSyncPlainSeconds, digits: 2)) / \(number(wire.firstSyncGzipSeconds, digits: 2)) s"),
            Line(
                area: area, measure: "day-end push of \(wire.dayMutations) changes: bytes per change, plain / compressed, ratio",
                value:
                    "\(number(Double(wire.pushPlainBytes) / mutations, digits: 1)) / \(number(Double(wire.pushGzipBytes) / mutations, digits: 1)) B, \(number(wire.pushRatio, digits: 3))",
                target: "≤ 0.25", verdict: check(wire.pushRatio <= 0.25)),
        ]
    }

    static func filesLines(_ files: FilesResult) -> [Line] {
        let area = "files"
        let size = "\(files.fileBytes / 1024 / 1024) MiB"
        return [
            Line(area: area, measure: "raw copy of a \(size) photo (read, write, sync)", value: "\(number(files.rawCopyMBPerSecond, digits: 1)) MB/s"),
            Line(
                area: area, measure: "upload (sync of the file alone; median of \(files.rounds)), ratio",
                value: "\(number(files.uploadMBPerSecond, digits: 1)) MB/s, \(number(files.uploadRatio, digits: 2))"),
            Line(
                area: area, measure: "download (fetched, hash checked, kept), ratio",
                value: "\(number(files.downloadMBPerSecond, digits: 1)) MB/s, \(number(files.downloadRatio, digits: 2))"),
            Line(
                area: area,
                measure:
                    "server peak memory, \(files.devices) devices at once, \(files.largeFileBytes / 1024 / 1024) / \(files.smallFileBytes / 1024 / 1024) MiB files",
                value:
                    "\(number(Double(files.largePeakKib) / 1024, digits: 1)) / \(number(Double(files.smallPeakKib) / 1024, digits: 1)) MiB, \(number(files.memoryRatio, digits: 2))",
                target: "≤ 1.5", verdict: check(files.memoryRatio <= 1.5)),
        ]
    }

    static func fieldAppLines(_ app: FieldAppResult) -> [Line] {
        let area = "field app"
        var lines: [Line] = []
        func add(_ name: String, _ timing: FieldAppResult.Timing?, target: Double?) {
            guard let timing else { return }
            lines.append(
                Line(
                    area: area, measure: "\(name) p50 / p99 (\(number(Double(app.households))) households)",
                    value: "\(number(timing.p50Ms, digits: 2)) / \(number(timing.p99Ms, digits: 2)) ms",
                    target: target.map { "p99 < \(number($0)) ms" } ?? "", verdict: target.map { check(timing.p99Ms < $0) } ?? ""))
            lines.append(
                Line(
                    area: area, measure: "  library call alone p50 / p99, ratio p99",
                    value:
                        "\(number(timing.libraryP50Ms, digits: 2)) / \(number(timing.libraryP99Ms, digits: 2)) ms, \(number(timing.p99Ms / max(0.001, timing.libraryP99Ms), digits: 2))"
                ))
        }
        add("worklist page", app.worklist, target: 100)
        add("search (name, ID digits, address)", app.search, target: 100)
        add("household page", app.household, target: nil)
        add("saved home verification", app.savedVisit, target: 50)
        return lines
    }

    static func ingestLines(_ ingest: IngestResult, sqlite: IngestResult?) -> [Line] {
        let area = "ingest (\(ingest.backend))"
        var lines: [Line] = []
        if let raw = ingest.rawPerSecond {
            lines.append(Line(area: area, measure: "raw SQLite, same rows, \(ingest.batchSize)/transaction", value: "\(number(raw)) mut/s"))
        }
        lines.append(
            Line(
                area: area, measure: "server, \(ingest.clients) clients over HTTP, \(number(Double(ingest.mutations))) visits",
                value: "\(number(ingest.perSecond)) mut/s"))
        lines.append(
            Line(
                area: area, measure: "  server CPU per mutation (rate on a core of its own)",
                value: "\(number(ingest.serverCpuSeconds / Double(max(1, ingest.mutations)) * 1e6)) µs (\(number(ingest.perServerCpuSecond)) mut/s)"))
        if let ratio = ingest.ratio {
            lines.append(Line(area: area, measure: "ratio (server / raw)", value: number(ratio, digits: 2), target: "≥ 0.5", verdict: check(ratio >= 0.5)))
        }
        if let plain = ingest.plainPerSecond, let ratio = ingest.plainRatio {
            lines.append(Line(area: area, measure: "plain rows (one visits table), \(ingest.batchSize)/transaction", value: "\(number(plain)) visits/s"))
            lines.append(
                Line(area: area, measure: "ratio (server / plain rows)", value: number(ratio, digits: 2), target: "≥ 0.2", verdict: check(ratio >= 0.2)))
        }
        if let bytes = ingest.bytesPerVisit {
            lines.append(Line(area: area, measure: "bytes stored per visit", value: number(bytes), target: "≤ 3,000", verdict: check(bytes <= 3000)))
            lines.append(Line(area: area, measure: "  by table", value: tables(ingest.visitBytesByTable)))
        }
        if let bytes = ingest.bytesPerEdit {
            lines.append(Line(area: area, measure: "bytes stored per household edit", value: number(bytes)))
            lines.append(Line(area: area, measure: "  by table", value: tables(ingest.editBytesByTable)))
        }
        if let sqlite {
            lines.append(Line(area: area, measure: "PostgreSQL / SQLite server rate", value: number(ingest.perSecond / sqlite.perSecond, digits: 2)))
        }
        return lines
    }

    static func scaleOutLines(_ result: ScaleOutResult) -> [Line] {
        let area = "scale-out (PostgreSQL)"
        var lines: [Line] = []
        for point in result.points {
            let base = result.points.first { $0.ownHouseholds == point.ownHouseholds }?.perSecond ?? 0
            let visited = point.ownHouseholds ? "each its own households" : "the same households"
            lines.append(
                Line(
                    area: area,
                    measure: "\(point.processes) server process(es), \(result.clients) clients (\(visited)), \(number(Double(result.mutations))) visits",
                    value:
                        "\(number(point.perSecond)) visits/s (× \(number(base > 0 ? point.perSecond / base : 0, digits: 2))), CPU \(number(point.serverCpuSeconds / Double(max(1, result.mutations)) * 1e6)) µs/visit"
                ))
            lines.append(
                Line(
                    area: area, measure: "  write lock: held / push time, held / window, wait",
                    value:
                        "\(number(point.heldShareOfPush * 100, digits: 0)) %, \(number(point.lockBusyShare * 100, digits: 0)) %, \(number(point.lockWaitSeconds, digits: 1)) s over \(number(point.writeTransactions)) transactions, \(number(point.retries)) pushes begun again"
                ))
        }
        return lines
    }

    /// The largest tables of a byte count, `entities 1,024 · audit_fields 300 · …`.
    static func tables(_ bytes: [String: Double]?) -> String {
        (bytes ?? [:]).sorted { $0.value > $1.value }.prefix(6).map { "\($0.key) \(number($0.value))" }.joined(separator: " · ")
    }

    static func firstSyncLines(_ first: FirstSyncResult) -> [Line] {
        let area = "first sync (\(first.backend))"
        var lines: [Line] = []
        for scope in first.scopes {
            lines.append(
                Line(
                    area: area, measure: "\(number(Double(scope.households))) households (\(number(Double(scope.records))) records)",
                    value: "\(number(scope.recordsPerSecond)) rec/s, \(number(scope.seconds, digits: 1)) s"))
            lines.append(
                Line(
                    area: area, measure: "  CPU client / server",
                    value: "\(number(scope.clientCpuSeconds, digits: 1)) / \(number(scope.serverCpuSeconds, digits: 1)) s"))
            lines.append(
                Line(
                    area: area, measure: "  peak memory client / server",
                    value: "\(number(Double(scope.clientPeakKib) / 1024, digits: 1)) / \(number(Double(scope.serverPeakKib) / 1024, digits: 1)) MiB"))
        }
        if let raw = first.rawRecordsPerSecond, let ratio = first.ratio {
            lines.append(Line(area: area, measure: "raw SQLite insert of the client's rows", value: "\(number(raw)) rec/s"))
            lines.append(Line(area: area, measure: "ratio (client / raw)", value: number(ratio, digits: 2), target: "≥ 0.25", verdict: check(ratio >= 0.25)))
        }
        if let client = first.clientMemoryRatio, let server = first.serverMemoryRatio, first.scopes.count >= 2 {
            let last = first.scopes[first.scopes.count - 1].households, before = first.scopes[first.scopes.count - 2].households
            lines.append(
                Line(
                    area: area, measure: "peak memory \(number(Double(last))) / \(number(Double(before))) client, server",
                    value: "\(number(client, digits: 2)), \(number(server, digits: 2))", target: "≤ 1.5", verdict: check(client <= 1.5 && server <= 1.5)))
        }
        return lines
    }

    static func pullLines(_ pull: PullResult) -> [Line] {
        let area = "pull (\(pull.backend))"
        var lines: [Line] = []
        for point in pull.points {
            lines.append(
                Line(
                    area: area, measure: "\(pull.delta) changes after \(number(Double(point.changes))) held",
                    value: "\(number(point.medianSeconds * 1000, digits: 1)) ms (median of \(pull.rounds))"))
        }
        if let ratio = pull.ratio, let first = pull.points.first, let last = pull.points.last {
            lines.append(
                Line(
                    area: area, measure: "ratio \(number(Double(last.changes))) / \(number(Double(first.changes)))",
                    value: number(ratio, digits: 2), target: "≤ 1.5", verdict: check(ratio <= 1.5)))
        }
        return lines
    }

    static func render(_ results: Results) -> String {
        let rows = lines(results)
        let header = Line(area: "case", measure: "measure", value: "value", target: "target", verdict: "")
        let all = [header] + rows
        func width(_ key: KeyPath<Line, String>) -> Int { all.map { $0[keyPath: key].count }.max() ?? 0 }
        let widths = (width(\.area), width(\.measure), width(\.value), width(\.target))
        func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
        var text =
            "Doorstep benchmarks: \(results.build) build, \(results.mode) mode, \(results.cores) cores, disk \(results.directory), \(number(results.seconds)) s\n"
        for (index, line) in all.enumerated() {
            text +=
                [pad(line.area, widths.0), pad(line.measure, widths.1), pad(line.value, widths.2), pad(line.target, widths.3), line.verdict]
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
            if index == 0 {
                text += String(repeating: "-", count: widths.0 + widths.1 + widths.2 + widths.3 + 14) + "\n"
            }
        }
        return text
    }
}
