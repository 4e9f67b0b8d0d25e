/// The campaign report (督查考核) of `docs/DOMAIN.md`, "What offices report": per district and city-wide,
/// for one campaign, as of one local date.
///
/// One computation, three views: the JSON API (`GET /v1/reports`), the CLI and the dashboard all
/// show this value, made by ``make(city:campaign:today:districts:inputs:)``.
///
/// Rates are exact integers: a ``Ratio`` carries its numerator and denominator, and `perMille`
/// (rounded half up) for display; a view that wants a percentage shows `perMille / 10`.
/// Nothing in the report is a floating-point number.
public struct CampaignReport: Codable, Hashable, Sendable {
    /// The campaign the report is for.
    public var campaign: CampaignSummary
    /// The local date the report is "as of" (the city's time zone): it picks the stage, the days
    /// left and which assistance items are overdue. Every other figure is the data as it stands.
    public var today: LocalDate
    /// The campaign stage `today` falls in; absent between or outside the stages.
    public var stage: StageToday?
    /// One section per district in scope, in the order of the city data.
    public var districts: [Section]
    /// The sum of the district sections (city-wide when every district is in scope); its `district` is absent.
    public var total: Section

    public init(campaign: CampaignSummary, today: LocalDate, stage: StageToday?, districts: [Section], total: Section) {
        self.campaign = campaign
        self.today = today
        self.stage = stage
        self.districts = districts
        self.total = total
    }

    /// The section of a district, if it is in the report.
    public func section(_ district: String) -> Section? {
        districts.first { $0.district == district }
    }
}

extension CampaignReport {
    /// The campaign's id, names and window.
    public struct CampaignSummary: Codable, Hashable, Sendable {
        /// The campaign's id in the city data, e.g. `2020`.
        public var id: String
        /// The campaign's name in both languages.
        public var name: LocalizedName
        /// The first day of the first stage.
        public var start: LocalDate?
        /// The last day of the last stage.
        public var end: LocalDate?

        /// The summary of a campaign.
        public init(_ campaign: Campaign) {
            id = campaign.id
            name = campaign.name
            start = campaign.start
            end = campaign.end
        }
    }

    /// The stage `today` falls in, and how many days are left in it.
    public struct StageToday: Codable, Hashable, Sendable {
        /// Which stage it is.
        public var stage: CampaignStageKind
        /// The stage's name in both languages.
        public var name: LocalizedName
        /// The stage's first day.
        public var start: LocalDate
        /// The stage's last day.
        public var end: LocalDate
        /// Days from `today` to the stage's last day: 0 on the last day itself.
        public var daysLeft: Int

        /// Describes `stage` as seen on `today`.
        public init(_ stage: CampaignStage, today: LocalDate) {
            self.stage = stage.stage
            name = stage.name
            start = stage.start
            end = stage.end
            daysLeft = today.days(until: stage.end)
        }
    }

    /// A rate as an exact fraction, with a rounded per-mille figure for display.
    public struct Ratio: Codable, Hashable, Sendable {
        /// The households counted.
        public var numerator: Int
        /// The households they are counted among.
        public var denominator: Int
        /// `numerator × 1000 / denominator`, rounded half up; absent when the denominator is 0.
        public var perMille: Int?

        /// `numerator` over `denominator`, with the per-mille figure computed.
        public init(_ numerator: Int, over denominator: Int) {
            self.numerator = numerator
            self.denominator = denominator
            perMille = denominator > 0 ? (numerator * 1000 + denominator / 2) / denominator : nil
        }

        /// The sum of two ratios' numerators over the sum of their denominators.
        public static func + (lhs: Ratio, rhs: Ratio) -> Ratio {
            Ratio(lhs.numerator + rhs.numerator, over: lhs.denominator + rhs.denominator)
        }
    }

    /// Files counted by status.
    public struct StatusCounts: Codable, Hashable, Sendable {
        /// Files with status `candidate`.
        public var candidate = 0
        /// Files with status `filed`.
        public var filed = 0
        /// Files with status `outOfHardship`.
        public var outOfHardship = 0
        /// Files with status `safetyNet`.
        public var safetyNet = 0
        /// Files with status `closed`.
        public var closed = 0

        public init() {}

        /// The count of one status.
        public subscript(status: HouseholdStatus) -> Int {
            get {
                switch status {
                case .candidate: candidate
                case .filed: filed
                case .outOfHardship: outOfHardship
                case .safetyNet: safetyNet
                case .closed: closed
                }
            }
            set {
                switch status {
                case .candidate: candidate = newValue
                case .filed: filed = newValue
                case .outOfHardship: outOfHardship = newValue
                case .safetyNet: safetyNet = newValue
                case .closed: closed = newValue
                }
            }
        }

        /// Every status counted.
        public var total: Int { HouseholdStatus.allCases.reduce(0) { $0 + self[$1] } }

        /// The counts of two sections added status by status.
        public static func + (lhs: StatusCounts, rhs: StatusCounts) -> StatusCounts {
            var sum = lhs
            for status in HouseholdStatus.allCases { sum[status] += rhs[status] }
            return sum
        }
    }

    /// Files by status now and at the campaign's start.
    public struct FilesByStatus: Codable, Hashable, Sendable {
        /// The shown status of each household now.
        public var now = StatusCounts()
        /// The status each household had when the campaign began (00:00 of its first day in the
        /// district's time zone), replayed from the status history.
        public var atStart = StatusCounts()
        /// Households that did not exist yet at the campaign's start (not in `atStart`).
        public var createdSinceStart = 0

        public init() {}
    }

    /// A household named in a list (missed, wrong), with its national ID masked.
    public struct HouseholdRef: Codable, Hashable, Sendable {
        public var household: EntityID
        /// The head's national ID, masked: `150602********123X`.
        public var nationalId: String
        /// The household's status now.
        public var status: HouseholdStatus?
        /// The head's name, so that a list reads as people (an added key of protocol 1).
        public var headName: String?

        public init(household: EntityID, nationalId: String, status: HouseholdStatus?, headName: String? = nil) {
            self.household = household
            self.nationalId = nationalId
            self.status = status
            self.headName = headName
        }
    }

    /// Home-visit coverage of the identification stage.
    public struct VisitCoverage: Codable, Hashable, Sendable {
        /// Households with an at-home visit dated inside the stage, over every household that was
        /// `candidate` or `filed` at any time during the stage.
        public var rate = Ratio(0, over: 0)
        /// How many households were missed: `missed` names them (all of them, unless the report was asked for the first few).
        public var missedCount: Int { rate.denominator - rate.numerator }
        /// The households counted in the denominator but not the numerator (漏), by id.
        public var missed: [HouseholdRef] = []

        public init() {}
    }

    /// The assistance list's items (not deleted).
    public struct AssistanceCounts: Codable, Hashable, Sendable {
        /// Items with status `done`.
        public var done = 0
        /// Items `planned` or `inProgress`.
        public var open = 0
        /// Open items whose due date is before `today`.
        public var overdue = 0
        /// Items with status `cancelled` (neither done nor open).
        public var cancelled = 0

        public init() {}

        /// The counts of two sections added up.
        public static func + (lhs: AssistanceCounts, rhs: AssistanceCounts) -> AssistanceCounts {
            var sum = lhs
            sum.done += rhs.done
            sum.open += rhs.open
            sum.overdue += rhs.overdue
            sum.cancelled += rhs.cancelled
            return sum
        }
    }
}
