import Foundation

extension CampaignReport {
    /// Computes the campaign report from the data in scope. Pure: no clock, no I/O.
    ///
    /// - Parameters:
    ///   - city: the city's districts (time zones, minimum-living standards) and campaigns.
    ///   - campaign: the campaign reported on; its stage windows are local dates, read in each
    ///     district's time zone.
    ///   - today: the local date the report is "as of" (stage, days left, overdue items).
    ///   - districts: the district codes in scope, or `nil` for every district of the city.
    ///   - inputs: the households (merged survivors), their status history, the devices and the
    ///     review counts, as a storage backend gathers them.
    public static func make(
        city: CityData, campaign: Campaign, today: LocalDate, districts scope: [String]? = nil,
        inputs: ReportInputs
    ) -> CampaignReport {
        let histories = Dictionary(grouping: inputs.statusHistory, by: \.household)
        var seen = Set<EntityID>()
        let unique = inputs.households.filter { seen.insert($0.household.id).inserted }
        let byDistrict = Dictionary(grouping: unique) { $0.household["district"].stringValue ?? "" }
        return assemble(
            city: city, campaign: campaign, today: today, districts: scope, devices: inputs.devices, pendingReview: inputs.pendingReview
        ) { district in
            let context = DistrictContext(district: district, city: city, campaign: campaign, today: today)
            var section = Section(district: district.code, name: district.name, minimumLivingStandardFen: district.minimumLivingStandardFen)
            var weekly: [String: Int] = [:]
            for aggregate in byDistrict[district.code] ?? [] {
                let history = histories[aggregate.household.id] ?? []
                section.count(aggregate, history: history, context: context)
                let visible = aggregate.entities.filter(\.isVisible)
                for (key, count) in Self.weekly(visible: visible, history: history, timeZone: context.timeZone) { weekly[key, default: 0] += count }
            }
            section.weeks = Self.weeks(of: campaign, counts: weekly)
            return section
        }
    }

    /// The report around its district sections, however they were counted: lists sorted, the
    /// review counts and devices of each district, the total, the stage of `today`.
    static func assemble(
        city: CityData, campaign: Campaign, today: LocalDate, districts scope: [String]?, devices: [ReportDevice],
        pendingReview: [String: ReviewCounts], section make: (District) -> Section
    ) -> CampaignReport {
        let selected = city.districts.filter { scope?.contains($0.code) ?? true }
        var sections: [Section] = []
        for district in selected {
            var section = make(district)
            section.visitCoverage.missed.sort { $0.household < $1.household }
            section.wrongHouseholds.sort { $0.household < $1.household }
            section.review = pendingReview[district.code] ?? ReviewCounts()
            section.addDevices(devices.filter { $0.district == district.code })
            sections.append(section)
        }
        var total = Section(district: nil, name: city.city.name, minimumLivingStandardFen: nil)
        for section in sections { total.add(section) }
        if selected.count == city.districts.count {
            // City-wide: city devices (no district) belong to the total only.
            total.addDevices(devices)
        }
        return CampaignReport(
            campaign: CampaignSummary(campaign), today: today,
            stage: campaign.stage(on: today).map { StageToday($0, today: today) },
            districts: sections, total: total
        )
    }

    /// Computes the report from inputs given one by one (see ``make(city:campaign:today:districts:inputs:)``).
    public static func make(
        city: CityData, campaign: Campaign, today: LocalDate, districts scope: [String]? = nil,
        households: [HouseholdAggregate], statusHistory: [StatusChange], devices: [ReportDevice],
        pendingReview: [String: ReviewCounts]
    ) -> CampaignReport {
        make(
            city: city, campaign: campaign, today: today, districts: scope,
            inputs: ReportInputs(households: households, statusHistory: statusHistory, devices: devices, pendingReview: pendingReview))
    }

    /// The campaign a report covers when none is named: the one whose window contains `today`;
    /// else the most recent one to have started by then; else the first one to come.
    public static func defaultCampaign(in city: CityData, on today: LocalDate) -> Campaign? {
        let dated = city.campaigns.compactMap { campaign in campaign.start.map { (campaign, $0, campaign.end ?? $0) } }
        if let current = dated.first(where: { $0.1 <= today && today <= $0.2 }) { return current.0 }
        if let past = dated.filter({ $0.1 <= today }).max(by: { $0.1 < $1.1 }) { return past.0 }
        return dated.min { $0.1 < $1.1 }?.0 ?? city.campaigns.first
    }
}

/// What a district's section needs to read its households: its time zone and the campaign's instants there.
struct DistrictContext {
    let district: District
    let timeZone: TimeZone
    let today: LocalDate
    /// 00:00 of the campaign's first day in the district's time zone.
    let campaignStart: Date?
    let identification: CampaignStage?
    /// 00:00 of the identification stage's first day in the district's time zone.
    let identificationStart: Date?

    init(district: District, city: CityData, campaign: Campaign, today: LocalDate) {
        self.district = district
        let zone = TimeZone(identifier: district.timeZone) ?? TimeZone(identifier: city.city.timeZone) ?? TimeZone(secondsFromGMT: 0)
        timeZone = zone ?? .current
        self.today = today
        campaignStart = campaign.start.map { $0.startInstant(in: zone ?? .current) }
        identification = campaign.stage(.identification)
        identificationStart = identification.map { $0.start.startInstant(in: zone ?? .current) }
    }
}

extension CampaignReport.Section {
    private static let onRecord: Set<HouseholdStatus> = [.filed, .safetyNet, .outOfHardship]
    private static let identifiable: Set<HouseholdStatus> = [.candidate, .filed]

