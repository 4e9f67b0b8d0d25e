import Foundation

/// Why a household is on a visitor's worklist.
public enum WorkReason: String, CaseIterable, Codable, CodingKeyRepresentable, Hashable, Sendable {
    /// A candidate or filed household with no home visit (mode `atHome`) in the current stage of the campaign.
    case notVerified
    /// Its latest visit concluded `needsFollowUp`.
    case followUp
    /// An open assistance item (planned or in progress) is due within a week, or overdue.
    case assistanceDue
    /// A conflict, or a write of this laptop the server refused, waits for a decision.
    case attention

    /// Its name for people.
    public func label(_ language: Language) -> String { Texts.text("value.workReason.\(rawValue)", language) }
}

/// What a worklist needs to know of a household beyond its listed facts, kept beside it on the
/// laptop so that the worklist reads no visits or items: computed from the household's entries,
/// and kept up to date one new visit at a time. Instants are in UTC (`2020-04-12T02:30:00Z`), so
/// that their texts compare as instants.
public struct HouseholdWorkFacts: Hashable, Sendable {
    /// When the latest home visit (mode `atHome`, not voided) took place.
    public var lastHomeVisitAt: String?
    /// When the latest visit of any mode (not voided) took place.
    public var latestVisitAt: String?
    /// Whether that latest visit concluded `needsFollowUp`.
    public var followUp: Bool
    /// The earliest due date of an open assistance item (planned or in progress).
    public var nextDue: LocalDate?

    public init(lastHomeVisitAt: String? = nil, latestVisitAt: String? = nil, followUp: Bool = false, nextDue: LocalDate? = nil) {
        self.lastHomeVisitAt = lastHomeVisitAt
        self.latestVisitAt = latestVisitAt
        self.followUp = followUp
        self.nextDue = nextDue
    }

    /// The facts of a household from all its entries (visits, assistance items).
    public init(_ aggregate: HouseholdAggregate) {
        self.init()
        for entity in aggregate.entities where entity.isVisible {
            switch entity.kind {
            case .visit: add(visit: entity)
            case .assistance: nextDue = Self.earlier(nextDue, Self.due(entity))
            default: break
            }
        }
    }

    /// Takes in one more visit (a new one, recorded on this laptop).
    public mutating func add(visit: EntityState) {
        guard visit.kind == .visit, !visit.isVoided, let at = visit["visitedAt"].stringValue.flatMap(Instant.parse) else { return }
        let utc = Instant.format(at, in: .gmt)
        if visit["mode"] == "atHome", lastHomeVisitAt.map({ utc > $0 }) ?? true { lastHomeVisitAt = utc }
        if latestVisitAt.map({ utc >= $0 }) ?? true {
            latestVisitAt = utc
            followUp = visit["conclusion"] == "needsFollowUp"
        }
    }

    /// The earliest due date of the open items among `items` (assistance items; others are ignored).
    public static func nextDue(of items: [EntityState]) -> LocalDate? {
        items.filter { $0.kind == .assistance && $0.isVisible }.reduce(nil) { earlier($0, due($1)) }
    }

    /// The due date of an open assistance item; `nil` when it is done, cancelled or has none.
    static func due(_ item: EntityState) -> LocalDate? {
        guard let status = item["status"].stringValue.flatMap(AssistanceStatus.init(rawValue:)), status == .planned || status == .inProgress else {
            return nil
        }
        return item["dueDate"].stringValue.flatMap { try? LocalDate($0) }
    }

    static func earlier(_ a: LocalDate?, _ b: LocalDate?) -> LocalDate? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.min(a, b)
    }

    /// The reasons a household is on the worklist on `today`: `stageStart` is when its current
    /// stage (or campaign) began, as an instant in UTC; `waiting`, whether a decision waits on the laptop.
    public func reasons(today: LocalDate, stageStart: String?, status: HouseholdStatus?, waiting: Bool) -> [WorkReason] {
        var reasons: [WorkReason] = []
        if let status, status == .candidate || status == .filed, let stageStart, lastHomeVisitAt.map({ $0 < stageStart }) ?? true {
            reasons.append(.notVerified)
        }
        if followUp { reasons.append(.followUp) }
        if let nextDue, nextDue <= today.adding(days: WorkReason.dueWithinDays) { reasons.append(.assistanceDue) }
        if waiting { reasons.append(.attention) }
        return reasons
    }
}

extension WorkReason {
    /// An assistance item due within this many days is on the worklist.
    public static let dueWithinDays = 7

    /// When the current stage of the city's campaign on `today` began (or the campaign, when no
    /// stage is under way; `nil` with no campaign at all), as an instant in UTC: 00:00 of its first
    /// day in the city's time zone. Home visits before it do not count for this stage.
    public static func stageStart(city: CityData, campaigns: [Campaign] = [], today: LocalDate) -> String? {
        var known = city
        if !campaigns.isEmpty { known.campaigns = campaigns }
        guard let campaign = CampaignReport.defaultCampaign(in: known, on: today),
            let start = campaign.stage(on: today)?.start ?? campaign.start
        else { return nil }
        let zone = TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current
        return Instant.format(start.startInstant(in: zone), in: .gmt)
    }
}
