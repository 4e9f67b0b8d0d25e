import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Attention

    func attentionPage(_ request: Request, _ viewer: Viewer, problems: [String: String], form: WebForm?) async throws -> Response {
        let language = viewer.language
        let waiting = try await client.worklist(WorklistQuery(reason: .attention, needsVisitorOnly: true, limit: 1000))
        var conflictRows: [[String: String]] = []
        for item in waiting.items where item.household.conflicts > 0 {
            guard let aggregate = try await client.household(item.household.id) else { continue }
            for conflict in conflicts(aggregate, language) {
                conflictRows.append(["household": item.household.id.description, "name": item.household.headName, "text": conflict["text"] ?? ""])
            }
        }
        var refused: [[String: Any]] = []
        let builder = formFields(viewer)
        for item in try await client.quarantine() {
            let mutation = item.mutation
            let name = try await client.household(item.household)?.household["headName"].stringValue ?? ""
            let specs = mutation.fields.compactMap { write in mutation.kind.field(write.field) }
            let fields = specs.map { spec in
                builder.field(
                    spec, of: mutation.kind, name: "\(item.seq).\(spec.name)", value: mutation.fields.first { $0.field == spec.name }?.value ?? .null,
                    typed: form.map { $0.values("\(item.seq).\(spec.name)") }.flatMap { $0.isEmpty ? nil : $0 },
                    problem: problems["\(item.seq).\(spec.name)"])
            }
            refused.append([
                "seq": "\(item.seq)", "household": item.household.description, "name": name,
                "what": mutation.op.label(language) + mutation.kind.label(language), "reason": item.explanation(language), "fields": fields,
            ])
        }
        let content: [String: Any] = [
            "conflicts": conflictRows, "hasConflicts": !conflictRows.isEmpty, "refused": refused, "hasRefused": !refused.isEmpty,
        ]
        return try await render(
            "attention", request, viewer, title: t("nav.attention", language), current: "attention",
            status: problems.isEmpty ? .ok : .unprocessableContent, content: content)
    }

    func resend(_ request: Request, _ viewer: Viewer, _ seq: Int64, _ form: WebForm) async throws -> Response {
        guard let item = try await client.quarantine().first(where: { $0.seq == seq }) else {
            throw DoorstepError(.notFound, "nothing refused with seq \(seq)", zh: "没有这条被退回的修改")
        }
        let specs = item.mutation.fields.compactMap { item.mutation.kind.field($0.field) }
        let refused = Dictionary(item.mutation.fields.map { ($0.field, $0.value) }, uniquingKeysWith: { first, _ in first })
        let reading = formFields(viewer).read(specs, of: item.mutation.kind, from: form, prefix: "\(seq).")
        guard reading.problems.isEmpty else { return try await attentionPage(request, viewer, problems: reading.problems, form: form) }
        var changes = reading.values.filter { refused[$0.key] != $0.value }
        // A control emptied: the value is taken out (the form sends what it showed filled in).
        for spec in specs where refused[spec.name] != .null && changes[spec.name] == nil {
            let sent = form.values("\(seq).\(spec.name)")
            // A set's boxes come after an empty marker: emptied only when no box is checked.
            if !sent.isEmpty, sent.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                if case .termSet = spec.type { changes[spec.name] = .array([]) } else { changes[spec.name] = .null }
            }
        }
        do {
            try await client.resend(seq, with: changes)
        } catch let error as DoorstepError {
            return try await attentionPage(request, viewer, problems: ["\(seq).\(error.details.field ?? "")": error.explained(viewer.language)], form: form)
        }
        return done("/attention", "resent")
    }
}
