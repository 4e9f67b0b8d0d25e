public import DoorstepCore

/// What starting a server would do to its database's schema (`doorstep-server migrate --dry-run`).
public struct MigrationPlan: Sendable, Hashable {
    /// A migration not yet applied, and the rows it rewrites (0 for one that only changes the schema).
    public struct Step: Sendable, Hashable {
        public var name: String
        public var rows: Int

        public init(name: String, rows: Int) {
            self.name = name
            self.rows = rows
        }
    }

    /// Migrations applied already, in order.
    public var applied: [String]
    /// Migrations a start would apply, in order.
    public var pending: [Step]
    /// Migrations the database holds that this version does not know: it was written by a newer
    /// Doorstep, and this one refuses to start on it.
    public var unknown: [String]

    public init(applied: [String], pending: [Step], unknown: [String]) {
        self.applied = applied
        self.pending = pending
        self.unknown = unknown
    }

    /// The rows a second a rewriting migration is assumed to copy: SQLite's v6 rebuilt about a
    /// million entities a minute on the project's 2-core machine (README, "Upgrading"); a
    /// schema-only migration is counted as a tenth of a second.
    public static let rowsPerSecond = 16_000.0

    /// The plan of a database that has `applied` of this version's `known` migrations (in order),
    /// with the rows of each table a pending migration rewrites (``tablesToCount(known:applied:)``).
    init(known: [String], applied: Set<String>, rowCounts: [String: Int]) {
        self.applied = known.filter(applied.contains)
        pending = known.filter { !applied.contains($0) }.map { name in
            Step(name: name, rows: (Self.rewrites[name] ?? []).reduce(0) { $0 + (rowCounts[$1] ?? 0) })
        }
        unknown = applied.subtracting(known).sorted()
    }

    /// The tables whose rows the pending migrations rewrite (a backend counts them).
    static func tablesToCount(known: [String], applied: Set<String>) -> Set<String> {
        Set(known.filter { !applied.contains($0) }.flatMap { rewrites[$0] ?? [] })
    }

    /// A rough estimate of the time the pending migrations take, in seconds.
    public var estimatedSeconds: Double {
        pending.reduce(0) { $0 + Double($1.rows) / Self.rowsPerSecond + 0.1 }
    }

    /// The error a server gives for a database written by a newer version.
    public var newerError: DoorstepError? {
        guard !unknown.isEmpty else { return nil }
        return DoorstepError(
            .invalidOperation,
            "the database was written by a newer Doorstep: it holds migrations this version does not know (\(unknown.joined(separator: ", "))). Run that version or a newer one, or restore a backup made by this version; this version changes nothing"
        )
    }

    /// The tables each migration rewrites row by row (the others only change the schema), by name.
    static let rewrites: [String: [String]] = [
        // SQLite
        "v6 entities by household": ["entities"],
        "v11 stored once": ["entities", "audit"],
        // PostgreSQL
        "v10 stored once": ["entities", "audit"],
    ]
}
