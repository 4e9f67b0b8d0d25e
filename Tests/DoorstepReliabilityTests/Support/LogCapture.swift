import DoorstepClient
import DoorstepServer
import Foundation
import GRDB
import Logging

/// Captures every swift-log message of this test process (every target's servers and clients)
/// while still printing what would have been printed: the process's logging system is
/// bootstrapped once, on first use, with a handler that records each message with its metadata
/// and forwards it to standard output at the level the logger asked for (at least `info`).
///
/// swift-log allows one bootstrap per process: no other test target may call
/// `LoggingSystem.bootstrap`.
final class LogCapture: @unchecked Sendable {
    static let shared = LogCapture()
    private let lock = NSLock()
    private var lines: [String] = []

    private static let installed: Void = {
        LoggingSystem.bootstrap { label in CapturingLogHandler(label: label, capture: LogCapture.shared) }
    }()

    /// Installs the capture (idempotent).
    static func install() { _ = installed }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    /// Everything captured so far.
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
    var count: Int { lock.withLock { lines.count } }
}

struct CapturingLogHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info

    init(label: String, capture: LogCapture) {
        self.label = label
        self.capture = capture
        stream = StreamLogHandler.standardOutput(label: label)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(label) \(event.source): \(event.message) \(fields)\(event.error.map { " error=\($0)" } ?? "")")
        // The same event as `--log-format json` writes it: both formats are scanned.
        capture.append(
            JSONLogHandler.line(label: label, level: event.level, message: "\(event.message)", metadata: all, source: event.source, error: event.error))
        if event.level >= max(logLevel, .info) {
            var forward = stream
            forward.logLevel = logLevel
            forward.metadata = metadata
            forward.log(event: event)
        }
    }
}

/// Finds secrets in a text: each one whole, and (for long ones) any 12-character piece of it.
enum SecretScan {
    static func leaks(of secrets: [String: String], in text: String) -> [String] {
        var found: [String] = []
        for (label, secret) in secrets.sorted(by: { $0.key < $1.key }) where !secret.isEmpty {
            if text.contains(secret) { found.append("\(label) (\(secret.prefix(4))…)"); continue }
            let characters = Array(secret)
            if characters.count >= 24 {
                for start in stride(from: 0, through: characters.count - 12, by: 6) where text.contains(String(characters[start..<(start + 12)])) {
                    found.append("\(label) (a piece of it)")
                    break
                }
            }
        }
        return found
    }
}

/// The secrets of a run with field clients: their tokens (read from their databases), the admin
/// token, and the names and ID numbers they filed.
func secretsOf(clients: [FieldClient], adminToken: String?, names: [String], nationalIDs: [String]) throws -> [String: String] {
    var secrets: [String: String] = [:]
    if let adminToken { secrets["admin token"] = adminToken }
    for (index, client) in clients.enumerated() {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: client.configuration.databasePath, configuration: configuration)
        secrets["token \(index)"] = try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'token'") }
    }
    for (index, name) in names.enumerated() { secrets["name \(index)"] = name }
    for (index, id) in nationalIDs.enumerated() { secrets["national ID \(index)"] = id }
    return secrets
}
