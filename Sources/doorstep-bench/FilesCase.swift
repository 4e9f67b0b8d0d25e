import DoorstepClient
import DoorstepCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Attachments' files (issue 19): a photo's upload and download on loopback, each against a raw
/// copy of the same bytes on the same disk (read, written, synced: what the server must at least
/// do), and the server's peak memory while 20 devices upload at once, with files ten times larger
/// than in a baseline run on a fresh server (peak memory must not grow with file size).
enum FilesCase {
    static func run(_ options: Options) async throws -> FilesResult {
        let sizes = options.sizes
        let bytes = sizes.fileMiB * 1024 * 1024
        var result = FilesResult(fileBytes: bytes, rounds: sizes.fileRounds, devices: sizes.fileDevices)

        // The raw copy: the file read and written again on the same disk, synced.
        let source = Workspace.shared.path("raw-source.jpg")
        try photo(bytes, seed: 1).write(to: URL(fileURLWithPath: source))
        var copies: [Double] = []
        for round in 0..<sizes.fileRounds {
            let target = Workspace.shared.path("raw-copy-\(round).jpg")
            let start = ContinuousClock.now
            try rawCopy(source, to: target)
            copies.append((ContinuousClock.now - start).seconds)
        }
        result.rawCopyMBPerSecond = megabytes(bytes) / Stats.median(copies)

        // One visitor's photos over HTTP to a server process, and a colleague's downloads.
        let data = Workspace.shared.path("files-server")
        let server = try await ServerProcess.start(data: data, database: nil, name: "files-server")
        defer { server.stop() }
        let gate = FileGate()
        let visitor = try await enrolled(on: server, name: "files-visitor", gate: gate)
        let household = try await visitor.fileHousehold(candidate(1))
        var uploads: [Double] = []
        var attachments: [EntityID] = []
        Log.note("files: \(sizes.fileRounds) photo(s) of \(sizes.fileMiB) MiB up and down, against a raw copy")
        for round in 0..<sizes.fileRounds {
            let file = Workspace.shared.path("photo-\(round).jpg")
            try photo(bytes, seed: UInt64(100 + round)).write(to: URL(fileURLWithPath: file))
            attachments.append(try await visitor.attach(fileAt: URL(fileURLWithPath: file), to: household))
            // Its change first (not timed), then the sync that sends the file alone.
            gate.set(blocked: true)
            _ = try await visitor.sync()
            gate.set(blocked: false)
            let start = ContinuousClock.now
            let summary = try await visitor.sync()
            uploads.append((ContinuousClock.now - start).seconds)
            guard summary.filesSent == 1 else { throw BenchError("the photo was not sent: \(summary)") }
        }
        result.uploadMBPerSecond = megabytes(bytes) / Stats.median(uploads)
        let colleague = try await enrolled(on: server, name: "files-colleague", gate: nil)
        _ = try await colleague.sync()
        var downloads: [Double] = []
        for attachment in attachments {
            let start = ContinuousClock.now
            let url = try await colleague.attachmentFile(attachment, in: household)
            downloads.append((ContinuousClock.now - start).seconds)
            guard (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue == bytes else {
                throw BenchError("the downloaded photo has another size")
            }
        }
        result.downloadMBPerSecond = megabytes(bytes) / Stats.median(downloads)
        result.uploadRatio = result.uploadMBPerSecond / result.rawCopyMBPerSecond
        result.downloadRatio = result.downloadMBPerSecond / result.rawCopyMBPerSecond
        server.stop()

        // Peak memory: 20 devices at once, small files on one fresh server, large on another.
        let small = max(1, sizes.fileDevicesMiB / 10)
        result.smallFileBytes = small * 1024 * 1024
        result.largeFileBytes = sizes.fileDevicesMiB * 1024 * 1024
        result.smallPeakKib = try await concurrentUploads(devices: sizes.fileDevices, bytes: small * 1024 * 1024, tag: "small")
        result.largePeakKib = try await concurrentUploads(devices: sizes.fileDevices, bytes: sizes.fileDevicesMiB * 1024 * 1024, tag: "large")
        result.memoryRatio = Double(result.largePeakKib) / Double(max(1, result.smallPeakKib))
        return result
    }

    /// Starts a fresh server, has `devices` visitors each attach a photo of `bytes`, sync their
    /// changes, then send their files all at once; the server's peak resident memory.
    static func concurrentUploads(devices: Int, bytes: Int, tag: String) async throws -> Int {
        let server = try await ServerProcess.start(data: Workspace.shared.path("files-\(tag)"), database: nil, name: "files-\(tag)")
        defer { server.stop() }
        let gate = FileGate()
        var clients: [FieldClient] = []
        for index in 0..<devices {
            let client = try await enrolled(on: server, name: "files-\(tag)-\(index)", gate: gate)
            let household = try await client.fileHousehold(candidate(1_000 + index))
            let file = Workspace.shared.path("files-\(tag)-\(index).jpg")
            try photo(bytes, seed: UInt64(1_000 + index)).write(to: URL(fileURLWithPath: file))
            try await client.attach(fileAt: URL(fileURLWithPath: file), to: household)
            _ = try await client.sync()
            clients.append(client)
        }
        Log.note("files: \(devices) devices send a \(bytes / 1024 / 1024) MiB photo each at once (server pid \(server.child.pid))")
        gate.set(blocked: false)
        let before = server.peakKiB
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    let summary = try await client.sync()
                    guard summary.filesSent == 1 else { throw BenchError("a device's photo was not sent: \(summary)") }
                }
            }
            try await group.waitForAll()
        }
        let peak = server.peakKiB
        Log.note("  server peak memory \(before / 1024) MiB before, \(peak / 1024) MiB after")
        return peak
    }

    /// A visitor's laptop whose refused file requests are not retried (the gate refuses them on purpose).
    static func enrolled(on server: ServerProcess, name: String, gate: FileGate?) async throws -> FieldClient {
        var configuration = ClientConfiguration(databasePath: Workspace.shared.path("\(name).sqlite"))
        configuration.retry = RetryPolicy(maxAttempts: 1)
        if let gate { configuration.transport = { gate.transport($0) } }
        let client = try FieldClient(configuration: configuration)
        try await client.enroll(server: server.url, code: try await server.enrollmentCode(), deviceName: "doorstep-bench \(name)")
        return client
    }

    /// A raw copy: read the source, write it to `target`, sync.
    static func rawCopy(_ source: String, to target: String) throws {
        guard let input = FileHandle(forReadingAtPath: source),
            FileManager.default.createFile(atPath: target, contents: nil),
            let output = FileHandle(forWritingAtPath: target)
        else { throw BenchError("cannot copy \(source)") }
        defer {
            try? input.close()
            try? output.close()
        }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try output.write(contentsOf: chunk) }
        try output.synchronize()
    }

    /// A JPEG-looking file of seeded bytes (incompressible, as photos are).
    static func photo(_ count: Int, seed: UInt64) -> Data {
        var generator = SeededGenerator(seed: seed)
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) where bytes.count < count { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Data(bytes)
    }

    /// A household as a visitor files it: a candidate (filing is the office's decision).
    static func candidate(_ n: Int) -> [String: JSONValue] {
        var fields = Facts.household(n)
        fields["status"] = "candidate"
        return fields
    }

    static func megabytes(_ bytes: Int) -> Double { Double(bytes) / 1_000_000 }
}

/// Whether file requests are refused (so a photo's change goes first, untimed).
final class FileGate: Sendable {
    private let blocked = Mutex(true)

    func set(blocked value: Bool) { blocked.withLock { $0 = value } }

    func transport(_ url: URL) -> any SyncTransport { BlockFiles(inner: ClientConfiguration.platformTransport(url), gate: self) }

    struct BlockFiles: SyncTransport {
        let inner: any SyncTransport
        let gate: FileGate

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            if request.path.hasPrefix("/v1/files/"), gate.blocked.withLock({ $0 }) { throw URLError(.networkConnectionLost) }
            return try await inner.send(request)
        }
    }
}
