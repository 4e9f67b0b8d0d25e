import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Fresh PostgreSQL databases for one run (`CREATE DATABASE`), dropped at the end. Databases left
/// by a run that was killed are dropped by the next run (their name holds the dead process's id).
final class PostgresDatabases: @unchecked Sendable {
    let serverURL: String
    private var created: [String] = []
    private let logger = Logger(label: "doorstep-bench.postgres")

    init(serverURL: String) {
        self.serverURL = serverURL
    }

    private func configuration(database: String?) throws -> PostgresConnection.Configuration {
        guard let url = URLComponents(string: serverURL) else { throw BenchError("cannot read the PostgreSQL URL") }
        let user = url.user ?? "postgres"
        let named = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let target = database ?? (named.isEmpty ? "postgres" : named)
        if let folder = url.queryItems?.first(where: { $0.name == "host" })?.value, folder.hasPrefix("/") {
            return .init(unixSocketPath: "\(folder)/.s.PGSQL.\(url.port ?? 5432)", username: user, password: url.password, database: target)
        }
        return .init(host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: user, password: url.password, database: target, tls: .disable)
    }

    private func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try configuration(database: nil), id: 1, logger: logger)
        } catch {
            throw BenchError("cannot connect to PostgreSQL at \(serverURL): \(String(reflecting: error).prefix(300))")
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Creates an empty database and returns its URL.
    func create(_ purpose: String) async throws -> String {
        let name = "doorstep_bench_\(getpid())_\(purpose)"
        try await withConnection { connection in
            try await dropStale(connection)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name)"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        created.append(name)
        guard var url = URLComponents(string: serverURL) else { throw BenchError("cannot read the PostgreSQL URL") }
        url.path = "/" + name
        guard let text = url.string else { throw BenchError("cannot build the PostgreSQL URL") }
        return text
    }

    private func dropStale(_ connection: PostgresConnection) async throws {
        var stale: [String] = []
        for try await name in try await connection.query("SELECT datname FROM pg_database WHERE datname LIKE 'doorstep_bench_%'", logger: logger).decode(
            String.self)
        {
            let parts = name.split(separator: "_")
            guard parts.count >= 4, let pid = Int32(parts[2]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
        }
        for name in stale {
            _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    /// Drops the databases this run created.
    func dropAll() async {
        guard !created.isEmpty else { return }
        let names = created
        created.removeAll()
        _ = try? await withConnection { connection in
            for name in names {
                _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            }
        }
    }
}
