import DoorstepClient
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A doorstep-server started by the load tool on a temporary data folder and port 0.
struct SpawnedServer {
    let process: Process
    let url: URL
    let adminToken: String
    let folder: String

    var pid: Int32 { process.processIdentifier }

    static func start(binary: String, mallocArenas: Int) async throws -> SpawnedServer {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw DoorstepError(.notFound, "no doorstep-server at \(binary); build it (swift build) or give --server-binary")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-load-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0", "--data", folder]
        var environment = ["PATH": "/usr/bin:/bin", "HOME": folder, "LANG": "C.UTF-8"]
        // glibc makes up to 8 malloc arenas per core for a many-threaded process and keeps what each
        // one grew to; docs/GUARANTEES.md (Memory) says what that does to the peak.
        if mallocArenas > 0 { environment["MALLOC_ARENA_MAX"] = String(mallocArenas) }
        process.environment = environment
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { throw DoorstepError(.serverUnreachable, "doorstep-server exited with \(process.terminationStatus)") }
            if let text = try? String(contentsOfFile: folder + "/server.addr", encoding: .utf8),
                let url = URL(string: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let token = try? String(contentsOfFile: folder + "/admin.token", encoding: .utf8)
            {
                return SpawnedServer(process: process, url: url, adminToken: token.trimmingCharacters(in: .whitespacesAndNewlines), folder: folder)
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw DoorstepError(.serverUnreachable, "doorstep-server did not start within 60 s")
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
