import DoorstepCore
import DoorstepImport
import DoorstepStorage
import DoorstepWeb
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// `GET /dashboard/compare`: the form to upload a civil-affairs roster (CSV).
    func comparePage(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in try compareResponse(request, viewer: viewer, report: nil, status: .ok) }
    }

    /// `POST /dashboard/compare` (multipart: `csrf`, `district`, `roster` file, `format` html|csv): compares
    /// the roster with the household file through ``RosterComparison``, as `POST /v1/roster/compare` does.
    /// Changes nothing. Without the form token: 403.
    func compare(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: configuration.limits.maxBodyBytes)
            } catch let error as DoorstepError {
                throw error
            } catch {
                throw DoorstepError(.payloadTooLarge, "the roster is larger than \(configuration.limits.maxBodyBytes) bytes")
            }
            let form = try CompareForm.read(contentType: request.headers[.contentType], body: body)
            try checkFormToken(form.csrf, expected: viewer.csrf)
            var viewer = viewer
            if viewer.account.role == .city, let picked = form.district {
                viewer.district = configuration.city.district(picked)?.code
            }
            guard let data = form.rosterData else {
                return try compareResponse(request, viewer: viewer, report: nil, status: .unprocessableContent, error: "compare.noFile")
            }
            let charset = form.rosterContentType.flatMap { Self.uploadFormat($0).charset }
            let roster: RosterComparison.Roster
            do {
                roster = try RosterComparison.read(data, charset: charset, city: configuration.city)
            } catch let error as DoorstepError {
                return try compareResponse(
                    request, viewer: viewer, report: nil, status: .unprocessableContent, error: "compare.unreadable",
                    detail: error.message)
            }
            let report = try await compare(roster, district: viewer.district)
            context.logger.info("dashboard roster comparison", metadata: ["by": "\(viewer.actor)", "rows": "\(report.rosterRows)"])
            if form.format == "csv" {
                return csvResponse(comparisonTable(report, viewer: viewer), filename: "doorstep-roster-comparison.csv")
            }
            return try compareResponse(request, viewer: viewer, report: report, status: .ok)
        }
    }

    func compareResponse(
        _ request: Request, viewer: DashboardViewer, report: RosterReport?, status: HTTPResponse.Status,
        error: String? = nil, detail: String? = nil
    ) throws -> Response {
        let language = viewer.language
        let texts = Texts.section("dashboard", language)
        var content: [String: Any] = [
            "isCity": viewer.account.role == .city, "districts": districtOptions(viewer), "allSelected": viewer.district == nil,
            "hasReport": report != nil,
        ]
        if let detail { content["detail"] = detail }
        if let report {
            content["table"] = comparisonTable(report, viewer: viewer)
            content["counts"] = [
                "rows": report.rosterRows, "notOnFile": report.inRosterNotOnFile.count, "notInRoster": report.onFileNotInRoster.count,
                "disagreements": report.disagreements.count, "invalid": report.invalidRows.count, "outside": report.rowsOutsideScope,
            ]
        }
        var chrome = chrome(texts["compare.title"] ?? "Compare", request: request, viewer: viewer, language: language, current: "compare")
        if let error { chrome.error = texts[error] }
        return DashboardRenderer.html(try DashboardRenderer.render("compare", chrome: chrome, language: language, content: content), status: status)
    }

    /// Every mismatch of a comparison in one table: what kind, the roster line, the household, and both sides.
    func comparisonTable(_ report: RosterReport, viewer: DashboardViewer) -> WebTable {
        let language = viewer.language
        let texts = Texts.section("dashboard", language)
        func kind(_ key: String) -> WebTable.Cell { .init(texts["compare.\(key)"] ?? key) }
        var rows: [WebTable.Row] = report.inRosterNotOnFile.map { person in
            .init([
                kind("notOnFile"), .init(number: person.line), .init(person.nationalIdMasked), .init(person.name), .init("—"),
                .init(person.allowanceFen.map(DashboardLabels.money) ?? "—"),
            ])
        }
        rows += report.onFileNotInRoster.map { missing in
            .init([
                kind("notInRoster"), .init("—"),
                .init(
                    missing.nationalIdMasked.isEmpty ? missing.household.description : missing.nationalIdMasked,
                    href: "/dashboard/households/\(missing.household)"),
                .init(districtName(missing.district, language)), .init(missing.status?.label(language) ?? "—"), .init("—"),
            ])
        }
        rows += report.disagreements.map { item in
            let onFile =
                item.field == "status"
                ? (item.onFile.stringValue.flatMap(HouseholdStatus.init(rawValue:))?.label(language) ?? "—")
                : DashboardLabels.value(item.onFile, field: item.field, kind: .household, language: language, city: configuration.city)
            let inRoster = item.field == "status" ? (item.inRoster.intValue.map(DashboardLabels.money) ?? "—") : (item.inRoster.stringValue ?? "—")
            return .init([
                kind("disagreement"), .init(number: item.line), .init(item.nationalIdMasked, href: "/dashboard/households/\(item.household)"),
                .init(DashboardLabels.field(item.field, kind: .household, language)), .init(onFile), .init(inRoster),
            ])
        }
        rows += report.invalidRows.map { invalid in
            .init([kind("invalid"), .init(number: invalid.line), .init("—"), .init(invalid.message), .init("—"), .init("—")])
        }
        return WebTable(
            id: "comparison", caption: texts["table.comparison"] ?? "",
            columns: ["mismatch", "line", "household", "detail", "onFile", "inRoster"].map { texts["column.\($0)"] ?? $0 },
            rows: rows, exportHref: nil, emptyText: texts["compare.noMismatch"] ?? "")
    }

    /// `GET /dashboard/export/{table}[?district=]`: a table of the overview, the review page or the household list as CSV.
    func export(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let name = context.parameters.get("table") ?? ""
            let scope = viewer.district ?? "city"
            var table: WebTable?
            switch name {
            case "status", "causes", "missed", "wrong", "devices", "districts", "weeks":
                let report = try await dashboardReport(district: viewer.district, campaign: request.uri.queryParameters.get("campaign"))
                table = overviewTables(report, viewer: viewer)[name]
            case "conflicts", "duplicates", "rejections", "clock":
                let queue = try await storage.reviewQueue(district: viewer.district)
                table = reviewTables(queue, review: try await reviewContext(queue), viewer: viewer).named(name)
            case "households":
                let query = request.uri.queryParameters
                return try await householdsExport(
                    viewer: viewer, status: query.get("status").flatMap(HouseholdStatus.init(rawValue:)), search: query.get("q") ?? "",
                    filename: "doorstep-households-\(scope).csv")
            default:
                table = nil
            }
            guard let table else { throw DoorstepError(.notFound, "no table \(name.prefix(40)) to export") }
            return csvResponse(table, filename: "doorstep-\(table.id)-\(scope).csv")
        }
    }

    /// A CSV download: UTF-8 with a byte-order mark.
    func csvResponse(_ table: WebTable, filename: String) -> Response {
        var response = Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\"",
            ], body: .init(byteBuffer: ByteBuffer(bytes: table.csv)))
        DashboardRenderer.secure(&response)
        return response
    }
}
