import DoorstepTestSupport
import Foundation
import GRDB
import Testing

@testable import DoorstepClient

/// The local database's writer commits with `synchronous = FULL`: once a write returns it is on disk
/// (GRDB's WAL set-up would leave the writer at NORMAL, where a flat battery can undo the last commits).
struct ClientDurabilityTests {
    @Test func theWritingConnection_syncsEveryCommit() async throws {
        let path = Scratch.root.appendingPathComponent("doorstep-durability-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let client = try FieldClient(configuration: ClientConfiguration(databasePath: path))
        let (mode, journal) = try await client.pool.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(mode == 2, "synchronous = FULL (2), not NORMAL (1)")
        #expect(journal == "wal")
    }
}
