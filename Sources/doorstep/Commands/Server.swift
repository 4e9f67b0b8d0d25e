import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

/// `doorstep server`: which server this device syncs with, and pointing it at a new address.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "The server this device syncs with: show it, or point the device at its new address.",
        discussion: """
            A server is known by its identity (the key id it gave at enrollment), not its address: \
            after the server moves, `doorstep server set URL` checks that the new address answers as \
            the same server and then remembers it for sync, office commands and bundles. An address \
            that answers as another server is refused (serverMismatch) and nothing is sent to it.

            Examples:
              doorstep server show
              doorstep server set https://doorstep.ordos.example.cn
            """,
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
            abstract: "Show the server's address and identity.",
            discussion: "With --json: keys server, serverKeyID, changed (false)."
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
            abstract: "Point this device at its server's new address (checked to be the same server).",
            discussion: """
                With --json: keys server, serverKeyID, changed.

                Example:
                  doorstep server set https://10.1.2.3:8443
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The server's new address, such as https://doorstep.ordos.example.cn.")
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
                    ? console.t("已改用新地址：这是本机登记时的同一台服务器。", "Now using the new address: it is the server this device enrolled with.")
                    : console.t("地址未变。", "The address is unchanged.")) + "\n" + ServerCommand.render(answer, console)
            }
        }
    }

    static func render(_ answer: Answer, _ console: Console) -> String {
        var facts = FactList()
        facts.add(console.t("服务器", "server"), answer.server)
        facts.add(console.t("服务器标识", "server identity"), answer.serverKeyID ?? "-")
        return facts.render(indent: "  ")
    }
}
