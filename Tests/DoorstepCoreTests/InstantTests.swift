import Foundation
import Testing

@testable import DoorstepCore

@Suite struct InstantTests {
    /// 2020-04-12T02:30:00Z.
    static let visit = Date(timeIntervalSince1970: 1_586_658_600)
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    static let utc = TimeZone(identifier: "UTC")!

    @Test(arguments: [
        ("2020-04-12T10:30:00+08:00", 1_586_658_600.0),
        ("2020-04-12T02:30:00Z", 1_586_658_600.0),
        ("2020-04-12T02:30:00+00:00", 1_586_658_600.0),
        ("2020-04-11T21:30:00-05:00", 1_586_658_600.0),
        ("2020-04-12T10:30:00.250+08:00", 1_586_658_600.25),
        ("2020-04-12T02:30:00.5Z", 1_586_658_600.5),
        ("1970-01-01T00:00:00Z", 0.0),
    ])
    func parse_rfc3339WithOffset_instant(_ text: String, _ seconds: Double) throws {
        let parsed = try #require(Instant.parse(text))
        #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.001)
    }

    @Test(arguments: [
        "2020-04-12T10:30:00",  // no offset: ambiguous
        "2020-04-12",
        "10:30:00+08:00",
        "2020-04-12 10:30",
        "",
        "yesterday",
        "2020-13-12T10:30:00+08:00",
        "2020-04-12T10:30:00+08:00" + String(repeating: " ", count: 20),  // longer than 40 characters
        String(repeating: "9", count: 1000),
    ])
    func parse_invalid_nil(_ text: String) {
        #expect(Instant.parse(text) == nil)
    }

    @Test func format_shanghai_offsetPlus8() {
        #expect(Instant.format(Self.visit, in: Self.shanghai) == "2020-04-12T10:30:00+08:00")
    }

    @Test func format_utc_z() {
        #expect(Instant.format(Self.visit, in: Self.utc) == "2020-04-12T02:30:00Z")
    }

    @Test func format_dropsFractionalSeconds() {
        #expect(Instant.format(Self.visit.addingTimeInterval(0.75), in: Self.shanghai) == "2020-04-12T10:30:00+08:00")
    }

    @Test(arguments: [0.0, 1_586_658_600, 1_600_000_000, 946_684_799, 4_102_444_800])
    func formatThenParse_roundTrip(_ seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        for zone in [Self.shanghai, Self.utc, TimeZone(identifier: "America/Los_Angeles")!] {
            let text = Instant.format(date, in: zone)
            #expect(try #require(Instant.parse(text)) == date, "\(text)")
        }
    }

    @Test func localDate_ofParsedInstant_inDistrictZone() throws {
        // A visit recorded at 23:30 on the last day of the identification stage belongs to it.
        let instant = try #require(Instant.parse("2020-05-31T23:30:00+08:00"))
        #expect(LocalDate(instant, in: Self.shanghai) == (try LocalDate("2020-05-31")))
        #expect(LocalDate(instant, in: Self.utc) == (try LocalDate("2020-05-31")))
        let early = try #require(Instant.parse("2020-04-02T00:10:00+08:00"))
        #expect(LocalDate(early, in: Self.shanghai) == (try LocalDate("2020-04-02")))
        #expect(LocalDate(early, in: Self.utc) == (try LocalDate("2020-04-01")))
    }
}

/// The hand-written parser and formatter against Foundation's ISO 8601 formatter, on seeded instants.
@Suite struct InstantAgainstFoundationTests {
    @Test func formatAndParse_agreeWithISO8601DateFormatter_onSeededInstants() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        let zones = ["Asia/Shanghai", "UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"].compactMap(TimeZone.init(identifier:))
        for _ in 0..<2_000 {
            let seconds = Double(generator.next() % 6_000_000_000) - 1_000_000_000  // 1938 to 2160
            let date = Date(timeIntervalSince1970: seconds)
            for zone in zones {
                let foundation = ISO8601DateFormatter()
                foundation.formatOptions = [.withInternetDateTime]
                foundation.timeZone = zone
                let expected = foundation.string(from: date)
                #expect(Instant.format(date, in: zone) == expected)
                #expect(Instant.parse(expected) == foundation.date(from: expected), "\(expected)")
            }
        }
        #expect(Instant.parse("2021-02-29T10:00:00Z") == nil, "no 29 February in 2021")
        #expect(Instant.parse("2020-02-29T10:00:00Z") != nil)
        #expect(Instant.parse("2020-04-12T24:00:00Z") == nil)
        #expect(Instant.parse("2020-04-12T10:30:00.Z") == nil)
        #expect(Instant.parse("2020-04-12T10:30:00+0800") == nil)
    }
}
