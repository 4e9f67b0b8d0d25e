/// The protocol version this build speaks, and the oldest it still serves.
public enum ProtocolVersion {
    /// The version this build writes.
    public static let current = 1
    /// The versions a server of this build serves (the current and the previous one).
    public static let served: ClosedRange<Int> = 1...1
    /// The HTTP header that names the protocol version of every request.
    public static let header = "Doorstep-Protocol"
    /// The revision of the current version this build implements (additions only: `protocol/README.md` §13).
    public static let revision = "1.8"
    /// The request header that names the revision a client reads (protocol 1.4, §13.4).
    public static let revisionHeader = "Doorstep-Revision"
    /// The first revision with attachments: a request that reads an older one is sent none.
    public static let attachmentsRevision = (major: 1, minor: 4)

    /// The first revision that reads gzip-encoded request bodies (§18).
    public static let compressionRevision = (major: 1, minor: 5)

    /// The first revision that reads `lost` in a batch (§8 "Work a restored server lost").
    public static let lostWorkRevision = (major: 1, minor: 7)

    /// The first revision with district relays and signed pushes (§19).
    public static let relayRevision = (major: 1, minor: 8)

    /// Whether a server of this revision takes `lost` in a batch (`1.7` or later).
    public static func readsLostWork(_ revision: String?) -> Bool {
        guard let revision = parse(revision) else { return false }
        return revision >= lostWorkRevision
    }

    /// Whether a `Doorstep-Revision` header's value reads attachments (`1.4` or later); `false`
    /// for none or a value that is not `major.minor`.
    public static func readsAttachments(_ header: String?) -> Bool {
        guard let revision = parse(header) else { return false }
        return revision >= attachmentsRevision
    }

    /// Whether a server of this revision reads compressed content: request bodies sent with
    /// `Content-Encoding: gzip` and bundles of version 3 (`1.5` or later, §18, §14); `false` for
    /// none or a value that is not `major.minor`.
    public static func readsCompression(_ revision: String?) -> Bool {
        guard let revision = parse(revision) else { return false }
        return revision >= compressionRevision
    }

    /// Whether a revision is this build's or later: nothing it reads needs asking again.
    public static func readsCurrent(_ revision: String?) -> Bool {
        guard let revision = parse(revision), let current = parse(Self.revision) else { return false }
        return revision >= current
    }

    /// `major.minor` as numbers; `nil` for anything else.
    static func parse(_ text: String?) -> (major: Int, minor: Int)? {
        guard let text else { return nil }
        let parts = text.trimmedWhitespace.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }
}

/// A batch of one device's mutations, in seq order, with no gaps: the body of a push and
/// the content of each batch of a bundle.
public struct PushBatch: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    public var device: DeviceID
    public var mutations: [Mutation]
    /// Acknowledged work the device no longer holds, declared to a server that lost it (1.7,
    /// §8 "Work a restored server lost"); the mutations, if any, start after it.
    public var lost: SeqRange?
    /// While the device catches up with a restored server: the highest seq the server had
    /// acknowledged to it before (1.7, §8 "Work a restored server lost").
    public var acknowledgedThrough: Int64?

    public init(
        protocolVersion: Int = ProtocolVersion.current, device: DeviceID, mutations: [Mutation], lost: SeqRange? = nil,
        acknowledgedThrough: Int64? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.device = device
        self.mutations = mutations
        self.lost = lost
        self.acknowledgedThrough = acknowledgedThrough
    }

    /// Whether the device has caught up with a restored server once this batch was accepted with
    /// `receipt` (1.7, §8): it holds everything the device says it had acknowledged, or, from a
    /// client that does not say, the batch sent work.
    public func caughtUp(by receipt: PushReceipt) -> Bool {
        if let acknowledgedThrough { return receipt.highestContiguousSeq >= acknowledgedThrough }
        return !mutations.isEmpty || lost != nil
    }
}

/// Seqs `from` to `through` of one device, both included.
public struct SeqRange: Codable, Hashable, Sendable {
    public var from: Int64
    public var through: Int64

