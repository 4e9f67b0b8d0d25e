import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real `doorstep-server` binary, run on `--port 0 --data FOLDER`: started, killed with
/// SIGKILL, and started again on the same folder (on a new port, read from `server.addr`).
/// Everything it prints, over all its runs, is appended to one log file.
final class ServerProcess: @unchecked Sendable {
    let dataDirectory: String
    let logPath: String
    let extraArguments: [String]
    private let lock = NSLock()
    private var process: SpawnedProcess?
    private var currentURL: URL?
    private(set) var starts = 0
    private(set) var kills = 0

    init(dataDirectory: String? = nil, extraArguments: [String] = []) {
        let folder = dataDirectory ?? Executables.temporaryFolder("doorstep-reliability-server")
        self.dataDirectory = folder
        self.logPath = folder + ".log"
        self.extraArguments = extraArguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    var addressPath: String { dataDirectory + "/server.addr" }
    var databasePath: String { dataDirectory + "/doorstep.sqlite" }

    /// The address of the running server.
    var url: URL {
        get throws {
            guard let url = lock.withLock({ currentURL }) else { throw DoorstepError(.serverUnreachable, "the server is not running") }
            return url
        }
    }

    var pid: Int32? { lock.withLock { process?.pid } }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Everything the server printed so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Starts the server and waits until it answers `/health`; returns its address.
    @discardableResult
    func start(timeout: Double = 120, checkHealth: Bool = true) async throws -> URL {
        try? FileManager.default.removeItem(atPath: addressPath)
        let process = try SpawnedProcess.start(
            Executables.server.path, ["--port", "0", "--data", dataDirectory] + extraArguments,
            environment: ["PATH": "/usr/bin:/bin", "HOME": dataDirectory, "LANG": "C.UTF-8", "TZ": "UTC"], stdoutPath: logPath, stderrPath: logPath,
            append: true)
        lock.withLock {
            self.process = process
            self.currentURL = nil
            starts += 1
        }
        // The deadline is checked after each look, so a look still happens after the test process was
        // busy (CPU-bound suites running beside this one can hold every thread of the pool for a while).
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let ending = process.ending {
                throw DoorstepError(.serverUnreachable, "doorstep-server exited with \(ending.status); its log:\n\(self.log.suffix(2000))")
            }
            if let text = try? String(contentsOfFile: addressPath, encoding: .utf8),
                let url = URL(string: text.trimmingCharacters(in: .whitespacesAndNewlines)), url.port != nil
            {
                let healthy = checkHealth ? (try? await Self.health(url)) == 200 : true
                if healthy {
                    lock.withLock { currentURL = url }
                    return url
                }
            }
            if Date() >= deadline { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw DoorstepError(.serverUnreachable, "doorstep-server did not start within \(timeout) s; its log:\n\(self.log.suffix(2000))")
    }

    /// Kills the server with SIGKILL (no shutdown code runs) and waits until it is gone.
    func kill() async {
        await signal(SIGKILL)
        lock.withLock { kills += 1 }
    }

    /// Stops the server with SIGTERM (graceful) and waits.
    func stop() async {
        await signal(SIGTERM)
    }

    private func signal(_ signal: Int32) async {
        guard let process = lock.withLock({ self.process }) else { return }
        process.send(signal)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 5_000_000) }
        process.send(SIGKILL)
        _ = await process.wait()
        lock.withLock {
            self.process = nil
            currentURL = nil
        }
    }

    /// The peak resident memory of the running server in KiB (`VmHWM` of /proc/PID/status).
    var peakRSSKiB: Int? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "")
        }
        return nil
    }

    static func health(_ url: URL) async throws -> Int {
        let response = try await URLSessionTransport(baseURL: url, timeout: 2).send(TransportRequest(method: "GET", path: "/health"))
        return response.status
    }

    deinit {
        process?.send(SIGKILL)
    }
}

/// Office calls with a token over HTTP, for test set-up.
struct AdminAPI: Sendable {
    let url: URL
    let token: String

    func request(
        _ method: String, _ path: String, body: Data? = nil, token other: String? = nil,
        contentType: String = "application/json"
    ) async throws -> TransportResponse {
        var headers = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(other ?? token)"]
        if body != nil { headers["Content-Type"] = contentType }
        return try await URLSessionTransport(baseURL: url, timeout: 30).send(TransportRequest(method: method, path: path, headers: headers, body: body))
    }

    /// A one-time enrollment code.
    func code(district: String?, role: Role) async throws -> String {
        let body = try WireCoding.encode(["district": district.map(JSONValue.string) ?? .null, "role": .string(role.rawValue)])
        let response = try await request("POST", "/v1/admin/enrollment-codes", body: body)
        guard response.status == 201, let code = try JSONDecoder().decode([String: JSONValue].self, from: response.body)["code"]?.stringValue else {
            throw DoorstepError(.internalError, "no enrollment code: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return code
    }

    /// A district relay's token (protocol 1.8).
    func relayToken(district: String, name: String = "relay") async throws -> (id: String, token: String) {
        let response = try await request("POST", "/v1/admin/relays", body: try WireCoding.encode(NewRelayRequest(name: name, district: district)))
        guard response.status == 201 else {
            throw DoorstepError(.internalError, "no relay: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        let made = try WireCoding.decode(NewRelayResponse.self, from: response.body)
        return (made.relay.id, made.token)
    }
}
