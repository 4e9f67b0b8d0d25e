import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Editing

    /// The household fields a visitor edits on the household form (status is the office's, the district the city's).
    static let editableHouseholdFields = EntityKind.household.fields.filter { $0.name != "status" && $0.name != "district" }

    func formFields(_ viewer: Viewer) -> FormFields { FormFields(language: viewer.language, city: city) }

    func editPage(_ request: Request, _ viewer: Viewer, _ id: EntityID, form: WebForm?, problems: [String: String]) async throws -> Response {
        let aggregate = try await household(id)
        let fields = Self.editableHouseholdFields.map { spec in
            formFields(viewer).field(
                spec, of: .household, current: aggregate.household, typed: form.map { $0.values(spec.name) }.flatMap { $0.isEmpty ? nil : $0 },
                problem: problems[spec.name], changedBy: conflictOrChange(aggregate.household, spec.name, kind: .household, viewer))
        }
        let content: [String: Any] = ["fields": fields, "action": "/households/\(id)/edit", "back": "/households/\(id)"]
        let title = t("editTitle", viewer.language, ["name": aggregate.household["headName"].stringValue ?? ""])
        return try await render(
            "edit", request, viewer, title: title, status: problems.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(fields, problems, viewer), content: content)
    }

    /// What the banner of a refused form says: that nothing was saved, and each problem with its
    /// field's label (the fields may be further down the page); `nil` when there is none.
    func problemSummary(_ fields: [FormField], _ problems: [String: String], _ viewer: Viewer) -> String? {
        guard !problems.isEmpty else { return nil }
        let named = Set(fields.map(\.name))
        let listed =
            fields.compactMap { field in field.problem.map { "\(field.label)：\($0)" } }
            + problems.filter { !named.contains($0.key) }.map(\.value).sorted()
        return t("fixProblems", viewer.language) + " " + listed.joined(separator: Texts.text("list.semicolon", viewer.language))
    }

    /// Under a field: its conflict in words, or who changed it last.
    func conflictOrChange(_ state: EntityState, _ field: String, kind: EntityKind, _ viewer: Viewer) -> String? {
        if state.fields[field]?.isConflicted == true {
            return conflictText(state, field, kind: kind, name: nil, viewer.language) + " " + t("settleHint", viewer.language)
        }
        return changedBy(state, field, viewer)
    }

    func editHousehold(_ request: Request, _ viewer: Viewer, _ id: EntityID, _ form: WebForm) async throws -> Response {
        let aggregate = try await household(id)
        let reading = formFields(viewer).read(Self.editableHouseholdFields, of: .household, from: form, current: aggregate.household)
        guard reading.problems.isEmpty else { return try await editPage(request, viewer, id, form: form, problems: reading.problems) }
        guard !reading.values.isEmpty else { return done("/households/\(id)", "nothingChanged") }
        do {
            try await client.editHousehold(id, set: reading.values, bases: reading.bases)
        } catch let error as DoorstepError {
            return try await editPage(request, viewer, id, form: form, problems: [error.details.field ?? "": error.explained(viewer.language)])
        }
        return done("/households/\(id)", "saved")
    }

    func entryKind(_ request: Request, entry: EntityState?) throws -> EntityKind {
        if let entry {
            // Visits are events, kept as recorded (an office voids a mistaken one); a household has its own form.
            guard entry.kind.isDeletable else {
                throw DoorstepError(
                    .invalidOperation, "a \(entry.kind.rawValue) is not changed on this form", zh: "\(entry.kind.label(.chinese))记录不能在这里修改")
            }
            return entry.kind
        }
        guard let text = request.uri.queryParameters.get("kind"), let kind = EntityKind(rawValue: String(text)), kind.isDeletable else {
            throw DoorstepError(
                .invalidValue, "choose what to add: a member, a liaison, a problem or an assistance item", zh: "请选择要添加的内容：家庭成员、联系人、问题或帮扶事项")
        }
        return kind
    }

    func entryPage(
        _ request: Request, _ viewer: Viewer, _ id: EntityID, entry entryID: EntityID?, form: WebForm?, problems: [String: String]
    ) async throws -> Response {
        let aggregate = try await household(id)
        let entry = try entryID.map { entryID in
            guard let entry = aggregate.entities.first(where: { $0.id == entryID && $0.isVisible }) else {
                throw DoorstepError(.notFound, "no entry \(entryID) in this household", zh: "这一户没有这条记录")
            }
            return entry
        }
        let kind = try entryKind(request, entry: entry)
        let fields = kind.fields.map { spec in
            formFields(viewer).field(
                spec, of: kind, current: entry, typed: form.map { $0.values(spec.name) }.flatMap { $0.isEmpty ? nil : $0 },
                problem: problems[spec.name], changedBy: entry.flatMap { conflictOrChange($0, spec.name, kind: kind, viewer) })
        }
        let base = "/households/\(id)/entries/"
        let action = entry.map { base + $0.id.description } ?? base + "new?kind=\(kind.rawValue)"
        var content: [String: Any] = ["fields": fields, "action": action, "back": "/households/\(id)"]
        if let entry { content["removeAction"] = base + entry.id.description + "/remove" } else { content["nonce"] = state.newNonce() }
        let title = t(entry == nil ? "addTitle" : "changeTitle", viewer.language, ["kind": kind.label(viewer.language)])
        return try await render(
            "edit", request, viewer, title: title, status: problems.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(fields, problems, viewer), content: content)
    }

    func saveEntry(_ request: Request, _ viewer: Viewer, _ id: EntityID, entry entryID: EntityID?, _ form: WebForm) async throws -> Response {
        let aggregate = try await household(id)
        let entry = entryID.flatMap { entryID in aggregate.entities.first { $0.id == entryID && $0.isVisible } }
        if entryID != nil && entry == nil { throw DoorstepError(.notFound, "no such entry in this household", zh: "这一户没有这条记录") }
        let kind = try entryKind(request, entry: entry)
        if entry == nil, !state.claim(nonce: form["nonce"]) { return done("/households/\(id)", "alreadySaved") }
        let builder = formFields(viewer)
        var reading = builder.read(kind.fields, of: kind, from: form, current: entry)
        if entry == nil { reading.problems.merge(builder.missing(kind.fields, of: kind, in: reading.values, problems: reading.problems)) { first, _ in first } }
        guard reading.problems.isEmpty else { return try await entryPage(request, viewer, id, entry: entryID, form: form, problems: reading.problems) }
        do {
            if let entry {
                guard !reading.values.isEmpty else { return done("/households/\(id)", "nothingChanged") }
                try await client.editEntry(entry.id, in: id, set: reading.values, bases: reading.bases)
            } else {
                try await client.addEntry(kind, to: id, reading.values)
            }
        } catch let error as DoorstepError {
            return try await entryPage(request, viewer, id, entry: entryID, form: form, problems: [error.details.field ?? "": error.explained(viewer.language)])
        }
        return done("/households/\(id)", "saved")
    }

    func removeEntry(_ viewer: Viewer, _ id: EntityID, entry: EntityID) async throws -> Response {
        try await client.removeEntry(entry, in: id)
        return done("/households/\(id)", "removed")
    }
}
