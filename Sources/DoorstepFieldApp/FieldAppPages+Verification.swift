import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Home verification

    /// The visit's fields on the form (`voided` is the office's).
    static let visitFields = EntityKind.visit.fields.filter { $0.name != voidedFieldName }
    static let problemFields = EntityKind.problem.fields
    static let assistanceFields = EntityKind.assistance.fields

    func verifyPage(_ request: Request, _ viewer: Viewer, _ id: EntityID, form: WebForm?, problems: [String: String]) async throws -> Response {
        let aggregate = try await household(id)
        let builder = formFields(viewer)
        let now = JSONValue.string(Instant.format(Date(timeIntervalSince1970: Double(state.configuration.client.clock()) / 1000), in: builder.zone))
        let defaults: [String: JSONValue] = [
            // The visitor's own name as typed at the last verification of this run (never the laptop's name).
            "visitedAt": now, "mode": "atHome", "visitor": state.visitorName.withLock { $0 }.map(JSONValue.string) ?? .null,
        ]
        func typed(_ name: String) -> [String]? { form.map { $0.values(name) }.flatMap { $0.isEmpty ? nil : $0 } }
        let visit = Self.visitFields.map { spec in
            builder.field(
                spec, of: .visit, name: "visit." + spec.name, value: defaults[spec.name] ?? .null, typed: typed("visit." + spec.name),
                problem: problems["visit." + spec.name])
        }
        let facts = Self.editableHouseholdFields.map { spec in
            builder.field(
                spec, of: .household, name: "fact." + spec.name, current: aggregate.household, typed: typed("fact." + spec.name),
                problem: problems["fact." + spec.name], changedBy: conflictOrChange(aggregate.household, spec.name, kind: .household, viewer))
        }
        let problem = Self.problemFields.map { spec in
            builder.field(spec, of: .problem, name: "problem." + spec.name, typed: typed("problem." + spec.name), problem: problems["problem." + spec.name])
        }
        let assistance = Self.assistanceFields.map { spec in
            builder.field(
                spec, of: .assistance, name: "assistance." + spec.name, typed: typed("assistance." + spec.name), problem: problems["assistance." + spec.name])
        }
        // Photos or scans of proof documents taken at the door (a browser never keeps chosen files
        // on a page sent back: a refused save asks for them again).
        let documents = [
            FormField(
                name: "documents", label: t("documentsLabel", viewer.language), required: false, value: "", inputType: "file",
                hint: t("documentsTypes", viewer.language), accept: AttachmentMediaType.wireNames.joined(separator: ","), problem: problems["documents"]),
            FormField(
                name: "documentCaption", label: EntityKind.attachment.label(ofField: "caption", viewer.language), required: false,
                value: form?["documentCaption"] ?? "", maxLength: 500, placeholder: t("documentCaptionExample", viewer.language)),
        ]
        let content: [String: Any] = [
            "id": id.description, "visit": visit, "facts": facts, "problem": problem, "assistance": assistance, "documents": documents,
            "nonce": state.newNonce(),
        ]
        let title = t("verifyTitle", viewer.language, ["name": aggregate.household["headName"].stringValue ?? ""])
        return try await render(
            "verify", request, viewer, title: title, status: problems.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(visit + facts + problem + assistance, problems, viewer), content: content)
    }

    func saveVerification(_ request: Request, _ viewer: Viewer, _ id: EntityID, _ form: WebForm) async throws -> Response {
        let aggregate = try await household(id)
        guard state.claim(nonce: form["nonce"]) else { return done("/households/\(id)", "alreadySaved") }
        let builder = formFields(viewer)
        var problems: [String: String] = [:]
        let visit = builder.read(Self.visitFields, of: .visit, from: form, prefix: "visit.")
        let facts = builder.read(Self.editableHouseholdFields, of: .household, from: form, prefix: "fact.", current: aggregate.household)
        let problem = builder.read(Self.problemFields, of: .problem, from: form, prefix: "problem.")
        let assistance = builder.read(Self.assistanceFields, of: .assistance, from: form, prefix: "assistance.")
        for part in [visit, facts, problem, assistance] { problems.merge(part.problems) { first, _ in first } }
        var newEntries: [HomeVerification.NewEntry] = []
        // A new item is one whose fields were filled in (an empty block adds nothing).
        let blocks: [(EntityKind, FormFields.Reading, String, [FieldSpec])] = [
            (.problem, problem, "problem.", Self.problemFields), (.assistance, assistance, "assistance.", Self.assistanceFields),
        ]
        for (kind, part, prefix, specs) in blocks where !part.values.isEmpty || !part.problems.isEmpty {
            problems.merge(builder.missing(specs, of: kind, in: part.values, prefix: prefix, problems: problems)) { first, _ in first }
            newEntries.append(HomeVerification.NewEntry(kind: kind, fields: part.values))
        }
        problems.merge(builder.missing(Self.visitFields, of: .visit, in: visit.values, prefix: "visit.", problems: problems)) { first, _ in first }
        let caption = form["documentCaption"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        var documents: [HomeVerification.Document] = []
        for file in form.files where file.name == "documents" {
            // Checked here by the library's rules, so the problem stands next to the control.
            var refusal: DoorstepError?
            if Int64(file.data.count) > AttachmentFile.maxBytes {
                refusal = DoorstepError(.payloadTooLarge, rule: "fileTooLarge", ErrorDetails(limit: AttachmentFile.maxBytes))
            } else if AttachmentFile.mediaType(ofFirstBytes: file.data) == nil {
                refusal = DoorstepError(.unsupportedMediaType, rule: "mediaType", ErrorDetails(allowed: AttachmentMediaType.wireNames))
            }
            if let refusal, problems["documents"] == nil {
                problems["documents"] = t("documentRefused", viewer.language, ["name": file.fileName, "why": refusal.explained(viewer.language)])
            }
            documents.append(HomeVerification.Document(data: file.data, fileName: file.fileName, caption: caption?.isEmpty == false ? caption : nil))
        }
        if problems.isEmpty == false, !documents.isEmpty, problems["documents"] == nil {
            problems["documents"] = t("documentsAgain", viewer.language)
        }
        guard problems.isEmpty else { return try await verifyPage(request, viewer, id, form: form, problems: problems) }
        do {
            try await client.recordVerification(
                HomeVerification(
                    visit: visit.values, householdChanges: facts.values, householdBases: facts.bases, newEntries: newEntries, documents: documents),
                for: id)
        } catch let error as DoorstepError {
            let field = error.details.field.map { name -> String in
                let kind = error.details.kind ?? "visit"
                return (kind == "household" ? "fact." : kind + ".") + name
            }
            let key = [.payloadTooLarge, .unsupportedMediaType].contains(error.code) ? "documents" : (field ?? "")
            return try await verifyPage(request, viewer, id, form: form, problems: [key: error.explained(viewer.language)])
        } catch {
            // Nothing was saved (a full disk, say): the same form may be sent again.
            state.release(nonce: form["nonce"])
            throw error
        }
        if let name = visit.values["visitor"]?.stringValue { state.visitorName.withLock { $0 = name } }
        return done("/households/\(id)", "verified")
    }
}
