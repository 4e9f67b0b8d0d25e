import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

extension Admin {
    /// District relays (protocol 1.8): make one's credential, list them, revoke one.
    struct Relays: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.relays.abstract"),
            discussion: Help.text("help.relays.discussion"),
            subcommands: [Create.self, List.self, Revoke.self],
            defaultSubcommand: List.self
        )
    }
}

extension Admin.Relays {
    struct Create: DoorstepCommand {
        static let configuration = CommandConfiguration(abstract: Help.text("help.relays.create"), discussion: Help.text("help.relays.createDiscussion"))

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.relays.district"))
        var district: String

        @Option(help: .text("help.relays.name"))
        var name: String

        /// The `--json` answer.
        struct Result: Encodable {
            var relay: RelayRecord
            var token: String
            /// The command to run on the relay's machine.
            var command: String
        }

        func run() async throws {
            let console = global.console
            guard let district = try global.district(district) else { throw DoorstepError(.missingField, "--district is required") }
            let session = try await global.office()
            let made = try await session.client.createRelay(name: name, district: district)
            let command =
                "doorstep-server --relay-for \(made.relay.district) --upstream \(session.server.absoluteString) --relay-token \(made.token) --host 0.0.0.0"
            try console.output(Result(relay: made.relay, token: made.token, command: command)) {
                var facts = FactList()
                facts.add(console.t("cli.relays.relay"), made.relay.id)
                facts.add(console.t("cli.common.district"), global.format.district(made.relay.district))
                facts.add(console.t("cli.relays.token"), made.token)
                return facts.render() + "\n" + console.t("cli.relays.runThis", ["command": command])
            }
        }
    }

    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(abstract: Help.text("help.relays.list"))

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.devices.onlyThisDistrictTheCity"))
        var district: String?

        func run() async throws {
            let session = try await global.office()
            let relays = try await session.client.relays(district: try global.district(district))
            let console = global.console
            let format = global.format
            try console.output(relays) {
                guard !relays.isEmpty else { return console.t("cli.relays.none") }
                var table = Table(titles: [
                    console.t("cli.common.id"), console.t("cli.common.name"), console.t("cli.common.district"), console.t("cli.relays.lastContact"),
                    console.t("cli.common.state"),
                ])
                for relay in relays {
                    table.add([
                        relay.id, relay.name, format.district(relay.district), format.time(relay.lastContactAt),
                        relay.isRevoked ? console.t("cli.common.revoked") + format.time(relay.revokedAt) : console.t("cli.common.active"),
                    ])
                }
                return table.render()
            }
        }
    }

    struct Revoke: DoorstepCommand {
        static let configuration = CommandConfiguration(abstract: Help.text("help.relays.revoke"))

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.relays.id"))
        var relay: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            guard RelayRecord.isValidID(relay) else {
                throw DoorstepError(.invalidValue, "a relay id is r- and 32 hexadecimal digits (doorstep admin relays list)")
            }
            let record = try await session.client.revokeRelay(relay)
            try console.output(record) { console.t("cli.relays.revoked", ["id": record.id, "name": record.name]) }
        }
    }
}
