public import DoorstepCore

/// A validated row of an import file: a household creation ready to be stamped and applied.
public struct ImportedHousehold: Hashable, Sendable {
    /// The row's line in the file, for the report.
    public var line: Int
    /// The normalised national ID number (the key that finds households already on file).
    public var nationalId: String
    /// Every field with a value, normalised, with empty bases.
    public var fields: [FieldWrite]

    public init(line: Int, nationalId: String, fields: [FieldWrite]) {
        self.line = line
        self.nationalId = nationalId
        self.fields = fields
    }
}

/// The rows of an import file, read and checked one at a time while storage writes them: a file
/// of 40,000 households is never held as rows all at once.
public protocol ImportRows: Sendable {
    /// The next sound row in file order, or `nil` after the last. Throws when the file turns out
    /// not to be an import file (malformed, too long): storage then writes nothing.
    func next() throws(DoorstepError) -> ImportedHousehold?
    /// Whether no row read so far had a problem of its own.
    var allSound: Bool { get }
}

/// When an import's transaction commits.
public enum ImportCommitPolicy: Hashable, Sendable {
    /// Never: a dry run, or a file already known to be refused. Everything is applied and rolled back.
    case never
    /// Only if every row of the file is sound (``ImportRows/allSound``, read after the last row)
    /// and the merge engine applies every row.
    case allOrNothing
    /// Always, with the rows the merge engine applies; the rows it rejects leave no trace.
    case keepValid
}

/// What storage did with an import's rows.
public struct ImportOutcome: Hashable, Sendable {
    /// Lines of the rows applied (or that would have been, when nothing was committed).
    public var created: [Int] = []
    /// Lines of the rows whose national ID was already on file.
    public var skipped: [Int] = []
    /// Rows the merge engine rejected, with its code and reason.
    public var rejected: [ImportIssue] = []
    /// Whether the transaction committed.
    public var committed = false

    public init() {}
}

/// A household as the roster comparison sees it: the survivor's shown values.
public struct ShownHousehold: Hashable, Sendable {
    /// The survivor's id.
    public var id: EntityID
    /// The shown district.
    public var district: String
    /// The shown national ID number, normalised.
    public var nationalId: String?
    /// The shown name of the head of household.
    public var headName: String?
    /// The shown status.
    public var status: HouseholdStatus?

    public init(id: EntityID, district: String, nationalId: String?, headName: String?, status: HouseholdStatus?) {
        self.id = id
        self.district = district
        self.nationalId = nationalId
        self.headName = headName
        self.status = status
    }
}

/// What importing existing household files and comparing civil-affairs rosters need from storage.
public protocol ImportStorage: Sendable {
    /// Creates households from a file's sound rows, read one at a time, in ONE write transaction: rows whose national ID
    /// is already in the national-ID index are skipped; every other row becomes a `create`
    /// mutation stamped with the server's identity device, its next seq and the server's clock,
    /// applied through ``MergeEngine/apply(_:from:store:clock:)`` as `principal`'s role and
    /// district, so the shared rules check it again and devices receive it through pull.
    ///
    /// A row the engine rejects leaves no trace (its savepoint rolls back, its seq is reused).
    /// Whether the transaction commits follows `policy`.
    func importHouseholds(
        _ rows: any ImportRows, by principal: Principal, actor: String, policy: ImportCommitPolicy,
        engine: MergeEngine, now: String, physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> ImportOutcome

    /// Every surviving household of a district (every district for `nil`), with its shown values.
    func householdSummaries(district: String?, engine: MergeEngine) async throws -> [ShownHousehold]
}
