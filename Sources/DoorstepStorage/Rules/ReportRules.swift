import DoorstepCore
import Foundation

/// What reports and the roster comparison read, made from stored rows the same way by every backend.
enum ReportRows {
    /// A status change from an audit row of a household's `status` (JSON texts), filed under the
    /// survivor `household`; `nil` when it is no status or outside `scope`.
    ///
    /// A status change's instant is its write's clock stamp, but never later than when the server
    /// recorded it: a household identified offline before the campaign began existed at its start,
    /// even if it synced later.
    static func statusChange(
        household: String, old: String?, new: String, write: String, recordedAt: String,
        in scope: Set<EntityID>
    ) -> StatusChange? {
        guard let id = try? EntityID(household), scope.contains(id), let to = status(new),
            let instant = changeInstant(write: write, recorded: recordedAt)
        else { return nil }
        return StatusChange(household: id, at: instant, from: status(old), to: to)
    }

    /// A device as the report lists it: its last sync is the later of its last push and pull.
    static func device(_ record: DeviceRecord) -> ReportDevice {
        ReportDevice(
            id: record.id, name: record.name, district: record.district, lastSyncAt: latest(record.lastPushAt, record.lastPullAt),
            clockFlagged: record.clockSkew, revokedAt: record.revokedAt)
    }

    /// A household as the roster comparison sees it (its shown values); `nil` without a shown district.
    static func shown(_ id: EntityID, state: EntityState) -> ShownHousehold? {
        guard let district = state["district"].stringValue else { return nil }
        return ShownHousehold(
            id: id, district: district, nationalId: state["nationalId"].stringValue.map(NationalID.normalize),
            headName: state["headName"].stringValue, status: state["status"].stringValue.flatMap(HouseholdStatus.init(rawValue:))
        )
    }

    /// A status from an audit column (JSON text).
    static func status(_ text: String?) -> HouseholdStatus? {
        guard let text, let value = try? StoredJSON.decode(JSONValue.self, text) else { return nil }
        return value.stringValue.flatMap(HouseholdStatus.init(rawValue:))
    }

    /// The earlier of a write's clock stamp and the time the server recorded it, RFC 3339 in UTC.
    static func changeInstant(write: String, recorded: String) -> String? {
        let recordedAt = Instant.parse(recorded)
        let stampedAt = (try? WriteID(write)).map { Date(timeIntervalSince1970: Double($0.hlc.wallMillis) / 1000) }
        guard let instant = [recordedAt, stampedAt].compactMap({ $0 }).min() else { return nil }
        return Instant.format(instant, in: .gmt)
    }

    /// The later of two RFC 3339 instants, either of which may be missing.
    static func latest(_ first: String?, _ second: String?) -> String? {
        guard let first else { return second }
        guard let second else { return first }
        guard let a = Instant.parse(first), let b = Instant.parse(second) else { return max(first, second) }
        return a >= b ? first : second
    }
}
