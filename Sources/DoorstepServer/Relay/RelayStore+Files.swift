import DoorstepCore
import Foundation
import GRDB

/// The files the relay's devices uploaded, and the status its office reads (§19.3, §19.7).
extension RelayStore {
    // MARK: Files

    /// Notes a file its devices uploaded whole here, for the city.
    func fileHeld(_ sha256: String, length: Int64, now: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO files (sha256, length, received_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING", arguments: [sha256, length, now])
        }
    }

    /// Notes files held whole here that were not noted (a relay killed between an upload's last part
    /// and its note), so that they are forwarded too.
    func noteWholeFiles(_ whole: [(sha256: String, length: Int64)], now: String) throws {
        try pool.write { db in
            for file in whole {
                try db.execute(
                    sql: "INSERT INTO files (sha256, length, received_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                    arguments: [file.sha256, file.length, now])
            }
        }
    }

    /// Files held here that the city does not hold whole yet, oldest first.
    func filesToForward() throws -> [(sha256: String, length: Int64)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, length FROM files WHERE at_city = 0 ORDER BY received_at, sha256").map { ($0["sha256"], $0["length"]) }
        }
    }

    /// Notes that the city holds a file whole.
    func fileAtCity(_ sha256: String, now: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE files SET at_city = 1, at_city_at = COALESCE(at_city_at, ?) WHERE sha256 = ?", arguments: [now, sha256])
        }
    }

    /// Files the city has held whole since before `cutoff`: the relay's copies may go (§19.3).
    func filesHeldAtCity(before cutoff: String) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM files WHERE at_city = 1 AND at_city_at < ? ORDER BY at_city_at", arguments: [cutoff])
        }
    }

    /// Forgets a file whose copy here was removed (or is gone).
    func forgetFile(_ sha256: String) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM files WHERE sha256 = ?", arguments: [sha256]) }
    }

    // MARK: Status

    /// What the relay's office is shown.
    func status(upstream: String) throws -> RelayStatus {
        try pool.read { db in
            RelayStatus(
                district: district, upstream: upstream, upstreamReachable: try Self.value(db, .reachable) == "1",
                lastContactAt: try Self.value(db, .lastContactAt), lastError: try Self.value(db, .lastError),
                pendingMutations: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mutations WHERE outcome IS NULL") ?? 0,
                pendingBatches: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batches WHERE state = 0") ?? 0,
                pendingFiles: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE at_city = 0") ?? 0,
                lastForwardAt: try Self.value(db, .lastForwardAt),
                oldestUnconfirmedAt: try String.fetchOne(db, sql: "SELECT MIN(received_at) FROM mutations WHERE outcome IS NULL"),
                refusedNotYetSeen: try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM mutations WHERE seen = 0 AND outcome IS NOT NULL AND json_extract(outcome, '$.outcome') = 'rejected'")
                    ?? 0,
                devices: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM devices") ?? 0, revoked: try Self.value(db, .revoked) == "1")
        }
    }
}
