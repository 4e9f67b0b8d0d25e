import DoorstepCore
import Foundation
import GRDB

/// A city restored from a backup under the relay (§19.8).
extension RelayStore {
    /// The city refused the relay's cursor: it was restored from a backup (§19.8). The next pull
    /// starts over (the copies stay until it replaces them: a pull cut on a weak line must not empty
    /// the laptops' worklists); every file the relay holds is asked about again and sent if the
    /// city lacks it; the next list of devices says how far the city holds each one's work (what the
    /// relay forwarded beyond is forwarded again, and the devices' cursors change, so that each
    /// pulls its district again and says what it had acknowledged, as it would to the restored
    /// city directly: work it sent the city itself is sent again, ``restoreProgress(_:)``).
    func cityRestored() throws {
        try pool.write { db in
            try Self.pullAgain(db)
            try db.execute(sql: "UPDATE files SET at_city = 0, at_city_at = NULL")
            try Self.set(db, .checkProgress, "1")
        }
    }

    /// Pulls the district from the start again; the copies the new pull does not deliver go at its end.
    func pullAgain() throws { try pool.write { db in try Self.pullAgain(db) } }

    static func pullAgain(_ db: Database) throws {
        try set(db, .cityCursor, nil)
        try set(db, .partialPage, nil)
        _ = try next(db, .pullEpoch)
        try set(db, .repulling, "1")
    }

    /// Whether the relay forwarded, and the city took, work of a device from seq `resume` on.
    func forwarded(device: DeviceID, from resume: Int64) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM batches WHERE device = ? AND state = 1 AND last_seq >= ?)", arguments: [device.rawValue, resume])
                ?? false
        }
    }

    /// After the city was restored (``cityRestored()``), with its list of the district's devices:
    /// for each device the relay holds work of, the batches it forwarded beyond what the restored
    /// city holds go again (their outcomes forgotten: the city answers them anew, and they show
    /// in the relay's view until it does), and its progress here becomes what the city holds and
    /// what the relay holds after it without a gap (a device that sent the city work the relay never
    /// saw is asked for it again, §19.8); an enrollment made here that the city no longer knows is
    /// reported again; the devices' cursors change. How many batches; `nil` when there was nothing to check.
    func restoreProgress(_ list: [RelayDevice]) throws -> Int? {
        guard try value(.checkProgress) != nil else { return nil }
        return try pool.write { db in
            guard try Self.value(db, .checkProgress) != nil else { return nil }
            var cityHeld: [String: Int64] = [:]
            for entry in list where entry.device.district == district { cityHeld[entry.device.id.rawValue] = entry.device.highestSeq }
            // Devices enrolled here that the restored city no longer knows: reported again (§19.6),
            // their work forwarded again once it makes them.
            let reported = Set(
                try String.fetchAll(db, sql: "SELECT device FROM enrollments WHERE state = 1").filter { cityHeld[$0] == nil })
            for device in reported {
                try db.execute(sql: "UPDATE enrollments SET state = 0, again = 1 WHERE device = ?", arguments: [device])
            }
            var again = 0
            let devices = Set(try String.fetchAll(db, sql: "SELECT DISTINCT device FROM batches")).union(cityHeld.keys)
            // A device the restored city does not know and the relay cannot make there again (enrolled at
            // the city after the backup) is as unknown here as there (its token refused: enrolled again,
            // a laptop starts anew): its work is left as it was.
            for text in devices.sorted() where cityHeld[text] != nil || reported.contains(text) {
                guard let device = try? DeviceID(text) else { continue }
                let held = cityHeld[text] ?? 0
                again += try Self.forwardAgain(db, device: device, from: held + 1)
                let households = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT household FROM mutations m WHERE device = ? AND seq > ? AND outcome IS NOT NULL
                        AND EXISTS (SELECT 1 FROM batches b WHERE b.device = m.device AND b.state = 0 AND m.seq BETWEEN b.first_seq AND b.last_seq)
                        """, arguments: [text, held])
                try db.execute(
                    sql: """
                        UPDATE mutations SET outcome = NULL, confirmed = NULL, settled = 0, seen = 0
                        WHERE device = ? AND seq > ? AND outcome IS NOT NULL
                        AND EXISTS (SELECT 1 FROM batches b WHERE b.device = mutations.device AND b.state = 0 AND mutations.seq BETWEEN b.first_seq AND b.last_seq)
                        """, arguments: [text, held])
                for household in households.compactMap({ try? EntityID($0) }) { try Self.touch(db, household) }
                let progress = try Self.contiguous(db, device: device, from: held)
                // The device's catch-up is told what the city holds when the relay holds more: it sends
                // again from there and hears the restored city's outcomes (§19.8).
                try db.execute(
                    sql: "INSERT OR REPLACE INTO progress (device, highest_seq, city_held, ask_from) VALUES (?, ?, ?, ?)",
                    arguments: [text, progress, held, progress > held ? held : nil])
            }
            try Self.set(db, .checkProgress, nil)
            // Only now, with each device's progress as the city holds it: a device asking where the
            // relay stands is told what the city lacks of its work.
            try Self.set(db, .cursorEpoch, UUID().uuidString.lowercased())
            return again
        }
    }

    /// Forwards again what the relay forwarded of a device from seq `resume` on (the city lacks it:
    /// restored from a backup); how many batches.
    static func forwardAgain(_ db: Database, device: DeviceID, from resume: Int64) throws -> Int {
        try db.execute(sql: "UPDATE batches SET state = 0 WHERE device = ? AND state = 1 AND last_seq >= ?", arguments: [device.rawValue, resume])
        return db.changesCount
    }
}
