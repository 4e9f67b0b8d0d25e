import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

/// `doorstep server`: which server this device syncs with, and pointing it at a new address.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: Help.text("help.server.theServerThisDeviceSyncs"),
        discussion: Help.text("help.server.aServerIsKnownBy"),
        subcommands: [Show.self, Set.self],
        defaultSubcommand: Show.self
    )

    /// The `--json` answer of both subcommands.
    struct Answer: Encodable {
        /// The address this device uses.
        var server: String
        /// The server's identity (its bundle key id), as stored at enrollment.
        var serverKeyID: String?
        /// Whether `set` changed the address.
        var changed: Bool
    }

    struct Show: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.server.showTheServerAddressAnd"),
            discussion: Help.text("help.server.withJsonKeysServerServerkeyid")
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let console = global.console
            let (client, enrollment) = try await global.enrolledClient()
            let answer = Answer(server: enrollment.server.absoluteString, serverKeyID: try await client.serverKeyID, changed: false)
            try console.output(answer) { ServerCommand.render(answer, console) }
        }
    }

    struct Set: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.server.pointThisDeviceAtIts"),
            discussion: Help.text("help.server.withJsonKeysServerServerkeyid2")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.server.theServerNewAddressSuch"))
        var url: String

        func run() async throws {
            let console = global.console
            let (client, enrollment) = try await global.enrolledClient()
            let target = try global.serverURL(url)
            let moved = try await client.moveServer(to: target)
            let answer = Answer(
                server: moved.server.absoluteString, serverKeyID: try await client.serverKeyID,
                changed: moved.server != enrollment.server)
            try console.output(answer) {
                (answer.changed
                    ? console.t("cli.server.nowUsingTheNewAddress")
                    : console.t("cli.server.theAddressIsUnchanged")) + "\n" + ServerCommand.render(answer, console)
            }
        }
    }

    static func render(_ answer: Answer, _ console: Console) -> String {
        var facts = FactList()
        facts.add(console.t("cli.common.server"), answer.server)
        facts.add(console.t("cli.server.serverIdentity"), answer.serverKeyID ?? "-")
        return facts.render(indent: "  ")
    }
}
