import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.review.theOfficeReviewQueueConflicts"),
        discussion: Help.text("help.review.idsMayBeGivenBy"),
        subcommands: [List.self, Show.self, Confirm.self, Overturn.self, Unlink.self, Accept.self, Dismiss.self],
        defaultSubcommand: List.self
    )

    /// Prints a decision's result; a refused decision is an error.
    static func report(_ result: MutationResult, _ console: Console, done: String) throws {
        if result.outcome == .rejected {
            throw DoorstepError(
                result.code ?? .invalidOperation, result.reason ?? "the server refused the decision",
                zh: result.reasonZh, details: result.details ?? ErrorDetails())
        }
        try console.output(result) { done + console.t("cli.review.server", ["outcome": "\(result.outcome.rawValue)"]) }
    }

    /// The head's name of each household the queue names: read from the server (a household only
    /// held changes name is named by its held creation).
    static func names(_ queue: ReviewQueue, client: OfficeClient) async -> [EntityID: String] {
        var names: [EntityID: String] = [:]
        for rejection in queue.rejections {
            guard let mutation = rejection.mutation, mutation.kind == .household,
                let name = mutation.fields.first(where: { $0.field == "headName" })?.value.stringValue
            else { continue }
            names[mutation.household] = name
        }
        let ids = Set(
            queue.conflicts.map(\.record.household) + queue.duplicates.flatMap { [$0.survivor, $0.alias] } + queue.rejections.compactMap(\.household))
        for id in ids.sorted() {
            if let name = try? await client.household(id).household["headName"].stringValue { names[id] = name }
        }
        return names
    }

    /// The open rejection `DEVICE:SEQ` names (the device by its first characters, as lists show it).
    static func rejection(_ key: String, in queue: ReviewQueue, console: Console) throws -> ReviewQueue.Rejection {
        let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let seq = Int64(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw console.failure(
                "invalidValue", "cli.error.invalidValue.writeDeviceSeqSuch")
        }
        let candidates = queue.rejections.filter { $0.seq == seq }
        let device = try Resolve.unique(
            parts[0], among: Array(Set(candidates.map(\.device))), id: \.rawValue,
            what: console.t("cli.review.changeWaitingForReview"), console: console)
        guard let match = candidates.first(where: { $0.device == device }) else {
            throw console.failure("notFound", "cli.error.notFound.noChangeWaitingFor", ["key": "\(key)"])
        }
        return match
    }

    /// The conflict an entity prefix and a field (wire name or label) name.
    static func conflict(_ entity: String, _ field: String, in queue: ReviewQueue, console: Console) throws -> ConflictRecord {
        let records = queue.conflicts.map(\.record)
        let id = try Resolve.unique(
            entity, among: Array(Set(records.map(\.entity))), id: \.description,
            what: console.t("cli.review.conflict"), console: console)
        let candidates = records.filter { $0.entity == id }
        let match =
            candidates.first { $0.field == field }
            ?? candidates.first { Strings.field($0.field, of: $0.kind, .chinese) == field || Strings.field($0.field, of: $0.kind, .english) == field }
        guard let match else {
            let fields = candidates.map(\.field).joined(separator: ", ")
            throw console.failure(
                "notFound", "cli.error.notFound.noOpenConflictOn", ["field": "\(field)", "fields": "\(fields)", "id": "\(id)"])
        }
        return match
    }
}

extension Review {
    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.listWhatWaitsForReview"),
            discussion: Help.text("help.review.withJsonTheProtocolReviewqueue")
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.review.onlyThisDistrictTheCity"))
        var district: String?

