import Foundation
import Testing

@testable import DoorstepCore

@Suite struct LocalDateTests {
    @Test(arguments: [
        ("2020-04-02", 2020, 4, 2),
        ("2020-02-29", 2020, 2, 29),
        ("2000-02-29", 2000, 2, 29),
        ("1900-01-01", 1900, 1, 1),
        ("2200-12-31", 2200, 12, 31),
        ("2020-12-31", 2020, 12, 31),
    ])
    func parse_valid_fieldsAndDescriptionRoundTrip(_ text: String, _ year: Int, _ month: Int, _ day: Int) throws {
        let date = try LocalDate(text)
        #expect(date.year == year)
        #expect(date.month == month)
        #expect(date.day == day)
        #expect(date.description == text)
        #expect(try LocalDate(year: year, month: month, day: day) == date)
    }

    @Test(arguments: [
        "2020-4-2",
        "20-04-02",
        "2020/04/02",
        "2020-04-02T00:00:00",
        "2020-04",
        "2020-04-02-01",
        "",
        " 2020-04-02",
        "2020-04-02 ",
        "abcd-ef-gh",
        "-020-04-02",
        "02020-04-02",
    ])
    func parse_wrongShape_rejectedWithCode(_ text: String) {
        let error = expectError(.invalidValue) { _ = try LocalDate(text) }
        #expect(error?.message.contains("YYYY-MM-DD") == true)
    }

    @Test(arguments: [
        "2019-02-29",  // not a leap year
        "1900-02-29",  // divisible by 100, not by 400
        "2100-02-29",
        "2020-02-30",
        "2020-04-31",
        "2020-06-31",
        "2020-09-31",
        "2020-11-31",
        "2020-13-01",
        "2020-00-10",
        "2020-01-00",
        "2020-01-32",
        "1899-12-31",  // outside the supported years
        "2201-01-01",
    ])
    func parse_impossibleDate_rejectedWithCode(_ text: String) {
        let error = expectError(.invalidValue) { _ = try LocalDate(text) }
        #expect(error?.message.contains("not a real date") == true)
    }

    @Test func parse_signedComponents_rejectedWithCode() {
        // "YYYY-MM-DD" has only digits; Swift's Int("+4") would accept a sign.
        expectError(.invalidValue) { _ = try LocalDate("2020-+4-+2") }
        expectError(.invalidValue) { _ = try LocalDate("2020-04-+2") }
    }

    @Test func daysInMonth_everyMonth_matchesCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for year in [1900, 1999, 2000, 2019, 2020, 2100] {
            for month in 1...12 {
                let first = calendar.date(from: DateComponents(year: year, month: month, day: 1))!
                let count = calendar.range(of: .day, in: .month, for: first)!.count
                _ = try LocalDate(year: year, month: month, day: count)
                expectError(.invalidValue) { _ = try LocalDate(year: year, month: month, day: count + 1) }
            }
        }
    }

    @Test func compare_byYearMonthDay() throws {
        let dates = try ["2020-05-31", "2019-12-31", "2020-04-02", "2020-04-10", "2021-01-01", "2020-10-01"].map(LocalDate.init)
        #expect(dates.sorted().map(\.description) == ["2019-12-31", "2020-04-02", "2020-04-10", "2020-05-31", "2020-10-01", "2021-01-01"])
        #expect(try LocalDate("2020-04-09") < LocalDate("2020-04-10"))
        #expect(try LocalDate("2020-09-30") < LocalDate("2020-10-01"))  // not string-length dependent
        #expect(!(try LocalDate("2020-04-02") < LocalDate("2020-04-02")))
    }

    @Test(arguments: [
        ("2020-04-02", "2020-05-31", 59),
        ("2020-05-31", "2020-04-02", -59),
        ("2020-04-02", "2020-04-02", 0),
        ("2020-02-28", "2020-03-01", 2),
        ("2019-02-28", "2019-03-01", 1),
        ("1900-02-28", "1900-03-01", 1),
        ("2000-02-28", "2000-03-01", 2),
        ("2019-12-31", "2020-01-01", 1),
        ("1970-01-01", "2020-04-02", 18_354),
        ("1900-01-01", "2200-12-31", 109_937),
    ])
    func daysUntil_matchesCalendar(_ from: String, _ to: String, _ expected: Int) throws {
        #expect(try LocalDate(from).days(until: LocalDate(to)) == expected)
    }

    @Test func dayNumber_epoch_isZero() throws {
        #expect(try LocalDate("1970-01-01").dayNumber == 0)
        #expect(try LocalDate("1969-12-31").dayNumber == -1)
    }

    @Test func initFromInstant_usesTimeZone() throws {
        // 2020-04-01T16:30:00Z is already 2020-04-02 00:30 in Ordos (UTC+8).
        let instant = Date(timeIntervalSince1970: 1_585_758_600)
        #expect(LocalDate(instant, in: TimeZone(identifier: "Asia/Shanghai")!) == (try LocalDate("2020-04-02")))
        #expect(LocalDate(instant, in: TimeZone(identifier: "UTC")!) == (try LocalDate("2020-04-01")))
        #expect(LocalDate(instant, in: TimeZone(identifier: "America/New_York")!) == (try LocalDate("2020-04-01")))
    }

    @Test func codable_roundTripAsString() throws {
        let dates = [try LocalDate("2020-04-02"), try LocalDate("1949-12-31")]
        let data = try JSONEncoder().encode(dates)
        #expect(String(decoding: data, as: UTF8.self) == #"["2020-04-02","1949-12-31"]"#)
        #expect(try JSONDecoder().decode([LocalDate].self, from: data) == dates)
    }

    @Test(arguments: [#"["2020-02-30"]"#, #"["2020-4-2"]"#, #"[20200402]"#])
    func codable_invalid_throwsDecodingError(_ json: String) {
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([LocalDate].self, from: Data(json.utf8))
        }
    }
}
