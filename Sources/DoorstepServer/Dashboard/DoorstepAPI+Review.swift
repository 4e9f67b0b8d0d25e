import DoorstepCore
import DoorstepImport
import DoorstepStorage
import DoorstepWeb
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// The review actions: each calls the same `storage.decide` as the JSON API.
    enum ReviewAction: String, Sendable {
        case confirm, overturn, unlink
    }

    /// What the review page needs beyond the queue: device names and the households' head names.
    struct ReviewContext: Sendable {
        var deviceNames: [DeviceID: String]
        var households: [EntityID: HouseholdAggregate]
    }

    func reviewContext(_ queue: ReviewQueue) async throws -> ReviewContext {
        var names: [DeviceID: String] = [:]
        for device in try await storage.devices(district: nil) { names[device.id] = device.name }
        var households: [EntityID: HouseholdAggregate] = [:]
        let ids = Set(queue.conflicts.map(\.record.household) + queue.duplicates.map(\.survivor) + queue.rejections.compactMap(\.household))
        for id in ids.sorted() { households[id] = try await storage.household(id, engine: engine) }
        return ReviewContext(deviceNames: names, households: households)
    }

    /// A household as lists name it: head's name and masked national ID.
    func householdLabel(_ id: EntityID?, _ context: ReviewContext) -> String {
        guard let id else { return "—" }
        guard let household = context.households[id]?.household else { return id.description }
        let masked = household["nationalId"].stringValue.map { RosterComparison.mask($0) } ?? ""
        return [household["headName"].stringValue ?? "", masked].filter { !$0.isEmpty }.joined(separator: " ")
    }

    func writerName(_ device: DeviceID, _ context: ReviewContext, _ language: Language) -> String {
        if device == identity.device { return Texts.text("dashboard.review.serverDecision", language) }
        return context.deviceNames[device].map { "\($0) (\(device.rawValue.prefix(8)))" } ?? device.rawValue
    }

    /// `GET /dashboard/review`: conflicts side by side with every head and writer, duplicates, rejections.
    func reviewPage(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        try await dashboardPage(request) { viewer in
            let queue = try await storage.reviewQueue(district: viewer.district)
            let review = try await reviewContext(queue)
            let language = viewer.language
            let texts = Texts.section("dashboard", language)
            let city = configuration.city
            let conflicts: [[String: Any]] = queue.conflicts.map { item in
                let record = item.record
                let shown = record.shown?.write
                let isDeletion = record.field == deletedFieldName
                return [
                    "household": record.household.description, "householdLabel": householdLabel(record.household, review),
                    "href": "/dashboard/households/\(record.household)", "entity": record.entity.description,
                    "kind": DashboardLabels.kind(record.kind, language), "field": record.field,
                    "fieldLabel": DashboardLabels.field(record.field, kind: record.kind, language),
                    "reason": texts["review.reason.\(record.reason.rawValue)"] ?? record.reason.rawValue,
                    "isDeletion": isDeletion, "isMoney": record.kind.field(record.field)?.type == .money,
                    "district": districtName(item.district, language),
                    "heads": record.heads.map { head -> [String: Any] in
                        [
                            "value": DashboardLabels.value(head.value, field: record.field, kind: record.kind, language: language, city: city),
                            "writer": writerName(head.write.device, review, language),
                            "time": DashboardLabels.time(Date(timeIntervalSince1970: Double(head.write.hlc.wallMillis) / 1000), city: city),
                            "write": head.write.description, "shown": head.write == shown, "canOverturn": !isDeletion && head.write != shown,
                        ]
                    },
                ]
            }
            let duplicates: [[String: Any]] = queue.duplicates.map { link in
                [
                    "survivor": link.survivor.description, "alias": link.alias.description, "href": "/dashboard/households/\(link.survivor)",
                    "label": householdLabel(link.survivor, review), "district": districtName(link.district, language),
                ]
            }
            let tables = reviewTables(queue, review: review, viewer: viewer)
            let held: [[String: Any]] = queue.rejections.compactMap { rejection in
                guard let mutation = rejection.mutation else { return nil }
                let known = review.households[mutation.household] != nil
                let label =
                    known
                    ? householdLabel(mutation.household, review)
                    : [mutation.fields.first { $0.field == "headName" }?.value.stringValue, Optional(String(mutation.household.description.prefix(8)))]
                        .compactMap { $0 }.joined(separator: " ")
                return [
                    "device": rejection.device.rawValue, "seq": String(rejection.seq), "writer": writerName(rejection.device, review, language),
                    "operation": mutation.op.label(language), "kind": DashboardLabels.kind(mutation.kind, language),
                    "householdLabel": label, "href": known ? "/dashboard/households/\(mutation.household)" : "",
                    "writtenAt": DashboardLabels.time(Date(timeIntervalSince1970: Double(mutation.hlc.wallMillis) / 1000), city: city),
                    "fields": mutation.fields.map { write -> [String: Any] in
                        [
                            "label": DashboardLabels.field(write.field, kind: mutation.kind, language),
                            "value": DashboardLabels.value(write.value, field: write.field, kind: mutation.kind, language: language, city: city),
                        ]
                    },
                ]
            }
            let content: [String: Any] = [
                "held": held, "hasHeld": !held.isEmpty,
                "conflicts": conflicts, "duplicates": duplicates, "hasConflicts": !conflicts.isEmpty, "hasDuplicates": !duplicates.isEmpty,
                "isCity": viewer.account.role == .city, "districts": districtOptions(viewer), "allSelected": viewer.district == nil,
                "conflictsExport": tables.conflicts.exportHref ?? "", "duplicatesExport": tables.duplicates.exportHref ?? "",
                "table_rejections": tables.rejections, "table_clock": tables.clock,
                "district": viewer.account.role == .city ? (viewer.district ?? "") : "",
            ]
            let title = texts["review.title"] ?? "Review"
            let page = try DashboardRenderer.render(
                "review", chrome: chrome(title, request: request, viewer: viewer, language: language, current: "review"),
                language: language, content: content)
            return DashboardRenderer.html(page)
        }
    }

    /// The review queue's tables, as the page lists them and CSV exports them.
    func reviewTables(_ queue: ReviewQueue, review: ReviewContext, viewer: DashboardViewer) -> ReviewTables {
        let language = viewer.language
        let texts = Texts.section("dashboard", language)
        let city = configuration.city
        let scope: String? = viewer.account.role == .city ? viewer.district : nil
        func table(_ id: String, _ columns: [String], _ rows: [WebTable.Row]) -> WebTable {
            WebTable(
                id: id, caption: texts["table.\(id)"] ?? id, columns: columns.map { texts["column.\($0)"] ?? $0 }, rows: rows,
                exportHref: WebLinks.href("/dashboard/export/\(id)", [("district", scope)]), emptyText: texts["table.empty"] ?? "")
        }
        let conflictRows = queue.conflicts.flatMap { item in
            item.record.heads.map { head in
                WebTable.Row([
                    .init(householdLabel(item.record.household, review), href: "/dashboard/households/\(item.record.household)"),
                    .init(DashboardLabels.kind(item.record.kind, language)),
                    .init(DashboardLabels.field(item.record.field, kind: item.record.kind, language)),
                    .init(DashboardLabels.value(head.value, field: item.record.field, kind: item.record.kind, language: language, city: city)),
                    .init(writerName(head.write.device, review, language)),
                    .init(DashboardLabels.time(Date(timeIntervalSince1970: Double(head.write.hlc.wallMillis) / 1000), city: city)),
                    .init(head.write == item.record.shown?.write ? (texts["review.shown"] ?? "") : ""),
                ])
            }
        }
        let duplicateRows = queue.duplicates.map { link in
            WebTable.Row([
                .init(householdLabel(link.survivor, review), href: "/dashboard/households/\(link.survivor)"),
                .init(link.alias.description), .init(districtName(link.district, language)),
            ])
        }
        let rejectionRows = queue.rejections.filter { $0.mutation == nil }.map { rejection in
            WebTable.Row([
                .init(DashboardLabels.time(rejection.at, city: city)), .init(writerName(rejection.device, review, language)),
                .init(number: Int(rejection.seq)),
                .init(householdLabel(rejection.household, review), href: rejection.household.map { "/dashboard/households/\($0)" }),
                .init(DashboardLabels.kind(rejection.kind, language)), .init(rejection.code.rawValue),
                .init(rejection.explanation(language)),
            ])
        }
        let clockRows = queue.clockFlaggedDevices.map { device in
            WebTable.Row([
                .init(device.name), .init(districtName(device.district, language)),
                .init(DashboardLabels.time(device.lastPushAt, city: city)),
            ])
        }
        return ReviewTables(
            conflicts: table("conflicts", ["household", "kind", "field", "value", "writer", "writtenAt", "shown"], conflictRows),
            duplicates: table("duplicates", ["survivor", "alias", "district"], duplicateRows),
            rejections: table("rejections", ["time", "device", "seq", "household", "kind", "code", "reason"], rejectionRows),
            clock: table("clock", ["device", "district", "lastSync"], clockRows)
        )
    }

    /// The tables of the review page.
    struct ReviewTables: Sendable {
        var conflicts, duplicates, rejections, clock: WebTable

        /// The table with an export name.
        func named(_ id: String) -> WebTable? {
            [conflicts, duplicates, rejections, clock].first { $0.id == id }
        }
    }

    /// `POST /dashboard/review/confirm|overturn|unlink`: the office's decision through `storage.decide`,
    /// then a 303 back to the review page with what happened.
    func reviewAction(_ request: Request, _ context: DoorstepRequestContext, _ action: ReviewAction) async throws -> Response {
        try await dashboardAction(request) { viewer, form in
            let back = { (key: String, value: String) in
                DashboardRenderer.redirect(
                    WebLinks.href(
                        "/dashboard/review",
                        [
                            ("district", viewer.account.role == .city ? viewer.district : nil), (key, value),
                        ]))
            }
            let decision: OfficeDecision
            switch action {
            case .confirm, .overturn:
                guard let household = form["household"].flatMap({ try? EntityID($0) }), let entity = form["entity"].flatMap({ try? EntityID($0) }),
                    let field = form["field"], !field.isEmpty
                else { throw DoorstepError(.invalidValue, "the form names no household, entry or field") }
                let aggregate = try await visibleHousehold(household, principal: viewer.principal)
                if action == .confirm {
                    decision = .confirm(entity: entity, field: field)
                } else if field == deletedFieldName {
                    decision = .overturn(entity: entity, field: field, value: .bool(false))
                } else {
                    let state =
                        aggregate.household.id == entity || aggregate.aliases.contains(entity)
                        ? aggregate.household : aggregate.entities.first { $0.id == entity }
                    if let typed = form["value"], form["head"] == nil {
                        // A typed value: read as every typed value is (money in yuan unless it says 分).
                        guard let kind = state?.kind else { return back("error", "stale") }
                        do {
                            decision = .overturn(
                                entity: entity, field: field, value: try TypedInput.value(typed, field: field, of: kind, city: configuration.city))
                        } catch let error as DoorstepError {
                            return back("error", error.code.rawValue)
                        }
                    } else {
                        guard let head = state?.heads(field).first(where: { $0.write.description == form["head"] }) else {
                            return back("error", "stale")
                        }
                        decision = .overturn(entity: entity, field: field, value: head.value)
                    }
                }
            case .unlink:
                guard let survivor = form["survivor"].flatMap({ try? EntityID($0) }), let alias = form["alias"].flatMap({ try? EntityID($0) }) else {
                    throw DoorstepError(.invalidValue, "the form names no linked households")
                }
                _ = try await visibleHousehold(survivor, principal: viewer.principal)
                decision = .unlink(survivor: survivor, alias: alias)
            }
            do {
                _ = try await storage.decide(decision, by: viewer.principal, actor: viewer.actor, engine: engine, now: now, physicalMillis: configuration.clock)
            } catch let error as DoorstepError where error.code.httpStatus != .internalServerError && error.code != .notFound {
                return back("error", error.code.rawValue)
            }
            context.logger.info("dashboard decision", metadata: ["action": "\(action.rawValue)", "by": "\(viewer.actor)"])
            return back("done", action.rawValue)
        }
    }

    /// `POST /dashboard/review/held/accept|dismiss`: a held change accepted as the office's decision,
    /// or set aside with a reason (the JSON API's `acceptHeld` and `dismissRejection`).
    func heldAction(_ request: Request, _ context: DoorstepRequestContext, accept: Bool) async throws -> Response {
        try await dashboardAction(request) { viewer, form in
            let back = { (key: String, value: String) in
                DashboardRenderer.redirect(
                    WebLinks.href(
                        "/dashboard/review",
                        [
                            ("district", viewer.account.role == .city ? viewer.district : nil), (key, value),
                        ]))
            }
            guard let device = form["device"].flatMap({ try? DeviceID($0) }), let seq = form["seq"].flatMap({ Int64($0) }) else {
                throw DoorstepError(.invalidValue, "the form names no held change")
            }
            do {
                if accept {
                    _ = try await storage.acceptHeld(
                        device: device, seq: seq, by: viewer.principal, actor: viewer.actor, engine: engine, now: now,
                        physicalMillis: configuration.clock)
                } else {
                    _ = try await storage.dismissRejection(
                        device: device, seq: seq, by: viewer.principal, actor: viewer.actor,
                        reason: form["reason"] ?? "", now: now)
                }
            } catch let error as DoorstepError where error.code.httpStatus != .internalServerError {
                return back("error", error.code == .notFound ? "stale" : error.code.rawValue)
            }
            context.logger.info(
                accept ? "dashboard accepted a held change" : "dashboard dismissed a change",
                metadata: ["device": "\(device)", "seq": "\(seq)", "by": "\(viewer.actor)"])
            return back("done", accept ? "accepted" : "dismissed")
        }
    }

    /// A household the principal may see (by any of its ids), or `notFound`: another district's households do not exist for it.
    /// A household the principal may see, or `notFound`: another district's households do not exist for it.
    func visibleHousehold(_ id: EntityID, principal: Principal) async throws -> HouseholdAggregate {
        guard let aggregate = try await storage.household(id, engine: engine),
            let district = aggregate.household["district"].stringValue, principal.covers(district: district)
        else {
            throw DoorstepError(.notFound, "no household \(id)")
        }
        return aggregate
    }
}
