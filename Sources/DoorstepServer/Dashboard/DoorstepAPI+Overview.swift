import DoorstepCore
import DoorstepStorage
import DoorstepWeb
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// The campaign report for the dashboard: the same inputs and the same computation as
    /// `GET /v1/reports` (today from the server clock in the city's time zone; the current campaign
    /// unless `campaign` names another).
    /// Each list names at most `listLimit` households per district (all for `nil`: exports).
    func dashboardReport(district: String?, campaign id: String?, listLimit: Int? = nil) async throws -> CampaignReport {
        let city = try await city()
        let zone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 0) ?? .current
        let today = LocalDate(Date(timeIntervalSince1970: Double(configuration.clock()) / 1000), in: zone)
        guard let campaign = id.flatMap(city.campaign) ?? CampaignReport.defaultCampaign(in: city, on: today) else {
            throw DoorstepError(.notFound, "the city data has no campaign to report on")
        }
        return try await keptReport(city: city, campaign: campaign, today: today, district: district, lists: listLimit)
    }

    /// Households an overview's list shows per district; the CSV export has them all.
    static let overviewListLimit = 50

    /// `GET /` and `GET /dashboard[?district=][&campaign=]`: the overview of the campaign.
    func overviewPage(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let campaignID = request.uri.queryParameters.get("campaign")
            let report = try await dashboardReport(district: viewer.district, campaign: campaignID, listLimit: Self.overviewListLimit)
            let texts = Texts.section("dashboard", viewer.language)
            let content = overviewContent(report, viewer: viewer, texts: texts, campaigns: Self.byFirstDay(try await city().campaigns))
            let title = texts["overview.title"] ?? "Overview"
            let page = try DashboardRenderer.render(
                "overview", chrome: chrome(title, request: request, viewer: viewer, language: viewer.language, current: "overview"),
                language: viewer.language, content: content)
            return DashboardRenderer.html(page)
        }
    }

    /// The section a viewer's overview shows: the chosen district's, or the total.
    func overviewSection(_ report: CampaignReport, viewer: DashboardViewer) -> CampaignReport.Section {
        viewer.district.flatMap { code in report.districts.first { $0.district == code } } ?? report.total
    }

    func overviewContent(_ report: CampaignReport, viewer: DashboardViewer, texts: [String: String], campaigns: [Campaign]) -> [String: Any] {
        let language = viewer.language
        let section = overviewSection(report, viewer: viewer)
        let tables = overviewTables(report, viewer: viewer)
        var content: [String: Any] = [
            "campaign": report.campaign.name.text(language),
            "campaignWindow": [report.campaign.start, report.campaign.end].compactMap { $0?.description }.joined(separator: " – "),
            "today": report.today.description,
            "isCity": viewer.account.role == .city,
            "districts": districtOptions(viewer),
            "allSelected": viewer.district == nil,
            "district": viewer.account.role == .city ? (viewer.district ?? "") : "",
            "hasCampaigns": campaigns.count > 1,
            "campaigns": campaigns.count > 1
                ? campaigns.map { ["id": $0.id, "name": $0.name.text(language), "selected": $0.id == report.campaign.id] } : [],
            "households": section.households,
            "createdSinceStart": section.filesByStatus.createdSinceStart,
            "twice": section.twice,
            "wrong": section.wrong,
            "belowMinimumLiving": section.belowMinimumLiving,
            "missed": section.visitCoverage.missedCount,
            "review": ["conflicts": section.review.conflicts, "duplicates": section.review.duplicates, "rejections": section.review.rejections],
            "reviewHref": WebLinks.href("/dashboard/review", [("district", viewer.account.role == .city ? viewer.district : nil)]),
            "assistance": [
                "done": section.assistance.done, "open": section.assistance.open, "overdue": section.assistance.overdue,
                "cancelled": section.assistance.cancelled,
            ],
            "coverage": ProgressBar(id: "coverage", label: texts["overview.coverage"] ?? "", ratio: section.visitCoverage.rate),
            "exitRate": ProgressBar(id: "exitRate", label: texts["overview.exitRate"] ?? "", ratio: section.exitRate),
            "resolvedRate": ProgressBar(id: "resolvedRate", label: texts["overview.resolvedRate"] ?? "", ratio: section.resolvedRate),
            "statusChart": BarChart(
                id: "status", title: texts["overview.filesByStatus"] ?? "",
                items: HouseholdStatus.allCases.map { ($0.rawValue, $0.label(language), section.filesByStatus.now[$0]) }),
            "causesChart": BarChart(
                id: "causes", title: texts["overview.causes"] ?? "",
                items: HardshipCause.allCases.map { ($0.rawValue, $0.label(language), section.causes[$0.rawValue] ?? 0) }),
            "staleDevices": tables["devices"]?.rows.filter { $0.mark == "stale" }.count ?? 0,
            "weeksChart": WeeklyChart(
                id: "weeks", title: texts["weeksTitle"] ?? "", weeks: section.weeks ?? [],
                stages: campaigns.first { $0.id == report.campaign.id }?.stages.sorted { $0.start < $1.start } ?? [], today: report.today,
                end: report.campaign.end,
                labels: (
                    visits: texts["overview.weeksVisits"] ?? "", exits: texts["overview.weeksExits"] ?? "",
                    outOfHardship: HouseholdStatus.outOfHardship.label(language), safetyNet: HouseholdStatus.safetyNet.label(language),
                    today: texts["overview.today"] ?? "", deadline: texts["overview.deadline"] ?? ""
                ), language: language),
            "weeksExport": WebLinks.href("/dashboard/export/weeks", [("district", viewer.account.role == .city ? viewer.district : nil)]),
        ]
        for (key, table) in tables { content["table_" + key] = table }
        if let stage = report.stage {
            content["stage"] = [
                "name": stage.name.text(language), "start": stage.start.description, "end": stage.end.description,
                "daysLeft": stage.daysLeft,
            ]
        }
        if let end = report.campaign.end, end < report.today {
            // No campaign under way: say so, rather than show last year's as if current.
            content["campaignOver"] = (texts["overview.campaignOver"] ?? "").replacingOccurrences(of: "%@", with: end.description)
        }
        return content
    }

    /// Every table of the overview, by export name.
    func overviewTables(_ report: CampaignReport, viewer: DashboardViewer) -> [String: WebTable] {
        let language = viewer.language
        let texts = Texts.section("dashboard", language)
        let section = overviewSection(report, viewer: viewer)
        let sections = viewer.district == nil ? report.districts : report.districts.filter { $0.district == viewer.district }
        let scope: String? = viewer.account.role == .city ? viewer.district : nil
        func table(_ id: String, _ columns: [String], _ rows: [WebTable.Row], of total: Int? = nil) -> WebTable {
            // A list longer than the page shows says so; the export has every row.
            let note = total.flatMap { total in
                total > rows.count
                    ? Texts.text("dashboard.table.firstOf", language, ["shown": String(rows.count), "total": String(total)]) : nil
            }
            return WebTable(
                id: id, caption: texts["table.\(id)"] ?? id, columns: columns.map { texts["column.\($0)"] ?? $0 }, rows: rows,
                exportHref: WebLinks.href("/dashboard/export/\(id)", [("district", scope)]), emptyText: texts["table.empty"] ?? "", note: note)
        }
        func householdRows(_ pick: (CampaignReport.Section) -> [CampaignReport.HouseholdRef]) -> [WebTable.Row] {
            sections.flatMap { part in
                pick(part).map { ref in
                    WebTable.Row([
                        .init(ref.nationalId.isEmpty ? ref.household.description : ref.nationalId, href: "/dashboard/households/\(ref.household)"),
                        .init(ref.status?.label(language) ?? "—"), .init(part.name.text(language)),
                    ])
                }
            }
        }
        var statusRows = HouseholdStatus.allCases.map { status in
            WebTable.Row([
                .init(status.label(language)), .init(number: section.filesByStatus.now[status]), .init(number: section.filesByStatus.atStart[status]),
            ])
        }
        statusRows.append(.init([.init(texts["overview.createdSinceStart"] ?? ""), .init(number: section.filesByStatus.createdSinceStart), .init("—")]))
        let nowMillis = configuration.clock()
        let devices = section.devices.sorted { ($0.district ?? "", $0.name) < ($1.district ?? "", $1.name) }.map { device in
            let last = device.lastSyncAt.flatMap(Instant.parse)
            let revoked = device.revokedAt != nil
            let stale = !revoked && (last.map { nowMillis - Int64($0.timeIntervalSince1970 * 1000) > DashboardSettings.staleSyncMillis } ?? true)
            let state =
                revoked
                ? (texts["device.revoked"] ?? "").replacingOccurrences(of: "%@", with: DashboardLabels.time(device.revokedAt, city: configuration.city))
                : last == nil ? texts["device.never"] : stale ? texts["device.stale"] : texts["device.ok"]
            return WebTable.Row(
                [
                    .init(device.name), .init(districtName(device.district, language)),
                    .init(DashboardLabels.time(device.lastSyncAt, city: configuration.city)),
                    .init(state ?? ""), .init(device.clockFlagged ? (texts["device.clockFlagged"] ?? "") : "—"),
                ], mark: stale ? "stale" : nil)
        }
        var tables = [
            "status": table("status", ["status", "now", "atStart"], statusRows),
            "causes": table(
                "causes", ["cause", "households"],
                HardshipCause.allCases.map { cause in
                    WebTable.Row([.init(cause.label(language)), .init(number: section.causes[cause.rawValue] ?? 0)])
                }),
            "missed": table(
                "missed", ["household", "status", "district"], householdRows(\.visitCoverage.missed),
                of: sections.reduce(0) { $0 + $1.visitCoverage.missedCount }),
            "wrong": table("wrong", ["household", "status", "district"], householdRows(\.wrongHouseholds), of: sections.reduce(0) { $0 + $1.wrong }),
            "devices": table("devices", ["device", "district", "lastSync", "syncState", "clock"], devices),
            "weeks": WebTable(
                id: "weeks", caption: texts["table.weeks"] ?? "",
                columns: [
                    texts["column.week"] ?? "", texts["column.homeVisits"] ?? "", HouseholdStatus.outOfHardship.label(language),
                    HouseholdStatus.safetyNet.label(language),
                ],
                rows: (section.weeks ?? []).map { week in
                    WebTable.Row([.init(week.week.description), .init(number: week.visits), .init(number: week.outOfHardship), .init(number: week.safetyNet)])
                }, exportHref: WebLinks.href("/dashboard/export/weeks", [("district", scope)]), emptyText: texts["table.empty"] ?? ""),
        ]
        if viewer.district == nil && report.districts.count > 1 {
            tables["districts"] = table(
                "districts", ["district", "households", "coverage", "exitRate", "resolvedRate", "missed", "pendingReview"],
                report.districts.map { part in
                    let code = part.district ?? ""
                    let pending = part.review.conflicts + part.review.duplicates + part.review.rejections
                    return WebTable.Row([
                        .init(part.name.text(language), href: WebLinks.href("/dashboard", [("district", code)])), .init(number: part.households),
                        .init(DashboardLabels.percent(part.visitCoverage.rate), numeric: true), .init(DashboardLabels.percent(part.exitRate), numeric: true),
                        .init(DashboardLabels.percent(part.resolvedRate), numeric: true), .init(number: part.visitCoverage.missedCount),
                        .init(number: pending),
                    ])
                })
        }
        return tables
    }
}
