/// A household with everything that belongs to it, as a pull delivers it: whole, whatever the cursor.
public struct HouseholdAggregate: Codable, Hashable, Sendable {
    /// The merged household (its id is the survivor's when households are linked).
    public var household: EntityState
    /// The households linked into this one as duplicates (same national ID); their ids stay aliases for good.
    public var aliases: [EntityID]
    /// Members, liaisons, problem and assistance items (tombstones included) and visits.
    public var entities: [EntityState]

    public init(household: EntityState, aliases: [EntityID] = [], entities: [EntityState] = []) {
        self.household = household
        self.aliases = aliases
        self.entities = entities
    }

    /// Every open conflict of the household and its entities.
    public var conflicts: [ConflictRecord] {
        household.conflicts + entities.flatMap(\.conflicts)
    }
}

/// One page of changes in the caller's scope after its cursor (`protocol/README.md` §9).
public struct PullPage: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    /// The cursor to send next time; it covers everything in this page.
    public var nextCursor: String
    /// Whether more changes wait after `nextCursor`.
    public var hasMore: Bool
    /// The server's clock, for the device to absorb.
    public var serverClock: HLC
    /// Households that changed (or entered the scope), each whole.
    public var households: [HouseholdAggregate]
    /// Households that left the scope (or were linked away): drop them and everything of theirs.
    public var removed: [EntityID]
    /// Protocol 1.3, when the pull asked `estimate=true`: households of the scope with a change
    /// after `nextCursor` (for a progress estimate only).
    public var remaining: Int?

    public init(
        protocolVersion: Int = ProtocolVersion.current, nextCursor: String, hasMore: Bool, serverClock: HLC,
        households: [HouseholdAggregate], removed: [EntityID], remaining: Int? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.nextCursor = nextCursor
        self.hasMore = hasMore
        self.serverClock = serverClock
        self.households = households
        self.removed = removed
        self.remaining = remaining
    }

    /// Every open conflict in the page.
    public var conflicts: [ConflictRecord] { households.flatMap(\.conflicts) }
}

/// The body of every error answer: `{ "error": { "code", "message" } }`.
public struct ErrorBody: Codable, Hashable, Sendable {
    public struct Detail: Codable, Hashable, Sendable {
        public var code: DoorstepError.Code
        public var message: String
        /// The message in Simplified Chinese, where the server wrote one (an added key of protocol 1).
        public var messageZh: String?
        /// The facts a reader explains the error by in its own language (protocol 1.1, §12 "Details").
        public var details: ErrorDetails?
    }

    public var error: Detail

    public init(_ error: DoorstepError) {
        self.error = Detail(
            code: error.code, message: error.message, messageZh: error.chineseMessage, details: error.details.isEmpty ? nil : error.details)
    }

    /// The error this body carries.
    public var doorstepError: DoorstepError {
        DoorstepError(error.code, error.message, zh: error.messageZh, details: error.details ?? ErrorDetails())
    }
}
