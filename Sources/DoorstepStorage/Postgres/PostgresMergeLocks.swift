import DoorstepCore
import Foundation
import Logging
import PostgresNIO

/// The locks of a push on PostgreSQL, so that pushes of different households run side by side.
///
/// Before issue 21 every write transaction held the one write lock from its start: a push read,
/// merged and wrote its rows while every other push waited. Now a push takes:
/// 1. the merge gate, shared (writers of rows a push writes take it exclusively, so they never run
///    beside a push; so do servers of earlier versions, for every write);
/// 2. a lock for each thing it reads or writes (a household or entity by its id, a device, a
///    national ID's value; ``MergeLock``), before it reads it;
/// 3. the write lock itself, only to number its changes in the feed, and holds it to its commit.
///
/// Two pushes that read or write the same household, device or national ID therefore run one
/// after the other, as before; others run side by side until they number their changes. The
/// change feed's order and "no pull skips a change" are unchanged: numbers are still given under
/// the write lock, held to the commit.
///
/// No two pushes can wait for each other: a lock is waited for only when it comes after every
/// lock the push holds (``MergeLock`` order: gate, then devices, ids and national IDs, then the
/// write lock last); any other lock is only tried, and a push that cannot have it rolls back and
/// begins again, asking from the start for it and every lock it held (``Busy``).
///
/// Each lock takes a place in PostgreSQL's lock table (`max_locks_per_transaction` × connections,
/// shared by the cluster): a push needing more than ``maximum`` runs alone instead.
final class PostgresMergeLocks {
    /// The most locks a push takes; one that needs more runs alone (a laptop's first large sync).
    static let maximum = 1_000

    let connection: PostgresConnection
    let logger: Logger
    private(set) var held = Set<MergeLock>()
    private var highest: MergeLock?
    /// When the write lock was taken (``enterWriteLock()``).
    private(set) var writeLockTaken: ContinuousClock.Instant?
    /// Told when the write lock was asked for and taken.
    private let tookWriteLock: (ContinuousClock.Instant, ContinuousClock.Instant) -> Void

    init(connection: PostgresConnection, logger: Logger, tookWriteLock: @escaping (ContinuousClock.Instant, ContinuousClock.Instant) -> Void) {
        self.connection = connection
        self.logger = logger
        self.tookWriteLock = tookWriteLock
    }

    /// Locks that another push held, for the next attempt to take from the start.
    struct Busy: Error, Equatable {
        var locks: Set<MergeLock>
    }

    /// Takes the merge gate shared, then `locks` in order, waiting for each.
    func begin(with locks: Set<MergeLock>) async throws {
        try await Self.run("SELECT pg_advisory_xact_lock_shared(\(PostgresSchema.mergeGate))", connection, logger)
        try await take(locks.sorted())
    }

    /// Runs a statement that takes locks and reads its answer to the end: PostgresNIO returns from
    /// `query` before the rows, and an error (a full lock table, a deadlock) comes with them; unread,
    /// it would surface only as "transaction aborted" at the next statement.
    static func run(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger) async throws {
        for try await _ in try await connection.query(query, logger: logger) {}
    }

    /// Takes the locks the snapshot keys need before they are read.
    func need(_ keys: some Sequence<SnapshotKey>) async throws {
        try await need(locks: Set(keys.flatMap(MergeLock.locks(for:))))
    }

    /// Takes `locks` not yet held: those after every lock held by waiting for them, in order, the
    /// rest by trying; throws ``Busy`` (the caller rolls back) when one cannot be had at once.
    func need(locks: Set<MergeLock>) async throws {
        guard writeLockTaken == nil || locks.isSubset(of: held) else {
            // After the write lock only locks already held may be needed: its holder never waits.
            throw Busy(locks: held.union(locks))
        }
        let missing = locks.subtracting(held).sorted()
        guard !missing.isEmpty else { return }
        guard held.count + missing.count <= Self.maximum else { throw Busy(locks: held.union(missing)) }
        let after = highest.map { top in missing.filter { $0 > top } } ?? missing
        let before = missing.filter { lock in highest.map { lock <= $0 } ?? false }
        if !before.isEmpty {
            var refused = Set<MergeLock>()
            for try await (space, key) in try await connection.query(
                """
                SELECT space, key FROM UNNEST(\(before.map(\.space)), \(before.map(\.key))) AS lock(space, key)
                WHERE NOT pg_try_advisory_xact_lock(space, key)
                """, logger: logger
            ).decode((Int32, Int32).self) {
                refused.insert(MergeLock(space: space, key: key))
            }
            // The ones tried and had are held until the rollback or commit either way.
            held.formUnion(Set(before).subtracting(refused))
            if !refused.isEmpty { throw Busy(locks: held.union(missing)) }
        }
        try await take(after)
    }

