import DoorstepCore
public import Foundation
public import Logging

/// Log lines as one JSON object each (`log.format = "json"`), on standard error, for log
/// collectors (journald, Loki, Elasticsearch): `time` (UTC, milliseconds), `level`, `label`,
/// `message`, `source`, the error if any, and every metadata value as its own member (the
/// request id is `hb.request.id`). The same values as the text format: no personal data is
/// logged in either (LogPrivacyTests scan both).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// A handler that writes each line with `write` (standard error by default).
    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        write(Self.line(label: label, level: event.level, message: "\(event.message)", metadata: all, source: event.source, error: event.error))
    }

    /// One log line (without its newline).
    public static func line(
        label: String, level: Logger.Level, message: String, metadata: Logger.Metadata, source: String, error: (any Error)? = nil,
        at date: Date = Date()
    ) -> String {
        var members: [String: JSONValue] = [:]
        for (key, value) in metadata { members[key] = json(value) }
        members["time"] = .string(timestamp(date))
        members["level"] = .string(level.rawValue)
        members["label"] = .string(label)
        members["message"] = .string(message)
        members["source"] = .string(source)
        if let error { members["error"] = .string((error as? DoorstepError)?.message ?? String(describing: error)) }
        return FastJSON.text(JSONValue.object(members))
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let items): .array(items.map(json))
        case .dictionary(let members): .object(members.mapValues(json))
        }
    }

    private static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = Date(timeIntervalSince1970: Double(milliseconds / 1000))
        // Instant.format writes whole seconds in UTC ending in Z: the milliseconds go before it.
        let text = Instant.format(seconds, in: .gmt)
        return String(text.dropLast()) + String(format: ".%03dZ", Int(milliseconds % 1000))
    }

    /// Writes a line and its newline to standard error in one call (lines of several threads do not mix).
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// The server's log set up once per process, as the configuration says.
public enum ServerLogging {
    /// Bootstraps swift-log: the text format (swift-log's stream handler on standard error) or JSON lines.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        switch format {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        }
    }
}
