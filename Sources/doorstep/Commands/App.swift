import ArgumentParser
import DoorstepClient
import DoorstepCore
import DoorstepFieldApp
import Foundation

/// `doorstep app`: the visitors' field app, served to this laptop's browser.
struct App: DoorstepCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: Help.text("help.app.abstract"),
        discussion: Help.text("help.app.discussion")
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: .text("help.app.port"))
    var port = 0

    @Flag(help: .text("help.app.noBrowser"))
    var noBrowser = false

    func run() async throws {
        let console = global.console
        guard (0...65_535).contains(port) else {
            throw console.failure("invalidValue", "cli.app.badPort", ["port": "\(port)"])
        }
        let databasePath = global.databasePath
        let openBrowser = !noBrowser
        try await FieldApp.run(configuration: FieldAppConfiguration(client: global.configuration, port: port)) { address, launch in
            console.say(console.t("cli.app.started", ["address": address.absoluteString, "database": databasePath]))
            if openBrowser, !FieldApp.openBrowser(launch) { console.note(console.t("cli.app.noBrowser")) }
        }
    }
}
