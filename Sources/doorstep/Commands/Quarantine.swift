import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Changes the server refused: list them, fix and resend, or drop them.",
        discussion: """
            Example:
              doorstep quarantine fix 12 --set nationalId=150602198507011230
            """,
        subcommands: [List.self, Fix.self, Drop.self],
        defaultSubcommand: List.self
    )

    /// The `--json` answer of fix and drop.
    struct Outcome: Encodable {
        /// The quarantined item's seq.
        var seq: Int64
        /// `resent` or `dropped`.
        var action: String
        /// Work waiting for a sync.
        var pending: Int
        /// Items left in quarantine.
        var quarantine: Int
    }
}

extension Quarantine {
    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the refused changes with the server's reasons.",
            discussion: """
                With --json: an array, keys seq, household, code, reason, at, mutation (the protocol's \
                Mutation: device, seq, hlc, op, kind, entity, household, fields [{field, value, base}] …).

                Example:
                  doorstep quarantine list
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let items = try await client.quarantine()
            let console = global.console
            let format = global.format
            try console.output(items) {
                guard !items.isEmpty else { return console.t("隔离区是空的。", "The quarantine is empty.") }
                var table = Table([
                    .init(title: console.t("序号", "seq"), numeric: true), .init(title: console.t("户", "household")),
                    .init(title: console.t("类型", "kind")), .init(title: console.t("操作", "op")),
                    .init(title: console.t("字段", "fields"), maxWidth: 30), .init(title: console.t("原因", "code")),
                    .init(title: console.t("说明", "reason"), maxWidth: 60), .init(title: console.t("时间", "at")),
                ])
                for item in items {
                    let fields = item.mutation.fields.map { "\($0.field)=\(format.value($0.value, field: $0.field, kind: item.mutation.kind))" }
                    table.add([
                        String(item.seq), Format.short(item.household), Strings.kind(item.mutation.kind, console.language),
                        Strings.operation(item.mutation.op, console.language), fields.joined(separator: " "), item.code.rawValue,
                        item.reason, format.time(item.at),
                    ])
                }
                return table.render() + "\n"
                    + console.t(
                        "修正后重发：doorstep quarantine fix 序号 --set 字段=值；放弃：doorstep quarantine drop 序号",
                        "Fix and resend: doorstep quarantine fix SEQ --set field=value; give up: doorstep quarantine drop SEQ")
            }
        }
    }

    struct Fix: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resend a refused change, with some values changed.",
            discussion: """
                The change is made again as the device sees the entity now (a new change, checked like \
                any other); the refused one leaves the quarantine. Sync to send it. \
                With --json: keys seq, action (resent), pending, quarantine.

                Example:
                  doorstep quarantine fix 12 --set phone=13912345678 \\
                    --set monthlyIncomeFen=1500元
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The item's seq (from quarantine list).")
        var seq: Int64

        @Option(
            name: .customLong("set"),
            help: ArgumentHelp(
                "A value to change, field=value (wire field names, so money in fen unless the value says 元). Repeatable.", valueName: "field=value"))
        var changes: [String] = []

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            guard let item = try await client.quarantine().first(where: { $0.seq == seq }) else {
                throw console.failure("notFound", "隔离区没有序号为 \(seq) 的修改", "nothing in quarantine with seq \(seq)")
            }
            var values: [String: JSONValue] = [:]
            for change in changes {
                let (field, text) = try FieldInput.assignment(change)
                values[field] = try TypedInput.value(
                    text, field: field, of: item.mutation.kind, city: global.city,
                    moneyUnit: TypedInput.moneyUnit(namedBy: field))
            }
            try await client.resend(seq, with: values)
            let status = try await client.status()
            try console.output(Outcome(seq: seq, action: "resent", pending: status.pending, quarantine: status.quarantined)) {
                console.t("已重新提交第 \(seq) 条修改。", "Change \(seq) resent.")
            }
            console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
        }
    }

    struct Drop: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up a refused change for good.",
            discussion: """
                With --json: keys seq, action (dropped), pending, quarantine.

                Example:
                  doorstep quarantine drop 12
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The item's seq (from quarantine list).")
        var seq: Int64

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            try await client.discard(seq)
            let status = try await client.status()
            let console = global.console
            try console.output(Outcome(seq: seq, action: "dropped", pending: status.pending, quarantine: status.quarantined)) {
                console.t("已放弃第 \(seq) 条修改。", "Change \(seq) dropped.")
            }
        }
    }
}
