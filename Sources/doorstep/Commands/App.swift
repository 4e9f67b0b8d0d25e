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
            if openBrowser, !Browser.open(launch) { console.note(console.t("cli.app.noBrowser")) }
        }
    }
}

/// Opens a page in the system's browser, where there is one to open.
enum Browser {
    /// Whether a browser was started: `open` on macOS; `xdg-open` on Linux with a display.
    static func open(_ url: URL) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        #if os(macOS)
        let command = "/usr/bin/open"
        #else
        guard environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil else { return false }
        guard let command = ["/usr/bin/xdg-open", "/usr/local/bin/xdg-open"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            return false
        }
        #endif
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = [url.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            return true
        } catch {
            return false
        }
    }
}
