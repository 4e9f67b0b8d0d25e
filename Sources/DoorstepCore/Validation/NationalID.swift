import Foundation

/// A mainland resident identity number (GB 11643): 18 characters, the last a check digit.
///
/// `NationalID` values are always normalised (trimmed, upper-case `X`) and valid: the
/// region code, birth date and check digit have been verified. The raw text never
/// appears in error messages or descriptions, since logs must not hold national IDs.
public struct NationalID: Hashable, Sendable, WireStringCodable, CustomStringConvertible {
    /// The normalised 18-character number.
    public let value: String

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]

    /// Validates and normalises a national ID number; throws `invalidNationalId` saying what is wrong.
    ///
    /// - Parameter today: the latest acceptable birth date; `nil` skips the "born in the future" check.
    public init(_ text: String) throws(DoorstepError) {
        try self.init(text, today: nil)
    }

    /// Validates and normalises a national ID number, also refusing a birth date after `today`.
    public init(_ text: String, today: LocalDate?) throws(DoorstepError) {
        let normalized = NationalID.normalize(text)
        let chars = Array(normalized)
        guard chars.count == 18 else {
            throw DoorstepError(
                .invalidNationalId, "a national ID number has 18 characters, this one has \(chars.count)", zh: "身份证号应为 18 位，这个号码是 \(chars.count) 位",
                details: ErrorDetails(rule: "nationalIdLength", limit: 18))
        }
        guard chars[..<17].allSatisfy(\.isASCIIDigit), chars[17].isASCIIDigit || chars[17] == "X" else {
            throw DoorstepError(.invalidNationalId, rule: "nationalIdForm")
        }
        guard let first = chars[0].wholeNumberValue, (1...8).contains(first) else {
            throw DoorstepError(.invalidNationalId, rule: "nationalIdRegion")
        }
        let birthText = String(chars[6..<14])
        let birth: LocalDate
        do {
            birth = try LocalDate(
                year: Int(birthText.prefix(4)) ?? 0,
                month: Int(birthText.dropFirst(4).prefix(2)) ?? 0,
                day: Int(birthText.suffix(2)) ?? 0
            )
        } catch {
            throw DoorstepError(.invalidNationalId, rule: "nationalIdBirthDate")
        }
        if let today, today < birth {
            throw DoorstepError(.invalidNationalId, rule: "nationalIdFutureBirth")
        }
        let expected = NationalID.checkCharacter(for: chars[..<17])
        guard chars[17] == expected else {
            throw DoorstepError(.invalidNationalId, rule: "nationalIdCheckDigit")
        }
        self.value = normalized
    }

    /// Trims white space and upper-cases a trailing `x`, without validating.
    public static func normalize(_ text: String) -> String {
        text.trimmedWhitespace.uppercased()
    }

    /// The GB 11643 check character for the first 17 digits.
    public static func checkCharacter(for digits: some Collection<Character>) -> Character {
        var sum = 0
        for (digit, weight) in zip(digits, weights) {
            sum += (digit.wholeNumberValue ?? 0) * weight
        }
        return checkCharacters[sum % 11]
    }

    /// The region code of first registration (first six digits).
    public var regionCode: String { String(value.prefix(6)) }

    /// The birth date encoded in the number.
    public var birthDate: LocalDate? {
        let digits = Array(value)
        return try? LocalDate(
            year: Int(String(digits[6..<10])) ?? 0,
            month: Int(String(digits[10..<12])) ?? 0,
            day: Int(String(digits[12..<14])) ?? 0
        )
    }

    /// Whether the holder is registered as male (odd 17th digit).
    public var isMale: Bool { (Array(value)[16].wholeNumberValue ?? 0) % 2 == 1 }

    /// A masked form safe to show in lists and logs: `150602********123X`.
    public var masked: String { String(value.prefix(6)) + String(repeating: "*", count: 8) + String(value.suffix(4)) }

    public var description: String { masked }

    /// On the wire a national ID is its full normalised number (never its masked description).
    public var wireText: String { value }
}
