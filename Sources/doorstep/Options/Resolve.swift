import DoorstepClient
import DoorstepCore
import Foundation

/// Ids as people type them: a whole UUID, or the first characters that tables show (at least 4),
/// when they name exactly one candidate.
enum Resolve {
    static func unique<ID>(_ text: String, among candidates: [ID], id: (ID) -> String, what: String, console: Console) throws -> ID {
        let prefix = text.trimmingCharacters(in: .whitespaces).lowercased()
        let matches = candidates.filter { id($0).hasPrefix(prefix) }
        guard prefix.count >= 4, let first = matches.first else {
            throw console.failure("notFound", "cli.error.notFound.noSuchId", ["prefix": prefix, "what": what.isEmpty ? console.t("cli.resolve.record") : what])
        }
        guard matches.count == 1 else {
            throw console.failure(
                "ambiguousId", "cli.error.ambiguousId.theIdPrefixMatches", ["count": "\(matches.count)", "prefix": "\(prefix)"])
        }
        return first
    }

    /// A household of the local database.
    static func household(_ text: String, in client: FieldClient, console: Console) async throws -> EntityID {
        if let id = try? EntityID(text) { return id }
        let all = try await client.households(matching: HouseholdQuery(limit: 100_000))
        return try unique(text, among: all.map(\.id), id: \.description, what: console.t("cli.common.household2"), console: console)
    }

    /// A household's id for an office command: whole, or a prefix known to the local database.
    static func household(_ text: String, global: GlobalOptions) async throws -> EntityID {
        if let id = try? EntityID(text) { return id }
        guard FileManager.default.fileExists(atPath: global.databasePath) else {
            throw global.console.failure("invalidValue", "cli.error.invalidValue.giveTheWholeId")
        }
        return try await household(text, in: global.openClient(), console: global.console)
    }

    /// An entry (member, item, visit) of a household.
    static func entry(_ text: String, in household: HouseholdAggregate, kind: EntityKind? = nil, console: Console) throws -> EntityState {
        let entries = household.entities.filter { kind == nil || $0.kind == kind }
        if let id = try? EntityID(text), let entry = entries.first(where: { $0.id == id }) { return entry }
        return try unique(text, among: entries, id: \.id.description, what: kind.map { Strings.kind($0, console.language) } ?? "", console: console)
    }
}
