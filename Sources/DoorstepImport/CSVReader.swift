public import DoorstepCore
public import Foundation

/// A small RFC 4180 reader for the files offices save from Excel: it decodes the bytes,
/// splits records and fields, and remembers the line each record starts on.
///
/// Encodings: UTF-8 with or without a byte-order mark, UTF-16 with a byte-order mark
/// (Excel's "Unicode text"), and GB18030 (which covers GBK and GB2312). Without a BOM or a
/// declared charset, UTF-8 is tried first and GB18030 second. The separator is a comma, or
/// a tab when the first line holds tabs and no commas. Quoted fields may hold separators,
/// doubled quotes and line breaks; records end in CRLF, LF or CR.
public struct CSVReader: Sendable {
    /// One record of the file.
    public struct Record: Hashable, Sendable {
        /// The 1-based physical line the record starts on (the header is line 1).
        public var line: Int
        /// The fields, as text without their quotes.
        public var fields: [String]

        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }

        /// Whether every field is empty or white space (Excel saves such rows at the end of sheets).
        public var isBlank: Bool {
            fields.allSatisfy { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }
    }

    /// GB18030, as Foundation names it (the CoreFoundation encoding `kCFStringEncodingGB_18030_2000`).
    ///
    /// swift-corelibs-foundation on Linux decodes and encodes it, four-byte sequences included;
    /// the import tests prove it.
    public static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// The most records a file may hold, header included.
    public static let maxRecords = 50_000

    /// Decodes the bytes of a text file.
    ///
    /// - Parameter charset: the `charset` parameter of the request's content type, if any
    ///   (`utf-8`, `gb18030`, `gbk`, `gb2312`); it overrides the guess.
    /// - Throws: `malformedInput` when the bytes are not text in a supported encoding.
    public static func decode(_ data: Data, charset: String? = nil) throws(DoorstepError) -> String {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return try utf8(Data(bytes.dropFirst(3)))
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            guard let text = String(data: data, encoding: .utf16) else {
                throw DoorstepError(.malformedInput, "the file starts with a UTF-16 byte-order mark but is not UTF-16 text")
            }
            return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        }
        switch charset?.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) {
        case "gb18030", "gbk", "gb2312", "cp936", "x-gbk":
            guard let text = String(data: data, encoding: gb18030) else {
                throw DoorstepError(.malformedInput, "the file is declared GB18030 but is not valid GB18030 text")
            }
            return text
        case "utf-8", "utf8":
            return try utf8(data)
        default:
            if let text = String(data: data, encoding: .utf8) { return text }
            if let text = String(data: data, encoding: gb18030) { return text }
            throw DoorstepError(.malformedInput, "the file is neither UTF-8 nor GB18030 text; save it from Excel as \"CSV UTF-8\"")
        }
    }

    private static func utf8(_ data: Data) throws(DoorstepError) -> String {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DoorstepError(.malformedInput, "the file is not valid UTF-8 text")
        }
        return text
    }

    /// Decodes and splits a file into records; blank records are kept (callers skip them).
    public static func read(_ data: Data, charset: String? = nil) throws(DoorstepError) -> [Record] {
        try parse(try decode(data, charset: charset))
    }

    /// Splits decoded text into records.
    ///
    /// Throws `malformedInput` naming the line for a quoted field that never closes, and
    /// `payloadTooLarge` past ``maxRecords``. A stray quote inside an unquoted field is
    /// kept as text, as Excel reads it.
    public static func parse(_ text: String) throws(DoorstepError) -> [Record] {
        var reader = Records(text)
        var records: [Record] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    /// The records of decoded text, read one at a time (the rules of ``parse(_:)``), so that a
    /// large file is never held as records all at once.
    public struct Records: Sendable {
        private let scalars: String.UnicodeScalarView
        private var index: String.UnicodeScalarView.Index
        private let separator: Unicode.Scalar
        private var line = 1
        private var count = 0
        private var finished = false

        public init(_ text: String) {
            scalars = text.unicodeScalars
            index = scalars.first == "\u{FEFF}" ? scalars.index(after: scalars.startIndex) : scalars.startIndex
            separator = CSVReader.separator(of: scalars[index...])
        }

        /// The next record, or `nil` after the last.
        public mutating func next() throws(DoorstepError) -> Record? {
            guard !finished else { return nil }
            let end = scalars.endIndex
            let recordLine = line
            var fields: [String] = []
            var field = String.UnicodeScalarView()
            var quoted = false
            var quoteLine = line
            var fieldStarted = false
            while index < end {
                let scalar = scalars[index]
                let after = scalars.index(after: index)
                let following = after < end ? scalars[after] : nil
                if quoted {
                    if scalar == "\"" {
                        if following == "\"" {
                            field.append("\"")
                            index = after
                        } else {
                            quoted = false
                        }
                    } else {
                        if scalar == "\n" || (scalar == "\r" && following != "\n") { line += 1 }
                        field.append(scalar)
                    }
                } else if scalar == "\"" && !fieldStarted {
                    quoted = true
                    fieldStarted = true
                    quoteLine = line
                } else if scalar == separator {
                    fields.append(String(field))
                    field = String.UnicodeScalarView()
                    fieldStarted = false
                } else if scalar == "\r" || scalar == "\n" {
                    index = scalar == "\r" && following == "\n" ? scalars.index(after: after) : after
                    line += 1
                    fields.append(String(field))
                    return try counted(Record(line: recordLine, fields: fields))
                } else {
                    field.append(scalar)
                    fieldStarted = true
                }
                index = scalars.index(after: index)
            }
            finished = true
            if quoted {
                throw DoorstepError(.malformedInput, "line \(quoteLine): a quoted field is never closed (a \" is missing)")
            }
            guard fieldStarted || !field.isEmpty || !fields.isEmpty else { return nil }
            fields.append(String(field))
            return try counted(Record(line: recordLine, fields: fields))
        }

        private mutating func counted(_ record: Record) throws(DoorstepError) -> Record {
            count += 1
            guard count <= maxRecords else {
                finished = true
                throw DoorstepError(.payloadTooLarge, "a file holds at most \(maxRecords - 1) rows")
            }
            return record
        }
    }

    /// A tab when the first line holds tabs and no commas; otherwise a comma.
    private static func separator(of scalars: Substring.UnicodeScalarView) -> Unicode.Scalar {
        var tabs = 0
        var commas = 0
        for scalar in scalars {
            if scalar == "\n" || scalar == "\r" { break }
            if scalar == "\t" { tabs += 1 }
            if scalar == "," { commas += 1 }
        }
        return tabs > 0 && commas == 0 ? "\t" : ","
    }
}
