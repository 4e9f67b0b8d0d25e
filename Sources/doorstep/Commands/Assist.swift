import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Assist: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.assist.theAssistanceListAddA"),
        discussion: Help.text("help.assist.categoriesAndTheirDefaultLead"),
        subcommands: [Add.self, Update.self]
    )
}

/// The flags of an assistance item shared by add and update.
struct AssistanceFields: ParsableArguments {
    @Option(help: .text("help.assist.categoryEmploymentEducationIllnessSocialinsurance"))
    var category: String?

    @Option(help: .text("help.assist.theMeasure"))
    var measure: String?

    @Option(help: .text("help.assist.leadDepartmentHumanresourcesEducationCivilaffairs"))
    var department: String?

    @Option(help: .text("help.assist.dueDateYyyyMmDd"))
    var due: String?

    @Option(help: .text("help.assist.statusPlannedInprogressDoneCancelled"))
    var status: String?

    @Option(name: .customLong("amount-fen"), help: .text("help.assist.amountInFenWhereMoney"))
    var amountFen: String?

    @Option(name: .customLong("amount-yuan"), help: .text("help.assist.theSameInYuanE"))
    var amountYuan: String?

    func validate() throws {
        if amountFen != nil && amountYuan != nil {
            throw Usage.error("cli.assist.giveTheAmountOnceAmount")
        }
    }

    func values(city: CityData) throws -> [String: JSONValue] {
        let given: [(String, String?, TypedInput.MoneyUnit)] = [
            ("category", category, .yuan), ("measure", measure, .yuan), ("leadDepartment", department, .yuan), ("dueDate", due, .yuan),
            ("status", status, .yuan), ("amountFen", amountFen, .fen), ("amountFen", amountYuan, .yuan),
        ]
        var values: [String: JSONValue] = [:]
        for case let (field, text?, unit) in given {
            values[field] = try TypedInput.value(text, field: field, of: .assistance, city: city, moneyUnit: unit)
        }
        return values
    }
}

extension Assist {
    struct Add: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.assist.addAMeasureToA"),
            discussion: Help.text("help.assist.withJsonKeysIdThe")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var household: String

        @OptionGroup var fields: AssistanceFields

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let householdID = try await Resolve.household(household, in: client, console: console)
            var values = try fields.values(city: global.city)
            if values["leadDepartment"] == nil, let category = values["category"]?.stringValue.flatMap(AssistanceCategory.init(rawValue:)),
                let lead = category.leadDepartments.first
            {
                values["leadDepartment"] = .string(lead.rawValue)
            }
            if values["status"] == nil { values["status"] = .string(AssistanceStatus.planned.rawValue) }
            values = values.filter { !$0.value.isNull }
            let id = try await client.addEntry(.assistance, to: householdID, values)
            let pending = try await client.status().pending
            try console.output(LocalWrite(id: id, household: householdID, kind: .assistance, fields: values.keys.sorted(), pending: pending)) {
                console.t("cli.assist.addedToTheAssistanceList", ["id": "\(id)"])
            }
            console.note(console.t("cli.common.runDoorstepSyncToSend"))
        }
    }

    struct Update: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.assist.updateAnAssistanceItemIts"),
            discussion: Help.text("help.assist.withJsonKeysIdThe2")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theItemIdOrIts"))
        var item: String

        @Option(help: .text("help.assist.theHouseholdIdOrIts"))
        var household: String

        @OptionGroup var fields: AssistanceFields

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let householdID = try await Resolve.household(household, in: client, console: console)
            guard let aggregate = try await client.household(householdID) else {
                throw console.failure("notFound", "cli.error.notFound.noHouseholdOnThis", ["householdID": "\(householdID)"])
            }
            let entry = try Resolve.entry(item, in: aggregate, kind: .assistance, console: console)
            let values = try fields.values(city: global.city).filter { entry[$0.key] != $0.value }
            guard !values.isEmpty else {
                console.say(console.t("cli.common.nothingChanged"))
                if console.json {
                    try console.emit(
                        LocalWrite(
                            id: entry.id, household: aggregate.household.id, kind: .assistance, fields: [],
                            pending: try await client.status().pending))
                }
                return
            }
            try await client.editEntry(entry.id, in: aggregate.household.id, set: values)
            let pending = try await client.status().pending
            try console.output(LocalWrite(id: entry.id, household: aggregate.household.id, kind: .assistance, fields: values.keys.sorted(), pending: pending)) {
                console.t("cli.assist.updatedItem", ["id": "\(Format.short(entry.id))"])
                    + values.keys.sorted().map { Strings.field($0, of: .assistance, console.language) }.joined(separator: console.t("cli.common.listSeparator"))
            }
            console.note(console.t("cli.common.runDoorstepSyncToSend"))
        }
    }
}
