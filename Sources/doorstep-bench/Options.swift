import Foundation

/// The benchmark cases, by the names `--only` takes.
enum BenchCase: String, CaseIterable, Sendable {
    case ingest
    case localWrite = "local-write"
    case bundles
    case firstSync = "first-sync"
    case pull
    case fieldApp = "field-app"
    case files
    case wire
    case office
    case scaleOut = "scale-out"
    case relay
}

/// The sizes of one run. `--quick` scales every case down so that a debug build finishes in seconds.
struct Sizes: Sendable {
    /// Mutations the ingest clients push (split evenly between them).
    var ingestMutations: Int
    /// Field clients pushing at once.
    var ingestClients: Int
    /// Households on the ingest server (the scope the ingest clients write into).
    var ingestHouseholds: Int
    /// Visits recorded one by one for the local-write latencies.
    var localWrites: Int
    /// Mutations in the exported and uploaded bundle.
    var bundleMutations: Int
    /// The scopes (households) the first-sync and pull cases grow through, smallest first. Each
    /// household holds one member and `visitsPerHousehold` visits, so it is 2 + visits changes.
    var scopes: [Int]
    var visitsPerHousehold: Int
    /// Changes in each incremental pull, and how many pulls are timed (the median counts).
    var pullDelta: Int
    var pullRounds: Int
    /// Scopes PostgreSQL runs (the first ones of `scopes`).
    var postgresScopes: Int
    /// Households on the field app's laptop, and the requests timed of each page.
    var appHouseholds: Int
    var appSamples: Int
    /// The photo timed up and down (MiB) and how many; the devices uploading at once and their
    /// photos' size (MiB; the baseline run sends a tenth of it).
    var fileMiB: Int
    var fileRounds: Int
    var fileDevices: Int
    var fileDevicesMiB: Int
    /// The wire case: households of the district a new laptop syncs, and a day's visits and edits.
    var wireHouseholds = 2_000
    var wireDayVisits = 40
    var wireDayEdits = 10
    /// The office case: the scopes (households) it grows through, and the requests timed per operation.
    var officeScopes = [1_000, 10_000, 100_000]
    var officeSamples = 50
    /// The scale-out case (PostgreSQL): server processes on one database, in turn.
    var scaleOutProcesses = [1, 2, 4]
    /// The relay case: the district's households, the laptops syncing at once and each one's day of visits.
    var relayHouseholds = 2_000
    var relayLaptops = 8
    var relayVisits = 200

    static let full = Sizes(
        ingestMutations: 20_000, ingestClients: 4, ingestHouseholds: 1_000, localWrites: 1_000, bundleMutations: 10_000,
        scopes: [1_000, 10_000, 100_000], visitsPerHousehold: 8, pullDelta: 100, pullRounds: 11, postgresScopes: 2,
        appHouseholds: 10_000, appSamples: 200, fileMiB: 20, fileRounds: 5, fileDevices: 20, fileDevicesMiB: 10)
    static let quick = Sizes(
        ingestMutations: 400, ingestClients: 2, ingestHouseholds: 40, localWrites: 60, bundleMutations: 200,
        scopes: [20, 200], visitsPerHousehold: 8, pullDelta: 10, pullRounds: 3, postgresScopes: 2,
        appHouseholds: 200, appSamples: 20, fileMiB: 2, fileRounds: 2, fileDevices: 4, fileDevicesMiB: 2, wireHouseholds: 100,
        wireDayVisits: 10, wireDayEdits: 5, officeScopes: [50, 500], officeSamples: 5, scaleOutProcesses: [1, 2], relayHouseholds: 100,
        relayLaptops: 2, relayVisits: 20)

    /// Changes per household as seeded (household, member, visits).
    var changesPerHousehold: Int { 2 + visitsPerHousehold }
}

/// The command line of a benchmark run.
struct Options: Sendable {
    var quick = false
    var json = false
    var postgres: String?
    var only: Set<BenchCase> = Set(BenchCase.allCases)
    var keep = false
    var directory: String?
    var sizes = Sizes.full

