import Foundation
import Testing

@testable import DoorstepCore

@Suite struct FieldSpecTests {
    let city = CityData.ordos

    func normalize(_ spec: FieldSpec, _ value: JSONValue) throws -> JSONValue {
        try spec.normalize(value, city: city)
    }

    func field(_ kind: EntityKind, _ name: String) throws -> FieldSpec {
        try #require(kind.field(name), "\(kind) has no field \(name)")
    }

    // MARK: Required and missing

    @Test(arguments: [JSONValue.null, "", "   ", "\n\t "])
    func required_missingOrBlank_rejectedWithCode(_ value: JSONValue) throws {
        for spec in [
            FieldSpec("headName", .text(maxLength: 64), required: true),
            FieldSpec("monthlyIncomeFen", .money, required: true),
            FieldSpec("nationalId", .nationalID, required: true),
            FieldSpec("district", .district, required: true),
            FieldSpec("epidemicAffected", .boolean, required: true),
            FieldSpec("otherCauses", .termSet(HardshipCause.wireNames), required: true),
        ] {
            let error = expectError(.missingField) { _ = try normalize(spec, value) }
            #expect(error?.message.contains(spec.name) == true)
        }
    }

    @Test(arguments: [JSONValue.null, "", "   "])
    func optional_missingOrBlank_null(_ value: JSONValue) throws {
        for spec in [
            FieldSpec("phone", .phone, required: false),
            FieldSpec("notes", .text(maxLength: 10), required: false),
            FieldSpec("amountFen", .money, required: false),
            FieldSpec("birthDate", .date, required: false),
        ] {
            #expect(try normalize(spec, value) == .null)
        }
    }

    // MARK: Text

    @Test func text_surroundingWhiteSpace_trimmed() throws {
        let spec = FieldSpec("address", .text(maxLength: 200), required: true)
        #expect(try normalize(spec, "  东胜区 天骄路 1 号\n") == "东胜区 天骄路 1 号")
    }

    @Test func text_innerNewline_kept() throws {
        let spec = FieldSpec("notes", .text(maxLength: 2000), required: false)
        #expect(try normalize(spec, "line one\nline two") == "line one\nline two")
    }

    @Test func text_maxLength_countsCharactersAfterTrimming() throws {
        let spec = FieldSpec("headName", .text(maxLength: 4), required: true)
        #expect(try normalize(spec, " 张三丰家 ") == "张三丰家")
        let error = expectError(.invalidValue) { _ = try normalize(spec, "张三丰家人") }
        #expect(error?.message.contains("headName") == true)
        #expect(error?.message.contains("4") == true)
    }

    @Test(arguments: ["a\u{0}b", "a\u{7}b", "a\tb", "a\u{1B}[31mb"])
    func text_controlCharacters_rejectedWithCode(_ text: String) throws {
        let spec = FieldSpec("notes", .text(maxLength: 100), required: false)
        let error = expectError(.invalidValue) { _ = try normalize(spec, .string(text)) }
        #expect(error?.message.contains("control") == true)
    }

    @Test(arguments: [JSONValue.int(5), .bool(true), .array(["a"]), .object(["a": 1])])
    func text_notAString_rejectedWithCode(_ value: JSONValue) {
        let spec = FieldSpec("headName", .text(maxLength: 64), required: true)
        let error = expectError(.invalidValue) { _ = try normalize(spec, value) }
        #expect(error?.message.contains("headName must be a string") == true)
    }

    // MARK: Money

    @Test(arguments: [Int64(0), 1, 81_000, 100_000_000_000])
    func money_nonNegativeFen_kept(_ fen: Int64) throws {
        #expect(try normalize(FieldSpec("monthlyIncomeFen", .money, required: true), .int(fen)) == .int(fen))
    }

    @Test(arguments: [Int64(-1), -81_000, .min])
    func money_negative_rejectedWithCode(_ fen: Int64) {
        let error = expectError(.negativeAmount) {
            _ = try normalize(FieldSpec("monthlyIncomeFen", .money, required: true), .int(fen))
        }
        #expect(error?.message.contains("monthlyIncomeFen") == true)
    }

    @Test func money_implausiblyLarge_rejectedWithCode() {
        expectError(.invalidValue) { _ = try normalize(FieldSpec("amountFen", .money, required: false), .int(100_000_000_001)) }
    }

    @Test(arguments: [JSONValue.string("810.00"), "81000", .bool(false), .array([1])])
    func money_notAWholeNumber_rejectedWithCode(_ value: JSONValue) {
        let error = expectError(.invalidValue) { _ = try normalize(FieldSpec("amountFen", .money, required: true), value) }
        #expect(error?.message.contains("fen") == true)
    }

    // MARK: Integer and boolean

    @Test func integer_range_inclusive() throws {
        let spec = FieldSpec("members", .integer(1...20), required: true)
        #expect(try normalize(spec, 1) == 1)
        #expect(try normalize(spec, 20) == 20)
        expectError(.invalidValue) { _ = try normalize(spec, 0) }
        expectError(.invalidValue) { _ = try normalize(spec, 21) }
        expectError(.invalidValue) { _ = try normalize(spec, "3") }
    }

    @Test func boolean_onlyTrueOrFalse() throws {
        let spec = FieldSpec("epidemicAffected", .boolean, required: true)
        #expect(try normalize(spec, true) == true)
        #expect(try normalize(spec, false) == false)
        expectError(.invalidValue) { _ = try normalize(spec, "true") }
        expectError(.invalidValue) { _ = try normalize(spec, 1) }
    }

    // MARK: Terms