    /// Adds one household's figures to the section.
    mutating func count(_ aggregate: HouseholdAggregate, history: [StatusChange], context: DistrictContext) {
        let household = aggregate.household
        let status = household["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
        let visible = aggregate.entities.filter(\.isVisible)
        let visits = visible.filter { $0.kind == .visit && !$0.isVoided }
        let timeline = StatusTimeline(history: history, created: household.created, current: status)
        let reference = CampaignReport.HouseholdRef(
            household: household.id, nationalId: maskNationalID(household["nationalId"]), status: status,
            headName: household["headName"].stringValue)

        households += 1
        if let status { filesByStatus.now[status] += 1 }

        var statusAtStart: HouseholdStatus?
        if let start = context.campaignStart {
            statusAtStart = timeline.status(before: start)
            if let statusAtStart { filesByStatus.atStart[statusAtStart] += 1 } else { filesByStatus.createdSinceStart += 1 }
        }

        if household["fileLevel"] == "national", let statusAtStart, Self.onRecord.contains(statusAtStart) {
            exitRate = exitRate + CampaignReport.Ratio(status == .outOfHardship ? 1 : 0, over: 1)
            resolvedRate = resolvedRate + CampaignReport.Ratio(status == .outOfHardship || status == .safetyNet ? 1 : 0, over: 1)
        }

        if let stage = context.identification, let stageStart = context.identificationStart,
            timeline.wasAny(of: Self.identifiable, from: stageStart, through: stage.end, in: context.timeZone)
        {
            let visited = visits.contains { visit in
                guard visit["mode"] == "atHome", let at = visit["visitedAt"].stringValue.flatMap(Instant.parse) else { return false }
                return stage.contains(LocalDate(at, in: context.timeZone))
            }
            visitCoverage.rate = visitCoverage.rate + CampaignReport.Ratio(visited ? 1 : 0, over: 1)
            if !visited { visitCoverage.missed.append(reference) }
        }

        let items = AssistanceItems(visible)
        assistance.done += items.done
        assistance.cancelled += items.cancelled
        assistance.open += items.open
        assistance.overdue += items.dues.filter { $0 < context.today }.count

        if status != .closed {
            if let cause = household["primaryCause"].stringValue, HardshipCause(rawValue: cause) != nil { causes[cause, default: 0] += 1 }
            let persons = Int64(1 + visible.filter { $0.kind == .member }.count)
            // income / persons < standard, exactly, without dividing.
            if let income = household["monthlyIncomeFen"].intValue, income < context.district.minimumLivingStandardFen * persons {
                belowMinimumLiving += 1
            }
        }

        let latest = visits.compactMap { visit in visit["visitedAt"].stringValue.flatMap(Instant.parse).map { (at: $0, visit: visit) } }
            .max { ($0.at, $0.visit.created) < ($1.at, $1.visit.created) }
        if status == .filed, latest?.visit["conclusion"] == "notEligible" {
            wrong += 1
            wrongHouseholds.append(reference)
        }

        twice += aggregate.aliases.count
    }
}

/// A household's assistance items (visible ones), counted by status.
struct AssistanceItems {
    var done = 0
    var cancelled = 0
    /// Items `planned` or `inProgress`.
    var open = 0
    /// The due dates of the open items that have one (an item is overdue once its date is before today).
    var dues: [LocalDate] = []

    init(_ visible: [EntityState]) {
        for item in visible where item.kind == .assistance {
            switch item["status"].stringValue.flatMap(AssistanceStatus.init(rawValue:)) {
            case .done: done += 1
            case .cancelled: cancelled += 1
            case .planned, .inProgress:
                open += 1
                if let due = item["dueDate"].stringValue.flatMap({ try? LocalDate($0) }) { dues.append(due) }
            case nil: break
            }
        }
    }
}

/// A household's status over time, replayed from its status changes.
struct StatusTimeline {
    private var changes: [(at: Date, to: HouseholdStatus)]

    /// Orders the changes by their instant (recording order among equal instants). A household
    /// without any recorded change is taken to have had its current status since its creation stamp.
    init(history: [StatusChange], created: WriteID, current: HouseholdStatus?) {
        changes = history.enumerated()
            .compactMap { index, change in Instant.parse(change.at).map { (at: $0, index: index, to: change.to) } }
            .sorted { ($0.at, $0.index) < ($1.at, $1.index) }
            .map { (at: $0.at, to: $0.to) }
        if changes.isEmpty, let current {
            changes = [(at: Date(timeIntervalSince1970: Double(created.hlc.wallMillis) / 1000), to: current)]
        }
    }

    /// The status just before an instant; `nil` when the household did not exist yet.
    func status(before instant: Date) -> HouseholdStatus? {
        changes.last { $0.at < instant }?.to
    }

    /// Whether the household had one of the statuses at any time from `start` to the end of the local date `end`.
    func wasAny(of statuses: Set<HouseholdStatus>, from start: Date, through end: LocalDate, in timeZone: TimeZone) -> Bool {
        if let before = status(before: start), statuses.contains(before) { return true }
        return changes.contains { $0.at >= start && LocalDate($0.at, in: timeZone) <= end && statuses.contains($0.to) }
    }
}

extension LocalDate {
    /// 00:00 of this date in a time zone.
    func startInstant(in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: year, month: month, day: day))
            ?? Date(timeIntervalSince1970: Double(dayNumber) * 86_400 - Double(timeZone.secondsFromGMT()))
    }
}

/// A national ID masked for lists: `150602********123X`; anything else is masked whole.
func maskNationalID(_ value: JSONValue) -> String {
    guard let text = value.stringValue else { return "" }
    if let id = try? NationalID(text) { return id.masked }
    return text.count > 10
        ? String(text.prefix(6)) + String(repeating: "*", count: text.count - 10) + String(text.suffix(4)) : String(repeating: "*", count: text.count)
}
