import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Worklist

    func worklistPage(_ request: Request, _ viewer: Viewer) async throws -> Response {
        let language = viewer.language
        let parameters = request.uri.queryParameters
        let q: String? = parameters.get("q").map { String($0) }
        let all = parameters.get("all") == "1"
        let status = parameters.get("status").flatMap { HouseholdStatus(rawValue: String($0)) }
        let reason = parameters.get("reason").flatMap { WorkReason(rawValue: String($0)) }
        let offset = max(0, parameters.get("offset").flatMap { Int(String($0)) } ?? 0)
        let pageSize = 100
        let list = try await client.worklist(
            WorklistQuery(text: q, reason: reason, status: status, needsVisitorOnly: !all, limit: pageSize, offset: offset))
        func link(_ reason: WorkReason?, offset: Int? = nil) -> String {
            var items: [(String, String?)] = [("q", q), ("status", status?.rawValue)]
            items.append(("all", all ? "1" : nil))
            items.append(("reason", reason?.rawValue))
            items.append(("offset", offset.map { String($0) }))
            return WebLinks.href("/", items)
        }
        let items: [[String: Any]] = list.items.map { item in
            present([
                "id": item.household.id.description, "name": item.household.headName, "nationalId": item.household.nationalIdMasked,
                "address": item.household.address, "status": item.household.status?.label(language) ?? "—", "local": item.household.hasLocalChanges,
                "reasons": item.reasons.map { ["key": $0.rawValue, "label": $0.label(language)] },
                "due": item.nextDue.map { t("dueOn", language, ["date": $0.description]) },
            ])
        }
        let reasons: [[String: Any]] = WorkReason.allCases.map { option in
            [
                "key": option.rawValue, "label": option.label(language), "count": list.counts[option] ?? 0, "current": option == reason,
                "href": link(option == reason ? nil : option),
            ]
        }
        let statuses =
            [["value": "", "label": t("anyStatus", language), "selected": status == nil]]
            + HouseholdStatus.allCases.map { ["value": $0.rawValue, "label": $0.label(language), "selected": $0 == status] as [String: Any] }
        let shown = t("shown", language, ["from": "\(list.items.isEmpty ? 0 : offset + 1)", "to": "\(offset + list.items.count)", "of": "\(list.matching)"])
        let content = present([
            "q": q ?? "", "all": all, "statuses": statuses, "reasons": reasons, "items": items, "hasItems": !items.isEmpty,
            "shownText": shown, "nextHref": offset + pageSize < list.matching ? link(reason, offset: offset + pageSize) : nil,
            "emptyText": (q?.isEmpty == false || status != nil || reason != nil) ? t("nothingMatches", language) : t("nothingToDo", language),
        ])
        return try await render("worklist", request, viewer, title: t("nav.worklist", language), current: "worklist", content: content)
    }
}
