import Foundation
import PropertyBased
import Testing

@testable import DoorstepCore

@Suite struct NationalIDTests {
    /// The GB 11643 standard's own example (Beijing, born 1949-12-31, female, check character X).
    static let beijingExample = "11010519491231002X"
    /// An Ordos (Dongsheng) number, born 1985-03-12, male, check character X.
    static let dongshengMale = "15060219850312123X"
    /// Born on a leap day (2000-02-29), male, check digit 9.
    static let leapDay = "150602200002290019"

    // MARK: Valid numbers

    @Test(arguments: [beijingExample, dongshengMale, leapDay])
    func checkDigit_valid_accepted(_ text: String) throws {
        let id = try NationalID(text)
        #expect(id.value == text)
    }

    @Test(arguments: [
        ("11010519491231002x", "11010519491231002X"),
        ("  11010519491231002x\n", "11010519491231002X"),
        ("\t15060219850312123x ", "15060219850312123X"),
        (" 150602200002290019 ", "150602200002290019"),
    ])
    func normalise_lowerCaseXAndWhitespace_upperCasedAndTrimmed(_ input: String, _ expected: String) throws {
        #expect(NationalID.normalize(input) == expected)
        let id = try NationalID(input)
        #expect(id.value == expected)
        #expect(id == (try NationalID(expected)))
    }

    @Test func normalise_invalidText_notValidated() {
        #expect(NationalID.normalize(" abc ") == "ABC")
    }

    @Test(arguments: [
        ("11010519491231002", Character("X")),
        ("15060219850312123", Character("X")),
        ("15060220000229001", Character("9")),
        ("15062719900229001", Character("0")),
        ("15260219850312123", Character("1")),
    ])
    func checkCharacter_knownPrefixes_matchGB11643(_ prefix: String, _ expected: Character) {
        #expect(NationalID.checkCharacter(for: Array(prefix)) == expected)
        #expect(NationalID.checkCharacter(for: prefix) == expected)
    }

    @Test func checkCharacter_everyRemainder_mapsToTable() {
        // sum % 11 == r must map to "10X98765432"[r]; the last weight is 2, the 16th is 4, so
        // vary the last digit of a zero prefix: sum = 2 * d, giving remainders 0, 2, 4, …
        let table = Array("10X98765432")
        for d in 0...9 {
            let prefix = Array(repeating: Character("0"), count: 16) + [Character(String(d))]
            #expect(NationalID.checkCharacter(for: prefix) == table[(2 * d) % 11])
        }
        // weight 7 on the first digit: 7 * d % 11 covers the odd remainders too
        for d in 0...9 {
            let prefix = [Character(String(d))] + Array(repeating: Character("0"), count: 16)
            #expect(NationalID.checkCharacter(for: prefix) == table[(7 * d) % 11])
        }
    }

    // MARK: Invalid numbers

    @Test(arguments: [
        "11010519491231002",  // 17
        "11010519491231002X1",  // 19
        "",
        "   ",
        "110105194912310",  // 15-digit first-generation number
    ])
    func length_wrong_rejectedWithCode(_ text: String) {
        let error = expectError(.invalidNationalId) { _ = try NationalID(text) }
        #expect(error?.message.contains("18 characters") == true)
    }

    @Test(arguments: [
        "1101051949123100XX",  // X before the last place
        "X10105194912310021",
        "11010519491231002Y",
        "1101051949-231002X",
        "１１0105194912310020",  // full-width digits
        "11010519491231002*",
    ])
    func characters_nonDigit_rejectedWithCode(_ text: String) {
        expectError(.invalidNationalId) { _ = try NationalID(text) }
    }

    @Test(arguments: ["0", "9"])
    func regionCode_firstDigitOutOf1To8_rejectedWithCode(_ first: String) {
        let prefix = first + "1010519491231002"
        let text = prefix + String(NationalID.checkCharacter(for: prefix))
        let error = expectError(.invalidNationalId) { _ = try NationalID(text) }
        #expect(error?.message.contains("region") == true)
    }