    static let usage = """
        doorstep-bench: measures Doorstep against the machine's own SQLite (see BENCHMARKS.md).

        usage: doorstep-bench [--quick] [--json] [--postgres URL] [--only CASES] [--dir DIR] [--keep]
                              [--ingest-mutations N] [--clients N] [--scopes N,N,...] [--visits N]
                              [--local-writes N] [--bundle-mutations N] [--pull-delta N] [--pull-rounds N]

          --quick             every case at a small size (seconds, also in a debug build; CI runs it)
          --json              print the results as JSON (keys are documented in BENCHMARKS.md)
          --postgres URL      also run ingest, first sync and pull on PostgreSQL: a fresh database
                              is created from this server URL (postgres://user@host:port/db) and dropped
          --only CASES        comma-separated: ingest, local-write, bundles, first-sync, pull, field-app, files, wire, office,
                              relay, scale-out (PostgreSQL only: 1, 2 and 4 server processes on one database)
          --dir DIR           where the temporary folder goes (default: $TMPDIR or /tmp); the disk measured
          --keep              keep the temporary folder (databases, server logs) for inspection
          --scopes N,N,...    households of the first-sync and pull scopes (default 1000,10000,100000)
          --app-households N  households on the field app's laptop (default 10000)
          --office-scopes N,N households of the office case's scopes (default 1000,10000,100000;
                              1000000 as the long mode, see BENCHMARKS.md)
          --processes N,N     server processes of the scale-out case, in turn (default 1,2,4)

        Build it in release mode for real figures: swift build -c release --product doorstep-bench
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var explicit: [(inout Sizes) -> Void] = []
        var index = 0
        func value(_ name: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError("\(name) needs a value") }
            return arguments[index]
        }
        func count(_ name: String) throws -> Int {
            let text = try value(name)
            guard let number = Int(text), number > 0 else { throw BenchError("\(name) needs a positive whole number, not \"\(text)\"") }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--quick": options.quick = true
            case "--json": options.json = true
            case "--keep": options.keep = true
            case "--postgres": options.postgres = try value(argument)
            case "--dir": options.directory = try value(argument)
            case "--only":
                var cases = Set<BenchCase>()
                for name in try value(argument).split(separator: ",") {
                    guard let found = BenchCase(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                        throw BenchError("unknown case \"\(name)\"; the cases are \(BenchCase.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    cases.insert(found)
                }
                options.only = cases
            case "--ingest-mutations": let n = try count(argument); explicit.append { $0.ingestMutations = n }
            case "--clients": let n = try count(argument); explicit.append { $0.ingestClients = n }
            case "--ingest-households": let n = try count(argument); explicit.append { $0.ingestHouseholds = n }
            case "--local-writes": let n = try count(argument); explicit.append { $0.localWrites = n }
            case "--bundle-mutations": let n = try count(argument); explicit.append { $0.bundleMutations = n }
            case "--visits": let n = try count(argument); explicit.append { $0.visitsPerHousehold = n }
            case "--pull-delta": let n = try count(argument); explicit.append { $0.pullDelta = n }
            case "--pull-rounds": let n = try count(argument); explicit.append { $0.pullRounds = n }
            case "--app-households":
                let n = try count(argument)
                guard n >= 2 else { throw BenchError("--app-households takes at least 2 (half of them are searched and opened)") }
                explicit.append { $0.appHouseholds = n }
            case "--scopes":
                let text = try value(argument)
                let scopes = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !scopes.isEmpty, scopes.allSatisfy({ $0 > 0 }), scopes == scopes.sorted() else {
                    throw BenchError("--scopes takes growing household counts such as 1000,10000,100000")
                }
                explicit.append { $0.scopes = scopes }
            case "--office-scopes":
                let text = try value(argument)
                let scopes = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !scopes.isEmpty, scopes.allSatisfy({ $0 > 1 }), scopes == scopes.sorted() else {
                    throw BenchError("--office-scopes takes growing household counts such as 1000,10000,100000")
                }
                explicit.append { $0.officeScopes = scopes }
            case "--processes":
                let text = try value(argument)
                let counts = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 && $0 <= 16 }) else {
                    throw BenchError("--processes takes counts of server processes from 1 to 16, such as 1,2,4")
                }
                explicit.append { $0.scaleOutProcesses = counts }
            case "-h", "--help":
                throw BenchError.usage
            default:
                throw BenchError("unknown argument \"\(argument)\"\n\n\(usage)")
            }
            index += 1
        }
        options.sizes = options.quick ? .quick : .full
        for change in explicit { change(&options.sizes) }
        options.sizes.ingestClients = min(options.sizes.ingestClients, options.sizes.ingestMutations)
        options.sizes.pullDelta = min(options.sizes.pullDelta, options.sizes.scopes[0])
        options.sizes.appSamples = min(options.sizes.appSamples, options.sizes.appHouseholds / 2)
        if let url = options.postgres, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw BenchError("--postgres takes a postgres://user@host:port/database URL")
        }
        return options
    }
}

/// An error the benchmark reports in one line and exits non-zero.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
    static let usage = BenchError(Options.usage)
}
