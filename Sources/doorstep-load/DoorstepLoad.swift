import ArgumentParser
import DoorstepClient
import Foundation

/// `doorstep-load`: N enrolled devices doing a day-end burst against a server (issue 7, load).
/// The work is in `LoadRun`; this is its command line.
@main
struct DoorstepLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep-load",
        abstract: "Simulate enrolled devices doing a day-end burst: each pushes its day and pulls; verify nothing is lost or doubled.",
        discussion: """
            Each device files --households new households, records --visits visits and makes --edits one-field edits \
            on them (its day), then pushes them in batches of 200 and pulls its district from its cursor, as the \
            field client does. The whole burst runs --bursts times (new days) against one server process.

            Prints throughput, latency (p50/p99) of pushes and pulls, errors, the server's peak resident memory \
            (VmHWM) after each burst, and a verification line: mutations sent, held once, lost, duplicated (read \
            back from the server's history of every household, and every visit counted by id in a city-wide pull).

            Exit status: 0 when nothing was lost or duplicated, no device gave up and the peak memory after the \
            last burst is at most --max-rss-growth times the first's; 1 otherwise.

            With --spawn (the default when --server is not given), starts doorstep-server from beside this \
            binary (or --server-binary) on a temporary data folder and port 0, and stops it at the end. With \
            --server, --admin-token or --admin-token-file is needed, and --server-pid for the memory figures. A \
            spawned server runs with MALLOC_ARENA_MAX=2 (--malloc-arenas; see docs/GUARANTEES.md, Memory).

            Examples:
              doorstep-load --devices 200 --visits 8 --edits 40 --households 2          # CI
              swift build -c release --product doorstep-load --product doorstep-server
              .build/release/doorstep-load --devices 1000 --visits 40 --edits 200       # by hand, ~a city's day end
            """
    )

    @Option(help: "Enrolled devices (spread over the city's districts).")
    var devices = 200

    @Option(help: "Visits each device records in its day.")
    var visits = 40

    @Option(help: "One-field edits each device makes in its day.")
    var edits = 200

    @Option(help: "New households each device files in its day (default: visits / 10, at least 1).")
    var households: Int?

    @Option(help: "Devices syncing at the same time.")
    var concurrency = 64

    @Option(help: "Bursts (days) against the same server process; the memory check compares the last with the first.")
    var bursts = 2

    @Option(help: "The server's address (default: spawn one).")
    var server: String?

    @Flag(help: "Start doorstep-server on a temporary folder (the default without --server).")
    var spawn = false

    @Option(name: .customLong("server-binary"), help: "The doorstep-server to spawn (default: beside this binary).")
    var serverBinary: String?

    @Option(name: .customLong("admin-token"), help: "The admin token of --server (or env DOORSTEP_TOKEN).")
    var adminToken: String?

    @Option(name: .customLong("admin-token-file"), help: "A file holding the admin token of --server.")
    var adminTokenFile: String?

    @Option(name: .customLong("server-pid"), help: "The process id of --server, to read its peak memory.")
    var serverPID: Int32?

    @Option(name: .customLong("max-rss-growth"), help: "The largest allowed ratio of the last burst's peak memory to the first's.")
    var maxRSSGrowth = 1.1

    @Option(name: .customLong("malloc-arenas"), help: "MALLOC_ARENA_MAX for a spawned server (glibc's malloc arenas; 0 keeps glibc's default of 8 per core).")
    var mallocArenas = 2

    @Option(help: "Seed of the generated days (national IDs stay unique per run).")
    var seed: UInt64?

    func validate() throws {
        guard devices >= 1, visits >= 0, edits >= 0, concurrency >= 1, bursts >= 1 else {
            throw ValidationError("--devices, --concurrency and --bursts must be at least 1; --visits and --edits at least 0")
        }
        if server != nil && spawn { throw ValidationError("give --server or --spawn, not both") }
        if let households, households < 1 { throw ValidationError("--households must be at least 1") }
    }

    func run() async throws {
        var settings = LoadRun.Settings(
            devices: devices, visits: visits, edits: edits, households: households ?? max(1, visits / 10),
            concurrency: min(concurrency, devices), bursts: bursts, maxRSSGrowth: maxRSSGrowth,
            seed: seed ?? UInt64.random(in: 1...UInt64(UInt32.max)))
        var spawned: SpawnedServer?
        if let server {
            guard let url = URL(string: server), url.scheme != nil else { throw ValidationError("--server must be a URL such as http://127.0.0.1:8080") }
            let token =
                try adminToken ?? adminTokenFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
                ?? ProcessInfo.processInfo.environment["DOORSTEP_TOKEN"]
            guard let token = token?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw ValidationError("--server needs --admin-token, --admin-token-file or DOORSTEP_TOKEN")
            }
            settings.server = url
            settings.adminToken = token
            settings.serverPID = serverPID
        } else {
            let binary =
                serverBinary
                ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("doorstep-server").path
            let started = try await SpawnedServer.start(binary: binary, mallocArenas: mallocArenas)
            spawned = started
            settings.server = started.url
            settings.adminToken = started.adminToken
            settings.serverPID = started.pid
        }
        let outcome: LoadRun.Outcome
        do {
            outcome = try await LoadRun(settings: settings).run()
        } catch {
            spawned?.stop()
            throw error
        }
        spawned?.stop()
        if !outcome.passed { throw ExitCode(1) }
    }
}