    @Test(arguments: [
        "19900229",  // 1990 is not a leap year
        "19491331",  // month 13
        "19490001",  // month 0
        "19490431",  // April has 30 days
        "19490100",  // day 0
        "18991231",  // before 1900
        "21000229",  // 2100 is not a leap year
    ])
    func birthDate_impossible_rejectedWithCode(_ birth: String) {
        let prefix = "150602" + birth + "123"
        let text = prefix + String(NationalID.checkCharacter(for: prefix))
        let error = expectError(.invalidNationalId) { _ = try NationalID(text) }
        #expect(error?.message.contains("not a real date") == true)
    }

    @Test func birthDate_inFuture_rejectedWithCode() throws {
        let error = expectError(.invalidNationalId) {
            _ = try NationalID(Self.leapDay, today: try LocalDate("2000-02-28"))
        }
        #expect(error?.message.contains("future") == true)
    }

    @Test func birthDate_today_accepted() throws {
        let id = try NationalID(Self.leapDay, today: try LocalDate("2000-02-29"))
        #expect(id.birthDate == (try LocalDate("2000-02-29")))
        _ = try NationalID(Self.leapDay, today: try LocalDate("2020-04-02"))
    }

    @Test(arguments: Array("0123456789"))
    func checkDigit_wrong_rejectedWithCode(_ replacement: Character) {
        // The right check character is X; every other one must fail.
        let text = String(Self.beijingExample.dropLast()) + String(replacement)
        let error = expectError(.invalidNationalId) { _ = try NationalID(text) }
        #expect(error?.message.contains("check digit") == true)
    }

    @Test func checkDigit_transposedDigits_rejectedWithCode() {
        // A typical typing error: two adjacent digits swapped (1985 → 1958 keeps a real date).
        let swapped = "15060219580312123X"
        expectError(.invalidNationalId) { _ = try NationalID(swapped) }
    }

    // MARK: Derived facts

    @Test func birthDate_regionAndSex_readFromNumber() throws {
        let beijing = try NationalID(Self.beijingExample)
        #expect(beijing.regionCode == "110105")
        #expect(beijing.birthDate == (try LocalDate("1949-12-31")))
        #expect(beijing.isMale == false)  // 17th digit 2

        let ordos = try NationalID(Self.dongshengMale)
        #expect(ordos.regionCode == "150602")
        #expect(ordos.birthDate == (try LocalDate(year: 1985, month: 3, day: 12)))
        #expect(ordos.isMale == true)  // 17th digit 3

        let leap = try NationalID(Self.leapDay)
        #expect(leap.birthDate == (try LocalDate(year: 2000, month: 2, day: 29)))
        #expect(leap.isMale == true)  // 17th digit 1
    }

    @Test func regionCode_otherCityThanDistrict_stillValid() throws {
        // A number opens with the place of first registration, which need not be an Ordos district.
        let id = try NationalID(Self.beijingExample)
        #expect(CityData.ordos.district(id.regionCode) == nil)
    }

    // MARK: Privacy

    @Test func masked_showsRegionAndLastFourOnly() throws {
        let id = try NationalID(Self.dongshengMale)
        #expect(id.masked == "150602********123X")
        #expect(id.masked.count == 18)
        #expect(id.description == id.masked)
        #expect("\(id)" == id.masked)
        #expect(String(describing: id) == id.masked)
        #expect(String(reflecting: id) == id.masked)
        #expect(!id.masked.contains("19850312"))
    }

