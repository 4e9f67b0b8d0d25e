import DoorstepClient
import DoorstepCore
import DoorstepServer
import Foundation
import Hummingbird
import Logging

/// The hidden subcommands the benchmark starts as child processes, so each side's peak memory is its own.
enum Children {
    /// `_serve --data DIR [--database URL] [--relay-for D --upstream URL --relay-token T]`: a Doorstep
    /// server (or a district relay) on a free loopback port; it writes the bound address to
    /// DIR/server.addr and stops on SIGTERM.
    static func serve(_ arguments: [String]) async throws {
        ParentWatch.start()
        let options = try flags(arguments)
        guard let data = options["--data"] else { throw BenchError("_serve needs --data") }
        var configuration = ServerConfiguration(port: 0, dataDirectory: data, databaseURL: options["--database"], logLevel: .warning)
        // A page cap other than the default (§15), to measure what the cap costs a first sync.
        if let text = ProcessInfo.processInfo.environment["DOORSTEP_BENCH_PULL_PAGE_BYTES"] {
            guard let bytes = Int(text), bytes > 0 else { throw BenchError("DOORSTEP_BENCH_PULL_PAGE_BYTES takes a number of bytes") }
            configuration.limits.maxPullPageBytes = bytes
        }
        ProcessMemory.returnLargeBlocksToTheSystem()  // as doorstep-server does
        if let district = options["--relay-for"] {
            guard let upstream = options["--upstream"].flatMap(URL.init(string:)), let token = options["--relay-token"] else {
                throw BenchError("a relay needs --upstream and --relay-token")
            }
            let relay = RelayConfiguration(district: district, upstream: upstream, token: token, interval: .seconds(1))
            try await buildRelayApplication(configuration: configuration, relay: relay).runService()
            return
        }
        let app = try await buildApplication(configuration: configuration)
        try await app.runService()
    }

    /// What `_first-sync` prints (one JSON line).
    struct FirstSyncResult: Codable, Sendable {
        var households: Int
        var seconds: Double
        var peakKiB: Int
        var cpuSeconds: Double
    }

    /// `_first-sync --server URL --code CODE --db PATH`: a new device enrolls, then takes in its
    /// whole scope with one `sync()` (timed); prints households, seconds and its own peak memory.
    static func firstSync(_ arguments: [String]) async throws {
        ParentWatch.start()
        let options = try flags(arguments)
        guard let server = options["--server"].flatMap(URL.init(string:)), let code = options["--code"], let path = options["--db"] else {
            throw BenchError("_first-sync needs --server, --code and --db")
        }
        let client = try FieldClient(configuration: ClientConfiguration(databasePath: path))
        try await client.enroll(server: server, code: code, deviceName: "doorstep-bench first sync")
        let start = ContinuousClock.now
        let cpu = Memory.cpuSeconds()
        let summary = try await client.sync()
        let seconds = (ContinuousClock.now - start).seconds
        let cpuSeconds = Memory.cpuSeconds() - cpu
        let status = try await client.status()
        guard status.households == summary.pulledHouseholds else {
            throw BenchError("the first sync pulled \(summary.pulledHouseholds) households but the device holds \(status.households)")
        }
        let result = FirstSyncResult(households: status.households, seconds: seconds, peakKiB: Memory.peakKiB() ?? 0, cpuSeconds: cpuSeconds)
        print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
    }

    /// What `_backup` prints (one JSON line).
    struct BackupResult: Codable, Sendable {
        var seconds: Double
        var bytes: Int
        var peakKiB: Int
    }

    /// `_backup --data DIR --out FILE`: `doorstep-server backup` of a running server's data folder
    /// (the checked copy of its database and its files); prints its time, size and peak memory.
    static func backup(_ arguments: [String]) async throws {
        ParentWatch.start()
        let options = try flags(arguments)
        guard let data = options["--data"], let out = options["--out"] else { throw BenchError("_backup needs --data and --out") }
        let start = ContinuousClock.now
        let summary = try await DoorstepServerSetup.backup(configuration: ServerConfiguration(dataDirectory: data), to: out)
        let seconds = (ContinuousClock.now - start).seconds
        let bytes = (try? FileManager.default.attributesOfItem(atPath: summary.database)[.size] as? Int) ?? 0
        let result = BackupResult(seconds: seconds, bytes: bytes, peakKiB: Memory.peakKiB() ?? 0)
        print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
    }

    private static func flags(_ arguments: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            guard arguments[index].hasPrefix("--"), index + 1 < arguments.count else { throw BenchError("bad arguments \(arguments)") }
            result[arguments[index]] = arguments[index + 1]
            index += 2
        }
        return result
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
