import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

/// One kind of a household's entries that people add, change and remove with the same three
/// commands: members, liaisons, problem-list items (the assistance list has `assist`).
protocol EntryKind: Sendable {
    static var kind: EntityKind { get }
    /// The command's name, e.g. `member`.
    static var commandName: String { get }
    /// An example of `add`'s values, as typed.
    static var example: String { get }
}

enum MemberEntry: EntryKind {
    static let kind = EntityKind.member
    static let commandName = "member"
    static let example = "姓名=李某 与户主关系=配偶 健康状况=健康 就业状况=失业"
}

enum LiaisonEntry: EntryKind {
    static let kind = EntityKind.liaison
    static let commandName = "liaison"
    static let example = "name=王某 level=districtUnion organization=东胜区总工会 phone=13912345678"
}

enum ProblemEntry: EntryKind {
    static let kind = EntityKind.problem
    static let commandName = "problem"
    static let example = "category=illness description=大病治疗费用高 status=open"
}

/// `doorstep member|liaison|problem add|edit|remove`.
struct EntryCommand<Entry: EntryKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Entry.commandName,
            abstract: Help.text("help.entries.abstract", ["kinds": Entry.kind.listTitle(Usage.language)]),
            discussion: Help.text(
                "help.entries.discussion",
                [
                    "fields": Entry.kind.fields.map { field in
                        "\(field.name) (\(field.label(in: Entry.kind, Usage.language)))\(field.required ? " *" : "")"
                    }.joined(separator: Texts.text("list.separator", Usage.language)),
                    "command": Entry.commandName, "example": Entry.example,
                ]),
            subcommands: [EntryAdd<Entry>.self, EntryEdit<Entry>.self, EntryRemove<Entry>.self]
        )
    }

    /// `field=value` pairs as typed: the field by wire name or label, the value through `TypedInput`.
    static func values(_ pairs: [String], city: CityData, console: Console) throws -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for pair in pairs {
            let (typed, text) = try FieldInput.assignment(pair)
            let field = try field(typed, console: console)
            guard values[field.name] == nil else {
                throw console.failure("invalidValue", "cli.error.invalidValue.givenTwice", ["field": field.label(in: Entry.kind, console.language)])
            }
            values[field.name] = try TypedInput.value(text, field: field.name, of: Entry.kind, city: city)
        }
        return values
    }

    /// A field of the kind by wire name (any case) or label.
    static func field(_ typed: String, console: Console) throws -> FieldSpec {
        let lowered = typed.lowercased()
        if let field = Entry.kind.fields.first(where: { $0.name.lowercased() == lowered || $0.label?.zh == typed || $0.label?.en.lowercased() == lowered }) {
            return field
        }
        let known = Entry.kind.fields.map { "\($0.name)（\($0.label(in: Entry.kind, .chinese))）" }.joined(separator: "、")
        throw console.failure(
            "unknownField", "cli.error.unknownField.noSuchField",
            [
                "kind": Entry.kind.label(console.language), "field": typed,
                "known": console.language == .chinese ? known : Entry.kind.fields.map(\.name).joined(separator: ", "),
            ])
    }

    /// The household and the entry an `edit` or `remove` names.
    static func entry(_ item: String, household: String, global: GlobalOptions) async throws -> (FieldClient, HouseholdAggregate, EntityState) {
        let (client, _) = try await global.enrolledClient()
        let console = global.console
        let householdID = try await Resolve.household(household, in: client, console: console)
        guard let aggregate = try await client.household(householdID) else {
            throw console.failure("notFound", "cli.error.notFound.noHouseholdOnThis", ["householdID": "\(householdID)"])
        }
        let entry = try Resolve.entry(item, in: aggregate, kind: Entry.kind, console: console)
        return (client, aggregate, entry)
    }
}

struct EntryAdd<Entry: EntryKind>: DoorstepCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "add",
            abstract: Help.text("help.entries.addAnEntryToA"),
            discussion: Help.text("help.entries.add.discussion", ["command": Entry.commandName, "example": Entry.example])
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
    var household: String

    @Argument(help: .text("help.entries.theValuesAsFieldValue"))
    var values: [String] = []

    @Flag(help: .text("help.entries.askForEveryFieldNot"))
    var interactive = false

    func run() async throws {
        let (client, _) = try await global.enrolledClient()
        let console = global.console
        let householdID = try await Resolve.household(household, in: client, console: console)
        var given = try EntryCommand<Entry>.values(values, city: global.city, console: console)
        if interactive || Console.stdinIsTerminal {
            let prompter = Prompter(console: console, format: global.format)
            for spec in Entry.kind.fields where given[spec.name] == nil && (spec.required || interactive) {
                given[spec.name] = try prompter.ask(Prompter.Question(field: spec.name, kind: Entry.kind))
            }
        }
        given = given.filter { !$0.value.isNull }
        let id = try await client.addEntry(Entry.kind, to: householdID, given)
        let pending = try await client.status().pending
        try console.output(LocalWrite(id: id, household: householdID, kind: Entry.kind, fields: given.keys.sorted(), pending: pending)) {
            console.t("cli.entries.added", ["kind": Entry.kind.label(console.language), "id": "\(id)"])
        }
        console.note(console.t("cli.common.runDoorstepSyncToSend"))
    }
}

struct EntryEdit<Entry: EntryKind>: DoorstepCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "edit",
            abstract: Help.text("help.entries.changeSomeFieldsOfAn"),
            discussion: Help.text(
                "help.entries.edit.discussion",
                ["command": Entry.commandName, "example": String(Entry.example.split(separator: " ").first ?? "")])
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: .text("help.entries.theEntryIdOrIts"))
    var item: String

    @Option(help: .text("help.assist.theHouseholdIdOrIts"))
    var household: String

    @Argument(help: .text("help.entries.theValuesAsFieldValue"))
    var values: [String] = []

    func run() async throws {
        let console = global.console
        let (client, aggregate, entry) = try await EntryCommand<Entry>.entry(item, household: household, global: global)
        let changed = try EntryCommand<Entry>.values(values, city: global.city, console: console).filter { entry[$0.key] != $0.value }
        if !changed.isEmpty { try await client.editEntry(entry.id, in: aggregate.household.id, set: changed) }
        let pending = try await client.status().pending
        try console.output(LocalWrite(id: entry.id, household: aggregate.household.id, kind: Entry.kind, fields: changed.keys.sorted(), pending: pending)) {
            changed.isEmpty
                ? console.t("cli.common.nothingChanged")
                : console.t("cli.entries.changed")
                    + changed.keys.sorted().map { Strings.field($0, of: Entry.kind, console.language) }.joined(separator: console.t("cli.common.listSeparator"))
        }
    }
}

struct EntryRemove<Entry: EntryKind>: DoorstepCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "remove",
            abstract: Help.text("help.entries.removeAnEntryADeletion"),
            discussion: Help.text("help.entries.remove.discussion", ["command": Entry.commandName])
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: .text("help.entries.theEntryIdOrIts2"))
    var item: String

    @Option(help: .text("help.assist.theHouseholdIdOrIts"))
    var household: String

    func run() async throws {
        let console = global.console
        let (client, aggregate, entry) = try await EntryCommand<Entry>.entry(item, household: household, global: global)
        try await client.removeEntry(entry.id, in: aggregate.household.id)
        let pending = try await client.status().pending
        try console.output(LocalWrite(id: entry.id, household: aggregate.household.id, kind: Entry.kind, fields: [deletedFieldName], pending: pending)) {
            console.t("cli.entries.removed", ["kind": Entry.kind.label(console.language), "id": Format.short(entry.id)])
        }
    }
}
