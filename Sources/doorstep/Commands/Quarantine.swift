import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.quarantine.changesTheServerRefusedList"),
        discussion: Help.text("help.quarantine.exampleDoorstepQuarantineFix12"),
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
            abstract: Help.text("help.quarantine.listTheRefusedChangesWith"),
            discussion: Help.text("help.quarantine.withJsonAnArrayKeys")
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let items = try await client.quarantine()
            let console = global.console
            let format = global.format
            try console.output(items) {
                guard !items.isEmpty else { return console.t("cli.quarantine.theQuarantineIsEmpty") }
                var table = Table([
                    .init(title: console.t("cli.common.seq"), numeric: true), .init(title: console.t("cli.common.household")),
                    .init(title: console.t("cli.common.kind")), .init(title: console.t("cli.quarantine.op")),
                    .init(title: console.t("cli.quarantine.fields"), maxWidth: 30), .init(title: console.t("cli.quarantine.code")),
                    .init(title: console.t("cli.common.reason"), maxWidth: 60), .init(title: console.t("cli.common.at")),
                ])
                for item in items {
                    let fields = item.mutation.fields.map { "\($0.field)=\(format.value($0.value, field: $0.field, kind: item.mutation.kind))" }
                    table.add([
                        String(item.seq), Format.short(item.household), Strings.kind(item.mutation.kind, console.language),
                        Strings.operation(item.mutation.op, console.language), fields.joined(separator: " "), item.code.rawValue,
                        item.explanation(console.language),
                        format.time(item.at),
                    ])
                }
                return table.render() + "\n"
                    + console.t(
                        "cli.quarantine.fixAndResendDoorstepQuarantine")
            }
        }
    }

    struct Fix: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.quarantine.resendARefusedChangeWith"),
            discussion: Help.text("help.quarantine.theChangeIsMadeAgain")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.quarantine.theItemSeqFromQuarantine"))
        var seq: Int64

        @Option(
            name: .customLong("set"),
            help: ArgumentHelp(Help.text("help.quarantine.aValueToChangeField"), valueName: "field=value"))
        var changes: [String] = []

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            guard let item = try await client.quarantine().first(where: { $0.seq == seq }) else {
                throw console.failure("notFound", "cli.error.notFound.nothingInQuarantineWith", ["seq": "\(seq)"])
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
                console.t("cli.quarantine.changeResent", ["seq": "\(seq)"])
            }
            console.note(console.t("cli.common.runDoorstepSyncToSend"))
        }
    }

    struct Drop: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.quarantine.giveUpARefusedChange"),
            discussion: Help.text("help.quarantine.withJsonKeysSeqAction")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.quarantine.theItemSeqFromQuarantine"))
        var seq: Int64

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            try await client.discard(seq)
            let status = try await client.status()
            let console = global.console
            try console.output(Outcome(seq: seq, action: "dropped", pending: status.pending, quarantine: status.quarantined)) {
                console.t("cli.quarantine.changeDropped", ["seq": "\(seq)"])
            }
        }
    }
}
