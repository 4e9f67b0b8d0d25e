public import DoorstepCore
public import Foundation

/// How a field client is set up.
public struct ClientConfiguration: Sendable {
    /// The local database file (created readable by its owner only).
    public var databasePath: String
    /// The city data used to validate input (districts).
    public var city: CityData
    /// Allow plain HTTP to a server that is not on this machine (never for real use).
    public var allowInsecureHTTP: Bool
    /// Mutations per pushed batch.
    public var batchSize: Int
    /// Households per pulled page.
    public var pullPageSize: Int
    /// Retries of network errors and 5xx answers.
    public var retry: RetryPolicy
    /// The wall clock, in milliseconds since the epoch.
    public var clock: @Sendable () -> Int64
    /// Makes the transport for a server address (tests may wrap it): by default the platform's,
    /// cutting a request whose link is silent for ``stallTimeout``.
    public var transport: @Sendable (URL) -> any SyncTransport {
        get {
            if let customTransport { return customTransport }
            let stall = stallTimeout
            return { url in ClientConfiguration.platformTransport(url, stallTimeout: stall) }
        }
        set { customTransport = newValue }
    }
    private var customTransport: (@Sendable (URL) -> any SyncTransport)?
    /// A request whose link moves no byte for this long (seconds) is cut and tried again; the sync
    /// goes on from what it stored. A slow link that still moves bytes is never cut (default 30).
    public var stallTimeout: TimeInterval = 30
    /// The time one pull page (or pushed batch) should take on the link as measured (seconds): on a
    /// slow link, pages and batches shrink to it, so a cut costs at most that much again (default 4).
    public var secondsPerRequest: Double = 4
    /// The bytes of an attachment's file sent per upload request (protocol 1.4): on a slow link
    /// a smaller part is acknowledged sooner (what a cut request carried is kept by the server).
    public var fileChunkBytes: Int = 1024 * 1024
    /// The bytes of attachments' files the laptop keeps once the server holds them (1 GiB): past
    /// it, the files used longest ago are removed from the laptop after a sync, and fetched again
    /// when opened. Files the server does not hold yet are never removed, whatever their size.
    public var fileBudgetBytes: Int64 = 1024 * 1024 * 1024
    /// Whether answers are asked for gzip-encoded and pushes sent so to a server that reads them
    /// (protocol 1.5, §18): by default for every server but one on this machine (loopback, where
    /// compressing costs time and saves nothing).
    public var compression = Compression.automatic
    /// How long the laptop keeps its own work after the server confirmed it (30 days): a server
    /// restored from an older backup is sent it again (protocol 1.7, §8 "Work a restored server lost").
    public var keepSettledFor: TimeInterval = 30 * 24 * 3600

    /// When the client compresses (protocol 1.5, §18).
    public enum Compression: Sendable, Hashable {
        /// For every server not on this machine.
        case automatic
        /// For every server (tests, measurements).
        case always
        /// Never: the bytes of protocol 1.4 (measurements).
        case never
    }

    /// Whether the client compresses with `server`.
    public func compresses(with server: URL) -> Bool {
        switch compression {
        case .always: true
        case .never: false
        case .automatic: !Self.isLoopback(server)
        }
    }

