import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: New household

    /// The fields of a new household's form (the district is the visitor's; the status is `candidate`).
    static let newHouseholdFields = EntityKind.household.fields.filter { $0.name != "status" && $0.name != "district" }
    /// What a new household's form starts with (as the library files it when nothing is said).
    static let newHouseholdDefaults: [String: JSONValue] = ["epidemicAffected": false]

    func newPage(_ request: Request, _ viewer: Viewer, form: WebForm?, problems: [String: String], matches: [HouseholdSummary]) async throws -> Response {
        let builder = formFields(viewer)
        let fields = Self.newHouseholdFields.map { spec in
            builder.field(
                spec, of: .household, value: Self.newHouseholdDefaults[spec.name] ?? .null,
                typed: form.map { $0.values(spec.name) }.flatMap { $0.isEmpty ? nil : $0 }, problem: problems[spec.name])
        }
        let matchRows: [[String: String]] = matches.map {
            [
                "id": $0.id.description, "name": $0.headName, "nationalId": $0.nationalIdMasked, "address": $0.address,
                "status": $0.status?.label(viewer.language) ?? "—",
            ]
        }
        let content: [String: Any] = ["fields": fields, "matches": matchRows, "hasMatches": !matches.isEmpty, "nonce": state.newNonce()]
        return try await render(
            "new", request, viewer, title: t("nav.new", viewer.language), current: "new",
            status: problems.isEmpty && matches.isEmpty ? .ok : .unprocessableContent,
            error: problemSummary(fields, problems, viewer), content: content)
    }

    func fileNew(_ request: Request, _ viewer: Viewer, _ form: WebForm) async throws -> Response {
        guard state.claim(nonce: form["nonce"]) else { return done("/", "alreadySaved") }
        let builder = formFields(viewer)
        let reading = builder.read(Self.newHouseholdFields, of: .household, from: form)
        let values = reading.values
        let missing = reading.problems.merging(builder.missing(Self.newHouseholdFields, of: .household, in: values, problems: reading.problems)) {
            first, _ in first
        }
        guard missing.isEmpty else { return try await newPage(request, viewer, form: form, problems: missing, matches: []) }
        let force = form["force"] == "1"
        // Duplicates are stopped at the door: the same national ID on this laptop opens that file.
        if !force, let number = values["nationalId"]?.stringValue {
            let matches = try await client.households(withNationalID: number)
            if !matches.isEmpty { return try await newPage(request, viewer, form: form, problems: [:], matches: matches) }
        }
        let id: EntityID
        do {
            id = try await client.fileHousehold(values, allowingSameNationalID: force)
        } catch let error as DoorstepError {
            return try await newPage(request, viewer, form: form, problems: [error.details.field ?? "": error.explained(viewer.language)], matches: [])
        }
        return done("/households/\(id)", "filed")
    }
}
