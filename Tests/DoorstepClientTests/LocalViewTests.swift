import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import Testing

@testable import DoorstepClient

/// The stored household view, kept up to date write by write, against the view computed from
/// scratch (the pulled copy with the whole outbox applied).
struct LocalViewTests {
    /// Every household's stored view (with its conflict and local-change counts) and the same
    /// recomputed from the pulled copy and the outbox.
    private func storedAndRecomputed(_ client: FieldClient) async throws -> (stored: [String: String], recomputed: [String: String]) {
        try await client.pool.write { db in
            func snapshot() throws -> [String: String] {
                var result: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT id, conflicts, local_changes FROM households") {
                    let id: String = row["id"]
                    let view = try #require(try LocalStore.view(db, try EntityID(id)))
                    result[id] = "\(try LocalStore.encode(view)) \(row["conflicts"] as Int) \(row["local_changes"] as Int)"
                }
                return result
            }
            let stored = try snapshot()
            for id in stored.keys { try LocalStore.refreshView(db, try EntityID(id)) }
            return (stored, try snapshot())
        }
    }

    @Test func viewsKeptWriteByWrite_equalViewsRecomputedFromScratch() async throws {
        try await LiveServer.run { server in
            let client = try await server.enrolledClient()
            let other = try await server.enrolledClient()
            let pulled = try await other.fileHousehold(Facts.household(31))
            let member = try await other.addEntry(.member, to: pulled, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            try await other.sync()
            try await client.sync()

            // Local work on a pulled household and on one made on this device, of every kind of write.
            let local = try await client.fileHousehold(Facts.household(32))
            try await client.editHousehold(pulled, set: ["monthlyIncomeFen": 91_000])
            try await client.editHousehold(pulled, set: ["monthlyIncomeFen": 92_000, "address": "东胜区 新街 2 号"])
            try await client.recordVisit(to: pulled, Facts.visit)
            try await client.editEntry(member, in: pulled, set: ["health": "chronicIllness"])
            let child = try await client.addEntry(.member, to: local, ["name": "张某", "relation": "child", "health": "healthy", "employment": "student"])
            try await client.recordVisit(to: local, Facts.visit)
            try await client.removeEntry(child, in: local)
            try await client.removeEntry(member, in: pulled)

            // A concurrent edit on the server side makes the next pull bring a conflict under local work.
            try await other.editHousehold(pulled, set: ["monthlyIncomeFen": 99_000])
            try await other.editEntry(member, in: pulled, set: ["health": "disabled"])
            try await other.sync()
            var (stored, recomputed) = try await storedAndRecomputed(client)
            #expect(stored.count == 2)
            #expect(stored == recomputed)

            // The removal pushed above raced the other device's edit of the member: a conflict on an entry.
            try await client.sync()
            try await client.recordVisit(to: pulled, Facts.visit)
            try await client.editEntry(member, in: pulled, set: ["employment": "employed"])
            try await client.editHousehold(local, set: ["address": "东胜区 新街 3 号"])
            (stored, recomputed) = try await storedAndRecomputed(client)
            #expect(stored == recomputed)
            let view = try #require(try await client.household(pulled))
            #expect(view.household.fields["monthlyIncomeFen"]?.heads.count == 2, "the conflict is shown")
            #expect(view.entities.filter { $0.kind == .visit }.count == 2)
            #expect(view.conflicts.count >= 2, "the household's and the member's conflicts")
            #expect(try await client.households().first { $0.id == pulled }?.conflicts == view.conflicts.count)
            #expect(try await client.households().first { $0.id == pulled }?.hasLocalChanges == true)
        }
    }

    @Test func aHouseholdPulledAgainForOneNewVisit_writesThatVisitOnly() async throws {
        try await LiveServer.run { server in
            let client = try await server.enrolledClient()
            let other = try await server.enrolledClient()
            let household = try await other.fileHousehold(Facts.household(33))
            _ = try await other.addEntry(.member, to: household, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            try await other.recordVisit(to: household, Facts.visit)
            try await other.sync()
            try await client.sync()
            // Every row the next pull writes is counted (a trigger of the test's own).
            try await client.pool.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE written (what TEXT NOT NULL);
                        CREATE TRIGGER count_entry_inserts AFTER INSERT ON household_entities BEGIN INSERT INTO written VALUES ('entry'); END;
                        CREATE TRIGGER count_entry_updates AFTER UPDATE ON household_entities BEGIN INSERT INTO written VALUES ('entry'); END;
                        CREATE TRIGGER count_entry_deletes AFTER DELETE ON household_entities BEGIN INSERT INTO written VALUES ('entry'); END;
                        CREATE TRIGGER count_household_updates AFTER UPDATE ON households BEGIN INSERT INTO written VALUES ('household'); END;
                        """)
            }
            let visit = try await other.recordVisit(to: household, Facts.visit)
            try await other.sync()
            try await client.sync()
            let written = try await client.pool.read { db in try String.fetchAll(db, sql: "SELECT what FROM written") }
            #expect(written == ["entry"], "only the new visit's row was written, not the household's other rows: \(written)")
            #expect(try await client.household(household)?.entities.contains { $0.id == visit } == true)
            let (stored, recomputed) = try await storedAndRecomputed(client)
            #expect(stored == recomputed)
            #expect(try await client.household(household)?.entities.count == 3)

            // A change to a listed column is still written, with its index.
            try await other.editHousehold(household, set: ["address": "东胜区 新街 9 号"])
            try await other.sync()
            try await client.sync()
            #expect(try await client.households(matching: HouseholdQuery()).first { $0.id == household }?.address == "东胜区 新街 9 号")
        }
    }
}

/// The v3 migration splits households stored whole (schema v2) into their parts.
struct ClientMigrationTests {
    @Test func householdsStoredWhole_areSplitIntoEntries_sameViewsAndPulledCopies() throws {
        let household = try EntityID("7f1c1d9e-2a53-4c86-9d0b-0a1f1e6c5a01")
        let visitID = try EntityID("7f1c1d9e-2a53-4c86-9d0b-0a1f1e6c5a02")
        let localID = try EntityID("7f1c1d9e-2a53-4c86-9d0b-0a1f1e6c5a03")
        let device = try DeviceID("d-migration")
        func write(_ seq: Int64) -> WriteID { WriteID(hlc: HLC(wallMillis: 1_700_000_000_000 + seq, logical: 0), device: device) }
        var state = EntityState(kind: .household, id: household, household: household, created: write(1))
        state.fields["headName", default: Register()].apply(write(1), value: "王某某", base: [])
        state.fields["district", default: Register()].apply(write(1), value: "150602", base: [])
        var visit = EntityState(kind: .visit, id: visitID, household: household, created: write(2))
        visit.fields["mode", default: Register()].apply(write(2), value: "atHome", base: [])
        let pulled = HouseholdAggregate(household: state, entities: [visit])
        var local = EntityState(kind: .visit, id: localID, household: household, created: write(3))
        local.fields["mode", default: Register()].apply(write(3), value: "byPhone", base: [])
        var view = pulled
        view.entities.append(local)

        let path = Scratch.root.appendingPathComponent("doorstep-migration-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let queue = try DatabaseQueue(path: path)
        try ClientSchema.migrator.migrate(queue, upTo: "v2 observable households")
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO households (id, pulled, view, district, head_name, conflicts, local_changes) VALUES (?, ?, ?, '150602', '王某某', 0, 1)",
                arguments: [household.description, try LocalStore.encode(pulled), try LocalStore.encode(view)])
        }
        try ClientSchema.migrator.migrate(queue)
        let (migratedView, migratedPulled, entries, localOnly) = try queue.read { db in
            (
                try LocalStore.view(db, household), try LocalStore.pulled(db, household),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM household_entities"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM household_entities WHERE pulled IS NULL")
            )
        }
        #expect(migratedView == view)
        #expect(migratedPulled == pulled)
        #expect(entries == 2)
        #expect(localOnly == 1, "the local visit has no pulled state")
        try queue.write { db in try db.execute(sql: "DELETE FROM households") }
        let left = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM household_entities") }
        #expect(left == 0, "entries go with their household")
    }
}

/// Checkpoints happen in the background, not inside the commit that crosses the threshold.
struct CheckpointerTests {
    @Test func aLargeWAL_isCopiedIntoTheDatabaseInTheBackground() async throws {
        let path = Scratch.root.appendingPathComponent("doorstep-checkpoint-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try db.execute(sql: "PRAGMA journal_size_limit = \(Checkpointer.threshold / 4)")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE t (b BLOB)")
            try db.execute(sql: "INSERT INTO t VALUES (zeroblob(6000000))")
        }
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0 }
        #expect(size(path) < 1_000_000, "the commit did not checkpoint")
        #expect(size(path + "-wal") >= Checkpointer.threshold)
        let checkpointer = Checkpointer(path: path)
        checkpointer.noteWrite()
        for _ in 0..<1200 where size(path) < 6_000_000 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(size(path) >= 6_000_000, "the background checkpoint copied the WAL into the database")
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT length(b) FROM t") } == 6_000_000)
        // The first write after the checkpoint has finished restarts the WAL and cuts its file back,
        // so writes do not keep starting checkpoints. The database file reaches its size while the
        // checkpoint is still copying, and a write before it finishes appends frames it has not
        // copied (the WAL cannot restart then), so this waits for the checkpoint to finish first:
        // up to 60 s, for a loaded machine.
        for _ in 0..<1200 where checkpointer.completed.passive + checkpointer.completed.restart == 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(checkpointer.completed.passive + checkpointer.completed.restart >= 1)
        try await pool.write { db in try db.execute(sql: "INSERT INTO t VALUES (x'00')") }
        #expect(size(path + "-wal") < Checkpointer.threshold, "the WAL file was cut back after the checkpoint")
    }

    @Test func writesThatNeverPause_stillHaveTheirWALCopiedAndStartedAgain() async throws {
        let path = Scratch.root.appendingPathComponent("doorstep-checkpoint-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let threshold = 256 * 1024
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try db.execute(sql: "PRAGMA journal_size_limit = \(threshold / 4)")
        }
        configuration.busyMode = .timeout(10)  // as the client's: a restart checkpoint holds writers back while it finishes
        let pool = try DatabasePool(path: path, configuration: configuration)
        try await pool.write { db in try db.execute(sql: "CREATE TABLE t (b BLOB)") }
        let checkpointer = Checkpointer(path: path, threshold: threshold)
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0 }
        // 64 KiB a transaction with no pause between them, until the WAL has started again (or 100 × the
        // restart size went by). How far the file grows before the restart depends on how much of the
        // machine the checkpointer's thread (at nice 10) gets beside this loop: not asserted (CI once saw
        // 14 × the restart size on a busy machine, a quiet one under 2 ×); the restart and the cut are.
        var largest = 0, written = 0
        while checkpointer.completed.restart == 0, written < 100 * checkpointer.restartSize {
            try await pool.write { db in try db.execute(sql: "INSERT INTO t VALUES (zeroblob(65536))") }
            checkpointer.noteWrite()
            written += 65536
            largest = max(largest, size(path + "-wal"))
        }
        #expect(checkpointer.completed.restart >= 1, "a restart checkpoint ran while writes went on (the WAL file reached \(largest) bytes)")
        #expect(checkpointer.completed.passive >= 1, "passive checkpoints ran first, past the busy size")
        try await pool.write { db in try db.execute(sql: "INSERT INTO t VALUES (x'00')") }
        #expect(size(path + "-wal") <= threshold, "the next write started the WAL again and cut its file back")
    }
}

/// A write takes its seq and stamp from the newest outbox row, or from the settings once rows
/// have left the outbox (client schema v4): a seq is never given twice, the clock never goes back.
struct OutboxCountersTests {
    @Test func seqAndClock_carryOnAfterTheOutboxEmpties() async throws {
        try await LiveServer.run { server in
            let client = try await server.enrolledClient()
            let household = try await client.fileHousehold(Facts.household(41))
            for _ in 0..<3 { try await client.recordVisit(to: household, Facts.visit) }
            let before = try client.pool.read { db in try Row.fetchAll(db, sql: "SELECT seq, hlc FROM outbox ORDER BY seq") }
            #expect(before.map { $0["seq"] as Int64 } == [1, 2, 3, 4])
            let stamps = before.map { $0["hlc"] as String }
            #expect(stamps == stamps.sorted() && Set(stamps).count == 4, "stamps rise write by write")
            let lastStamp = try #require(stamps.last)
            let settingsUntouched = try await client.pool.read { db in try LocalStore.setting(db, .nextSeq) }
            #expect(settingsUntouched == "1", "a write leaves the settings row alone")

            let first = try await client.sync()
            #expect(first.pushed == 4 && first.alreadyApplied == 0)
            let (left, nextSeq, hlc) = try await client.pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? -1, try LocalStore.setting(db, .nextSeq), try LocalStore.setting(db, .hlc))
            }
            #expect(left == 0)
            #expect(nextSeq == "5", "the acknowledged rows' seqs are kept in the settings")
            #expect((hlc ?? "") >= lastStamp)

            try await client.recordVisit(to: household, Facts.visit)
            let after = try #require(try client.pool.read { db in try Row.fetchOne(db, sql: "SELECT seq, hlc FROM outbox") })
            #expect(after["seq"] as Int64 == 5)
            #expect((after["hlc"] as String) > lastStamp)
            let second = try await client.sync()
            #expect(second.pushed == 1 && second.alreadyApplied == 0, "the new visit is a new mutation to the server")
            let visits = try await client.household(household)?.entities.filter { $0.kind == .visit }.count
            #expect(visits == 4)
        }
    }

    @Test func rowsLeavingTheOutbox_keepTheirCountersInTheSettings() throws {
        let queue = try DatabaseQueue()
        try ClientSchema.migrator.migrate(queue)
        try queue.write { db in
            try LocalStore.set(db, .nextSeq, "1")
            try LocalStore.set(db, .hlc, HLC(wallMillis: 1_000, logical: 0).description)
            var counters = try LocalStore.counters(db)
            #expect(counters.nextSeq == 1 && counters.last == HLC(wallMillis: 1_000, logical: 0))
            for seq in 1...3 {
                try db.execute(
                    sql: "INSERT INTO outbox (seq, household, body, created_at, hlc) VALUES (?, 'h', '{}', 'now', ?)",
                    arguments: [seq, HLC(wallMillis: 2_000, logical: UInt16(seq)).description])
            }
            counters = try LocalStore.counters(db)
            #expect(counters.nextSeq == 4 && counters.last == HLC(wallMillis: 2_000, logical: 3))
            try db.execute(sql: "DELETE FROM outbox WHERE seq = 3")  // quarantined, say
            counters = try LocalStore.counters(db)
            #expect(counters.nextSeq == 4 && counters.last == HLC(wallMillis: 2_000, logical: 3))
            try db.execute(sql: "DELETE FROM outbox")
            counters = try LocalStore.counters(db)
            #expect(counters.nextSeq == 4 && counters.last == HLC(wallMillis: 2_000, logical: 3))
            // A row from before the column (no stamp) still counts for its seq.
            try db.execute(sql: "INSERT INTO outbox (seq, household, body, created_at) VALUES (4, 'h', '{}', 'now')")
            counters = try LocalStore.counters(db)
            #expect(counters.nextSeq == 5 && counters.last == HLC(wallMillis: 2_000, logical: 3))
        }
    }
}
