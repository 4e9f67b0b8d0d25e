import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Household: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.household.fileANewHouseholdEdit"),
        discussion: Help.text("help.household.exampleDoorstepHouseholdNewName"),
        subcommands: [New.self, Edit.self, SetStatus.self]
    )

    /// What `--json` prints after a write, for the subcommands' help.
    static var jsonWrite: String { Help.text("help.household.jsonWrite") }
}

extension Household {
    struct New: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.household.fileANewHouseholdAs"),
            discussion: Help.text("help.household.new.discussion", ["json": Household.jsonWrite])
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: HouseholdFields

        @Flag(help: .text("help.household.fileItEvenWhenA"))
        var force = false

        func run() async throws {
            let (client, enrollment) = try await global.enrolledClient()
            let console = global.console
            var values = try fields.values(city: global.city)
            if fields.interactive || (values.isEmpty && Console.stdinIsTerminal) {
                console.note(console.t("cli.household.newHouseholdFileIsRequired"))
                let prompter = Prompter(console: console, format: global.format)
                for spec in EntityKind.household.fields where spec.name != "status" && values[spec.name] == nil {
                    var question = Prompter.Question(field: spec.name, kind: .household)
                    if spec.name == "district" { question.current = enrollment.district.map(JSONValue.string) }
                    if spec.name == "epidemicAffected" { question.current = false }
                    values[spec.name] = try prompter.ask(question)
                }
            } else if values.isEmpty {
                throw console.failure(
                    "missingField", "cli.error.missingField.noHouseholdFactsGiven")
            }
            values = values.filter { !$0.value.isNull }
            var force = self.force
            if !force, let number = values["nationalId"]?.stringValue, case let existing = try await client.households(withNationalID: number),
                !existing.isEmpty
            {
                let format = global.format
                let list = existing.map { "  \(Format.short($0.id))  \($0.headName)  \($0.nationalIdMasked)  \(format.status($0.status))  \($0.address)" }
                console.note(console.t("cli.household.thisDeviceAlreadyHasA") + "\n" + list.joined(separator: "\n"))
                guard fields.interactive || Console.stdinIsTerminal else {
                    throw console.failure(
                        "nationalIdOnFile", "cli.error.nationalIdOnFile.notFiledAHousehold", ["id": "\(Format.short(existing[0].id))"])
                }
                let answer = try Prompter(console: console, format: format).confirm(console.t("cli.household.fileANewHouseholdAll"))
                guard answer else {
                    console.note(console.t("cli.household.notFiled"))
                    return
                }
                force = true
            }
            let id = try await client.fileHousehold(values, allowingSameNationalID: force)
            let pending = try await client.status().pending
            try console.output(LocalWrite(id: id, household: id, kind: .household, fields: values.keys.sorted(), pending: pending)) {
                console.t("cli.household.filedANewHouseholdCandidate", ["id": "\(id)"])
            }
            console.note(console.t("cli.common.runDoorstepSyncToSend"))
        }
    }

    struct Edit: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.household.changeAHouseholdFactsOn"),
            discussion: Help.text("help.household.edit.discussion", ["json": Household.jsonWrite])
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var id: String

        @OptionGroup var fields: HouseholdFields

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let householdID = try await Resolve.household(id, in: client, console: console)
            guard let aggregate = try await client.household(householdID) else {
                throw console.failure("notFound", "cli.error.notFound.noHouseholdOnThis", ["householdID": "\(householdID)"])
            }
            var values = try fields.values(city: global.city)
            if fields.interactive || (values.isEmpty && Console.stdinIsTerminal) {
                console.note(console.t("cli.household.editTheFileTheCurrent"))
                let prompter = Prompter(console: console, format: global.format)
                for spec in EntityKind.household.fields where spec.name != "status" && values[spec.name] == nil {
                    let current = aggregate.household[spec.name]
                    let answer = try prompter.ask(Prompter.Question(field: spec.name, kind: .household, current: current))
                    if answer != current { values[spec.name] = answer }
                }
            }
            values = values.filter { aggregate.household[$0.key] != $0.value }
            guard !values.isEmpty else {
                try console.output(
                    LocalWrite(
                        id: aggregate.household.id, household: aggregate.household.id, kind: .household, fields: [],
                        pending: try await client.status().pending)
                ) {
                    console.t("cli.common.nothingChanged")
                }
                return
            }
            try await client.editHousehold(aggregate.household.id, set: values)
            let pending = try await client.status().pending
            let labels = values.keys.sorted().map { Strings.field($0, of: .household, console.language) }
            try console.output(
                LocalWrite(
                    id: aggregate.household.id, household: aggregate.household.id, kind: .household,
                    fields: values.keys.sorted(), pending: pending)
            ) {
                console.t("cli.household.changed") + labels.joined(separator: console.t("cli.common.listSeparator"))
            }
            console.note(console.t("cli.common.runDoorstepSyncToSend"))
        }
    }

    struct SetStatus: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: Help.text("help.household.decideAHouseholdStatusDistrict"),
            discussion: Help.text("help.household.allowedChangesCandidateFiledClosed")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var id: String

        @Option(help: .text("help.household.theNewStatusCandidateFiled"))
        var to: String

        func run() async throws {
            let console = global.console
            guard let status = HouseholdStatus(rawValue: TypedInput.term(to, field: "status", of: .household)) else {
                throw DoorstepError(.invalidValue, "--to must be one of: \(HouseholdStatus.wireNames.joined(separator: ", "))")
            }
            // An office device records the decision itself; --server/--token (or a visitor's device with a token) asks the server.
            let explicit = global.server != nil || global.token != nil
            let local: (FieldClient, Enrollment)? = explicit ? nil : try? await global.enrolledClient()
            if let (client, enrollment) = local, enrollment.role != .visitor || global.explicitToken == nil {
                let household = try await Resolve.household(id, in: client, console: console)
                try await client.setStatus(household, to: status)
                let pending = try await client.status().pending
                try console.output(LocalWrite(id: household, household: household, kind: .household, fields: ["status"], pending: pending)) {
                    console.t("cli.household.statusRecorded", ["status": status.label(console.language)])
                }
                console.note(console.t("cli.common.runDoorstepSyncToSend"))
                return
            }
            let session = try await global.office()
            let household = try await Resolve.household(id, global: global)
            let result = try await session.client.setStatus(household: household, to: status)
            if result.outcome == .rejected {
                throw DoorstepError(
                    result.code ?? .invalidOperation, result.reason ?? "the server refused the change",
                    zh: result.reasonZh, details: result.details ?? ErrorDetails())
            }
            try console.output(result) {
                console.t("cli.household.statusDecided", ["status": status.label(console.language), "outcome": result.outcome.rawValue])
            }
        }
    }
}
