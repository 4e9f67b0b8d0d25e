import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Issue 7, crashes on the device: the `doorstep` CLI records visits and syncs in a loop, and each
/// process is killed with SIGKILL at a seeded random moment (mid-write, mid-sync). Reopening
/// the database and syncing loses nothing that was saved and doubles nothing.
///
/// CI runs a few dozen processes; `DOORSTEP_CLIENT_KILLS=300 swift test --filter ClientCrashTests`
/// runs a long one by hand.
@Suite(.serialized) struct ClientCrashTests {
    static let rounds = Executables.setting("DOORSTEP_CLIENT_KILLS", ci: 24)
    static let seed = UInt64(Executables.setting("DOORSTEP_CRASH_SEED", ci: 20200430))

    struct LocalWrite: Decodable { var id: EntityID }

    @Test func cliKilledMidWriteAndMidSync_reopensAndSyncs_nothingLostOrDoubled() async throws {
        let server = ServerProcess()
        let url = try await server.start()
        let admin = AdminAPI(url: url, token: try server.adminToken)
        let database = Executables.temporaryFolder("doorstep-crash-cli") + "/doorstep.sqlite"
        let cli = { (arguments: [String], killAfter: Int?) in
            try await ChildProcess.run(Executables.cli, arguments + ["--db", database, "--json"], killAfterMillis: killAfter)
        }
        let enroll = try await cli(
            [
                "enroll", "--server", url.absoluteString, "--code", try await admin.code(district: "150602", role: .visitor),
                "--name", "crash laptop",
            ], nil)
        #expect(enroll.status == 0, "\(enroll)")
        let filed = try await cli(
            [
                "household", "new", "--name", "王某某", "--national-id", Facts.nationalID(7), "--address", "建设街 12 号",
                "--file-level", "national", "--cause", "illness", "--difficulty", "general", "--skill", "none",
                "--income-fen", "120000",
            ], nil)
        let household = try JSONDecoder().decode(LocalWrite.self, from: Data(filed.stdout.utf8)).id

        let record = { (n: Int, killAfter: Int?) in
            try await cli(
                [
                    "visit", "record", household.description, "--date", "2020-04-12", "--conclusion", "eligible",
                    "--notes", "round \(n)",
                ], killAfter)
        }
        // How long an uninterrupted write and sync take here: kills land uniformly inside that.
        let probe = try await record(0, nil)
        var saved: Set<EntityID> = [try JSONDecoder().decode(LocalWrite.self, from: Data(probe.stdout.utf8)).id]
        let syncProbe = try await cli(["sync"], nil)
        #expect(syncProbe.status == 0, "\(syncProbe)")
        // Kept up to date from every run that was not killed (the machine may be busier now or later).
        var writeMillis = max(20, Int(probe.seconds * 1000)), syncMillis = max(20, Int(syncProbe.seconds * 1000))

        var random = SeededGenerator(seed: Self.seed)
        var writesKilled = 0, syncsKilled = 0, syncsRun = 0
        for n in 1...Self.rounds {
            // Most kills land in the second half of a write's life, where it opens the database and commits.
            let late = random.nextBool(percent: 50)
            let killAt =
                late
                ? Int.random(in: (writeMillis * 8 / 10)...(writeMillis * 11 / 10), using: &random)
                : Int.random(in: (writeMillis / 3)...writeMillis, using: &random)
            let result = try await record(n, random.nextBool(percent: 75) ? killAt : nil)
            if result.killed {
                writesKilled += 1
            } else {
                #expect(result.status == 0, "\(result)")
                if let write = try? JSONDecoder().decode(LocalWrite.self, from: Data(result.stdout.utf8)) { saved.insert(write.id) }
                writeMillis = max(20, (writeMillis + Int(result.seconds * 1000)) / 2)
            }
            if random.nextBool(percent: 50) {
                syncsRun += 1
                let sync = try await cli(
                    ["sync"], random.nextBool(percent: 75) ? Int.random(in: (syncMillis / 4)...(syncMillis * 11 / 10), using: &random) : nil)
                if sync.killed {
                    syncsKilled += 1
                } else {
                    #expect(sync.status == 0, "\(sync)")
                    syncMillis = max(20, (syncMillis + Int(sync.seconds * 1000)) / 2)
                }
            }
        }

        // Reopen the database: everything it committed is what the server must end with.
        var configuration = ClientConfiguration(databasePath: database, retry: .quick)
        configuration.allowInsecureHTTP = false
        let client = try FieldClient(configuration: configuration)
        let local = Set(try #require(try await client.household(household)).entities.filter { $0.kind == .visit }.map(\.id))
        #expect(saved.isSubset(of: local), "\(saved.subtracting(local).count) visit(s) the CLI reported saved are gone")
        let final = try await cli(["sync"], nil)
        #expect(final.status == 0, "\(final)")
        let report = try await ExactlyOnce(databasePath: server.databasePath).verify(ledger: Ledger(), clients: [client], recordedVisits: local)
        await server.stop()
        print(
            "ClientCrashTests (seed \(Self.seed); a write takes \(writeMillis) ms, a sync \(syncMillis) ms): \(Self.rounds) visit writes (\(writesKilled) killed), \(syncsRun) syncs (\(syncsKilled) killed), "
                + "\(local.count) visits committed on the device (\(local.count - saved.count) by killed processes), "
                + "server holds \(report.visits), \(report.recorded) mutations numbered, 0 lost, \(report.duplicated) duplicated")
    }
}

extension ClientCrashTests {
    /// A known defect of the platform, tracked here: URLSession on Linux (swift-corelibs-foundation)
    /// stops the whole process with "Transfer completed, but there's no response" when an answer
    /// is cut after its status line, inside its header fields. The CLI should exit 3
    /// (`serverUnreachable`, work kept); today it dies of a signal. Nothing is lost either way:
    /// the next sync delivers everything once. When this test reports that the known issue was
    /// not recorded, the platform is fixed: remove the `withKnownIssue`.
    /// URLSession on Linux ended the process here (signal 4); the CLI's transport on Linux is AsyncHTTPClient.
    @Test func anAnswerCutInsideItsHeaders_isANetworkError_andLosesNothing() async throws {
        let server = ServerProcess()
        let url = try await server.start()
        let admin = AdminAPI(url: url, token: try server.adminToken)
        let proxy = try ChaosProxy(
            upstreamPort: UInt16(url.port ?? 0), seed: 3,
            schedule: .init(dropBeforeServer: 0, dropAfterServer: 0, cutAnswer: 0, delay: 0, duplicate: 0, cutHead: 100))
        defer { proxy.shutdown() }
        let database = Executables.temporaryFolder("doorstep-cut-head") + "/doorstep.sqlite"
        let cli = { (arguments: [String]) in try await ChildProcess.run(Executables.cli, arguments + ["--db", database, "--json", "--lang", "en"]) }
        #expect(try await cli(["enroll", "--server", url.absoluteString, "--code", try await admin.code(district: "150602", role: .visitor)]).status == 0)
        let filed = try await cli([
            "household", "new", "--name", "王某某", "--national-id", Facts.nationalID(8), "--address", "建设街 12 号",
            "--file-level", "national", "--cause", "illness", "--difficulty", "general", "--skill", "none", "--income-fen", "1",
        ])
        let household = try JSONDecoder().decode(LocalWrite.self, from: Data(filed.stdout.utf8)).id
        _ = try await cli(["visit", "record", household.description, "--conclusion", "eligible"])
        let cut = try await cli(["sync", "--server", proxy.url.absoluteString, "--retries", "2"])
        #expect(!cut.signalled && cut.status == 3, "the sync stops with serverUnreachable: \(cut)")
        let sync = try await cli(["sync"])
        #expect(sync.status == 0, "\(sync)")
        var configuration = ClientConfiguration(databasePath: database)
        configuration.retry = .quick
        let client = try FieldClient(configuration: configuration)
        let local = Set(try #require(try await client.household(household)).entities.filter { $0.kind == .visit }.map(\.id))
        let report = try await ExactlyOnce(databasePath: server.databasePath).verify(ledger: Ledger(), clients: [client], recordedVisits: local)
        #expect(local.count == 1 && report.lost == 0 && report.duplicated == 0)
        await server.stop()
    }
}

extension SeededGenerator {
    mutating func nextBool(percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }
}
