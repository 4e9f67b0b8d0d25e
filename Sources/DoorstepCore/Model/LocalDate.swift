public import Foundation

/// A calendar date without a time zone, written `YYYY-MM-DD` (stage windows, due dates, birth dates).
public struct LocalDate: Hashable, Comparable, Sendable, WireStringCodable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Makes a date; throws `invalidValue` for a day that does not exist.
    public init(year: Int, month: Int, day: Int) throws(DoorstepError) {
        guard (1900...2200).contains(year), (1...12).contains(month),
            (1...LocalDate.daysIn(month: month, year: year)).contains(day)
        else {
            throw DoorstepError(
                .invalidValue, "\(year)-\(month)-\(day) is not a real date", zh: "\(year)-\(month)-\(day) 不是存在的日期", details: ErrorDetails(rule: "dateNotReal"))
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`; throws `invalidValue` otherwise.
    public init(_ text: String) throws(DoorstepError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else {
            throw DoorstepError(
                .invalidValue, "\"\(text.prefix(40))\" is not a date of the form YYYY-MM-DD", zh: "「\(text.prefix(40))」不是日期，请按 2020-04-12 的格式填写",
                details: ErrorDetails(rule: "dateForm", expected: "2020-04-12"))
        }
        try self.init(year: year, month: month, day: day)
    }

    /// The local date of an instant in a time zone.
    public init(_ instant: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        self.year = parts.year ?? 1970
        self.month = parts.month ?? 1
        self.day = parts.day ?? 1
    }

    public var description: String {
        let y = String(year), m = month < 10 ? "0\(month)" : String(month), d = day < 10 ? "0\(day)" : String(day)
        return "\(y)-\(m)-\(d)"
    }

    public var wireText: String { description }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Days from `self` to `other` (negative when `other` is earlier).
    public func days(until other: LocalDate) -> Int {
        other.dayNumber - dayNumber
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    var dayNumber: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> LocalDate {
        let (year, month, day) = LocalCalendar.civil(daysSinceEpoch: dayNumber + days)
        return (try? LocalDate(year: year, month: month, day: day)) ?? self
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
