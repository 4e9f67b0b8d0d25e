import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Visit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record home visits (走访记录), offline.",
        discussion: """
            Example:
              doorstep visit record 1a2b3c4d --conclusion eligible --verified income,cause
            """,
        subcommands: [Record.self, Void.self]
    )
}

extension Visit {
    struct Record: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a visit to a household: what was verified and the conclusion.",
            discussion: """
                A visit is an event: once recorded it is not edited (a correction is a new visit). Give it \
                as flags, or run it in a terminal with no flags to be asked for each item, each answer \
                checked as it is entered. The visitor's name defaults to $DOORSTEP_VISITOR, else the \
                device's name. Sync to send it. \
                With --json: keys id, household, kind, fields, pending.

                Examples:
                  doorstep visit record 1a2b3c4d
                  doorstep visit record 1a2b3c4d --date 2020-04-12 --mode atHome \\
                    --verified income,cause,members --conclusion eligible \\
                    --proposed-status filed --observed-income-yuan 1200 --visitor 张三
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The household's id (or its first characters).")
        var household: String

        @Option(help: "When: YYYY-MM-DD, YYYY-MM-DD HH:MM (the district's time) or RFC 3339 (default: now).")
        var date: String?

        @Option(help: "How: online or atHome (default atHome).")
        var mode: String?

        @Option(help: "What was verified, comma-separated: cause, income, members, skills, difficulty, address.")
        var verified: String?

        @Option(help: "Conclusion: eligible, notEligible, needsFollowUp.")
        var conclusion: String?

        @Option(name: .customLong("proposed-status"), help: "The status the visitor proposes to the office.")
        var proposedStatus: String?

        @Option(name: .customLong("observed-income-fen"), help: "Monthly household income found at the visit, in fen.")
        var observedIncomeFen: String?

        @Option(name: .customLong("observed-income-yuan"), help: "The same in yuan, e.g. 1200.50.")
        var observedIncomeYuan: String?

        @Option(help: "Notes.")
        var notes: String?

        @Option(help: "The visitor's name (default: $DOORSTEP_VISITOR, else the device's name).")
        var visitor: String?

        @Flag(name: .customLong("interactive"), help: .hidden)
        var interactive = false

        func validate() throws {
            if observedIncomeFen != nil && observedIncomeYuan != nil {
                throw Usage.error(
                    "核实收入只能给一次：--observed-income-fen 或 --observed-income-yuan", "give the observed income once: --observed-income-fen or --observed-income-yuan"
                )
            }
        }

        func run() async throws {
            let (client, enrollment) = try await global.enrolledClient()
            let console = global.console
            let city = global.city
            let householdID = try await Resolve.household(household, in: client, console: console)
            let zone = VisitTime.zone(of: try await client.household(householdID)?.household["district"].stringValue, city: city)
            let given: [(String, String?, TypedInput.MoneyUnit)] = [
                ("visitedAt", date.map { VisitTime.instant($0, zone: zone) }, .yuan), ("visitor", visitor, .yuan), ("mode", mode, .yuan),
                ("verified", verified, .yuan), ("conclusion", conclusion, .yuan), ("proposedStatus", proposedStatus, .yuan),
                ("observedIncomeFen", observedIncomeFen, .fen), ("observedIncomeFen", observedIncomeYuan, .yuan), ("notes", notes, .yuan),
            ]
            var values: [String: JSONValue] = [:]
            for case let (field, text?, unit) in given {
                values[field] = try TypedInput.value(text, field: field, of: .visit, city: city, moneyUnit: unit)
            }
            let defaultVisitor = ProcessInfo.processInfo.environment["DOORSTEP_VISITOR"].flatMap { $0.isEmpty ? nil : $0 } ?? enrollment.deviceName
            if interactive || (values.isEmpty && Console.stdinIsTerminal) {
                console.note(console.t("记录走访：* 为必填项，方括号内为默认值，直接回车采用。", "Record a visit: * is required; Enter takes the value in brackets."))
                let prompter = Prompter(console: console, format: global.format)
                for spec in EntityKind.visit.fields where values[spec.name] == nil {
                    var question = Prompter.Question(field: spec.name, kind: .visit)
                    switch spec.name {
                    case "visitedAt":
                        question.current = .string(Instant.format(Date(), in: zone))
                        question.prepare = { VisitTime.instant($0, zone: zone) }
                        question.hint = "YYYY-MM-DD HH:MM"
                    case "visitor": question.current = .string(defaultVisitor)
                    case "mode": question.current = .string(VisitMode.atHome.rawValue)
                    default: break
                    }
                    values[spec.name] = try prompter.ask(question)
                }
            }
            if values["visitedAt"] == nil { values["visitedAt"] = .string(Instant.format(Date(), in: zone)) }
            if values["visitor"] == nil { values["visitor"] = .string(defaultVisitor) }
            if values["mode"] == nil { values["mode"] = .string(VisitMode.atHome.rawValue) }
            values = values.filter { !$0.value.isNull }
            let id = try await client.recordVisit(to: householdID, values)
            let pending = try await client.status().pending
            try console.output(LocalWrite(id: id, household: householdID, kind: .visit, fields: values.keys.sorted(), pending: pending)) {
                console.t("已记录走访，编号 \(id)", "Visit recorded, id \(id)")
            }
            console.note(console.t("运行 doorstep sync 上传到服务器。", "Run doorstep sync to send it to the server."))
        }
    }
}

/// Visit times as people type them, made into RFC 3339 instants in the district's time zone.
extension Visit {
    struct Void: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "void",
            abstract: "Void a mistaken visit (office): it stays in the history, reports ignore it.",
            discussion: """
                Visits are never changed: a visit recorded by mistake (the wrong household, a date \
                far off) is voided by the office with a reason, and a correct one recorded. \
                --restore undoes a void. Needs an office device or token; with --json the server's \
                result (seq, outcome, code, reason).

