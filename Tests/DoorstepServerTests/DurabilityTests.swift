import DoorstepCore
import Foundation
import GRDB
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// The writing connection commits with `synchronous = FULL` (GRDB's WAL set-up would leave it at NORMAL,
/// under which a commit acknowledged to a device could be lost with the power).
struct ServerDurabilityTests {
    @Test func theWritingConnection_syncsEveryCommit() async throws {
        let (mode, journal) = try await TestDatabase.withSQLiteStorage("durability") { storage in
            try await storage.pool.write { db in
                (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
            }
        }
        #expect(mode == 2, "synchronous = FULL (2), not NORMAL (1)")
        #expect(journal == "wal")
    }
}
