/// One change of a household's status, as the audit history records it.
///
/// Reports replay these to find a household's status at an earlier instant (the campaign's
/// start, the identification stage). `from` is `nil` for the write that created the household.
public struct StatusChange: Codable, Hashable, Sendable {
    /// The household, by its survivor id (changes written to an alias are reported under the survivor).
    public var household: EntityID
    /// When the change was made, RFC 3339 with an offset.
    public var at: String
    /// The status before the change; `nil` when the household did not exist yet.
    public var from: HouseholdStatus?
    /// The status written.
    public var to: HouseholdStatus

    public init(household: EntityID, at: String, from: HouseholdStatus?, to: HouseholdStatus) {
        self.household = household
        self.at = at
        self.from = from
        self.to = to
    }
}

/// An enrolled device as a report shows it: when it last synced, and whether its clock was flagged.
public struct ReportDevice: Codable, Hashable, Sendable {
    /// The device id.
    public var id: DeviceID
    /// The name given at enrollment.
    public var name: String
    /// The district the device is bound to; `nil` for a city device.
    public var district: String?
    /// The last push or pull, RFC 3339; `nil` when it never synced.
    public var lastSyncAt: String?
    /// Whether the device sent clock stamps too far ahead of the server (`protocol/README.md` §4).
    public var clockFlagged: Bool
    /// When the device's access was revoked, RFC 3339; `nil` while it is enrolled.
    public var revokedAt: String?

    public init(id: DeviceID, name: String, district: String?, lastSyncAt: String?, clockFlagged: Bool, revokedAt: String? = nil) {
        self.id = id
        self.name = name
        self.district = district
        self.lastSyncAt = lastSyncAt
        self.clockFlagged = clockFlagged
        self.revokedAt = revokedAt
    }
}

/// What waits for an office's review in one district.
public struct ReviewCounts: Codable, Hashable, Sendable {
    /// Open conflict records (one per entity and field).
    public var conflicts: Int
    /// Duplicate links (aliases) not undone.
    public var duplicates: Int
    /// Rejected mutations in the rejection log.
    public var rejections: Int

    public init(conflicts: Int = 0, duplicates: Int = 0, rejections: Int = 0) {
        self.conflicts = conflicts
        self.duplicates = duplicates
        self.rejections = rejections
    }

    /// The sum of two districts' counts.
    public static func + (lhs: ReviewCounts, rhs: ReviewCounts) -> ReviewCounts {
        ReviewCounts(
            conflicts: lhs.conflicts + rhs.conflicts, duplicates: lhs.duplicates + rhs.duplicates,
            rejections: lhs.rejections + rhs.rejections)
    }
}

/// Everything a campaign report is computed from, as a storage backend gathers it.
///
/// The same inputs give the same report on the server, in the CLI and in the dashboard:
/// ``CampaignReport/make(city:campaign:today:districts:inputs:)`` is the one computation.
public struct ReportInputs: Codable, Hashable, Sendable {
    /// The households in scope, merged survivors only (each household once).
    public var households: [HouseholdAggregate]
    /// The status changes of those households, in the order they were recorded.
    public var statusHistory: [StatusChange]
    /// The enrolled devices in scope.
    public var devices: [ReportDevice]
    /// What waits for review, by district code.
    public var pendingReview: [String: ReviewCounts]

    public init(
        households: [HouseholdAggregate] = [], statusHistory: [StatusChange] = [], devices: [ReportDevice] = [],
        pendingReview: [String: ReviewCounts] = [:]
    ) {
        self.households = households
        self.statusHistory = statusHistory
        self.devices = devices
        self.pendingReview = pendingReview
    }
}
