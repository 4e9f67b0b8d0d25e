import Foundation

/// A hybrid-logical-clock stamp: wall-clock milliseconds plus a logical counter.
///
/// Stamps order totally by `(wallMillis, logical)`; ties between devices are broken by
/// device id in ``WriteID``. The string form is 16 lower-case hex digits (12 for the
/// milliseconds, 4 for the counter), so it sorts as text in the same order as the stamps.
public struct HLC: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let wallMillis: Int64
    /// A counter that orders events within the same millisecond.
    public let logical: UInt16

    /// The largest wall time the string form can hold (year 10889).
    public static let maxWallMillis: Int64 = 0xFFFF_FFFF_FFFF

    /// The zero stamp, earlier than every real one.
    public static let zero = HLC(wallMillis: 0, logical: 0)

    public init(wallMillis: Int64, logical: UInt16) {
        self.wallMillis = min(max(wallMillis, 0), HLC.maxWallMillis)
        self.logical = logical
    }

    /// Parses the 16-hex-digit form; throws `invalidValue` otherwise.
    public init(_ text: String) throws(DoorstepError) {
        var value: UInt64 = 0
        var count = 0
        for byte in text.utf8 {
            let digit: UInt64
            switch byte {
            case 0x30...0x39: digit = UInt64(byte - 0x30)
            case 0x61...0x66: digit = UInt64(byte - 0x61 + 10)
            default: digit = 16
            }
            count += 1
            guard digit < 16, count <= 16 else {
                count = 17
                break
            }
            value = value << 4 | digit
        }
        guard count == 16 else {
            throw DoorstepError(.invalidValue, "\"\(text.prefix(40))\" is not a clock stamp (16 lower-case hex digits)")
        }
        self.init(wallMillis: Int64(value >> 16), logical: UInt16(value & 0xFFFF))
    }

    /// The compact, sortable string form.
    public var description: String {
        let value = UInt64(UInt64(bitPattern: wallMillis) & 0xFFFF_FFFF_FFFF) << 16 | UInt64(logical)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 {
                let digit = UInt8(value >> UInt64(60 - 4 * index) & 0xF)
                buffer[index] = digit < 10 ? 0x30 + digit : 0x61 + digit - 10
            }
            return 16
        }
    }

    public static func < (lhs: HLC, rhs: HLC) -> Bool {
        (lhs.wallMillis, lhs.logical) < (rhs.wallMillis, rhs.logical)
    }

    /// The smallest stamp after this one. The largest stamp (year 10889) is its own successor.
    public var successor: HLC {
        if logical < .max { return HLC(wallMillis: wallMillis, logical: logical + 1) }
        return wallMillis < HLC.maxWallMillis ? HLC(wallMillis: wallMillis + 1, logical: 0) : self
    }
}

extension HLC: WireStringCodable {
    public var wireText: String { description }
}

/// A hybrid logical clock: monotonic, absorbs remote stamps, and survives restarts when its
/// ``last`` stamp is persisted and handed back to ``init(last:physicalMillis:)``.
public struct HybridLogicalClock: Sendable {
    /// The latest stamp issued or absorbed; persist it to stay monotonic across restarts.
    public private(set) var last: HLC
    private let physicalMillis: @Sendable () -> Int64

    /// Makes a clock that continues after `last`, reading physical time from `physicalMillis`.
    public init(last: HLC = .zero, physicalMillis: @escaping @Sendable () -> Int64 = HybridLogicalClock.systemMillis) {
        self.last = last
        self.physicalMillis = physicalMillis
    }

    /// The system's wall clock in milliseconds since the epoch.
    public static let systemMillis: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The physical time the clock reads now.
    public var physicalNow: Int64 { physicalMillis() }

    /// Issues a new stamp for a local event, later than every stamp issued or absorbed before.
    public mutating func tick() -> HLC {
        let physical = min(physicalMillis(), HLC.maxWallMillis)
        let next = physical > last.wallMillis ? HLC(wallMillis: physical, logical: 0) : last.successor
        last = next
        return next
    }

    /// Absorbs a stamp seen from elsewhere (the server's clock, a pulled write), so later
    /// local stamps order after it.
    public mutating func absorb(_ remote: HLC) {
        if remote > last { last = remote }
    }
}

/// The rule for stamps too far ahead of the server (`protocol/README.md` §4).
public struct ClockSkewPolicy: Sendable, Hashable, Codable {
    /// How far ahead of the server's clock a stamp may be, in milliseconds (default 5 minutes).
    public var maxAheadMillis: Int64

    public init(maxAheadMillis: Int64 = 5 * 60 * 1000) {
        self.maxAheadMillis = maxAheadMillis
    }

    /// Clamps a stamp to the server's time plus the bound. Returns the stamp to use and
    /// whether it was clamped (the device is then flagged for a wrong clock).
    public func clamp(_ stamp: HLC, serverMillis: Int64) -> (stamp: HLC, clamped: Bool) {
        let limit = serverMillis + maxAheadMillis
        guard stamp.wallMillis > limit else { return (stamp, false) }
        return (HLC(wallMillis: limit, logical: stamp.logical), true)
    }
}