    public init(from: Int64, through: Int64) {
        self.from = from
        self.through = through
    }

    /// How many seqs it holds (0 when `through < from`).
    public var count: Int64 { through >= from ? through - from + 1 : 0 }
}

/// How the server answered one mutation.
public enum MutationOutcome: String, Codable, Hashable, Sendable {
    /// Applied; no conflict on the fields it wrote.
    case applied
    /// This `(device, seq)` was applied before with the same content; nothing changed now.
    case alreadyApplied
    /// Applied, and the fields it wrote (or the entity it deleted) are in conflict: review will settle it.
    case conflict
    /// Refused: wrong in itself, outside the writer's scope or role, or dependent on a rejected mutation.
    /// Stored in the rejection log; counts as handled for the seq.
    case rejected
    /// Held by a district relay and forwarded to the city, whose outcome is not known yet (1.8, §19):
    /// the device keeps the mutation unsent-but-held and sends it again at its next sync to learn it.
    case relayed
}

/// The answer for one mutation of a batch.
public struct MutationResult: Codable, Hashable, Sendable {
    public var seq: Int64
    public var outcome: MutationOutcome
    /// For `rejected`: the stable code.
    public var code: DoorstepError.Code?
    /// For `rejected`: a human explanation.
    public var reason: String?
    /// For `rejected`: the explanation in Simplified Chinese, when the server has one.
    public var reasonZh: String?
    /// The stamp the server used when it differs from the mutation's (a clock too far ahead).
    public var stamp: HLC?
    /// For `conflict`: the fields in conflict.
    public var conflictFields: [String]?
    /// For `rejected`: the facts the refusal is explained by (protocol 1.1, §12 "Details").
    public var details: ErrorDetails?
    /// For a household's mutation that linked it with another (they hold the same national ID):
    /// the survivor of the linked group, the household's own id when it is the survivor (protocol 1.1, §7).
    public var survivor: EntityID?

    public init(
        seq: Int64, outcome: MutationOutcome, code: DoorstepError.Code? = nil, reason: String? = nil, reasonZh: String? = nil,
        stamp: HLC? = nil, conflictFields: [String]? = nil, details: ErrorDetails? = nil, survivor: EntityID? = nil
    ) {
        self.seq = seq
        self.outcome = outcome
        self.code = code
        self.reason = reason
        self.reasonZh = reasonZh
        self.stamp = stamp
        self.conflictFields = conflictFields
        self.details = details
        self.survivor = survivor
    }

    /// The rejection of a mutation for `error`: its code, messages and details.
    public static func rejected(_ seq: Int64, _ error: DoorstepError) -> MutationResult {
        MutationResult(
            seq: seq, outcome: .rejected, code: error.code, reason: error.message, reasonZh: error.chineseMessage,
            details: error.details.isEmpty ? nil : error.details)
    }

    /// How a reader shows this refusal in `language` (``DoorstepError/explain(code:details:message:messageZh:_:)``).
    public func explanation(_ language: Language) -> String {
        DoorstepError.explain(code: code ?? .invalidOperation, details: details, message: reason ?? "", messageZh: reasonZh, language)
    }
}

/// The server's answer to a batch (`protocol/README.md` §8).
public struct PushReceipt: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    public var device: DeviceID
    /// The highest seq such that the server holds every seq from 1 to it for this device.
    public var highestContiguousSeq: Int64
    /// The server's clock after the batch, for the device to absorb.
    public var serverClock: HLC
    /// One result per mutation of the batch, in order.
    public var results: [MutationResult]
    /// Whether a stamp in the batch was too far ahead of the server and was clamped; the device is flagged.
    public var clockSkew: Bool

    public init(
        protocolVersion: Int = ProtocolVersion.current, device: DeviceID, highestContiguousSeq: Int64,
        serverClock: HLC, results: [MutationResult], clockSkew: Bool
    ) {
        self.protocolVersion = protocolVersion
        self.device = device
        self.highestContiguousSeq = highestContiguousSeq
        self.serverClock = serverClock
        self.results = results
        self.clockSkew = clockSkew
    }
}