    @Test(arguments: [
        "15060219850312123",  // too short
        "15060219850312123X9",  // too long
        "15060219850312123Y",  // bad character
        "95060219850312123X",  // bad region
        "15060219850232123X",  // bad birth date (with any check character)
        "150602198503121231",  // wrong check digit
        "15060219850312123x ",  // valid after normalising, but born after `today`
    ])
    func errorMessage_invalidNumber_neverContainsTheNumber(_ text: String) throws {
        let today = try LocalDate("1980-01-01")
        let error = expectError(.invalidNationalId) { _ = try NationalID(text, today: today) }
        guard let error else { return }
        let normalized = NationalID.normalize(text)
        let digits = Array(normalized)
        // No run of six characters of the number (region code, birth date, sequence…) appears.
        for start in 0...(max(digits.count - 6, 0)) where digits.count >= 6 {
            let window = String(digits[start..<(start + 6)])
            #expect(!error.message.contains(window), "message leaks \(window)")
            #expect(!error.description.contains(window))
        }
        #expect(!error.message.contains(normalized))
    }

    // MARK: Codable

    @Test func codable_roundTrip_encodesNormalisedValue() throws {
        let decoded = try JSONDecoder().decode([NationalID].self, from: Data(#"["11010519491231002x"]"#.utf8))
        #expect(decoded.first?.value == Self.beijingExample)
        let encoded = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
        #expect(encoded == #"["11010519491231002X"]"#)
    }

    @Test func codable_invalidNumber_throwsWithoutLeaking() {
        let text = "150602198503121231"
        do {
            _ = try JSONDecoder().decode([NationalID].self, from: Data("[\"\(text)\"]".utf8))
            Issue.record("decoding an invalid national ID should fail")
        } catch let error as DecodingError {
            #expect(!String(describing: error).contains(text))
            #expect(!String(describing: error).contains("19850312"))
            guard case .dataCorrupted(let context) = error else {
                Issue.record("expected dataCorrupted, got \(error)")
                return
            }
            #expect(context.debugDescription.contains("check digit"))
        } catch {
            Issue.record("expected a DecodingError, got \(error)")
        }
    }

    // MARK: Property: the check character catches every single-digit error

    /// Seventeen digits made deterministically from `n`: a real region code, a real birth date
    /// between 1930 and 2029, and a three-digit sequence number.
    static func seventeenDigits(from n: Int) -> [Character] {
        let regions = ["150602", "150603", "150621", "150622", "150623", "150624", "150625", "150626", "150627", "150600", "110105", "440524", "820000"]
        let region = regions[n % regions.count]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let origin = calendar.date(from: DateComponents(year: 1930, month: 1, day: 1))!
        let birthDay = calendar.date(byAdding: .day, value: (n * 37) % 36_500, to: origin)!
        let birth = LocalDate(birthDay, in: calendar.timeZone)
        let birthText = birth.description.replacingOccurrences(of: "-", with: "")
        let sequence = (n * 7919) % 1000
        let sequenceText = String(repeating: "0", count: 3 - String(sequence).count) + String(sequence)
        let digits = Array(region + birthText + sequenceText)
        precondition(digits.count == 17)
        return digits
    }

    /// The property for one input: the generated number validates, and changing any single
    /// digit (or the check character) makes it fail.
    static func checkSingleDigitErrorsCaught(_ n: Int) {
        let digits = seventeenDigits(from: n)
        let check = NationalID.checkCharacter(for: digits)
        let text = String(digits) + String(check)
        do {
            let id = try NationalID(text)
            #expect(id.value == text)
        } catch {
            Issue.record("n=\(n): generated number rejected: \(error.message)")
        }

        for index in 0..<17 {
            for replacement in "0123456789" where replacement != digits[index] {
                var changed = digits
                changed[index] = replacement
                // The weights are non-zero modulo the prime 11, so the check character always changes…
                #expect(NationalID.checkCharacter(for: changed) != check, "n=\(n) index=\(index)")
                // …and the number with the old check character is refused.
                expectError(.invalidNationalId) { _ = try NationalID(String(changed) + String(check)) }
            }
        }
        for replacement in "0123456789X" where replacement != check {
            expectError(.invalidNationalId) { _ = try NationalID(String(digits) + String(replacement)) }
        }
    }

    @Test func checkCharacter_generatedNumbers_validateAndAnySingleDigitChangeFails() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...99_999)) { n in
            Self.checkSingleDigitErrorsCaught(n)
        }
    }
}
