extension CampaignReport {
    /// The figures of one district, or of the report's total.
    ///
    /// Each household is counted once, under the district it is in now. Deleted child entities
    /// (tombstoned and not visible) never count.
    public struct Section: Codable, Hashable, Sendable {
        /// The district code; absent in the total.
        public var district: String?
        /// The district's name (the city's name in the total).
        public var name: LocalizedName
        /// The district's monthly per-capita minimum-living standard in fen; absent in the total.
        public var minimumLivingStandardFen: Int64?
        /// Households in the section (merged survivors).
        public var households = 0
        /// Files by status, now and at the campaign's start.
        public var filesByStatus = FilesByStatus()
        /// Home-visit coverage of the identification stage, with the missed households.
        public var visitCoverage = VisitCoverage()
        /// Exit rate (脱困率): national-level files on record at the campaign's start (status `filed`,
        /// `safetyNet` or `outOfHardship` then) that are `outOfHardship` now, over all such files.
        public var exitRate = Ratio(0, over: 0)
        /// Resolved rate (解困脱困率): the same files that are `outOfHardship` or `safetyNet` now, over all such files.
        public var resolvedRate = Ratio(0, over: 0)
        /// Assistance items done, open and overdue.
        public var assistance = AssistanceCounts()
        /// Households not `closed`, by primary cause (every cause's wire name is present, 0 included).
        public var causes: [String: Int] = Dictionary(uniqueKeysWithValues: HardshipCause.wireNames.map { ($0, 0) })
        /// Wrong files (错): households whose latest visit concluded `notEligible` while they are still `filed`.
        public var wrong = 0
        /// The wrong files, by id.
        public var wrongHouseholds: [HouseholdRef] = []
        /// Twice (重复): duplicate links, one per alias household merged into a survivor.
        public var twice = 0
        /// What waits for review: conflicts, duplicate links, rejections.
        public var review = ReviewCounts()
        /// Households not `closed` whose per-capita monthly income (household income over the head
        /// plus the visible members) is below the district's minimum-living standard.
        public var belowMinimumLiving = 0
        /// The devices of the district (in the total: every device in scope), with their last sync.
        public var devices: [ReportDevice] = []
        /// How many of `devices` are flagged for a wrong clock.
        public var clockFlaggedDevices = 0
        /// The campaign's course week by week, from its first week to its last (the deadline),
        /// quiet weeks included (protocol 1.6); empty for a campaign without stages; absent from
        /// a server before 1.6 (so optional: a 1.6 client reads an older server's report).
        public var weeks: [Weekly]?

        public init(district: String?, name: LocalizedName, minimumLivingStandardFen: Int64?) {
            self.district = district
            self.name = name
            self.minimumLivingStandardFen = minimumLivingStandardFen
        }

        /// Adds another section's figures to this one (for the total): counts add up, lists are
        /// joined and sorted, rates are recomputed from the summed numerators and denominators.
        public mutating func add(_ other: Section) {
            households += other.households
            filesByStatus.now = filesByStatus.now + other.filesByStatus.now
            filesByStatus.atStart = filesByStatus.atStart + other.filesByStatus.atStart
            filesByStatus.createdSinceStart += other.filesByStatus.createdSinceStart
            visitCoverage.rate = visitCoverage.rate + other.visitCoverage.rate
            visitCoverage.missed = (visitCoverage.missed + other.visitCoverage.missed).sorted { $0.household < $1.household }
            exitRate = exitRate + other.exitRate
            resolvedRate = resolvedRate + other.resolvedRate
            assistance = assistance + other.assistance
            for (cause, count) in other.causes { causes[cause, default: 0] += count }
            wrong += other.wrong
            wrongHouseholds = (wrongHouseholds + other.wrongHouseholds).sorted { $0.household < $1.household }
            twice += other.twice
            review = review + other.review
            belowMinimumLiving += other.belowMinimumLiving
            addDevices(other.devices)
            if let more = other.weeks {
                if var sum = weeks, !sum.isEmpty {
                    for index in sum.indices where index < more.count && more[index].week == sum[index].week {
                        sum[index].visits += more[index].visits
                        sum[index].outOfHardship += more[index].outOfHardship
                        sum[index].safetyNet += more[index].safetyNet
                    }
                    weeks = sum
                } else {
                    weeks = more
                }
            }
        }

        /// Lists devices in the section, keeping each device once, sorted by id.
        mutating func addDevices(_ more: [ReportDevice]) {
            var byID = Dictionary(devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for device in more where byID[device.id] == nil { byID[device.id] = device }
            devices = byID.values.sorted { $0.id < $1.id }
            clockFlaggedDevices = devices.filter(\.clockFlagged).count
        }
    }
}
