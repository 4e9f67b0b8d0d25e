import ArgumentParser
import DoorstepCore
import DoorstepServer

@main
struct DoorstepServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep-server",
        abstract: "The central Doorstep server: sync, review queue, reports.",
        discussion: """
            Example:
              doorstep-server --version
            """,
        version: DoorstepVersion.string
    )
}