    /// Waits for each lock of `sorted`, in its order (the array's order is the scan's: UNNEST
    /// returns its rows in the arrays' order, and each row's lock is taken as it is read).
    private func take(_ sorted: [MergeLock]) async throws {
        guard !sorted.isEmpty else { return }
        try await Self.run(
            """
            SELECT pg_advisory_xact_lock(space, key) FROM UNNEST(\(sorted.map(\.space)), \(sorted.map(\.key))) AS lock(space, key)
            """, connection, logger)
        held.formUnion(sorted)
        if let last = sorted.last, highest.map({ last > $0 }) ?? true { highest = last }
    }

    /// Takes the write lock (waiting): from here to the commit, the push numbers its changes.
    func enterWriteLock() async throws {
        guard writeLockTaken == nil else { return }
        let asked = ContinuousClock.now
        try await Self.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.writeLock))", connection, logger)
        let taken = ContinuousClock.now
        writeLockTaken = taken
        tookWriteLock(asked, taken)
    }
}

/// One lock of a push (``PostgresMergeLocks``): a household or entity by its id, a device, or a
/// national ID's value, as PostgreSQL's two-key advisory lock (the key a 32-bit hash of the name;
/// two names with one hash only make two pushes wait for each other).
struct MergeLock: Hashable, Comparable, Sendable {
    var space: Int32
    var key: Int32

    // Devices first: every push holds its own device's lock from its start, so the households and
    // national IDs it finds later can still be waited for when they come after those it holds.
    static let deviceSpace: Int32 = 0x4453_0001
    static let idSpace: Int32 = 0x4453_0002
    static let nationalIDSpace: Int32 = 0x4453_0003

    init(space: Int32, key: Int32) {
        self.space = space
        self.key = key
    }

    init(_ space: Int32, _ name: String) {
        // FNV-1a: the same name gives the same key in every process.
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        self.init(space: space, key: Int32(bitPattern: hash))
    }

    static func id(_ id: EntityID) -> MergeLock { MergeLock(idSpace, id.description) }
    static func device(_ device: DeviceID) -> MergeLock { MergeLock(deviceSpace, device.rawValue) }
    static func nationalID(_ value: String) -> MergeLock { MergeLock(nationalIDSpace, value) }

    static func < (a: MergeLock, b: MergeLock) -> Bool { (a.space, a.key) < (b.space, b.key) }

    /// What a snapshot key is read under. A household and its entity share their id's lock (a
    /// household's id is its entity's). Written values, refused bases and replacements need none:
    /// they are written once, by the push of the write they describe, and read only by pushes that
    /// name that write, which can name it only once it is committed, or by the same device's
    /// later pushes (held apart by the device's lock).
    static func locks(for key: SnapshotKey) -> [MergeLock] {
        switch key {
        case .progress(let device), .logged(let device, _): [.device(device)]
        case .entity(let id), .canonical(let id), .members(let id), .nationalIDs(let id), .rejectedCreation(let id): [.id(id)]
        case .households(let value): [.nationalID(value)]
        case .linkDecision(let pair): [.id(pair.first), .id(pair.second)]
        case .writtenValue, .rejectedBase, .replacement: []
        }
    }

    /// What a run's writes need before they are written: the devices, entities (and their
    /// households), households placed or touched (and where they were placed), national IDs
    /// and links it changes.
    static func locks(forWritesOf store: SnapshotMergeStore) -> Set<MergeLock> {
        var locks = Set<MergeLock>()
        for device in store.dirtyProgress { locks.insert(.device(device)) }
        for (device, _) in store.lost { locks.insert(.device(device)) }
        for id in store.dirtyEntities {
            locks.insert(.id(id))
            if let state = store.entities[id] { locks.insert(.id(state.household)) }
        }
        for id in store.dirtyCanonicals {
            locks.insert(.id(id))
            if let survivor = store.canonicals[id] { locks.insert(.id(survivor)) }
        }
        for (value, household) in store.newNationalIDs {
            locks.insert(.nationalID(value))
            locks.insert(.id(household))
        }
        for pair in store.dirtyLinkDecisions {
            locks.insert(.id(pair.first))
            locks.insert(.id(pair.second))
        }
        for household in store.touched { locks.insert(.id(household)) }
        for entry in store.applied { locks.insert(.id(entry.household)) }
        for entry in store.rejected { locks.insert(.device(entry.mutation.device)) }
        return locks
    }
}
