import DoorstepTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// The backend the server tests run against: the embedded SQLite file by default, PostgreSQL when
/// `DOORSTEP_TEST_POSTGRES_URL` names a server (`scripts/postgres.sh start` prints one). Each test
/// server gets a fresh database of its own.
enum TestDatabase {
    static let postgresURL: String? = {
        let value = ProcessInfo.processInfo.environment["DOORSTEP_TEST_POSTGRES_URL"]
        return value?.isEmpty == false ? value : nil
    }()

    /// Why PostgreSQL tests are skipped, for the `.enabled(if:)` trait.
    static let skipReason: Comment = "no PostgreSQL: set DOORSTEP_TEST_POSTGRES_URL (scripts/postgres.sh start prints one); .ci/run does"

    /// Creates a fresh database on the test PostgreSQL server and returns its URL.
    static func fresh() async throws -> String? {
        guard let base = postgresURL, var components = URLComponents(string: base) else { return nil }
        let name = "doorstep_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var configuration = PostgresClient.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()).isEmpty ? nil : String(components.path.dropFirst()),
            tls: .disable
        )
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test-database"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            group.cancelAll()
        }
        components.path = "/" + name
        return components.string
    }
}

extension TestDatabase {
    /// Every row of each table as JSON text, sorted, under a `## table` heading.
    static func dump(url: String, tables: [String]) async throws -> String {
        let storageURL = url
        guard let components = URLComponents(string: storageURL) else { return "" }
        let configuration = PostgresClient.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable
        )
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test-dump"))
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                await client.run(); return nil
            }
            var text = ""
            for table in tables {
                text += "## \(table)\n"
                var rows: [String] = []
                for try await row in try await client.query(PostgresQuery(unsafeSQL: "SELECT to_jsonb(t)::text FROM \(table) t")).decode(String.self) {
                    rows.append(row)
                }
                for row in rows.sorted() { text += row + "\n" }
            }
            group.cancelAll()
            return text
        }
    }
}

extension TestDatabase {
    /// A migrated SQLite storage of its own in a temporary folder, removed when `body` returns.
    static func withSQLiteStorage<T>(_ name: String, _ body: (SQLiteStorage) async throws -> T) async throws -> T {
        let directory = Scratch.root.appendingPathComponent("doorstep-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try SQLiteStorage(path: directory.appendingPathComponent("doorstep.sqlite").path)
        try await storage.migrate()
        return try await body(storage)
    }
}
