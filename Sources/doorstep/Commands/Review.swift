import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The office's review queue: conflicts, duplicates, refused changes, wrong clocks.",
        discussion: """
            Ids may be given by their first characters as `review list` shows them. \
            Decisions (confirm, overturn, unlink, accept) print the server's result; with --json its keys: \
            seq, outcome (applied, conflict …), code and reason (when refused), conflictFields.

            The changes of a revoked laptop's bundle wait here in full (what, when, every value): \
            `accept DEVICE:SEQ` applies one as the office's decision (its device and time stay in \
            the history), `dismiss DEVICE:SEQ --reason TEXT` sets it aside; either way it leaves the \
            queue and the report's count. A change the server refused is fixed and resent by its \
            device; `dismiss` clears it from the queue.

            Example:
              doorstep review confirm 5e6f7a8b phone
            """,
        subcommands: [List.self, Show.self, Confirm.self, Overturn.self, Unlink.self, Accept.self, Dismiss.self],
        defaultSubcommand: List.self
    )

    /// Prints a decision's result; a refused decision is an error.
    static func report(_ result: MutationResult, _ console: Console, done: String) throws {
        if result.outcome == .rejected {
            throw DoorstepError(result.code ?? .invalidOperation, result.reason ?? "the server refused the decision")
        }
        try console.output(result) { done + console.t("（服务器：\(result.outcome.rawValue)）", " (server: \(result.outcome.rawValue))") }
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
                "invalidValue", "请写成 设备:序号，例如 1a2b3c4d:12（见 doorstep review list）",
                "write DEVICE:SEQ, such as 1a2b3c4d:12 (see doorstep review list)")
        }
        let candidates = queue.rejections.filter { $0.seq == seq }
        let device = try Resolve.unique(
            parts[0], among: Array(Set(candidates.map(\.device))), id: \.rawValue,
            what: console.t("待审核的修改", "change waiting for review"), console: console)
        guard let match = candidates.first(where: { $0.device == device }) else {
            throw console.failure("notFound", "没有待审核的修改 \(key)", "no change waiting for review at \(key)")
        }
        return match
    }

    /// The conflict an entity prefix and a field (wire name or label) name.
    static func conflict(_ entity: String, _ field: String, in queue: ReviewQueue, console: Console) throws -> ConflictRecord {
        let records = queue.conflicts.map(\.record)
        let id = try Resolve.unique(
            entity, among: Array(Set(records.map(\.entity))), id: \.description,
            what: console.t("待审核冲突", "conflict"), console: console)
        let candidates = records.filter { $0.entity == id }
        let match =
            candidates.first { $0.field == field }
            ?? candidates.first { Strings.field($0.field, of: $0.kind, .chinese) == field || Strings.field($0.field, of: $0.kind, .english) == field }
        guard let match else {
            let fields = candidates.map(\.field).joined(separator: ", ")
            throw console.failure(
                "notFound", "\(id) 的 \(field) 没有待审核冲突（有冲突的字段：\(fields)）",
                "no open conflict on field \(field) of \(id) (conflicted fields: \(fields))")
        }
        return match
    }
}

extension Review {
    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what waits for review.",
            discussion: """
                With --json: the protocol's ReviewQueue, keys conflicts [{district, record: {entity, kind, \
                household, field, reason, heads [{write, value}]}}], duplicates [{survivor, alias, district}], \
                rejections [{device, seq, household, entity, kind, district, code, reason, at}], \
                clockFlaggedDevices (device records).

                Example:
                  doorstep review list --district 150602
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this district (the city sees every district).")
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
            abstract: "Show a household's open conflicts with every value, and its duplicates and refusals.",
            discussion: """
                With --json: keys household (the HouseholdAggregate), conflicts, duplicates, rejections \
                (as in `review list`, for this household).

                Example:
                  doorstep review show 1a2b3c4d
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The household's id (or its first characters).")
        var id: String

