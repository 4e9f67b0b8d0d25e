/// The answers of the office endpoints (devices, review, history, import, roster), shared by the
/// server that writes them and the clients that read them.

/// An enrolled device (a visitor's laptop or an office's CLI), as the server keeps it.
public struct DeviceRecord: Codable, Hashable, Sendable {
    public var id: DeviceID
    public var name: String
    public var role: Role
    public var district: String?
    /// The device's Ed25519 public signing key, base64 (raw 32 bytes).
    public var signingKey: String?
    public var enrolledAt: String
    public var revokedAt: String?
    public var highestSeq: Int64
    public var clockSkew: Bool
    public var lastPushAt: String?
    public var lastPullAt: String?
    /// The gaps the device declared (1.7): acknowledged work a restore lost that it no longer held.
    public var lost: [LostWork]?
    /// `true` when the server was restored from a backup and the device has not caught up since (1.7, §8):
    /// its acknowledged work after the backup may still be missing until it syncs.
    public var notSyncedSinceRestore: Bool?

    /// The principal the device acts as.
    public var principal: Principal { Principal(device: id, role: role, district: district) }
    /// Whether the device's access has been revoked.
    public var isRevoked: Bool { revokedAt != nil }

    public init(
        id: DeviceID, name: String, role: Role, district: String?, signingKey: String?, enrolledAt: String, revokedAt: String?, highestSeq: Int64,
        clockSkew: Bool, lastPushAt: String?, lastPullAt: String?, lost: [LostWork]? = nil
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.district = district
        self.signingKey = signingKey
        self.enrolledAt = enrolledAt
        self.revokedAt = revokedAt
        self.highestSeq = highestSeq
        self.clockSkew = clockSkew
        self.lastPushAt = lastPushAt
        self.lastPullAt = lastPullAt
        self.lost = lost
    }
}

/// A gap a device declared in its stream of mutations (1.7, §8 "Work a restored server lost").
public struct LostWork: Codable, Hashable, Sendable {
    public var from: Int64
    public var through: Int64
    /// When the server recorded it.
    public var at: String

    public init(from: Int64, through: Int64, at: String) {
        self.from = from
        self.through = through
        self.at = at
    }
}

/// Where an accepted held change came from: the revoked device that made it, its seq and its stamp.
public struct AuditOrigin: Codable, Hashable, Sendable {
    public var device: DeviceID
    public var seq: Int64
    /// The stamp the device wrote it with (its wall time is when it was made).
    public var hlc: HLC

    public init(device: DeviceID, seq: Int64, hlc: HLC) {
        self.device = device
        self.seq = seq
        self.hlc = hlc
    }
}

/// One row of a household's change history: who changed which field, when, from which device.
public struct AuditEntry: Codable, Hashable, Sendable {
    public var entity: EntityID
    public var kind: EntityKind
    public var field: String
    public var old: JSONValue
    public var new: JSONValue
    public var write: String
    public var device: DeviceID
    public var seq: Int64
    /// Who sent the write: `device:<id>`, `city-admin` or `dashboard:<account>` (§10).
    public var actor: String
    public var at: String
    /// For a change an office accepted from a revoked device's bundle: the device, seq and stamp
    /// it was made with (an added key of protocol 1; absent for every other write).
    public var origin: AuditOrigin?
    /// Whether this write settled a conflict on its field (§6.3; protocol 1.1, absent otherwise):
    /// with `actor` and `device`, whether an office decided or a visitor corrected it at the door.
    public var settledConflict: Bool?

    public init(
        entity: EntityID, kind: EntityKind, field: String, old: JSONValue, new: JSONValue, write: String, device: DeviceID, seq: Int64,
        actor: String, at: String, origin: AuditOrigin? = nil, settledConflict: Bool? = nil
    ) {
        self.origin = origin
        self.settledConflict = settledConflict
        self.entity = entity
        self.kind = kind
        self.field = field
        self.old = old
        self.new = new
        self.write = write
        self.device = device
        self.seq = seq
        self.actor = actor
        self.at = at
    }
}

extension AuditEntry {
    /// The device that sent the write (`device:<id>`): the pushing device, or the office device
    /// that uploaded a bundle or decided through the server; `nil` for the admin token and dashboard accounts.
    public var writer: DeviceID? {
        if actor.isEmpty { return device }
        guard actor.hasPrefix("device:") else { return nil }
        return try? DeviceID(String(actor.dropFirst("device:".count)))
    }