    /// Whether an address is this machine's (`localhost`, `127.x.x.x`, `::1`).
    static func isLoopback(_ server: URL) -> Bool {
        let host = (server.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The transport a client uses unless told otherwise: ``HTTPClientTransport`` on Linux
    /// (FoundationNetworking there ends the process on an answer cut inside its headers),
    /// ``URLSessionTransport`` elsewhere.
    public static let platformTransport: @Sendable (URL) -> any SyncTransport = { url in platformTransport(url, stallTimeout: 30) }

    /// The platform's transport to `url`, cutting a request silent for `stallTimeout` seconds.
    public static func platformTransport(_ url: URL, stallTimeout: TimeInterval) -> any SyncTransport {
        #if os(Linux)
        HTTPClientTransport(baseURL: url, timeout: stallTimeout)
        #else
        URLSessionTransport(baseURL: url, timeout: stallTimeout)
        #endif
    }

    public init(
        databasePath: String,
        city: CityData = .ordos,
        allowInsecureHTTP: Bool = false,
        batchSize: Int = 200,
        pullPageSize: Int = 200,
        retry: RetryPolicy = RetryPolicy(),
        clock: @escaping @Sendable () -> Int64 = HybridLogicalClock.systemMillis,
        transport: (@Sendable (URL) -> any SyncTransport)? = nil
    ) {
        self.databasePath = databasePath
        self.city = city
        self.allowInsecureHTTP = allowInsecureHTTP
        self.batchSize = batchSize
        self.pullPageSize = pullPageSize
        self.retry = retry
        self.clock = clock
        self.customTransport = transport
    }
}

extension ClientConfiguration {
    /// Checks a server address: https, or plain http only to this machine (loopback) unless
    /// ``allowInsecureHTTP``: the data is sensitive personal data.
    public func checkTransport(_ server: URL) throws(DoorstepError) {
        guard server.scheme == "http" || server.scheme == "https" else {
            throw DoorstepError(.invalidValue, "the server address must start with https:// (or http:// on this machine)")
        }
        guard server.scheme == "http", !allowInsecureHTTP else { return }
        let host = (server.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard Self.isLoopback(server) else {
            throw DoorstepError(.insecureTransport, "refusing plain HTTP to \(host): the data is sensitive; use https://, or --insecure for a test network")
        }
    }
}

/// What the device knows of its enrollment.
public struct Enrollment: Codable, Hashable, Sendable {
    public var device: DeviceID
    public var server: URL
    public var role: Role
    public var district: String?
    public var deviceName: String
    /// When this device learnt that its access was revoked (RFC 3339); `nil` while it may sync.
    public var revokedAt: String?
    /// Where its unsynced work was saved when it was revoked (an encrypted bundle for the office);
    /// `nil` when there was none.
    public var revokedBundle: String?

    public init(
        device: DeviceID, server: URL, role: Role, district: String?, deviceName: String,
        revokedAt: String? = nil, revokedBundle: String? = nil
    ) {
        self.device = device
        self.server = server
        self.role = role
        self.district = district
        self.deviceName = deviceName
        self.revokedAt = revokedAt
        self.revokedBundle = revokedBundle
    }
}

/// A household as lists show it.
public struct HouseholdSummary: Codable, Hashable, Sendable, Identifiable {
    public var id: EntityID
    public var headName: String
    /// Masked: `150602********123X`.
    public var nationalIdMasked: String
    public var address: String
    public var district: String
    public var status: HouseholdStatus?
    /// Open conflicts waiting for the office.
    public var conflicts: Int
    /// Whether the device holds unsynced changes to it.
    public var hasLocalChanges: Bool
}

/// A search over the households in scope; every condition given must hold.
public struct HouseholdQuery: Sendable, Hashable {
    /// Matches the head's name, the national ID or the address (a part of any).
    public var text: String?
    public var status: HouseholdStatus?
    public var district: String?
    /// Exactly this national ID (normalised: 18 characters, upper-case `X`).
    public var nationalID: String?
    /// Exactly this household (its survivor's id).
    public var id: EntityID?
    public var limit: Int

    public init(
        text: String? = nil, status: HouseholdStatus? = nil, district: String? = nil, nationalID: String? = nil, id: EntityID? = nil, limit: Int = 500
    ) {
        self.text = text
        self.status = status
        self.district = district
        self.nationalID = nationalID
        self.id = id
        self.limit = limit
    }
}

/// A home verification (入户核实) saved at once: ``FieldClient/recordVerification(_:for:)``.
public struct HomeVerification: Sendable, Hashable {
    /// A new member, liaison, problem- or assistance-list item.
    public struct NewEntry: Sendable, Hashable {
        public var kind: EntityKind
        public var fields: [String: JSONValue]

        public init(kind: EntityKind, fields: [String: JSONValue]) {
            self.kind = kind
            self.fields = fields
        }
    }

    /// The visit's fields (mode, verified facts, observed income, conclusion, proposed status, notes …).
    public var visit: [String: JSONValue]
    /// Corrections to the household's facts.
    public var householdChanges: [String: JSONValue]
    /// The heads each correction was made on, where the form said (else what the laptop shows
    /// when it is saved).
    public var householdBases: [String: [WriteID]] = [:]
    /// Corrections to its members, liaisons and list items, by entry.
    public var entryChanges: [EntityID: [String: JSONValue]]
    public var newEntries: [NewEntry]
    /// Proof documents collected at the door (protocol 1.4), attached to the visit.
    public var documents: [Document] = []

    /// A photo or scan taken at the door: its bytes as read, its file name and a caption.
    public struct Document: Sendable, Hashable {
        public var data: Data
        public var fileName: String
        public var caption: String?

        public init(data: Data, fileName: String, caption: String? = nil) {
            self.data = data
            self.fileName = fileName
            self.caption = caption
        }
    }

    public init(
        visit: [String: JSONValue], householdChanges: [String: JSONValue] = [:], householdBases: [String: [WriteID]] = [:],
        entryChanges: [EntityID: [String: JSONValue]] = [:], newEntries: [NewEntry] = [], documents: [Document] = []
    ) {
        self.visit = visit
        self.householdChanges = householdChanges
        self.householdBases = householdBases
        self.entryChanges = entryChanges
        self.newEntries = newEntries
        self.documents = documents
    }
}

/// What a saved home verification made: the visit's id, the new entries' and the documents', in order.
public struct SavedVerification: Sendable, Hashable {
    public var visit: EntityID
    public var newEntries: [EntityID]
    public var documents: [EntityID] = []
}

/// Where a sync is.
public struct SyncProgress: Sendable, Hashable {
    public enum Phase: String, Sendable { case pushing, pulling, done }
    public var phase: Phase
    /// Mutations sent while pushing; households received while pulling.
    public var done: Int
    /// The total: pending mutations while pushing; while pulling, the households the pull is
    /// expected to deliver, when the server estimated it (protocol 1.3: its first page's
    /// `remaining`), else `nil`. An estimate: a pull may end before or after it.
    public var total: Int?
    /// Bytes of request and answer bodies so far in this sync, both ways.
    public var bytes: Int64 = 0
    /// The bytes this phase is expected to reach, from its bytes so far per item and `total`.
    public var expectedBytes: Int64?
    /// Seconds this phase is expected to take still, from its time so far per item and `total`.
    public var secondsLeft: Double?

    public init(phase: Phase, done: Int, total: Int?, bytes: Int64 = 0, expectedBytes: Int64? = nil, secondsLeft: Double? = nil) {
        self.phase = phase
        self.done = done
        self.total = total
        self.bytes = bytes
        self.expectedBytes = expectedBytes
        self.secondsLeft = secondsLeft
    }

    /// The progress of a phase that started at `start` with `startBytes` sent and received:
    /// the time and bytes left estimated from the pace so far (none before the first item, or
    /// without a total).
    static func estimated(
        phase: Phase, done: Int, total: Int?, bytes: Int64, since start: ContinuousClock.Instant, startBytes: Int64,
        now: ContinuousClock.Instant = .now
    ) -> SyncProgress {
        var progress = SyncProgress(phase: phase, done: done, total: total, bytes: bytes)
        guard let total, done > 0 else { return progress }
        let left = max(0, total - done)
        let elapsed = now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        progress.secondsLeft = seconds / Double(done) * Double(left)
        let phaseBytes = max(0, bytes - startBytes)
        let expected = (Double(startBytes) + Double(phaseBytes) / Double(done) * Double(max(total, done))).rounded()
        // A figure no sync reaches (or not a number) is no estimate.
        if expected.isFinite, expected < Double(Int64.max / 2) { progress.expectedBytes = Int64(expected) }
        return progress
    }

    /// The most households a pull's estimate is taken to promise: a server's larger figure is
    /// read as this one, so that adding to it cannot overflow.
    static let largestEstimate = 1_000_000_000
}

/// What a finished sync did.
public struct SyncSummary: Sendable, Hashable, Codable {
    public var pushed: Int
    public var alreadyApplied: Int
    public var conflicts: Int
    public var quarantined: Int
    public var pulledHouseholds: Int
    public var removedHouseholds: Int
    public var clockSkew: Bool
    public var seconds: Double
    /// Bytes of request and answer bodies, both ways.
    public var bytes: Int64?
    /// Attachments' files the server now holds whole that it did not before this sync (1.4).
    public var filesSent: Int?
    /// Attachments' files made on this laptop that the server does not hold whole yet: the next
    /// sync goes on with them from the bytes the server holds (1.4).
    public var filesWaiting: Int?
    /// Confirmed work a restored server had lost, sent to it again from this laptop (protocol 1.7).
    public var sentAgain: Int?
    /// Seqs a restored server had lost that this laptop no longer held, declared lost (protocol 1.7).
    public var declaredLost: Int?
    /// Mutations a district relay holds whose outcome the city has not given yet (1.8, §19): kept
    /// on this laptop and sent again at the next sync, until the city's outcome comes back.
    public var relayed: Int?
}

/// A mutation the server refused, kept until the visitor fixes or discards it.
public struct QuarantinedMutation: Sendable, Hashable, Codable {
    public var seq: Int64
    public var household: EntityID
    public var mutation: Mutation
    public var code: DoorstepError.Code
    public var reason: String
    /// The server's reason in Simplified Chinese, when it gave one.
    public var reasonZh: String?
    public var at: String
    /// The facts the refusal is explained by, when the server gave them (protocol 1.1).
    public var details: ErrorDetails?

    /// How a reader shows the refusal in `language` (``DoorstepError/explain(code:details:message:messageZh:_:)``).
    public func explanation(_ language: Language) -> String {
        DoorstepError.explain(code: code, details: details, message: reason, messageZh: reasonZh, language)
    }
}

/// The device's state at a glance.
public struct ClientStatus: Sendable, Hashable, Codable {
    public var enrollment: Enrollment?
    public var pending: Int
    public var awaitingConfirmation: Int
    public var quarantined: Int
    public var households: Int
    /// Households with a conflict or a refused write waiting on the laptop (a refused write to a
    /// household the laptop does not hold, such as a refused creation, counts as one on its own).
    public var needingAttention: Int
    public var lastSyncAt: String?
    public var lastSyncError: String?
    /// This laptop's confirmed work kept for a server that may lose it (protocol 1.7).
    public var kept: Int = 0
    /// Work a restored server lost that this laptop no longer held, declared to it (protocol 1.7).
    public var lost: [LostWork] = []
}
