import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Households: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, search and show the households on this device (works offline).",
        discussion: """
            Example:
              doorstep households search 王
            """,
        subcommands: [List.self, Search.self, Show.self],
        defaultSubcommand: List.self
    )
}

extension Households {
    static let jsonSummaries = """
        With --json: an array of households, keys id, headName, nationalIdMasked, address, district, \
        status, conflicts (open conflicts), hasLocalChanges (unsynced work on this device).
        """

    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the households on this device.",
            discussion: """
                Ids are shown by their first 8 characters; every command takes such a prefix.
                \(jsonSummaries)

                Examples:
                  doorstep households list
                  doorstep households list --status filed --json
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this status: candidate, filed, outOfHardship, safetyNet, closed (or its label).")
        var status: String?

        @Option(help: "Only this district (code, e.g. 150602).")
        var district: String?

        @Option(help: "At most this many.")
        var limit = 500

        func run() async throws {
            var query = HouseholdQuery(district: try global.district(district), limit: limit)
            if let status {
                let wire = TypedInput.term(status, field: "status", of: .household)
                guard let value = HouseholdStatus(rawValue: wire) else {
                    throw DoorstepError(.invalidValue, "status must be one of: \(HouseholdStatus.wireNames.joined(separator: ", "))")
                }
                query.status = value
            }
            try await Households.listing(query, global: global)
        }
    }

    struct Search: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find households by a part of the head's name, national ID or address.",
            discussion: """
                \(jsonSummaries)

                Example:
                  doorstep households search 建设街
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Text to look for.")
        var text: String

        func run() async throws {
            try await Households.listing(HouseholdQuery(text: text), global: global)
        }
    }

    static func listing(_ query: HouseholdQuery, global: GlobalOptions) async throws {
        let (client, _) = try await global.enrolledClient()
        let households = try await client.households(matching: query)
        let console = global.console
        try console.output(households) {
            households.isEmpty ? console.t("没有符合条件的困难户。", "No households match.") : HouseholdView(format: global.format).summaries(households)
        }
    }

    struct Show: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one household: facts, members, liaisons, lists, visits and open conflicts.",
            discussion: """
                With --json: the household as the protocol's HouseholdAggregate: household, aliases, \
                entities (each with kind, id, household, created and fields: a register per field, with \
                its heads: write, value).

                Example:
                  doorstep households show 1a2b3c4d
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The household's id (or its first characters).")
        var id: String

        @Flag(help: "Show national ID numbers whole instead of masked.")
        var reveal = false

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let household = try await Resolve.household(id, in: client, console: console)
            guard let aggregate = try await client.household(household) else {
                throw console.failure("notFound", "本机没有这户：\(household)", "no household \(household) on this device")
            }
            try console.output(aggregate) { HouseholdView(format: global.format, reveal: reveal).render(aggregate) }
        }
    }
}