    @Test func term_knownName_kept() throws {
        let spec = try field(.household, "primaryCause")
        #expect(try normalize(spec, "epidemic") == "epidemic")
        #expect(try normalize(try field(.household, "status"), "safetyNet") == "safetyNet")
    }

    @Test(arguments: ["Epidemic", "covid", " epidemic"])
    func term_unknownName_rejectedWithCodeListingChoices(_ name: String) throws {
        let spec = try field(.household, "primaryCause")
        let error = expectError(.invalidValue) { _ = try normalize(spec, .string(name)) }
        #expect(error?.message.contains("primaryCause") == true)
        #expect(error?.message.contains("illness") == true)
        #expect(error?.message.contains("epidemic") == true)
    }

    @Test func termSet_unorderedWithRepeats_sortedInDeclarationOrderWithoutRepeats() throws {
        let spec = try field(.household, "otherCauses")
        let input: [JSONValue] = ["epidemic", "illness", "epidemic", "unemployment", "illness"]
        let expected: JSONValue = ["illness", "unemployment", "epidemic"]  // HardshipCause order
        #expect(try normalize(spec, .array(input)) == expected)
        // The stored form does not depend on the order the client sent.
        for order in permutations(input) {
            #expect(try normalize(spec, .array(order)) == expected)
        }
    }

    @Test func termSet_emptyOptional_emptyArray() throws {
        #expect(try normalize(try field(.visit, "verified"), []) == [])
    }

    @Test func termSet_emptyRequired_rejectedWithCode() {
        let spec = FieldSpec("verified", .termSet(VerifiedFact.wireNames), required: true)
        let error = expectError(.missingField) { _ = try normalize(spec, []) }
        #expect(error?.message.contains("verified") == true)
    }

    @Test(arguments: [JSONValue.array(["income", "salary"]), .array(["income", 3]), .string("income"), .int(1)])
    func termSet_invalidEntriesOrShape_rejectedWithCode(_ value: JSONValue) throws {
        let error = expectError(.invalidValue) { _ = try normalize(try field(.visit, "verified"), value) }
        #expect(error?.message.contains("verified") == true)
    }

    // MARK: Dates and instants

    @Test func date_valid_canonicalText() throws {
        let spec = try field(.assistance, "dueDate")
        #expect(try normalize(spec, "2020-07-31") == "2020-07-31")
    }

    @Test(arguments: ["2020-02-30", "2020-7-31", "31/07/2020"])
    func date_invalid_rejectedWithCodeNamingField(_ text: String) throws {
        let error = expectError(.invalidValue) { _ = try normalize(try field(.assistance, "dueDate"), .string(text)) }
        #expect(error?.message.hasPrefix("dueDate") == true)
    }

    @Test func instant_withOffset_keptAsSent() throws {
        let spec = try field(.visit, "visitedAt")
        #expect(try normalize(spec, "2020-04-12T10:30:00+08:00") == "2020-04-12T10:30:00+08:00")
        #expect(try normalize(spec, "2020-04-12T02:30:00Z") == "2020-04-12T02:30:00Z")
    }

    @Test(arguments: ["2020-04-12T10:30:00", "2020-04-12", "tomorrow"])
    func instant_withoutOffset_rejectedWithCode(_ text: String) throws {
        let error = expectError(.invalidValue) { _ = try normalize(try field(.visit, "visitedAt"), .string(text)) }
        #expect(error?.message.contains("visitedAt") == true)
    }

    // MARK: National ID, phone, district

    @Test func nationalID_lowerCaseX_normalised() throws {
        let spec = try field(.household, "nationalId")
        #expect(try normalize(spec, " 15060219850312123x ") == "15060219850312123X")
    }

    @Test func nationalID_wrongCheckDigit_rejectedWithCode() throws {
        let spec = try field(.household, "nationalId")
        let error = expectError(.invalidNationalId) { _ = try normalize(spec, "150602198503121231") }
        #expect(error?.message.contains("150602198503121231") == false)
    }

    @Test func nationalID_notAString_rejectedWithCode() throws {
        expectError(.invalidValue) { _ = try normalize(try field(.member, "nationalId"), .int(150_602_198_503_121_231)) }
    }

    @Test func phone_normalised() throws {
        let spec = try field(.household, "phone")
        #expect(try normalize(spec, "+86 139-1234-5678") == "13912345678")
        #expect(try normalize(spec, "0477 8581234") == "0477-8581234")
        expectError(.invalidPhone) { _ = try normalize(spec, "12345") }
    }

    @Test(arguments: CityDataTests.ordosCodes)
    func district_known_kept(_ code: String) throws {
        #expect(try normalize(try field(.household, "district"), .string(code)) == .string(code))
    }

    @Test(arguments: ["150699", "110105", "Dongsheng", "东胜区"])
    func district_unknown_rejectedWithCode(_ code: String) throws {
        expectError(.unknownDistrict) { _ = try normalize(try field(.household, "district"), .string(code)) }
    }

    // MARK: Catalog

    @Test func catalog_everyKindHasFields_namesUnique() {
        for kind in EntityKind.allCases {
            #expect(!kind.fields.isEmpty, "\(kind)")
            #expect(Set(kind.fields.map(\.name)).count == kind.fields.count, "\(kind)")
            #expect(kind.field("noSuchField") == nil)
        }
        #expect(EntityKind.household.field("nationalId")?.type == .nationalID)
        #expect(EntityKind.household.field("monthlyIncomeFen")?.type == .money)
        #expect(EntityKind.household.field("district")?.required == true)
    }
}
