import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `doorstep-bench`: Doorstep's figures against the machine's own SQLite, in one run (BENCHMARKS.md).
@main
struct DoorstepBench {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case "_serve": try await Children.serve(Array(arguments.dropFirst()))
            case "_first-sync": try await Children.firstSync(Array(arguments.dropFirst()))
            case "_backup": try await Children.backup(Array(arguments.dropFirst()))
            default: try await bench(try Options.parse(arguments))
            }
        } catch let error as BenchError where error.description == BenchError.usage.description {
            print(error.description)
        } catch {
            Workspace.shared.cleanUp()
            FileHandle.standardError.write(Data("doorstep-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static var buildName: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    static func bench(_ options: Options) async throws {
        let workspace = Workspace.shared
        workspace.keep = options.keep
        let root = try workspace.create(under: options.directory)
        workspace.cleanUpOnSignals()
        if buildName == "debug" && !options.quick {
            Log.note("warning: a debug build; build with -c release for real figures")
        }
        Log.note("doorstep-bench \(options.quick ? "--quick" : "full mode") in \(root)")
        let started = ContinuousClock.now
        var results = Results(
            mode: options.quick ? "quick" : "full", build: buildName, cores: ProcessInfo.processInfo.activeProcessorCount,
            directory: options.directory ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
        let postgres = options.postgres.map(PostgresDatabases.init(serverURL:))
        do {
            let ingestCases = options.only.intersection([.ingest, .localWrite, .bundles])
            if !ingestCases.isEmpty {
                let outcome = try await IngestCase.run(options, backend: .sqlite, cases: ingestCases)
                results.ingest = outcome.ingest
                results.localWrite = outcome.localWrite
                results.bundles = outcome.bundles
            }
            let scopeCases = options.only.intersection([.firstSync, .pull])
            if !scopeCases.isEmpty {
                let outcome = try await ScopeCase.run(options, backend: .sqlite, scopes: options.sizes.scopes, cases: scopeCases)
                results.firstSync = outcome.firstSync
                results.pull = outcome.pull
            }
            if options.only.contains(.fieldApp) {
                results.fieldApp = try await FieldAppCase.run(options)
            }
            if options.only.contains(.files) {
                results.files = try await FilesCase.run(options)
            }
            if options.only.contains(.wire) {
                results.wire = try await WireCase.run(options)
            }
            if options.only.contains(.office) {
                results.office = try await OfficeCase.run(options, backend: .sqlite)
            }
            if options.only.contains(.relay) {
                results.relay = try await RelayCase.run(options)
            }
            if let postgres {
                var result = PostgresResult()
                if options.only.contains(.ingest) {
                    let url = try await postgres.create("ingest")
                    result.ingest = try await IngestCase.run(options, backend: .postgres(url: url), cases: [.ingest]).ingest
                }
                if options.only.contains(.scaleOut) {
                    result.scaleOut = try await ScaleOutCase.run(options, databases: postgres)
                }
                if !scopeCases.isEmpty {
                    let url = try await postgres.create("scope")
                    let scopes = Array(options.sizes.scopes.prefix(options.sizes.postgresScopes))
                    let outcome = try await ScopeCase.run(options, backend: .postgres(url: url), scopes: scopes, cases: scopeCases)
                    result.firstSync = outcome.firstSync
                    result.pull = outcome.pull
                }
                if options.only.contains(.office) {
                    let url = try await postgres.create("office")
                    result.office = try await OfficeCase.run(
                        options, backend: .postgres(url: url), scopes: Array(options.sizes.officeScopes.prefix(options.sizes.postgresScopes)),
                        importDatabase: { try await postgres.create($0) })
                }
                results.postgres = result
                await postgres.dropAll()
            }
        } catch {
            await postgres?.dropAll()
            throw error
        }
        results.seconds = (ContinuousClock.now - started).seconds
        workspace.cleanUp()
        if options.json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            print(Table.render(results), terminator: "")
        }
    }
}
