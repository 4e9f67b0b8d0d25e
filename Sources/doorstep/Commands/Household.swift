import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Household: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "File a new household, edit its facts, or decide its status (office).",
        discussion: """
            Example:
              doorstep household new --name 王某某 --national-id 150602198507011230 \\
                --address "建设街 12 号" --file-level national --cause illness \\
                --difficulty general --skill none --income-yuan 1200
            """,
        subcommands: [New.self, Edit.self, SetStatus.self]
    )

    static let jsonWrite = """
        With --json: keys id, household, kind, fields (the fields written), pending (work waiting for a sync).
        """
}

extension Household {
    struct New: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "File a new household (as a candidate) on this device, offline.",
            discussion: """
                Give the facts as flags, or run it in a terminal with no flags to be asked for each one: \
                every answer is checked as it is entered (a wrong national ID check digit is caught at \
                the prompt) and asked again until it is right. Required: name, national ID, address, \
                file level, cause, difficulty, skill, income. Sync to send it to the office.

                A national ID that a household on this device already holds is named and, in a \
                terminal, asked about (filing it again makes a duplicate for the office to review); \
                elsewhere it is refused (nationalIdOnFile) unless --force says that this is a \
                genuinely separate household.
                \(Household.jsonWrite)

                Examples:
                  doorstep household new
                  doorstep household new --name 王某某 --national-id 150602198507011230 \\
                    --address "建设街 12 号" --file-level national --cause illness \\
                    --difficulty general --skill none --income-yuan 1200
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: HouseholdFields

        @Flag(help: "File it even when a household on this device has the same national ID (a separate household).")
        var force = false

        func run() async throws {
            let (client, enrollment) = try await global.enrolledClient()
            let console = global.console
            var values = try fields.values(city: global.city)
            if fields.interactive || (values.isEmpty && Console.stdinIsTerminal) {
                console.note(console.t("新建困难户档案：* 为必填项，选填项直接回车跳过。", "New household file: * is required; press Enter to skip the others."))
                let prompter = Prompter(console: console, format: global.format)
                for spec in EntityKind.household.fields where spec.name != "status" && values[spec.name] == nil {
                    var question = Prompter.Question(field: spec.name, kind: .household)
                    if spec.name == "district" { question.current = enrollment.district.map(JSONValue.string) }
                    if spec.name == "epidemicAffected" { question.current = false }
                    values[spec.name] = try prompter.ask(question)
                }
            } else if values.isEmpty {
                throw console.failure(
                    "missingField", "没有给出任何档案内容：请用参数给出（见 --help），或在终端中运行以逐项填写",
                    "no household facts given: pass them as flags (see --help) or run in a terminal to be asked")
            }
            values = values.filter { !$0.value.isNull }
            var force = self.force
            if !force, let number = values["nationalId"]?.stringValue, case let existing = try await client.households(withNationalID: number),
                !existing.isEmpty
            {
                let format = global.format
                let list = existing.map { "  \(Format.short($0.id))  \($0.headName)  \($0.nationalIdMasked)  \(format.status($0.status))  \($0.address)" }
                console.note(console.t("本机已有同一身份证号的困难户：", "This device already has a household with this national ID:") + "\n" + list.joined(separator: "\n"))
                guard fields.interactive || Console.stdinIsTerminal else {
                    throw console.failure(
                        "nationalIdOnFile", "未建档：同一身份证号的困难户已在本机（见上）。要补充信息请用 doorstep household edit \(Format.short(existing[0].id))；确实是另一户时加 --force",
                        "not filed: a household with this national ID is on this device (above). To add to it: doorstep household edit \(Format.short(existing[0].id)); for a genuinely separate household, add --force"
                    )
                }
                let answer = try Prompter(console: console, format: format).confirm(console.t("仍要新建一户吗？（是/否）", "File a new household all the same? (yes/no)"))
                guard answer else {
                    console.note(console.t("未建档。", "Not filed."))
                    return
                }
                force = true
            }
            let id = try await client.fileHousehold(values, allowingSameNationalID: force)
            let pending = try await client.status().pending
            try console.output(LocalWrite(id: id, household: id, kind: .household, fields: values.keys.sorted(), pending: pending)) {
                console.t("已新建困难户档案（待核实），编号 \(id)", "Filed a new household (candidate), id \(id)")
            }
            console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
        }
    }

    struct Edit: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a household's facts on this device, offline.",
            discussion: """
                Only the flags given are written. With no flags in a terminal, each fact is asked with its \
                current value in brackets (Enter keeps it); answers are checked as they are entered. \
                Status is the office's decision: see `doorstep household status`.
                \(Household.jsonWrite)

                Examples:
                  doorstep household edit 1a2b3c4d --phone 13912345678 --income-yuan 1500
                  doorstep household edit 1a2b3c4d
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The household's id (or its first characters).")
        var id: String

        @OptionGroup var fields: HouseholdFields

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let householdID = try await Resolve.household(id, in: client, console: console)
            guard let aggregate = try await client.household(householdID) else {
                throw console.failure("notFound", "本机没有这户：\(householdID)", "no household \(householdID) on this device")
            }
            var values = try fields.values(city: global.city)
            if fields.interactive || (values.isEmpty && Console.stdinIsTerminal) {
                console.note(console.t("修改档案：方括号内为当前值，直接回车保留。", "Edit the file: the current value is in brackets; Enter keeps it."))
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
                    console.t("没有修改。", "Nothing changed.")
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
                console.t("已修改：", "Changed: ") + labels.joined(separator: console.t("、", ", "))
            }
            console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
        }
    }

    struct SetStatus: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Decide a household's status (district office).",
            discussion: """
                Allowed changes: candidate → filed, closed; filed → outOfHardship, safetyNet, \
                closed; safetyNet → outOfHardship, filed, closed; outOfHardship → filed, closed; \
                closed → candidate.

                On an office device the decision is recorded on the device (sync to send it); with \
                --server/--token it is made on the server at once. \
                With --json: on the device, keys id, household, kind, fields, pending; on the server, the \
                server's result: seq, outcome (applied, conflict …), conflictFields.

                Examples:
                  doorstep household status 1a2b3c4d --to filed
                  doorstep household status 1a2b3c4d-… --to outOfHardship \\
                    --server https://doorstep.example.cn --token …
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The household's id (or its first characters).")
        var id: String

        @Option(help: "The new status: candidate, filed, outOfHardship, safetyNet, closed (or its label).")
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
                    console.t("状态已改为「\(status.chineseLabel)」（已在本机记录）。", "Status set to \(status.englishLabel) (recorded on this device).")
                }
                console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
                return
            }
            let session = try await global.office()
            let household = try await Resolve.household(id, global: global)
            let result = try await session.client.setStatus(household: household, to: status)
            if result.outcome == .rejected {
                throw DoorstepError(result.code ?? .invalidOperation, result.reason ?? "the server refused the change")
            }
            try console.output(result) {
                console.t(
                    "状态已改为「\(status.chineseLabel)」（服务器：\(result.outcome.rawValue)）。",
                    "Status set to \(status.englishLabel) (server: \(result.outcome.rawValue)).")
            }
        }
    }
}
