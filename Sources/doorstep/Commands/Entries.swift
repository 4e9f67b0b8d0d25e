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
            abstract:
                "A household's \(Entry.kind.listTitle(.english).lowercased()) (\(Entry.kind.listTitle(.chinese))): add, edit or remove an entry, offline.",
            discussion: """
                Values are given as field=value, the field by its wire name or its label (Chinese or \
                English), the value as typed anywhere else (terms by name or number). The fields: \
                \(Entry.kind.fields.map { "\($0.name) (\($0.label?.zh ?? $0.name))\($0.required ? " *" : "")" }.joined(separator: ", ")); \
                * is required to add. Sync to send the change to the office.

                Examples:
                  doorstep \(Entry.commandName) add 1a2b3c4d \(Entry.example)
                  doorstep \(Entry.commandName) remove 9f8e7d6c --household 1a2b3c4d
                """,
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
                throw console.failure("invalidValue", "「\(field.label?.zh ?? field.name)」给了两次", "\(field.name) is given twice")
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
        let known = Entry.kind.fields.map { "\($0.name)（\($0.label?.zh ?? $0.name)）" }.joined(separator: "、")
        throw DoorstepError(
            .unknownField, "a \(Entry.kind.rawValue) has no field \(typed); its fields: \(Entry.kind.fields.map(\.name).joined(separator: ", "))",
            zh: "「\(Entry.kind.label(.chinese))」没有「\(typed)」这一项；可填：\(known)")
    }

    /// The household and the entry an `edit` or `remove` names.
    static func entry(_ item: String, household: String, global: GlobalOptions) async throws -> (FieldClient, HouseholdAggregate, EntityState) {
        let (client, _) = try await global.enrolledClient()
        let console = global.console
        let householdID = try await Resolve.household(household, in: client, console: console)
        guard let aggregate = try await client.household(householdID) else {
            throw console.failure("notFound", "本机没有这户：\(householdID)", "no household \(householdID) on this device")
        }
        let entry = try Resolve.entry(item, in: aggregate, kind: Entry.kind, console: console)
        return (client, aggregate, entry)
    }
}

struct EntryAdd<Entry: EntryKind>: DoorstepCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "add",
            abstract: "Add an entry to a household, offline.",
            discussion: """
                In a terminal, the required fields not given are asked for. With --json: keys id (the \
                entry), household, kind, fields, pending.

                Example:
                  doorstep \(Entry.commandName) add 1a2b3c4d \(Entry.example)
                """
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The household's id (or its first characters).")
    var household: String

    @Argument(help: "The values, as field=value.")
    var values: [String] = []

    @Flag(help: "Ask for every field not given (also without a terminal, reading the answers from stdin).")
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
            console.t("已添加\(Entry.kind.label(.chinese))，编号 \(id)", "Added a \(Entry.kind.label(.english)), id \(id)")
        }
        console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
    }
}

struct EntryEdit<Entry: EntryKind>: DoorstepCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "edit",
            abstract: "Change some fields of an entry, offline (each over what this device shows now).",
            discussion: """
                With --json: keys id, household, kind, fields (those that changed), pending.

                Example:
                  doorstep \(Entry.commandName) edit 9f8e7d6c --household 1a2b3c4d \(Entry.example.split(separator: " ").first ?? "")
                """
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The entry's id (or its first characters, as households show prints them).")
    var item: String

    @Option(help: "The household's id (or its first characters).")
    var household: String

    @Argument(help: "The values, as field=value.")
    var values: [String] = []

    func run() async throws {
        let console = global.console
        let (client, aggregate, entry) = try await EntryCommand<Entry>.entry(item, household: household, global: global)
        let changed = try EntryCommand<Entry>.values(values, city: global.city, console: console).filter { entry[$0.key] != $0.value }
        if !changed.isEmpty { try await client.editEntry(entry.id, in: aggregate.household.id, set: changed) }
        let pending = try await client.status().pending
        try console.output(LocalWrite(id: entry.id, household: aggregate.household.id, kind: Entry.kind, fields: changed.keys.sorted(), pending: pending)) {
            changed.isEmpty
                ? console.t("没有修改。", "Nothing changed.")
                : console.t("已修改 ", "Changed ")
                    + changed.keys.sorted().map { Strings.field($0, of: Entry.kind, console.language) }.joined(separator: console.t("、", ", "))
        }
    }
}

struct EntryRemove<Entry: EntryKind>: DoorstepCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "remove",
            abstract: "Remove an entry (a deletion the office sees; an edit made meanwhile elsewhere keeps it for review).",
            discussion: """
                With --json: keys id, household, kind, fields, pending.

                Example:
                  doorstep \(Entry.commandName) remove 9f8e7d6c --household 1a2b3c4d
                """
        )
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The entry's id (or its first characters).")
    var item: String

    @Option(help: "The household's id (or its first characters).")
    var household: String

    func run() async throws {
        let console = global.console
        let (client, aggregate, entry) = try await EntryCommand<Entry>.entry(item, household: household, global: global)
        try await client.removeEntry(entry.id, in: aggregate.household.id)
        let pending = try await client.status().pending
        try console.output(LocalWrite(id: entry.id, household: aggregate.household.id, kind: Entry.kind, fields: [deletedFieldName], pending: pending)) {
            console.t("已删除\(Entry.kind.label(.chinese)) \(Format.short(entry.id))", "Removed \(Entry.kind.label(.english)) \(Format.short(entry.id))")
        }
    }
}