                Examples:
                  doorstep visit void 3c4d5e6f --reason "误录到其他户"
                  doorstep visit void 3c4d5e6f --restore
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The visit's id (or its first characters, among the visits on this device).")
        var visit: String

        @Option(help: "Why the visit is void (1 to 200 characters).")
        var reason: String?

        @Flag(help: "Restore a voided visit.")
        var restore = false

        func validate() throws {
            if restore == (reason != nil) {
                throw Usage.error("作废请给出 --reason 理由，恢复请用 --restore", "give --reason TEXT to void the visit, or --restore to undo a void")
            }
        }

        func run() async throws {
            let console = global.console
            let session = try await global.office()
            let id: EntityID
            if let whole = try? EntityID(visit) {
                id = whole
            } else {
                let (client, _) = try await global.enrolledClient()
                var known: [EntityID] = []
                for (household, entry) in try await client.entries(withIDPrefix: visit) {
                    if try await client.household(household)?.entities.contains(where: { $0.id == entry && $0.kind == .visit }) == true { known.append(entry) }
                }
                id = try Resolve.unique(visit, among: known, id: \.description, what: console.t("走访记录", "visit"), console: console)
            }
            let result = try await session.client.voidVisit(id, reason: restore ? nil : reason)
            try Review.report(
                result, console,
                done: restore
                    ? console.t("已恢复该走访记录。", "The visit is restored.")
                    : console.t("已作废该走访记录（历史中保留）。", "The visit is void (it stays in the history)."))
        }
    }
}

enum VisitTime {
    static func zone(of district: String?, city: CityData) -> TimeZone {
        let identifier = district.flatMap { city.district($0)?.timeZone } ?? city.city.timeZone
        return TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current
    }

    /// `2020-04-12` (noon, or now when that day is today and noon has not come), `2020-04-12 10:30`
    /// or `now` in the zone; anything else is kept as typed.
    static func instant(_ text: String, zone: TimeZone, now: Date = Date()) -> String {
        let trimmed = TypedInput.date(text)
        if trimmed.lowercased() == "now" || trimmed == "现在" { return Instant.format(now, in: zone) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for pattern in ["yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] where trimmed.count == pattern.replacingOccurrences(of: "'", with: "").count {
            formatter.dateFormat = pattern
            if var date = formatter.date(from: trimmed) {
                if pattern == "yyyy-MM-dd" { date = min(date + 12 * 3600, max(date, now)) }
                return Instant.format(date, in: zone)
            }
        }
        return trimmed
    }
}
