import Crypto
import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Attachments under faults (issue 19): a 10 MiB photo sent through a link that drops in the
/// middle of its requests, through a server killed with SIGKILL, and by a CLI killed with
/// SIGKILL. Each time the upload goes on from the bytes the server holds, the server ends with
/// exactly the photo's bytes, and no half file is ever counted as whole.
@Suite(.serialized) struct AttachmentCrashTests {
    static let seed = UInt64(Executables.setting("DOORSTEP_CRASH_SEED", ci: 20200430))
    static let size = 10 * 1024 * 1024

    /// A JPEG-looking photo of `count` seeded bytes, written to a temporary file.
    static func photo(_ count: Int, seed: UInt64) throws -> (URL, Data) {
        var state = seed &* 2 &+ 1
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        bytes.reserveCapacity(count)
        while bytes.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes.append(UInt8(truncatingIfNeeded: state >> 24))
        }
        let url = URL(fileURLWithPath: Executables.temporaryFolder("doorstep-crash-photo")).appendingPathComponent("扫描件.jpg")
        try Data(bytes).write(to: url)
        return (url, Data(bytes))
    }

    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// What the server's folder of files holds: every whole file's bytes hash to its name, and
    /// the unfinished uploads left.
    static func checkStore(_ dataDirectory: String) throws -> (whole: [String], partial: [String]) {
        let root = dataDirectory + "/files"
        var whole: [String] = []
        for sub in try FileManager.default.contentsOfDirectory(atPath: root) where sub.count == 2 {
            for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + sub) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/" + sub + "/" + name))
                #expect(hex(bytes) == name, "a whole file holds other bytes than its name says: \(name)")
                whole.append(name)
            }
        }
        let partial = (try? FileManager.default.contentsOfDirectory(atPath: root + "/partial")) ?? []
        return (whole, partial)
    }

    @Test func aTenMebibyteUpload_cutInsideItsRequests_resumesFromWhereItStopped() async throws {
        let server = ServerProcess()
        let url = try await server.start()
        var schedule = ChaosProxy.Schedule()
        (schedule.dropBeforeServer, schedule.dropAfterServer, schedule.cutAnswer, schedule.delay, schedule.duplicate, schedule.cutHead) = (0, 0, 0, 0, 0, 0)
        schedule.cutRequest = 40
        let proxy = try ChaosProxy(upstreamPort: UInt16(url.port ?? 0), seed: Self.seed, schedule: schedule)
        defer { proxy.shutdown() }
        proxy.setEnabled(false)
        let admin = AdminAPI(url: url, token: try server.adminToken)
        var configuration = ClientConfiguration(databasePath: Executables.temporaryFolder("doorstep-cut-client") + "/local.sqlite", retry: .quick)
        configuration.transport = { platformTransport($0, timeout: 20) }
        let visitor = try FieldClient(configuration: configuration)
        try await visitor.enroll(server: proxy.url, code: try await admin.code(district: "150602", role: .visitor), deviceName: "Otog hotspot")
        let household = try await visitor.fileHousehold(Facts.household(90))
        let (file, bytes) = try Self.photo(Self.size, seed: Self.seed)
        let photo = try await visitor.attach(fileAt: file, to: household, caption: "医院账单")

        // The link now drops inside four requests in ten (only requests with a body are cut).
        proxy.setEnabled(true)
        var rounds = 0
        var summary = try? await visitor.sync()
        while (summary?.filesWaiting ?? 1) > 0 || summary == nil, rounds < 40 {
            rounds += 1
            summary = try? await visitor.sync()
        }
        proxy.setEnabled(false)
        let cuts = proxy.dealt[.cutRequest] ?? 0
        let forwarded = proxy.forwardedPatchBodyBytes
        #expect(cuts >= 3, "the seeded schedule cut \(cuts) request(s)")
        #expect(try await visitor.attachments(of: household).first?.onServer == true)
        #expect(Double(forwarded) <= 1.2 * Double(bytes.count), "\(forwarded) bytes went to the server for a file of \(bytes.count)")

        // The exact bytes, fetched by a colleague; the store holds only whole, checked files.
        var colleagueConfiguration = ClientConfiguration(databasePath: Executables.temporaryFolder("doorstep-cut-colleague") + "/local.sqlite", retry: .quick)
        colleagueConfiguration.transport = { platformTransport($0, timeout: 20) }
        let colleague = try FieldClient(configuration: colleagueConfiguration)
        try await colleague.enroll(server: url, code: try await admin.code(district: "150602", role: .visitor), deviceName: "colleague")
        try await colleague.sync()
        #expect(try Data(contentsOf: try await colleague.attachmentFile(photo, in: household)) == bytes)
        let store = try Self.checkStore(server.dataDirectory)
        #expect(store.whole == [Self.hex(bytes)] && store.partial.isEmpty, "\(store)")
        await server.stop()
        print(
            "AttachmentCrashTests (seed \(Self.seed)): a \(bytes.count)-byte photo through \(cuts) request(s) cut mid-body, \(rounds + 1) sync(s): "
                + "\(forwarded) bytes reached the server (\(String(format: "%.3f", Double(forwarded) / Double(bytes.count))) × the file)")
    }

    @Test func theServerKilledDuringUploads_losesNothingAcknowledged_andCountsNoHalfFile() async throws {
        let server = ServerProcess()
        let address = MovingAddress(try await server.start())
        let admin = AdminAPI(url: try server.url, token: try server.adminToken)
        var configuration = ClientConfiguration(databasePath: Executables.temporaryFolder("doorstep-kill-client") + "/local.sqlite", retry: .quick)
        configuration.transport = { _ in MovingTransport(address: address, ledger: nil) }
        configuration.fileChunkBytes = 256 * 1024
        let visitor = try FieldClient(configuration: configuration)
        try await visitor.enroll(server: try server.url, code: try await admin.code(district: "150602", role: .visitor), deviceName: "kill laptop")
        let household = try await visitor.fileHousehold(Facts.household(91))
        var photos: [EntityID: Data] = [:]
        let attach = { (index: Int) in
            let (file, bytes) = try Self.photo(Self.size, seed: Self.seed + UInt64(index))
            photos[try await visitor.attach(fileAt: file, to: household)] = bytes
        }
        // How long a sync that sends one photo takes here: the kills land inside that.
        try await attach(0)
        let started = Date()
        #expect(try await visitor.sync().filesSent == 1)
        let millis = max(40, Int(Date().timeIntervalSince(started) * 1000))
        var random = SeededGenerator(seed: Self.seed)
        var killedWhilePartial = 0
        let kills = 4
        for round in 1...kills {
            try await attach(round)
            let sync = Task { try? await visitor.sync() }
            try await Task.sleep(nanoseconds: UInt64(Int.random(in: (millis * 3 / 10)...millis, using: &random)) * 1_000_000)
            await server.kill()
            address.set(nil)
            _ = await sync.value
            if !(try Self.checkStore(server.dataDirectory).partial.isEmpty) { killedWhilePartial += 1 }
            address.set(try await server.start())
        }
        var rounds = 0
        while (try? await visitor.sync())?.filesWaiting ?? 1 > 0, rounds < 20 { rounds += 1 }
        let store = try Self.checkStore(server.dataDirectory)
        #expect(Set(store.whole) == Set(photos.values.map(Self.hex)), "\(store)")
        #expect(store.partial.isEmpty)
        #expect(try await visitor.attachments(of: household).allSatisfy(\.onServer))
        let held = try await OfficeClient(server: try server.url, token: try server.adminToken).household(household)
        #expect(Set(held.entities.filter { $0.kind == .attachment }.map(\.id)) == Set(photos.keys), "every acknowledged attachment is held")
        await server.stop()
        print(
            "AttachmentCrashTests (seed \(Self.seed)): \(kills + 1) photos of \(Self.size) bytes (a sync of one takes \(millis) ms), the server killed \(kills) times (\(killedWhilePartial) with an upload under way); all whole and exact"
        )
    }

    @Test func theCLIKilledDuringUploads_sendsTheRestLater_andTheServerHoldsTheExactBytes() async throws {
        let server = ServerProcess()
        let url = try await server.start()
        let admin = AdminAPI(url: url, token: try server.adminToken)
        let database = Executables.temporaryFolder("doorstep-kill-cli") + "/doorstep.sqlite"
        let cli = { (arguments: [String], killAfter: Int?) in
            try await ChildProcess.run(Executables.cli, arguments + ["--db", database, "--json"], killAfterMillis: killAfter)
        }
        let enroll = try await cli(
            ["enroll", "--server", url.absoluteString, "--code", try await admin.code(district: "150602", role: .visitor), "--name", "kill cli"], nil)
        #expect(enroll.status == 0, "\(enroll)")
        struct LocalWrite: Decodable { var id: EntityID }
        let filed = try await cli(
            [
                "household", "new", "--name", "王某某", "--national-id", Facts.nationalID(9), "--address", "建设街 12 号", "--file-level", "national",
                "--cause", "illness", "--difficulty", "general", "--skill", "none", "--income-fen", "120000",
            ], nil)
        let household = try JSONDecoder().decode(LocalWrite.self, from: Data(filed.stdout.utf8)).id
        var hashes: Set<String> = []
        let attach = { (index: Int) in
            let (file, bytes) = try Self.photo(Self.size, seed: Self.seed + 10 + UInt64(index))
            let attached = try await cli(["attach", file.path, "--to", household.description], nil)
            #expect(attached.status == 0, "\(attached)")
            return Self.hex(bytes)
        }
        // How long a sync that sends one photo takes here: the kills land inside that.
        hashes.insert(try await attach(0))
        let probe = try await cli(["sync"], nil)
        #expect(probe.status == 0, "\(probe)")
        let millis = max(60, Int(probe.seconds * 1000))
        var random = SeededGenerator(seed: Self.seed)
        var killed = 0
        var killedWhilePartial = 0
        for round in 1...5 {
            hashes.insert(try await attach(round))
            let sync = try await cli(["sync"], Int.random(in: (millis * 3 / 10)...millis, using: &random))
            if sync.killed {
                killed += 1
                if !(try Self.checkStore(server.dataDirectory).partial.isEmpty) { killedWhilePartial += 1 }
            }
        }
        let final = try await cli(["sync"], nil)
        #expect(final.status == 0, "\(final)")
        let store = try Self.checkStore(server.dataDirectory)
        #expect(Set(store.whole) == hashes && store.partial.isEmpty, "\(store)")
        // The laptop's own copies are whole too: no half file under a hash.
        for hash in hashes {
            #expect(Self.hex(try Data(contentsOf: URL(fileURLWithPath: database + "-files/" + hash))) == hash)
        }
        await server.stop()
        print(
            "AttachmentCrashTests (seed \(Self.seed)): 6 photos of \(Self.size) bytes (a sync of one takes \(millis) ms), the CLI's sync killed \(killed) of 5 times (\(killedWhilePartial) with an upload under way); all whole and exact"
        )
    }
}