    /// The dashboard account that made the write, when one did (`dashboard:<name>`).
    public var dashboardAccount: String? {
        actor.hasPrefix("dashboard:") ? String(actor.dropFirst("dashboard:".count)) : nil
    }

    /// Who made the write, for people: a dashboard account (marked as such), a device by its name
    /// in `names` (else its id), or the city administrator.
    public func who(names: [DeviceID: String], _ language: Language) -> String {
        if let account = dashboardAccount { return account + Texts.text("history.byDashboard", language) }
        if let writer { return names[writer] ?? writer.rawValue }
        return actor == "city-admin" ? Texts.text("history.cityAdmin", language) : actor
    }

    /// The key of the note a history shows on a write that settled a conflict (§6.3), given the
    /// role of its ``writer``: a visitor's correction at the door, or an office's decision; `nil`
    /// for any other write.
    public func settledNoteKey(writerRole: Role?) -> String? {
        guard settledConflict == true else { return nil }
        return writerRole == .visitor ? "history.settledInField" : "history.settled"
    }
}

/// What waits for an office's review (`protocol/README.md` §6.7, §7).
public struct ReviewQueue: Codable, Hashable, Sendable {
    public struct Conflict: Codable, Hashable, Sendable {
        public var district: String?
        public var record: ConflictRecord

        public init(district: String?, record: ConflictRecord) {
            self.district = district
            self.record = record
        }
    }

    public struct Duplicate: Codable, Hashable, Sendable {
        public var survivor: EntityID
        public var alias: EntityID
        public var district: String?

        public init(survivor: EntityID, alias: EntityID, district: String?) {
            self.survivor = survivor
            self.alias = alias
            self.district = district
        }
    }

    public struct Rejection: Codable, Hashable, Sendable {
        public var device: DeviceID
        public var seq: Int64
        public var household: EntityID?
        public var entity: EntityID
        public var kind: EntityKind
        public var district: String?
        public var code: DoorstepError.Code
        public var reason: String
        public var at: String
        /// The change itself, for a change held from a revoked device's bundle (code
        /// `deviceRevoked`): what the office reads before it accepts or dismisses it (an added
        /// key of protocol 1; absent for a refused change, which its device fixes).
        public var mutation: Mutation?
        /// The reason in Simplified Chinese, where the server wrote one (protocol 1.1).
        public var reasonZh: String?
        /// The facts the refusal is explained by (protocol 1.1, §12 "Details").
        public var details: ErrorDetails?

        public init(
            device: DeviceID, seq: Int64, household: EntityID?, entity: EntityID, kind: EntityKind, district: String?, code: DoorstepError.Code,
            reason: String, at: String, mutation: Mutation? = nil, reasonZh: String? = nil, details: ErrorDetails? = nil
        ) {
            self.mutation = mutation
            self.reasonZh = reasonZh
            self.details = details
            self.device = device
            self.seq = seq
            self.household = household
            self.entity = entity
            self.kind = kind
            self.district = district
            self.code = code
            self.reason = reason
            self.at = at
        }

        /// How a reader shows this refusal in `language` (``DoorstepError/explain(code:details:message:messageZh:_:)``).
        public func explanation(_ language: Language) -> String {
            DoorstepError.explain(code: code, details: details, message: reason, messageZh: reasonZh, language)
        }
    }

    public var conflicts: [Conflict]
    public var duplicates: [Duplicate]
    public var rejections: [Rejection]
    /// Devices that sent stamps too far ahead of the server's clock.
    public var clockFlaggedDevices: [DeviceRecord]

    public init(conflicts: [Conflict], duplicates: [Duplicate], rejections: [Rejection], clockFlaggedDevices: [DeviceRecord]) {
        self.conflicts = conflicts
        self.duplicates = duplicates
        self.rejections = rejections
        self.clockFlaggedDevices = clockFlaggedDevices
    }
}

/// A roster row that could not be read.
public struct RosterInvalidRow: Codable, Hashable, Sendable {
    /// The line in the roster file.
    public var line: Int
    /// What is wrong; never the national ID itself.
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}

/// A roster person with no household on file in the scope.
public struct RosterPerson: Codable, Hashable, Sendable {
    /// The line in the roster file.
    public var line: Int
    /// The national ID number, masked (`150602********123X`).
    public var nationalIdMasked: String
    /// The name the roster gives.
    public var name: String
    /// The monthly allowance in fen the roster lists.
    public var allowanceFen: Int64?
    /// The roster's district, when it has a district column.
    public var district: String?

