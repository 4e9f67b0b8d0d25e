public import Foundation

/// Parsing and formatting of RFC 3339 instants with an offset (`2020-04-12T10:30:00+08:00`).
public enum Instant {
    /// Parses an RFC 3339 date-time with `Z` or a numeric offset, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 40 else { return nil }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// Formats an instant in a time zone, e.g. `2020-04-12T10:30:00+08:00`.
    public static func format(_ date: Date, in timeZone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = timeZone
        return formatter.string(from: date)
    }
}
