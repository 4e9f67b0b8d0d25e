/// A mainland China phone number: an 11-digit mobile number or a landline with its area code.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// The normalised form: `13912345678` for a mobile, `0477-8581234` for a landline.
    public let value: String

    /// Validates and normalises a phone number; throws `invalidPhone` otherwise.
    ///
    /// Spaces, hyphens and a leading `+86` or `86` are accepted.
    public init(_ text: String) throws(DoorstepError) {
        var digits = text.filter { !$0.isWhitespace && !"-()".contains($0) }
        if digits.hasPrefix("+86") { digits.removeFirst(3) } else if digits.hasPrefix("86"), digits.count == 13 { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
            throw DoorstepError(.invalidPhone, rule: "phoneCharacters")
        }
        let chars = Array(digits)
        if chars.count == 11, chars[0] == "1", let second = chars[1].wholeNumberValue, (3...9).contains(second) {
            value = digits
            return
        }
        if chars.first == "0" {
            // Area codes: 010 and 02x have three digits, the rest four.
            let areaLength = chars.count > 1 && (chars[1] == "1" || chars[1] == "2") ? 3 : 4
            let localLength = chars.count - areaLength
            if (7...8).contains(localLength) {
                value = String(chars[..<areaLength]) + "-" + String(chars[areaLength...])
                return
            }
        }
        throw DoorstepError(.invalidPhone, rule: "phoneForm", ErrorDetails(expected: "0477-8581234"))
    }

    public var description: String { value }
}