    public init(line: Int, nationalIdMasked: String, name: String, allowanceFen: Int64?, district: String?) {
        self.line = line
        self.nationalIdMasked = nationalIdMasked
        self.name = name
        self.allowanceFen = allowanceFen
        self.district = district
    }
}

/// A household on file (filed, safety net or candidate) that the roster does not list.
public struct RosterMissingHousehold: Codable, Hashable, Sendable {
    /// The household's id.
    public var household: EntityID
    /// Its shown national ID number, masked; empty when it has none.
    public var nationalIdMasked: String
    /// Its shown status.
    public var status: HouseholdStatus?
    /// Its district.
    public var district: String
    /// The head's name (an added key of protocol 1).
    public var headName: String?

    public init(household: EntityID, nationalIdMasked: String, status: HouseholdStatus?, district: String, headName: String? = nil) {
        self.household = household
        self.nationalIdMasked = nationalIdMasked
        self.status = status
        self.district = district
        self.headName = headName
    }
}

/// A fact on which the household file and the roster disagree.
public struct RosterDisagreement: Codable, Hashable, Sendable {
    /// The household's id.
    public var household: EntityID
    /// Its national ID number, masked.
    public var nationalIdMasked: String
    /// `headName` (the names differ) or `status` (the roster pays an allowance to a household
    /// that is out of hardship or closed).
    public var field: String
    /// The household's shown value (the name, or the status).
    public var onFile: JSONValue
    /// The roster's value (the name, or the monthly allowance in fen).
    public var inRoster: JSONValue
    /// The roster line.
    public var line: Int

    public init(household: EntityID, nationalIdMasked: String, field: String, onFile: JSONValue, inRoster: JSONValue, line: Int) {
        self.household = household
        self.nationalIdMasked = nationalIdMasked
        self.field = field
        self.onFile = onFile
        self.inRoster = inRoster
        self.line = line
    }
}

/// The answer to `POST /v1/roster/compare`. Nothing is changed by a comparison.
public struct RosterReport: Codable, Hashable, Sendable {
    /// Roster rows in the scope whose national ID matches no household of the scope.
    public var inRosterNotOnFile: [RosterPerson]
    /// Households on file (filed, safety net, candidate) whose national ID the roster does not list.
    public var onFileNotInRoster: [RosterMissingHousehold]
    /// Matched households whose name differs, or that are out of hardship or closed yet receive an allowance.
    public var disagreements: [RosterDisagreement]
    /// Data rows read (blank rows not counted).
    public var rosterRows: Int
    /// Rows that could not be read (bad national ID, empty name, bad amount, unknown district, repeated ID).
    public var invalidRows: [RosterInvalidRow]
    /// Valid rows whose district column names a district outside the scope and that match no household in it.
    public var rowsOutsideScope: Int

    public init(
        inRosterNotOnFile: [RosterPerson], onFileNotInRoster: [RosterMissingHousehold], disagreements: [RosterDisagreement], rosterRows: Int,
        invalidRows: [RosterInvalidRow], rowsOutsideScope: Int
    ) {
        self.inRosterNotOnFile = inRosterNotOnFile
        self.onFileNotInRoster = onFileNotInRoster
        self.disagreements = disagreements
        self.rosterRows = rosterRows
        self.invalidRows = invalidRows
        self.rowsOutsideScope = rowsOutsideScope
    }
}

/// One problem found in an import file: where it is, which field, and why.
public struct ImportIssue: Codable, Hashable, Sendable {
    /// The 1-based line of a CSV file the row starts on (the header is line 1); for JSON,
    /// the 1-based position of the object in the array.
    public var line: Int
    /// The field's wire name (or, for an unknown column, the header as written); `nil` when
    /// the problem concerns the whole row.
    public var field: String?
    /// A stable error code (`missingField`, `invalidNationalId`, `outOfScope`, `duplicateInFile` …).
    public var code: DoorstepError.Code
    /// A human explanation; it never holds a national ID number.
    public var message: String
    /// The same in Simplified Chinese, where written (protocol 1 answers may gain keys; older
    /// servers leave it out).
    public var messageZh: String?

    public init(line: Int, field: String?, code: DoorstepError.Code, message: String, messageZh: String? = nil) {
        self.line = line
        self.field = field
        self.code = code
        self.message = message
        self.messageZh = messageZh
    }

    /// An issue from an error found on a line: its code and both its messages.
    public init(line: Int, field: String?, error: DoorstepError) {
        self.init(line: line, field: field, code: error.code, message: error.message, messageZh: error.chineseMessage)
    }

