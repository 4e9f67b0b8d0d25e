import ArgumentParser
import DoorstepClient
import DoorstepCore

@main
struct Doorstep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep",
        abstract: "Record hardship-relief home visits offline and sync them with a Doorstep server.",
        discussion: """
            Visitors record visits and household facts on their laptop, offline, and sync at day end.
            Offices review conflicts and duplicates, decide statuses and run reports.

            Example:
              doorstep --version
            """,
        version: DoorstepVersion.string
    )
}
