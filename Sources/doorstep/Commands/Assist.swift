import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Assist: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The assistance list (帮扶清单): add a measure, update its progress.",
        discussion: """
            Categories and their default lead departments: employment (humanResources), education \
            (education), illness (civilAffairs), socialInsurance (humanResources), housing \
            (housingAdministration), minimumLiving (civilAffairs).

            Example:
              doorstep assist add 1a2b3c4d --category employment \\
                --measure "推荐公益性岗位" --due 2020-07-31
            """,
        subcommands: [Add.self, Update.self]
    )
}

/// The flags of an assistance item shared by add and update.
struct AssistanceFields: ParsableArguments {
    @Option(help: "Category: employment, education, illness, socialInsurance, housing, minimumLiving.")
    var category: String?

    @Option(help: "The measure (帮扶措施).")
    var measure: String?

    @Option(help: "Lead department: humanResources, education, civilAffairs, medicalInsurance, housingAdministration, tradeUnion (default: the category's).")
    var department: String?

    @Option(help: "Due date, YYYY-MM-DD (完成时限).")
    var due: String?

    @Option(help: "Status: planned, inProgress, done, cancelled.")
    var status: String?

    @Option(name: .customLong("amount-fen"), help: "Amount in fen, where money moves.")
    var amountFen: String?

    @Option(name: .customLong("amount-yuan"), help: "The same in yuan, e.g. 500.")
    var amountYuan: String?

    func validate() throws {
        if amountFen != nil && amountYuan != nil {
            throw Usage.error("金额只能给一次：--amount-fen 或 --amount-yuan", "give the amount once: --amount-fen or --amount-yuan")
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
            abstract: "Add a measure to a household's assistance list.",
            discussion: """
                With --json: keys id (the item), household, kind, fields, pending.

                Example:
                  doorstep assist add 1a2b3c4d --category illness --measure "申请大病救助" \\
                    --due 2020-06-30 --amount-yuan 3000
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The household's id (or its first characters).")
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
                console.t("已加入帮扶清单，编号 \(id)", "Added to the assistance list, id \(id)")
            }
            console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
        }
    }

    struct Update: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Update an assistance item: its status, measure, due date or amount.",
            discussion: """
                With --json: keys id (the item), household, kind, fields, pending.

                Example:
                  doorstep assist update 9f8e7d6c --household 1a2b3c4d --status done
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The item's id (or its first characters).")
        var item: String

        @Option(help: "The household's id (or its first characters).")
        var household: String

        @OptionGroup var fields: AssistanceFields

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let householdID = try await Resolve.household(household, in: client, console: console)
            guard let aggregate = try await client.household(householdID) else {
                throw console.failure("notFound", "本机没有这户：\(householdID)", "no household \(householdID) on this device")
            }
            let entry = try Resolve.entry(item, in: aggregate, kind: .assistance, console: console)
            let values = try fields.values(city: global.city).filter { entry[$0.key] != $0.value }
            guard !values.isEmpty else {
                console.say(console.t("没有修改。", "Nothing changed."))
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
                console.t("已更新帮扶事项 \(Format.short(entry.id))：", "Updated item \(Format.short(entry.id)): ")
                    + values.keys.sorted().map { Strings.field($0, of: .assistance, console.language) }.joined(separator: console.t("、", ", "))
            }
            console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
        }
    }
}
