import Foundation

/// A table the dashboard shows, and exports as CSV: one definition for both views.
struct DashboardTable: Sendable {
    /// One cell: its text, and a link when it names something with a page.
    struct Cell: Sendable {
        var text: String
        var href: String?
        var numeric = false

        init(_ text: String, href: String? = nil, numeric: Bool = false) {
            self.text = text
            self.href = href
            self.numeric = numeric
        }

        init(number: Int) { self.init(String(number), numeric: true) }
    }

    /// One row; `mark` is a CSS class (`stale`, `conflict`) whose meaning the row also says in words.
    struct Row: Sendable {
        var cells: [Cell]
        var mark: String?

        init(_ cells: [Cell], mark: String? = nil) {
            self.cells = cells
            self.mark = mark
        }
    }

    /// The table's id: its export name (`missed`, `devices`, …).
    let id: String
    let caption: String
    let columns: [String]
    let rows: [Row]
    /// The CSV export of this table; `nil` when it has none.
    let exportHref: String?
    /// What the page says when there are no rows.
    let emptyText: String
    /// Whether the table has rows (stored: templates see stored properties only).
    let hasRows: Bool

    init(id: String, caption: String, columns: [String], rows: [Row], exportHref: String?, emptyText: String) {
        self.id = id
        self.caption = caption
        self.columns = columns
        self.rows = rows
        self.exportHref = exportHref
        self.emptyText = emptyText
        hasRows = !rows.isEmpty
    }

    /// The table as CSV (``CSVWriter``: a byte-order mark, CRLF, quoting, the formula guard).
    var csv: Data {
        CSVWriter.document([columns] + rows.map { $0.cells.map(\.text) })
    }
}