        func run() async throws {
            let session = try await global.office()
            let queue = try await session.client.review(district: try global.district(district))
            let console = global.console
            let names = console.json ? [:] : await Review.names(queue, client: session.client)
            try console.output(queue) { ReviewView(format: global.format, names: names).render(queue) }
        }
    }

    struct Show: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.showAHouseholdOpenConflicts"),
            discussion: Help.text("help.review.withJsonKeysHouseholdThe")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var id: String

        @Flag(help: .text("help.households.showNationalIdNumbersWhole"))
        var reveal = false

        struct Result: Encodable {
            var household: HouseholdAggregate?
            var conflicts: [ConflictRecord]
            var duplicates: [ReviewQueue.Duplicate]
            var rejections: [ReviewQueue.Rejection]
        }

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let queue = try await session.client.review()
            let household: EntityID
            if let whole = try? EntityID(id) {
                household = whole
            } else {
                let known =
                    queue.conflicts.map(\.record.household) + queue.duplicates.flatMap { [$0.survivor, $0.alias] } + queue.rejections.compactMap(\.household)
                do {
                    household = try Resolve.unique(id, among: Array(Set(known)), id: \.description, what: console.t("cli.common.household2"), console: console)
                } catch let error as DoorstepError where error.code == .notFound {
                    // No longer in the queue (decided): the households this device holds.
                    guard FileManager.default.fileExists(atPath: global.databasePath) else { throw error }
                    household = try await Resolve.household(id, global: global)
                }
            }
            let aggregate: HouseholdAggregate
            do {
                aggregate = try await session.client.household(household)
            } catch let error as DoorstepError where error.code == .notFound {
                // A household that exists only in a held change (a revoked laptop filed it): its changes alone.
                let held = queue.rejections.filter { $0.household == household }
                guard !held.isEmpty else { throw error }
                let result = Result(household: nil, conflicts: [], duplicates: [], rejections: held)
                try console.output(result) {
                    console.t("cli.review.theServerHasNoSuch")
                        + "\n\n"
                        + ReviewView(format: global.format).render(ReviewQueue(conflicts: [], duplicates: [], rejections: held, clockFlaggedDevices: []))
                }
                return
            }
            let ids = Set([aggregate.household.id, household] + aggregate.aliases)
            let result = Result(
                household: aggregate, conflicts: aggregate.conflicts,
                duplicates: queue.duplicates.filter { ids.contains($0.survivor) || ids.contains($0.alias) },
                rejections: queue.rejections.filter { $0.household.map(ids.contains) == true }
            )
            try console.output(result) {
                let view = HouseholdView(format: global.format, reveal: reveal)
                var parts = [view.render(aggregate)]
                if aggregate.conflicts.isEmpty { parts.append(console.t("cli.review.noOpenConflicts")) }
                let name = aggregate.household["headName"].stringValue
                let names = Dictionary(ids.map { ($0, name ?? "") }, uniquingKeysWith: { first, _ in first })
                let rest = ReviewView(format: global.format, names: names)
                    .render(
                        ReviewQueue(conflicts: [], duplicates: result.duplicates, rejections: result.rejections, clockFlaggedDevices: []),
                        onlyNonEmpty: true)
                if !rest.isEmpty { parts.append(rest) }
                return parts.joined(separator: "\n\n")
            }
        }
    }

    struct Confirm: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.keepTheValueShownFor"),
            discussion: Help.text("help.review.exampleDoorstepReviewConfirm5e6f7a8b")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.review.theConflictedEntityIdOr"))
        var entity: String

        @Argument(help: .text("help.review.theFieldWireNameOr"))
        var field: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let conflict = try Review.conflict(entity, field, in: try await session.client.review(), console: console)
            let result = try await session.client.confirm(entity: conflict.entity, field: conflict.field)
            try Review.report(
                result, console,
                done: console.t("cli.review.keptShownValue", ["field": Strings.field(conflict.field, of: conflict.kind, console.language)]))
        }
    }

    struct Overturn: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.replaceAConflictedFieldWith"),
            discussion: Help.text("help.review.theValueIsReadLike")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.review.theConflictedEntityIdOr"))
        var entity: String

        @Argument(help: .text("help.review.theFieldWireNameOr"))
        var field: String

        @Argument(help: .text("help.review.theValueToKeep"))
        var value: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let conflict = try Review.conflict(entity, field, in: try await session.client.review(), console: console)
            let parsed = try TypedInput.value(
                value, field: conflict.field, of: conflict.kind, city: global.city,
                moneyUnit: TypedInput.moneyUnit(namedBy: field))
            let result = try await session.client.overturn(entity: conflict.entity, field: conflict.field, value: parsed)
            try Review.report(
                result, console,
                done: console.t("cli.review.setNewValue", ["field": Strings.field(conflict.field, of: conflict.kind, console.language)]))
        }
    }

    struct Unlink: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.separateTwoHouseholdsLinkedAs"),
            discussion: Help.text("help.review.exampleDoorstepReviewUnlink1a2b3c4d")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.review.theSurvivingHouseholdIdOr"))
        var survivor: String

        @Argument(help: .text("help.review.theLinkedAliasHouseholdId"))
        var alias: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let queue = try await session.client.review()
            let survivors = Array(Set(queue.duplicates.map(\.survivor)))
            let aliases = Array(Set(queue.duplicates.map(\.alias)))
            let survivorID = try (try? EntityID(survivor)) ?? Resolve.unique(survivor, among: survivors, id: \.description, what: "", console: console)
            let aliasID = try (try? EntityID(alias)) ?? Resolve.unique(alias, among: aliases, id: \.description, what: "", console: console)
            let result = try await session.client.unlink(survivor: survivorID, alias: aliasID)
            try Review.report(result, console, done: console.t("cli.review.theHouseholdsAreNoLonger"))
        }
    }

    struct Accept: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.applyAChangeHeldFrom"),
            discussion: Help.text("help.review.theChangeIsAppliedAs")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.review.theHeldChangeItsDevice"))
        var change: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let held = try Review.rejection(change, in: try await session.client.review(), console: console)
            // What is accepted, in full, before the answer.
            if held.mutation != nil { console.note(ReviewView(format: global.format).heldChange(held)) }
            let result = try await session.client.acceptHeld(device: held.device, seq: held.seq)
            try Review.report(result, console, done: console.t("cli.review.acceptedTheChangeAsThe"))
        }
    }

    struct Dismiss: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.review.setAHeldOrRefused"),
            discussion: Help.text("help.review.withJsonKeysDeviceSeq")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.review.theChangeItsDeviceFirst"))
        var change: String

        @Option(help: .text("help.review.whyItIsSetAside"))
        var reason: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let rejection = try Review.rejection(change, in: try await session.client.review(), console: console)
            let closed = try await session.client.dismissRejection(device: rejection.device, seq: rejection.seq, reason: reason)
            try console.output(closed) { console.t("cli.review.setAsideItLeftThe") }
        }
    }
}
