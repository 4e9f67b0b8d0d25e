import Foundation
import Testing

@testable import DoorstepCore

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("86 139-1234-5678", "13912345678"),
        ("(+86) 139 1234 5678", "13912345678"),
        ("19912345678", "19912345678"),
        ("15047712345", "15047712345"),
    ])
    func mobile_validForms_normalisedTo11Digits(_ input: String, _ expected: String) throws {
        let phone = try PhoneNumber(input)
        #expect(phone.value == expected)
        #expect(phone.description == expected)
    }

    @Test(arguments: [
        ("0477-8581234", "0477-8581234"),  // Ordos, 4-digit area code, 7-digit number
        ("04778581234", "0477-8581234"),
        ("(0477) 858 1234", "0477-8581234"),
        ("0477-85812345", "0477-85812345"),  // 8-digit local number
        ("010-12345678", "010-12345678"),  // Beijing, 3-digit area code
        ("01012345678", "010-12345678"),
        ("021 6123 4567", "021-61234567"),  // Shanghai
        ("020-1234567", "020-1234567"),  // 7-digit local number after a 3-digit code
        ("+86 0477 8581234", "0477-8581234"),
        ("8604778581234", "0477-8581234"),
    ])
    func landline_validForms_normalisedWithAreaCode(_ input: String, _ expected: String) throws {
        #expect(try PhoneNumber(input).value == expected)
    }

    @Test(arguments: [
        "",
        "   ",
        "+86",
        "abc",
        "139.1234.5678",
        "１３９12345678",  // full-width digits
        "139 1234 567x",
    ])
    func characters_notDigits_rejectedWithCode(_ input: String) {
        let error = expectError(.invalidPhone) { _ = try PhoneNumber(input) }
        #expect(error?.message.contains("only digits") == true)
    }

    @Test(arguments: [
        "1391234567",  // 10 digits
        "139123456789",  // 12 digits
        "12912345678",  // no mobile prefix 12x
        "10912345678",
        "23912345678",  // does not start with 1 or 0
        "0477-858123",  // 6-digit local number
        "0477-858123456",  // 9-digit local number
        "010-123456",
        "010-123456789",
        "0",
        "112",  // an emergency number is not a contact number
    ])
    func shape_notMobileOrLandline_rejectedWithCode(_ input: String) {
        let error = expectError(.invalidPhone) { _ = try PhoneNumber(input) }
        #expect(error?.message.contains("mainland") == true)
    }

    @Test func equality_differentSpellings_sameValue() throws {
        #expect(try PhoneNumber("+86 139-1234-5678") == PhoneNumber("13912345678"))
        #expect(try PhoneNumber("(0477) 8581234") == PhoneNumber("0477-8581234"))
    }
}
