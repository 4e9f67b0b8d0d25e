import DoorstepCore
import Foundation
import GRDB

/// The district's devices as the relay knows them, and those it enrolls with its own codes (§19.5, §19.6).
extension RelayStore {
    // MARK: Devices

    /// Takes devices the city made: new ones added, every record (a revocation made at the city
    /// above all) replaced; what each device has at the city raises its progress. `complete`: the
    /// city's whole list of the district's devices; the answer is then whether it shows a city
    /// restored from a backup (§19.8): a device it listed before is missing, or it holds less of a
    /// device's work than it was seen to hold.
    @discardableResult
    func takeDevices(_ list: [RelayDevice], complete: Bool = false) throws -> Bool {
        try pool.write { db in
            var missing = false
            if complete {
                let listed = Set(list.filter { $0.device.district == district }.map(\.device.id.rawValue))
                for row in try Row.fetchAll(db, sql: "SELECT id, at_city FROM devices WHERE at_city > 0") where !listed.contains(row["id"] as String) {
                    // One made at the city since the list before (the list may have been asked before it
                    // was made) waits for a list that has it; one listed before is gone: a restore.
                    let gone = row["at_city"] as Int == 1
                    if gone { missing = true }
                    try db.execute(sql: "UPDATE devices SET at_city = ? WHERE id = ?", arguments: [gone ? -1 : 0, row["id"] as String])
                }
                for entry in list where entry.device.district == district {
                    let seen = try Int64.fetchOne(db, sql: "SELECT city_held FROM progress WHERE device = ?", arguments: [entry.device.id.rawValue]) ?? 0
                    if entry.device.highestSeq < seen { missing = true }
                }
            }
            for entry in list where entry.device.district == district {
                try db.execute(
                    sql: """
                        INSERT INTO devices (id, token_hash, record, at_city) VALUES (?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, record = excluded.record,
                            at_city = MAX(at_city, excluded.at_city)
                        """,
                    arguments: [
                        entry.device.id.rawValue, entry.tokenHash, String(decoding: try WireCoding.encode(entry.device), as: UTF8.self), complete ? 1 : 2,
                    ])
                if complete { try db.execute(sql: "UPDATE devices SET at_city = 1 WHERE id = ?", arguments: [entry.device.id.rawValue]) }
                try db.execute(
                    sql: """
                        INSERT INTO progress (device, highest_seq, city_held) VALUES (?, ?, ?)
                        ON CONFLICT (device) DO UPDATE SET highest_seq = MAX(highest_seq, excluded.highest_seq),
                            city_held = MAX(city_held, excluded.city_held)
                        """, arguments: [entry.device.id.rawValue, entry.device.highestSeq, entry.device.highestSeq])
            }
            return missing
        }
    }