        @Flag(help: "Show national ID numbers whole instead of masked.")
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
                    household = try Resolve.unique(id, among: Array(Set(known)), id: \.description, what: console.t("困难户", "household"), console: console)
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
                    console.t("服务器上还没有这户（只在留待审核的修改中）。", "The server has no such household yet (it is only in changes held for review).")
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
                if aggregate.conflicts.isEmpty { parts.append(console.t("没有待审核冲突。", "No open conflicts.")) }
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
            abstract: "Keep the value shown for a conflicted field (for _deleted: confirm the deletion).",
            discussion: """
                Example:
                  doorstep review confirm 5e6f7a8b phone
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The conflicted entity's id (or its first characters).")
        var entity: String

        @Argument(help: "The field's wire name (or label).")
        var field: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let conflict = try Review.conflict(entity, field, in: try await session.client.review(), console: console)
            let result = try await session.client.confirm(entity: conflict.entity, field: conflict.field)
            try Review.report(
                result, console,
                done: console.t(
                    "已确认「\(Strings.field(conflict.field, of: conflict.kind, .chinese))」的当前值。",
                    "Kept the shown value of \(conflict.field)."))
        }
    }

    struct Overturn: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a conflicted field with another value (for _deleted: restore the entry).",
            discussion: """
                The value is read like a flag: terms by wire name or label, yes/no; money in yuan (2600, \
                2,600.50, 2600元) when the field is named by its label (家庭月收入), in fen when named by \
                its wire name (monthlyIncomeFen); a unit typed with the value (元, 分) always wins.

                Examples:
                  doorstep review overturn 5e6f7a8b phone 13912345678
                  doorstep review overturn 9f8e7d6c _deleted no
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The conflicted entity's id (or its first characters).")
        var entity: String

        @Argument(help: "The field's wire name (or label).")
        var field: String

        @Argument(help: "The value to keep.")
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
                done: console.t(
                    "已将「\(Strings.field(conflict.field, of: conflict.kind, .chinese))」改为新值。",
                    "Set \(conflict.field) to the new value."))
        }
    }

    struct Unlink: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Separate two households linked as duplicates (they are different households).",
            discussion: """
                Example:
                  doorstep review unlink 1a2b3c4d 5e6f7a8b
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The surviving household's id (or its first characters).")
        var survivor: String

        @Argument(help: "The linked (alias) household's id (or its first characters).")
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
            try Review.report(result, console, done: console.t("已解除重复关联。", "The households are no longer linked."))
        }
    }

    struct Accept: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a change held from a revoked laptop as the office's decision.",
            discussion: """
                The change is applied as the office's own (over whatever the fields hold now); the \
                laptop, its seq and the time it was made stay in the household's history. Accept a \
                household's creation before the changes to it.

                Example:
                  doorstep review accept 1a2b3c4d:12
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The held change: its device's first characters and its seq, as `review list` shows them (DEVICE:SEQ).")
        var change: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let held = try Review.rejection(change, in: try await session.client.review(), console: console)
            // What is accepted, in full, before the answer.
            if held.mutation != nil { console.note(ReviewView(format: global.format).heldChange(held)) }
            let result = try await session.client.acceptHeld(device: held.device, seq: held.seq)
            try Review.report(result, console, done: console.t("已采纳该修改，作为旗区工会的决定。", "Accepted the change as the office's decision."))
        }
    }

    struct Dismiss: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a held or refused change aside, with a reason: nothing is applied.",
            discussion: """
                With --json: keys device, seq, closedAs (dismissed), closedBy, closedAt, reason.

                Example:
                  doorstep review dismiss 1a2b3c4d:12 --reason "已由办公室重新录入"
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The change: its device's first characters and its seq (DEVICE:SEQ).")
        var change: String

        @Option(help: "Why it is set aside (kept with the record).")
        var reason: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let rejection = try Review.rejection(change, in: try await session.client.review(), console: console)
            let closed = try await session.client.dismissRejection(device: rejection.device, seq: rejection.seq, reason: reason)
            try console.output(closed) { console.t("已不予采纳，移出待审核。", "Set aside; it left the review queue.") }
        }
    }
}
