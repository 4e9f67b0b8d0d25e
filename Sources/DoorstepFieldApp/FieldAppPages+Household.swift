import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Household

    /// The household this laptop shows, or `notFound`.
    func household(_ id: EntityID) async throws -> HouseholdAggregate {
        guard let aggregate = try await client.household(id), aggregate.household.isVisible else {
            throw DoorstepError(.notFound, "no household \(id) on this laptop", zh: "本机没有这一户")
        }
        return aggregate
    }

    /// Who changed a field last and when: this laptop, or another device.
    func changedBy(_ state: EntityState, _ field: String, _ viewer: Viewer) -> String? {
        guard let write = state.heads(field).map(\.write).max() else { return nil }
        let who = write.device == viewer.enrollment?.device ? t("thisLaptop", viewer.language) : t("otherDevice", viewer.language)
        return t("changedBy", viewer.language, ["who": who, "time": values(viewer.language).time(write)])
    }

    /// A conflicted field in words: "two values were written at once: …", and what to do.
    func conflictText(_ state: EntityState, _ field: String, kind: EntityKind, name: String?, _ language: Language) -> String {
        let text = values(language)
        let shown = state.fields[field]?.distinctValues.map { text.text($0, field: field, kind: kind) } ?? []
        let what = kind == .household ? kind.label(ofField: field, language) : "\(kind.label(language))「\(name ?? "")」\(kind.label(ofField: field, language))"
        return t("conflict", language, ["what": what, "values": shown.joined(separator: " | ")])
    }

    func conflicts(_ aggregate: HouseholdAggregate, _ language: Language) -> [[String: String]] {
        var list: [[String: String]] = []
        for state in [aggregate.household] + aggregate.entities.filter(\.isVisible) {
            let name = state["name"].stringValue ?? state["title"].stringValue
            for record in state.conflicts {
                let text =
                    record.reason == .deleteVersusEdit
                    ? t("conflictDeleted", language, ["what": "\(state.kind.label(language))「\(name ?? "")」"])
                    : conflictText(state, record.field, kind: state.kind, name: name, language)
                list.append(["field": record.field, "text": text])
            }
        }
        return list
    }

    /// The sections of entries (members … visits) as tables.
    func sections(_ aggregate: HouseholdAggregate, _ viewer: Viewer, editable: Bool) -> [[String: Any]] {
        let language = viewer.language
        let text = values(language)
        let id = aggregate.household.id
        return [EntityKind.member, .liaison, .problem, .assistance, .visit].map { kind in
            var entries = aggregate.entities.filter { $0.kind == kind && $0.isVisible }
            if kind == .visit { entries.sort { ($0["visitedAt"].stringValue ?? "") > ($1["visitedAt"].stringValue ?? "") } }
            let fields = kind.fields.filter { $0.name != voidedFieldName }
            let rows: [[String: Any]] = entries.map { entry in
                present([
                    "id": entry.id.description, "conflict": !entry.conflicts.isEmpty,
                    "cells": fields.map { text.text(entry[$0.name], field: $0.name, kind: kind) + (entry.fields[$0.name]?.isConflicted == true ? " ⚠" : "") },
                    "editHref": editable && kind.isDeletable ? "/households/\(id)/entries/\(entry.id)" : nil,
                ])
            }
            return present([
                "id": kind.rawValue, "title": kind.listTitle(language), "columns": fields.map { kind.label(ofField: $0.name, language) },
                "rows": rows, "hasRows": !rows.isEmpty,
                "addHref": editable && kind.isDeletable ? "/households/\(id)/entries/new?kind=\(kind.rawValue)" : nil,
            ])
        }
    }

    /// The proof documents (protocol 1.4): each to look at in the browser, fetched from the server
    /// first when the laptop does not hold it.
    func documents(_ aggregate: HouseholdAggregate, _ viewer: Viewer) -> [String: Any] {
        let language = viewer.language
        let text = values(language)
        let id = aggregate.household.id
        let fields = ["fileName", "caption", "mediaType", "size"]
        let rows: [[String: Any]] = aggregate.entities.filter { $0.kind == .attachment && $0.isVisible }.sorted { $0.created < $1.created }.map { entry in
            [
                "id": entry.id.description,
                "cells": fields.map { name in
                    name == "size" ? AttachmentFile.sizeText(entry[name].intValue ?? 0, language) : text.text(entry[name], field: name, kind: .attachment)
                },
                "viewHref": "/households/\(id)/attachments/\(entry.id)",
            ]
        }
        return [
            "id": EntityKind.attachment.rawValue, "title": EntityKind.attachment.listTitle(language),
            "columns": fields.map { EntityKind.attachment.label(ofField: $0, language) }, "rows": rows, "hasRows": !rows.isEmpty,
        ]
    }

    /// `GET /households/{id}/attachments/{attachment}`: the document's bytes, shown by the browser.
    func attachmentFile(_ household: EntityID, _ id: EntityID) async throws -> Response {
        guard let attachment = try await client.attachments(of: household).first(where: { $0.id == id }) else {
            throw DoorstepError(.notFound, "no such attachment on this laptop", zh: "本机没有这份证明材料")
        }
        let file = try await client.attachmentFile(id, in: household)
        let data = try Data(contentsOf: file)
        // The bytes say what they are, never the name a colleague gave them.
        guard let type = AttachmentFile.mediaType(ofFirstBytes: data) else {
            throw DoorstepError(.unsupportedMediaType, rule: "mediaType", ErrorDetails(allowed: AttachmentMediaType.wireNames))
        }
        var response = Response(
            status: .ok,
            headers: [
                .contentType: type.rawValue,
                .contentDisposition: WebSecurity.disposition(
                    "inline", fileName: attachment.fileName.isEmpty ? "\(attachment.sha256.prefix(12)).\(type.fileExtension)" : attachment.fileName),
            ], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        WebSecurity.secure(&response, policy: "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'")
        return response
    }

    func facts(_ aggregate: HouseholdAggregate, _ viewer: Viewer) -> [[String: Any]] {
        var text = values(viewer.language)
        text.revealNationalIDs = true
        return EntityKind.household.fields.map { spec in
            let state = aggregate.household
            let conflicted = state.fields[spec.name]?.isConflicted == true
            let shown =
                conflicted
                ? (state.fields[spec.name]?.distinctValues ?? []).map { text.text($0, field: spec.name, kind: .household) }.joined(separator: " | ")
                : text.text(state[spec.name], field: spec.name, kind: .household)
            return present([
                "name": spec.name, "label": EntityKind.household.label(ofField: spec.name, viewer.language), "value": shown,
                "changedBy": changedBy(state, spec.name, viewer),
            ])
        }
    }

    func householdPage(_ request: Request, _ viewer: Viewer, _ id: EntityID) async throws -> Response {
        let aggregate = try await household(id)
        let content: [String: Any] = [
            "id": aggregate.household.id.description, "facts": facts(aggregate, viewer),
            "sections": sections(aggregate, viewer, editable: true) + [documents(aggregate, viewer)],
            "conflicts": conflicts(aggregate, viewer.language), "local": try await client.summary(of: id)?.hasLocalChanges == true,
        ]
        let title = aggregate.household["headName"].stringValue ?? t("household", viewer.language)
        return try await render("household", request, viewer, title: title, content: content)
    }

    func printPage(_ request: Request, _ viewer: Viewer, _ id: EntityID) async throws -> Response {
        let aggregate = try await household(id)
        let language = viewer.language
        var text = values(language)
        text.revealNationalIDs = true
        let latest = aggregate.entities.filter { $0.kind == .visit && $0.isVisible && !$0.isVoided }
            .max { ($0["visitedAt"].stringValue.flatMap(Instant.parse) ?? .distantPast) < ($1["visitedAt"].stringValue.flatMap(Instant.parse) ?? .distantPast) }
        let visit: [[String: String]] =
            latest.map { visit in
                EntityKind.visit.fields.filter { $0.name != voidedFieldName }.map { spec in
                    ["label": EntityKind.visit.label(ofField: spec.name, language), "value": text.text(visit[spec.name], field: spec.name, kind: .visit)]
                }
            } ?? []
        let content: [String: Any] = [
            "id": aggregate.household.id.description,
            "facts": EntityKind.household.fields.map { spec in
                [
                    "label": EntityKind.household.label(ofField: spec.name, language),
                    "value": text.text(aggregate.household[spec.name], field: spec.name, kind: .household),
                ]
            },
            "sections": sections(aggregate, viewer, editable: false).filter { ($0["id"] as? String) != "visit" },
            "visit": visit, "hasVisit": !visit.isEmpty,
            "printedText": t("printedAt", language, ["time": text.time(Date(timeIntervalSince1970: Double(state.configuration.client.clock()) / 1000))]),
        ]
        let title = t("sheetTitle", language) + " · " + (aggregate.household["headName"].stringValue ?? "")
        return try await render("print", request, viewer, title: title, content: content)
    }
}