    /// Devices whose work waits here because the city does not know them (yet, or since a restore).
    func devicesUnknownAtCity() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT device FROM batches WHERE state = 0 AND device IN (SELECT id FROM devices WHERE at_city <= 0)")
        }
    }

    /// The device holding a token (by its hash), with whether the office revoked it here.
    /// `forgotten`: the city no longer knows it (restored from a backup taken before it was
    /// enrolled) and the relay is not making it there again.
    func device(tokenHash: String) throws -> (record: DeviceRecord, revokedHere: Bool, forgotten: Bool)? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT record, revoked_here_at,
                            at_city < 0 AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.device = devices.id AND e.state = 0) AS forgotten
                        FROM devices WHERE token_hash = ?
                        """, arguments: [tokenHash])
            else { return nil }
            return (
                try WireCoding.decode(DeviceRecord.self, from: Data((row["record"] as String).utf8)), (row["revoked_here_at"] as String?) != nil,
                row["forgotten"] as Bool
            )
        }
    }

    /// A device's record; `nil` for one the relay does not know.
    func device(id: DeviceID) throws -> DeviceRecord? {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT record FROM devices WHERE id = ?", arguments: [id.rawValue])
                .map { try WireCoding.decode(DeviceRecord.self, from: Data($0.utf8)) }
        }
    }

    /// Revokes a device of the district here, at once (an office did it at the relay, §19.5); the
    /// city is told at the relay's next round. `nil` for a device the relay does not know.
    func revokeHere(_ id: DeviceID, at: String) throws -> DeviceRecord? {
        try pool.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT record FROM devices WHERE id = ?", arguments: [id.rawValue]) else { return nil }
            try db.execute(
                sql: "UPDATE devices SET revoked_here_at = COALESCE(revoked_here_at, ?) WHERE id = ?", arguments: [at, id.rawValue])
            var record = try WireCoding.decode(DeviceRecord.self, from: Data(text.utf8))
            if record.revokedAt == nil {
                record.revokedAt = try String.fetchOne(db, sql: "SELECT revoked_here_at FROM devices WHERE id = ?", arguments: [id.rawValue])
            }
            return record
        }
    }

    /// Revocations made here that the city has not taken yet.
    func revocationsToSend() throws -> [DeviceID] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM devices WHERE revoked_here_at IS NOT NULL AND revocation_sent = 0").compactMap { try? DeviceID($0) }
        }
    }

    /// Notes that the city took a revocation made here.
    func revocationSent(_ id: DeviceID) throws {
        try pool.write { db in try db.execute(sql: "UPDATE devices SET revocation_sent = 1 WHERE id = ?", arguments: [id.rawValue]) }
    }

    /// How many devices of the district the relay knows.
    func deviceCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM devices") ?? 0 }
    }

    // MARK: Enrollment with the relay's own codes (§19.6)

    /// Takes the codes the city issued to this relay and has not seen used: those used here stay used.
    func takeCodes(_ codes: [RelayCode]) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM codes WHERE used_at IS NULL")
            for code in codes {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO codes (code_hash, role, expires_at) VALUES (?, ?, ?)",
                    arguments: [code.codeHash, code.role.rawValue, code.expiresAt])
            }
        }
    }

    /// Whether a code (by its hash) was issued to this relay: it is then used here, never at the city.
    func holdsCode(_ hash: String) throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM codes WHERE code_hash = ?)", arguments: [hash]) ?? false }
    }

    /// Enrolls a device with one of the relay's codes, at once, whether or not the city is
    /// reachable: `invalidEnrollmentCode` for a code used or expired.
    func enroll(code hash: String, device: DeviceID, name: String, tokenHash: String, signingKey: String, now: String) throws -> DeviceRecord {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT role, expires_at, used_at FROM codes WHERE code_hash = ?", arguments: [hash]),
                (row["used_at"] as String?) == nil, (row["expires_at"] as String) > now, let role = Role(rawValue: row["role"])
            else {
                throw DoorstepError(.invalidEnrollmentCode, "the enrollment code is unknown, already used or expired; ask the office for a new one")
            }
            try db.execute(sql: "UPDATE codes SET used_at = ? WHERE code_hash = ?", arguments: [now, hash])
            let record = DeviceRecord(
                id: device, name: name, role: role, district: district, signingKey: signingKey, enrolledAt: now, revokedAt: nil, highestSeq: 0,
                clockSkew: false, lastPushAt: nil, lastPullAt: nil)
            try db.execute(
                sql: "INSERT INTO devices (id, token_hash, record) VALUES (?, ?, ?)",
                arguments: [device.rawValue, tokenHash, String(decoding: try WireCoding.encode(record), as: UTF8.self)])
            try db.execute(
                sql: "INSERT INTO enrollments (device, code_hash, name, token_hash, signing_key) VALUES (?, ?, ?, ?, ?)",
                arguments: [device.rawValue, hash, name, tokenHash, signingKey])
            return record
        }
    }

    /// Devices enrolled here that the city has not made yet.
    func enrollmentsToReport() throws -> [RelayEnrollment] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT device, code_hash, name, token_hash, signing_key FROM enrollments WHERE state = 0").compactMap { row in
                guard let device = try? DeviceID(row["device"] as String) else { return nil }
                return RelayEnrollment(
                    codeHash: row["code_hash"], device: device, deviceName: row["name"], tokenHash: row["token_hash"], publicSigningKey: row["signing_key"])
            }
        }
    }

    /// Notes the city's answer to an enrollment made here: made, or refused (the code was
    /// revoked or expired meanwhile): a refused device's token is refused here from then on
    /// (not after a restore of the city: ``restoreProgress(_:)``).
    func enrollmentReported(_ device: DeviceID, made: Bool, now: String) throws {
        try pool.write { db in
            let again = try Bool.fetchOne(db, sql: "SELECT again = 1 FROM enrollments WHERE device = ?", arguments: [device.rawValue]) ?? false
            try db.execute(sql: "UPDATE enrollments SET state = ? WHERE device = ?", arguments: [made ? 1 : 2, device.rawValue])
            if made { try db.execute(sql: "UPDATE devices SET at_city = MAX(at_city, 2) WHERE id = ?", arguments: [device.rawValue]) }
            // Refused again by a restored city (its code is not in its backup): the laptop is not
            // revoked here; its work waits, said in the relay's status, until the city knows it.
            if !made && !again {
                try db.execute(
                    sql: "UPDATE devices SET revoked_here_at = COALESCE(revoked_here_at, ?), revocation_sent = 1 WHERE id = ?",
                    arguments: [now, device.rawValue])
            }
        }
    }
}