    /// The message in the given language (the English one where no Chinese was written).
    public func message(_ language: Language) -> String {
        language == .chinese ? (messageZh ?? message) : message
    }
}

/// The answer to `POST /v1/admin/import`.
public struct ImportReport: Codable, Hashable, Sendable {
    /// Households created; in a dry run, the households that would be created. 0 when the file was refused.
    public var imported: Int
    /// Valid rows whose national ID is already on file (nothing done for them).
    public var skipped: Int
    /// Every problem, by line.
    public var errors: [ImportIssue]
    /// Whether this was a dry run (`?check=true`).
    public var dryRun: Bool
    /// Present when the file was refused as a whole (HTTP 422): code `invalidValue`.
    public var error: ErrorBody.Detail?

    public init(imported: Int, skipped: Int, errors: [ImportIssue], dryRun: Bool, error: ErrorBody.Detail? = nil) {
        self.imported = imported
        self.skipped = skipped
        self.errors = errors
        self.dryRun = dryRun
        self.error = error
    }
}

/// The answer to a bundle upload: one receipt per batch, in order.
public struct BundleUploadResult: Codable, Hashable, Sendable {
    public var receipts: [PushReceipt]
    /// The device whose work the bundle carries.
    public var device: DeviceID
    /// The number of batches in the bundle.
    public var batches: Int
    /// Whether the mutations were held for review (a revoked device's bundle) instead of applied.
    public var heldForReview: Bool
    /// The number of attachments' files the bundle carried, each now held whole by the server
    /// (a bundle of version 2, protocol 1.4); `nil` for a bundle without files.
    public var files: Int?

    public init(receipts: [PushReceipt], device: DeviceID, batches: Int, heldForReview: Bool, files: Int? = nil) {
        self.receipts = receipts
        self.device = device
        self.batches = batches
        self.heldForReview = heldForReview
        self.files = files
    }
}

/// A dashboard account (office or city staff), as the server keeps it and answers it on
/// `/v1/admin/users`: never its password or its hash.
public struct DashboardAccount: Codable, Hashable, Sendable {
    /// The sign-in name: 2 to 64 characters of `a-z`, `0-9`, `.`, `_` and `-`, lower case.
    public var name: String
    /// `office` (one district) or `city` (every district).
    public var role: Role
    /// The district of an office account; `nil` for the city.
    public var district: String?
    /// Who created the account (`city-admin` or `device:<id>`).
    public var createdBy: String
    /// When the account was created, RFC 3339.
    public var createdAt: String
    /// When the password was last set, RFC 3339.
    public var passwordChangedAt: String
    /// When the account was disabled, RFC 3339; `nil` while it may sign in.
    public var disabledAt: String?

    /// An account (the server keeps its password hash apart).
    public init(
        name: String, role: Role, district: String?, createdBy: String, createdAt: String,
        passwordChangedAt: String, disabledAt: String? = nil
    ) {
        self.name = name
        self.role = role
        self.district = district
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.passwordChangedAt = passwordChangedAt
        self.disabledAt = disabledAt
    }

    /// Whether the account has been disabled.
    public var isDisabled: Bool { disabledAt != nil }

    /// The principal the account acts as: its role and district, with the dashboard's pseudo-device.
    public var principal: Principal { Principal(device: DeviceID(unchecked: "dashboard"), role: role, district: district) }
}

/// How an office closed an entry of the review queue's rejections.
public enum RejectionClosing: String, Codable, Hashable, Sendable {
    /// A held change applied as the office's decision.
    case accepted
    /// Set aside with a reason: nothing applied.
    case dismissed
}

/// The answer to dismissing a rejection (`POST /v1/review/rejections/{device}/{seq}/dismiss`).
public struct ClosedRejection: Codable, Hashable, Sendable {
    public var device: DeviceID
    public var seq: Int64
    public var closedAs: RejectionClosing
    /// Who closed it (`device:<id>`, `city-admin`, or a dashboard account `dashboard:<name>`).
    public var closedBy: String
    public var closedAt: String
    /// Why it was dismissed (absent for an accepted change).
    public var reason: String?

    public init(device: DeviceID, seq: Int64, closedAs: RejectionClosing, closedBy: String, closedAt: String, reason: String?) {
        self.device = device
        self.seq = seq
        self.closedAs = closedAs
        self.closedBy = closedBy
        self.closedAt = closedAt
        self.reason = reason
    }
}
