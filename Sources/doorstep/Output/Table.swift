import Foundation

/// Terminal columns of text: CJK ideographs and full-width forms take two columns, combining
/// marks and zero-width characters none, everything else one.
enum DisplayWidth {
    static func of(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + of($1) }
    }

    static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value == 0 { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        if (0xFE00...0xFE0F).contains(value) { return 0 }
        return wide.contains { $0.contains(value) } ? 2 : 1
    }

    /// East Asian Wide and Fullwidth ranges (Unicode 15, UAX #11), and the emoji blocks terminals draw wide.
    private static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x2E80...0x303E, 0x3041...0x33FF,
        0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF,
        0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
        0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// Cuts text to at most `width` columns, ending in `...` when cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        var result = ""
        var used = 0
        for character in text {
            let w = of(String(character))
            if used + w > max(0, width - 3) { break }
            result.append(character)
            used += w
        }
        return result + "..."
    }

    /// Pads text with spaces to `width` columns.
    static func pad(_ text: String, to width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - of(text)))
        return right ? fill + text : text + fill
    }
}

/// A plain-text table whose columns line up in a terminal, Chinese text included.
struct Table {
    struct Column {
        var title: String
        /// Right-aligned (numbers).
        var numeric = false
        /// Cells wider than this are cut.
        var maxWidth: Int? = nil
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    /// A table whose headers are the given titles, none numeric.
    init(titles: [String]) {
        self.columns = titles.map { Column(title: $0) }
    }

    mutating func add(_ cells: [String]) {
        rows.append(cells.map { $0.replacingOccurrences(of: "\n", with: " ") })
    }

    /// The lines of the table: header, a rule, the rows; columns two spaces apart, no trailing spaces.
    func render() -> String {
        let cut: [[String]] = rows.map { row in
            columns.indices.map { index in
                let cell = index < row.count ? row[index] : ""
                return columns[index].maxWidth.map { DisplayWidth.truncate(cell, to: $0) } ?? cell
            }
        }
        let widths = columns.indices.map { index in
            ([columns[index].title] + cut.map { $0[index] }).map(DisplayWidth.of).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { DisplayWidth.pad(cells[$0], to: widths[$0], right: columns[$0].numeric) }
                .joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines = [line(columns.map(\.title)), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += cut.map(line)
        return lines.joined(separator: "\n")
    }
}

/// Label-and-value lines, the labels padded to one width: `身份证号  150602********123X`.
struct FactList {
    var items: [(String, String)] = []

    mutating func add(_ label: String, _ value: String) {
        items.append((label, value.replacingOccurrences(of: "\n", with: " ")))
    }

    func render(indent: String = "") -> String {
        let width = items.map { DisplayWidth.of($0.0) }.max() ?? 0
        return items.map { indent + DisplayWidth.pad($0.0, to: width) + "  " + $0.1 }
            .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
            .joined(separator: "\n")
    }
}
