import DoorstepCore
import DoorstepImport
import DoorstepStorage
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension DoorstepAPI {
    /// `GET /dashboard/households[?district=][&status=][&q=][&page=]`: the households in view, a page at a time, to open one.
    func householdsPage(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let texts = Texts.section("dashboard", viewer.language)
            let query = request.uri.queryParameters
            let status = query.get("status").flatMap(HouseholdStatus.init(rawValue:))
            let search = query.get("q")?.trimmingCharacters(in: .whitespaces) ?? ""
            // A page number as people type it (full-width digits too); anything else is the first page.
            let size = Self.householdsPageSize
            // Clamped so that no page number, however large, overflows the offset.
            let asked = min(
                max(1, query.get("page").flatMap { Int(TypedInput.asciiForms($0).trimmingCharacters(in: .whitespaces)) } ?? 1), Int(Int32.max))
            var found = try await keptHouseholds(
                HouseholdsQuery(district: viewer.district, status: status, search: search, offset: (max(1, asked) - 1) * size, limit: size))
            let pages = max(1, (found.total + size - 1) / size)
            var page = min(max(1, asked), pages)
            if found.households.isEmpty, found.total > 0 {
                // Past the last page (the list shrank since the link was made): the last page.
                page = pages
                found = try await keptHouseholds(
                    HouseholdsQuery(district: viewer.district, status: status, search: search, offset: (page - 1) * size, limit: size))
            }
            let scope: [(String, String?)] = [
                ("district", viewer.account.role == .city ? viewer.district : nil), ("status", status?.rawValue),
                ("q", search.isEmpty ? nil : search),
            ]
            func link(_ number: Int) -> String { WebLinks.href("/dashboard/households", scope + [("page", number == 1 ? nil : String(number))]) }
            var content: [String: Any] = [
                "table": householdsTable(found.households, viewer: viewer, status: status, search: search), "q": search,
                "isCity": viewer.account.role == .city, "districts": districtOptions(viewer),
                "allSelected": viewer.district == nil, "anyStatus": status == nil,
                "statuses": HouseholdStatus.allCases.map { ["value": $0.rawValue, "label": $0.label(viewer.language), "selected": $0 == status] },
                "pageOf": Texts.text(
                    "dashboard.households.pageOf", viewer.language, ["page": String(page), "pages": String(pages), "total": String(found.total)]),
            ]
            // Absent, not empty: a template's section shows for any string.
            if page > 1 { content["previous"] = link(page - 1) }
            if page < pages { content["next"] = link(page + 1) }
            let title = texts["households.title"] ?? "Households"
            let rendered = try DashboardRenderer.render(
                "households", chrome: chrome(title, request: request, viewer: viewer, language: viewer.language, current: "households"),
                language: viewer.language, content: content)
            return DashboardRenderer.html(rendered)
        }
    }

    /// Households the list shows per page.
    static let householdsPageSize = 50

    /// Every household in view that matches, as a CSV file written while it is read: pages of
    /// 2,000 from the tally's households list, each after the last one written, so that the
    /// server's memory holds one page whatever the city's size.
    func householdsExport(viewer: DashboardViewer, status: HouseholdStatus?, search: String, filename: String) async throws -> Response {
        let header = householdsTable([], viewer: viewer, status: status, search: search).columns
        let size = Self.readingPage
        let body = ResponseBody { [self] writer in
            try await writer.write(ByteBuffer(bytes: CSVWriter.byteOrderMark + CSVWriter.lines([header])))
            var last: ShownHousehold?
            while true {
                let page = try await keptHouseholds(
                    HouseholdsQuery(district: viewer.district, status: status, search: search, limit: size, after: last, counted: false))
                let rows = householdsTable(page.households, viewer: viewer, status: status, search: search).rows.map { $0.cells.map(\.text) }
                if !rows.isEmpty { try await writer.write(ByteBuffer(bytes: CSVWriter.lines(rows))) }
                last = page.households.last
                if page.households.count < size { break }
            }
            try await writer.finish(nil)
        }
        var response = Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""], body: body)
        DashboardRenderer.secure(&response)
        return response
    }

    /// The households table: head's name, masked national ID, status, district.
    func householdsTable(_ households: [ShownHousehold], viewer: DashboardViewer, status: HouseholdStatus?, search: String) -> WebTable {
        let language = viewer.language
        let texts = Texts.section("dashboard", language)
        let rows = households.map { household in
            WebTable.Row([
                .init(household.headName ?? household.id.description, href: "/dashboard/households/\(household.id)"),
                .init(household.nationalId.map { RosterComparison.mask($0) } ?? ""), .init(household.status?.label(language) ?? "—"),
                .init(districtName(household.district, language)),
            ])
        }
        let scope: [(String, String?)] = [
            ("district", viewer.account.role == .city ? viewer.district : nil), ("status", status?.rawValue),
            ("q", search.isEmpty ? nil : search),
        ]
        return WebTable(
            id: "households", caption: texts["table.households"] ?? "",
            columns: ["headName", "nationalId", "status", "district"].map { texts["column.\($0)"] ?? $0 },
            rows: rows, exportHref: WebLinks.href("/dashboard/export/households", scope), emptyText: texts["table.empty"] ?? "")
    }

    /// `GET /dashboard/households/{id}`: facts, members, liaisons, lists, visits and the full change history.
    /// Another district's household is 404.
    func householdPage(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let aggregate = try await visibleHousehold(try householdID(context), principal: viewer.principal)
            let tables = try await householdTables(aggregate, viewer: viewer)
            let household = aggregate.household
            let language = viewer.language
            let status = household["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
            var content: [String: Any] = [
                "id": household.id.description, "headName": household["headName"].stringValue ?? "",
                "status": status?.label(language) ?? "—", "district": districtName(household["district"].stringValue, language),
                "nextStatuses": (status?.allowedNext ?? []).map { ["value": $0.rawValue, "label": $0.label(language)] },
                "canDecide": !(status?.allowedNext ?? []).isEmpty, "aliases": aggregate.aliases.map(\.description),
                "conflictCount": aggregate.conflicts.count, "hasConflicts": !aggregate.conflicts.isEmpty,
                "hasAliases": !aggregate.aliases.isEmpty,
            ]
            for table in tables { content["table_" + table.id] = table }
            let texts = Texts.section("dashboard", language)
            let title = (texts["household.title"] ?? "%@").replacingOccurrences(of: "%@", with: household["headName"].stringValue ?? household.id.description)
            let page = try DashboardRenderer.render(
                "household", chrome: chrome(title, request: request, viewer: viewer, language: language, current: "households"),
                language: language, content: content)
            return DashboardRenderer.html(page)
        }
    }

    /// The tables of a household page, in page order: facts, members, liaisons, problems, assistance, visits, history.
    func householdTables(_ aggregate: HouseholdAggregate, viewer: DashboardViewer) async throws -> [WebTable] {
        let language = viewer.language
        let texts = Texts.section("dashboard", language)
        let city = configuration.city
        let household = aggregate.household
        func table(_ id: String, _ columns: [String], _ rows: [WebTable.Row]) -> WebTable {
            WebTable(
                id: id, caption: texts["table.\(id)"] ?? id, columns: columns, rows: rows,
                exportHref: "/dashboard/households/\(household.id)/export/\(id)", emptyText: texts["table.empty"] ?? "")
        }
        func show(_ value: JSONValue, _ field: String, _ kind: EntityKind) -> String {
            DashboardLabels.value(value, field: field, kind: kind, language: language, city: city)
        }
        let conflicted = texts["household.conflicted"] ?? ""
        let facts = EntityKind.household.fields.map { spec in
            let register = household.fields[spec.name]
            let marked = register?.isConflicted == true
            let values =
                marked
                ? (register?.distinctValues ?? []).map { show($0, spec.name, .household) }.joined(separator: " | ")
                : show(household[spec.name], spec.name, .household)
            return WebTable.Row(
                [.init(DashboardLabels.field(spec.name, kind: .household, language)), .init(values), .init(marked ? conflicted : "")],
                mark: marked ? "conflict" : nil)
        }
        var tables = [table("facts", [texts["column.field"] ?? "", texts["column.value"] ?? "", texts["column.review"] ?? ""], facts)]
        for kind in [EntityKind.member, .liaison, .problem, .assistance, .visit] {
            var entities = aggregate.entities.filter { $0.kind == kind && $0.isVisible }
            if kind == .visit { entities.sort { $0["visitedAt"].stringValue ?? "" > $1["visitedAt"].stringValue ?? "" } }
            let rows = entities.map { entity in
                let marked = !entity.conflicts.isEmpty
                return WebTable.Row(
                    kind.fields.map { .init(show(entity[$0.name], $0.name, kind)) } + [.init(marked ? conflicted : "")],
                    mark: marked ? "conflict" : nil)
            }
            let id =
                ["member": "members", "liaison": "liaisons", "problem": "problems", "assistance": "assistance", "visit": "visits"][kind.rawValue]
                ?? kind.rawValue
            tables.append(table(id, kind.fields.map { DashboardLabels.field($0.name, kind: kind, language) } + [texts["column.review"] ?? ""], rows))
        }
        tables.append(try await attachmentsTable(aggregate, language: language, table: table))
        var names: [DeviceID: String] = [:]
        var deviceRoles: [DeviceID: Role] = [:]
        for device in try await storage.devices(district: nil) {
            names[device.id] = device.name
            deviceRoles[device.id] = device.role
        }
        let history = try await storage.history(of: household.id).reversed().map { entry in
            let who = entry.who(names: names, language)
            // A conflict settled by this write: by the office, or by a visitor's correction at the door (§6.3).
            let settled = entry.settledNoteKey(writerRole: entry.writer.flatMap { deviceRoles[$0] }).map { Texts.text($0, language) } ?? ""
            return WebTable.Row([
                .init(DashboardLabels.time(entry.at, city: city)), .init(who), .init(String(entry.device.rawValue.prefix(8))),
                .init(DashboardLabels.kind(entry.kind, language)), .init(DashboardLabels.field(entry.field, kind: entry.kind, language)),
                .init(show(entry.old, entry.field, entry.kind)), .init(show(entry.new, entry.field, entry.kind) + settled),
            ])
        }
        tables.append(table("history", ["time", "actor", "device", "kind", "field", "old", "new"].map { texts["column.\($0)"] ?? $0 }, Array(history)))
        return tables
    }

    /// The household's proof documents (protocol 1.4): each file to view in the browser (images
    /// and PDFs open inline) and to download, or awaited when its bytes have not reached the server.
    func attachmentsTable(
        _ aggregate: HouseholdAggregate, language: Language, table: (String, [String], [WebTable.Row]) -> WebTable
    ) async throws -> WebTable {
        let texts = Texts.section("dashboard", language)
        let household = aggregate.household
        let owners = Dictionary(aggregate.entities.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var rows: [WebTable.Row] = []
        for attachment in aggregate.entities.filter({ $0.kind == .attachment && $0.isVisible }).sorted(by: { $0.created < $1.created }) {
            let href = "/dashboard/households/\(household.id)/attachments/\(attachment.id)"
            let whole: Bool
            if let sha = attachment["sha256"].stringValue, case .whole = try await files.state(of: sha) { whole = true } else { whole = false }
            let owner = attachment["of"].stringValue.flatMap { try? EntityID($0) }.flatMap { owners[$0] }
            let of = owner.map { "\(DashboardLabels.kind($0.kind, language)) \($0.id.description.prefix(8))" } ?? DashboardLabels.kind(.household, language)
            let type = attachment["mediaType"].stringValue.flatMap(AttachmentMediaType.init(rawValue:))
            rows.append(
                WebTable.Row(
                    [
                        .init(attachment["fileName"].stringValue ?? attachment.id.description, href: whole ? href : nil),
                        .init(attachment["caption"].stringValue ?? ""), .init(type?.label(language) ?? ""),
                        .init(AttachmentFile.sizeText(attachment["size"].intValue ?? 0, language), numeric: true), .init(of),
                        whole ? .init(texts["attachments.download"] ?? "", href: href + "?download=1") : .init(texts["attachments.awaited"] ?? ""),
                    ], mark: whole ? nil : "awaited"))
        }
        return table(
            "attachments", ["fileName", "caption", "mediaType", "size", "of"].map { DashboardLabels.field($0, kind: .attachment, language) } + [""],
            rows)
    }

    /// `GET /dashboard/households/{id}/attachments/{attachment}[?download=1]`: a proof document's
    /// bytes for an office in scope, shown inline (images, PDFs) or downloaded; never sniffed.
    func attachmentFile(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let aggregate = try await visibleHousehold(try householdID(context), principal: viewer.principal)
            guard let text = context.parameters.get("attachment"), let id = try? EntityID(text),
                let attachment = aggregate.entities.first(where: { $0.id == id && $0.kind == .attachment && $0.isVisible && !$0.isDeleted }),
                let sha = attachment["sha256"].stringValue
            else { throw DoorstepError(.notFound, "no such attachment in this household") }
            guard case .whole(let length, let type) = try await files.state(of: sha),
                let stream = try await files.read(sha, range: 0...(length - 1))
            else { throw DoorstepError(.notFound, rule: "fileAwaited") }
            let download = request.uri.queryParameters.get("download") == "1"
            let disposition = Self.disposition(attachment["fileName"].stringValue, sha: sha, type: type, inline: !download)
            var headers: HTTPFields = [
                .contentType: type.rawValue, .contentLength: String(length), .contentDisposition: disposition, .eTag: "\"\(sha)\"",
                .cacheControl: "private, no-store",
                // The bytes are a document to look at, never a page of this site.
                .contentSecurityPolicy: type == .pdf
                    ? "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'"
                    : "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
            ]
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
        }
    }

    /// `POST /dashboard/households/{id}/status`: the office's status decision, through `storage.decide`.
    func householdStatus(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardAction(request) { viewer, form in
            let aggregate = try await visibleHousehold(try householdID(context), principal: viewer.principal)
            let page = "/dashboard/households/\(aggregate.household.id)"
            guard let to = form["to"].flatMap(HouseholdStatus.init(rawValue:)) else {
                return DashboardRenderer.redirect(WebLinks.href(page, [("error", DoorstepError.Code.invalidValue.rawValue)]))
            }
            do {
                _ = try await storage.decide(
                    .setStatus(household: aggregate.household.id, to: to), by: viewer.principal, actor: viewer.actor,
                    engine: engine, now: now, physicalMillis: configuration.clock)
            } catch let error as DoorstepError where error.code.httpStatus != .internalServerError && error.code != .notFound {
                return DashboardRenderer.redirect(WebLinks.href(page, [("error", error.code.rawValue)]))
            }
            context.logger.info("dashboard decision", metadata: ["action": "status", "by": "\(viewer.actor)"])
            return DashboardRenderer.redirect(WebLinks.href(page, [("done", "status")]))
        }
    }

    /// `GET /dashboard/households/{id}/export/{table}`: one of the household page's tables as CSV.
    func householdExport(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let aggregate = try await visibleHousehold(try householdID(context), principal: viewer.principal)
            let name = context.parameters.get("table") ?? ""
            guard let table = try await householdTables(aggregate, viewer: viewer).first(where: { $0.id == name }) else {
                throw DoorstepError(.notFound, "no table \(name.prefix(40)) on a household page")
            }
            return csvResponse(table, filename: "doorstep-\(aggregate.household.id)-\(table.id).csv")
        }
    }
}
