import DoorstepCore
import DoorstepTestSupport
import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// A server refuses a database written by a newer version, changes nothing, and says so.
@Suite struct NewerDatabaseTests {
    @Test func sqlite_aDatabaseWithAnUnknownMigration_isRefused_andLeftAsItWas() async throws {
        let data = Scratch.folder("newer-database").path
        let configuration = ServerConfiguration(port: 0, dataDirectory: data)
        _ = try await DoorstepServerSetup.prepare(configuration: configuration, logger: Logger(label: "test"))
        #expect(try await DoorstepServerSetup.migrationPlan(configuration: configuration).pending.isEmpty)
        let storage = try SQLiteStorage(path: configuration.databasePath)
        try await storage.pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99 from the future')") }
        let schema =
            "SELECT group_concat(identifier) FROM (SELECT identifier FROM grdb_migrations ORDER BY identifier) UNION ALL SELECT group_concat(sql) FROM (SELECT sql FROM sqlite_master ORDER BY name)"
        let before = try await storage.pool.read { db in try String?.fetchAll(db, sql: schema) }
        let plan = try await DoorstepServerSetup.migrationPlan(configuration: configuration)
        #expect(plan.unknown == ["v99 from the future"])
        #expect(MigrationReport.text(plan, dryRun: true).contains("newer Doorstep"))
        let refused = await #expect(throws: DoorstepError.self) {
            try await DoorstepServerSetup.prepare(configuration: configuration, logger: Logger(label: "test"))
        }
        #expect(refused?.code == .invalidOperation && refused?.message.contains("v99 from the future") == true)
        await #expect(throws: DoorstepError.self) { try await DoorstepServerSetup.migrate(configuration: configuration) }
        #expect(try await storage.pool.read { db in try String?.fetchAll(db, sql: schema) } == before)
    }

    @Test func aMissingDatabase_isSaid_notCreated() async throws {
        let configuration = ServerConfiguration(port: 0, dataDirectory: Scratch.folder("no-database").path)
        let error = await #expect(throws: DoorstepError.self) { try await DoorstepServerSetup.migrationPlan(configuration: configuration) }
        #expect(error?.code == .notFound)
        #expect(!FileManager.default.fileExists(atPath: configuration.databasePath))
    }

    @Test(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
    func postgres_aDatabaseWithAnUnknownMigration_isRefused() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let logger = Logger(label: "newer-postgres")
        let postgres = try PostgresStorage(url: url, logger: logger)
        let running = Task { await postgres.run() }
        defer { running.cancel() }
        try await postgres.migrate()
        try await postgres.write { connection in
            try await connection.query("INSERT INTO schema_migrations (name) VALUES ('v99 from the future')", logger: logger)
        }
        #expect(try await postgres.migrationPlan().unknown == ["v99 from the future"])
        let refused = await #expect(throws: DoorstepError.self) { try await postgres.migrate() }
        #expect(refused?.code == .invalidOperation)
    }
}
