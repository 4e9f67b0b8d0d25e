import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Visit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.visit.recordHomeVisitsOffline"),
        discussion: Help.text("help.visit.exampleDoorstepVisitRecord1a2b3c4d"),
        subcommands: [Record.self, Void.self]
    )
}

extension Visit {
    struct Record: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.visit.recordAVisitToA"),
            discussion: Help.text("help.visit.aVisitIsAnEvent")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var household: String

        @Option(help: .text("help.visit.whenYyyyMmDdYyyy"))
        var date: String?

        @Option(help: .text("help.visit.howOnlineOrAthomeDefault"))
        var mode: String?

        @Option(help: .text("help.visit.whatWasVerifiedCommaSeparated"))
        var verified: String?

        @Option(help: .text("help.visit.conclusionEligibleNoteligibleNeedsfollowup"))
        var conclusion: String?

        @Option(name: .customLong("proposed-status"), help: .text("help.visit.theStatusTheVisitorProposes"))
        var proposedStatus: String?

        @Option(name: .customLong("observed-income-fen"), help: .text("help.visit.monthlyHouseholdIncomeFoundAt"))
        var observedIncomeFen: String?

        @Option(name: .customLong("observed-income-yuan"), help: .text("help.visit.theSameInYuanE"))
        var observedIncomeYuan: String?

        @Option(help: .text("help.visit.notes"))
        var notes: String?

        @Option(help: .text("help.visit.theVisitorNameDefaultDoorstep"))
        var visitor: String?

        @Flag(name: .customLong("interactive"), help: .hidden)
        var interactive = false

        func validate() throws {
            if observedIncomeFen != nil && observedIncomeYuan != nil {
                throw Usage.error(
                    "cli.visit.giveTheObservedIncomeOnce")
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
                console.note(console.t("cli.visit.recordAVisitIsRequired"))
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
                console.t("cli.visit.visitRecordedId", ["id": "\(id)"])
            }
            console.note(console.t("cli.common.runDoorstepSyncToSend"))
        }
    }
}

/// Visit times as people type them, made into RFC 3339 instants in the district's time zone.
extension Visit {
    struct Void: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "void",
            abstract: Help.text("help.visit.voidAMistakenVisitOffice"),
            discussion: Help.text("help.visit.visitsAreNeverChangedA")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.visit.theVisitIdOrIts"))
        var visit: String

        @Option(help: .text("help.visit.whyTheVisitIsVoid"))
        var reason: String?

        @Flag(help: .text("help.visit.restoreAVoidedVisit"))
        var restore = false

        func validate() throws {
            if restore == (reason != nil) {
                throw Usage.error("cli.visit.giveReasonTextToVoid")
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
                id = try Resolve.unique(visit, among: known, id: \.description, what: console.t("cli.visit.visit"), console: console)
            }
            let result = try await session.client.voidVisit(id, reason: restore ? nil : reason)
            try Review.report(
                result, console,
                done: restore
                    ? console.t("cli.visit.theVisitIsRestored")
                    : console.t("cli.visit.theVisitIsVoidIt"))
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
