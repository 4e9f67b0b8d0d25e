import DoorstepCore
public import Foundation
public import Mustache

/// A table a page shows, and exports as CSV: one definition for both views.
public struct WebTable: Sendable {
    /// One cell: its text, and a link when it names something with a page.
    public struct Cell: Sendable {
        public var text: String
        public var href: String?
        public var numeric = false

        public init(_ text: String, href: String? = nil, numeric: Bool = false) {
            self.text = text
            self.href = href
            self.numeric = numeric
        }

        public init(number: Int) { self.init(String(number), numeric: true) }
    }

    /// One row; `mark` is a CSS class (`stale`, `conflict`) whose meaning the row also says in words.
    public struct Row: Sendable {
        public var cells: [Cell]
        public var mark: String?

        public init(_ cells: [Cell], mark: String? = nil) {
            self.cells = cells
            self.mark = mark
        }
    }

    /// The table's id: its export name (`missed`, `devices`, …).
    public let id: String
    public let caption: String
    public let columns: [String]
    public let rows: [Row]
    /// The CSV export of this table; `nil` when it has none.
    public let exportHref: String?
    /// What the page says when there are no rows.
    public let emptyText: String
    /// Whether the table has rows (stored: templates see stored properties only).
    public let hasRows: Bool
    /// A line under the caption, e.g. that the page shows the first rows of many.
    public let note: String?

    public init(id: String, caption: String, columns: [String], rows: [Row], exportHref: String?, emptyText: String, note: String? = nil) {
        self.id = id
        self.caption = caption
        self.columns = columns
        self.rows = rows
        self.exportHref = exportHref
        self.emptyText = emptyText
        self.note = note
        hasRows = !rows.isEmpty
    }

    /// The table as CSV (``CSVWriter``: a byte-order mark, CRLF, quoting, the formula guard).
    public var csv: Data {
        CSVWriter.document([columns] + rows.map { $0.cells.map(\.text) })
    }
}

// Templates read a table by name: a switch, not a Mirror (reflection was most of a page's time).
extension WebTable: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "caption": caption
        case "columns": columns
        case "rows": rows
        case "exportHref": exportHref
        case "emptyText": emptyText
        case "hasRows": hasRows
        case "note": note
        default: nil
        }
    }
}

extension WebTable.Row: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "cells": cells
        case "mark": mark
        default: nil
        }
    }
}

extension WebTable.Cell: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "text": text
        case "href": href
        case "numeric": numeric
        default: nil
        }
    }
}
