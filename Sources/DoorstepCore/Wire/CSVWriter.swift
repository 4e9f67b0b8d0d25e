public import Foundation

/// The one CSV writer of the project: every CSV Doorstep writes (dashboard exports, the CLI's
/// report, the sample files) is written by it, the way Excel as set up in China opens it with the
/// Chinese intact: UTF-8 with a byte-order mark, CRLF line ends, RFC 4180 quoting.
///
/// A cell a spreadsheet would run as a formula (one that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return, and is not a whole number) is written with an apostrophe before it,
/// so a name or an address typed as `=HYPERLINK(…)` is shown, never run.
public enum CSVWriter {
    /// The rows as a CSV file.
    public static func document(_ rows: [[String]]) -> Data {
        byteOrderMark + lines(rows)
    }

    /// What a CSV file starts with, so that Excel reads it as UTF-8.
    public static let byteOrderMark = Data("\u{FEFF}".utf8)

    /// Rows of a CSV file without the byte-order mark: a file written a part at a time is the
    /// mark, then the parts in order.
    public static func lines(_ rows: [[String]]) -> Data {
        var text = ""
        for row in rows {
            text += row.map(field).joined(separator: ",") + "\r\n"
        }
        return Data(text.utf8)
    }

    /// One cell: guarded against formulas, quoted when it holds a comma, a quote or a line break.
    public static func field(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first), Int(value) == nil {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
