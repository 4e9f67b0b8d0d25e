import ArgumentParser
import DoorstepClient
import DoorstepCore

struct Households: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.households.listSearchAndShowThe"),
        discussion: Help.text("help.households.exampleDoorstepHouseholdsSearch"),
        subcommands: [List.self, Search.self, Show.self, History.self],
        defaultSubcommand: List.self
    )
}

extension Households {
    /// What `--json` prints for a list of households, for the subcommands' help.
    static var jsonSummaries: String { Help.text("help.households.jsonSummaries") }

    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.households.listTheHouseholdsOnThis"),
            discussion: Help.text("help.households.list.discussion", ["json": jsonSummaries])
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.households.onlyThisStatusCandidateFiled"))
        var status: String?

        @Option(help: .text("help.households.onlyThisDistrictCodeE"))
        var district: String?

        @Option(help: .text("help.households.atMostThisMany"))
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
            abstract: Help.text("help.households.findHouseholdsByAPart"),
            discussion: Help.text("help.households.search.discussion", ["json": jsonSummaries])
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.households.textToLookFor"))
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
            households.isEmpty ? console.t("cli.households.noHouseholdsMatch") : HouseholdView(format: global.format).summaries(households)
        }
    }

    struct Show: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.households.showOneHouseholdFactsMembers"),
            discussion: Help.text("help.households.withJsonTheHouseholdAs")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var id: String

        @Flag(help: .text("help.households.showNationalIdNumbersWhole"))
        var reveal = false

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let household = try await Resolve.household(id, in: client, console: console)
            guard let aggregate = try await client.household(household) else {
                throw console.failure("notFound", "cli.error.notFound.noHouseholdOnThis2", ["household": "\(household)"])
            }
            try console.output(aggregate) { HouseholdView(format: global.format, reveal: reveal).render(aggregate) }
        }
    }

    struct History: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.households.history.abstract"),
            discussion: Help.text("help.households.history.discussion")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var id: String

        @Flag(help: .text("help.households.showNationalIdNumbersWhole"))
        var reveal = false

        func run() async throws {
            let session = try await global.office()
            let household: EntityID
            if let whole = try? EntityID(id) { household = whole } else { household = try await Resolve.household(id, global: global) }
            let entries = try await session.client.history(household)
            // Devices by name and role: an office lists its district's; a visitor's laptop knows itself.
            var devices: [DeviceID: (name: String, role: Role)] = [:]
            if let listed = try? await session.client.devices() {
                for device in listed { devices[device.id] = (device.name, device.role) }
            }
            if global.explicitToken == nil, let enrollment = try? await global.openClient().enrollment {
                devices[enrollment.device] = (enrollment.deviceName, enrollment.role)
            }
            try global.console.output(entries) {
                HistoryView(format: global.format, reveal: reveal, devices: devices).render(entries)
            }
        }
    }
}
