import DoorstepCore
import Foundation
import Testing

/// The one parser of typed values: money as people type it, never read a hundred times too small.
struct TypedInputTests {
    static let city = CityData.ordos

    /// Every money form people type, and the fen it means when the entry point says nothing of a unit.
    static let moneyForms: [(typed: String, fen: Int64)] = [
        ("2600", 260_000), ("2600元", 260_000), ("2600 元", 260_000), ("2600元整", 260_000), ("2600块", 260_000),
        ("1,500", 150_000), ("1，500", 150_000), ("12,345.5", 1_234_550), ("1,500.50元", 150_050), ("0.5", 50),
        ("２６００", 260_000), ("２，６００．５０元", 260_050), ("¥2,600", 260_000), ("￥2600", 260_000), ("RMB 2600", 260_000),
        ("1.5万", 1_500_000), ("3万元", 3_000_000), ("260000分", 260_000), ("260000 fen", 260_000), ("2600yuan", 260_000),
        ("0", 0), ("  2600  ", 260_000), ("+2600", 260_000),
    ]

    /// Forms that are refused, not guessed at.
    static let refusedForms = [
        "1,50", "1,5000", ",500", "2600.555", "2600.", ".5", "两千六", "2600元5角", "26OO", "12-00", "2600分.5", "26.5分",
        "¥2600分", "1e5", "2600$", "1.2.3", "99999999999999元", "3000 2600", "2,600 500元",
    ]

    @Test(arguments: moneyForms)
    func money_typedAsPeopleTypeIt_isReadInYuanUnlessItSaysOtherwise(_ form: (typed: String, fen: Int64)) throws {
        #expect(try TypedInput.money(form.typed, field: "monthlyIncomeFen") == form.fen, "\(form.typed)")
        let value = try TypedInput.value(form.typed, field: "monthlyIncomeFen", of: .household, city: Self.city)
        #expect(value == .int(form.fen), "\(form.typed)")
    }

    @Test func money_anEntryPointNamedForFen_readsBareNumbersAsFen_butATypedUnitWins() throws {
        #expect(try TypedInput.money("2600", field: "amountFen", unit: .fen) == 2600)
        #expect(try TypedInput.money("2,600", field: "amountFen", unit: .fen) == 2600)
        #expect(try TypedInput.money("2600元", field: "amountFen", unit: .fen) == 260_000)
        #expect(try TypedInput.money("1.5万", field: "amountFen", unit: .fen) == 1_500_000)
        #expect(throws: DoorstepError.self) { try TypedInput.money("26.5", field: "amountFen", unit: .fen) }
    }

    @Test(arguments: refusedForms)
    func money_ambiguousOrMalformed_isRefusedWithAMessageInBothLanguages(_ typed: String) {
        do {
            let fen = try TypedInput.value(typed, field: "monthlyIncomeFen", of: .household, city: Self.city)
            Issue.record("\(typed) was read as \(fen)")
        } catch {
            #expect(error.code == .invalidValue, "\(typed): \(error)")
            #expect(error.chineseMessage?.contains("家庭月收入") == true, "\(typed): \(error)")
        }
    }

    @Test func refusals_neverRepeatANameOrAnIDNumberTypedIntoTheWrongColumn() {
        for typed in ["张三", "15060219850701123X"] {
            do {
                _ = try TypedInput.money(typed, field: "monthlyIncomeFen", of: .household)
                Issue.record("\(typed) was read as an amount")
            } catch {
                #expect(!error.message.contains(typed) && error.chineseMessage?.contains(typed) == false, "\(error)")
            }
        }
    }

    @Test func termNumbers_outOfRange_areNoTerm_andNeverTrap() {
        for typed in ["-9223372036854775808", "0", "99", "9223372036854775807"] {
            #expect(TypedInput.term(typed, field: "primaryCause", of: .household) == typed)
        }
    }

    @Test func money_negative_isRefusedAsNegative() {
        for typed in ["-5", "-2,600元", "−100"] {
            #expect(throws: DoorstepError.self) { try TypedInput.money(typed, field: "amountFen") }
            do { _ = try TypedInput.money(typed, field: "amountFen") } catch { #expect(error.code == .negativeAmount) }
        }
    }

    @Test func terms_booleans_sets_andDates_acceptLabelsFullWidthAndChineseForms() throws {
        #expect(try TypedInput.value("因病", field: "primaryCause", of: .household, city: Self.city) == "illness")
        #expect(try TypedInput.value("ILLNESS", field: "primaryCause", of: .household, city: Self.city) == "illness")
        #expect(try TypedInput.value("１", field: "primaryCause", of: .household, city: Self.city) == "illness")
        #expect(try TypedInput.value("医疗救助", field: "category", of: .assistance, city: Self.city) == "illness")
        #expect(try TypedInput.value("是", field: "epidemicAffected", of: .household, city: Self.city) == .bool(true))
        #expect(try TypedInput.value("否", field: "epidemicAffected", of: .household, city: Self.city) == .bool(false))
        #expect(
            try TypedInput.value("income，cause、members", field: "verified", of: .visit, city: Self.city)
                == .array(["cause", "income", "members"]))
        #expect(try TypedInput.value("2020年4月2日", field: "dueDate", of: .assistance, city: Self.city) == "2020-04-02")
        #expect(try TypedInput.value("２０２０/4/2", field: "dueDate", of: .assistance, city: Self.city) == "2020-04-02")
        #expect(try TypedInput.value("１３９１２３４５６７８", field: "phone", of: .household, city: Self.city) == "13912345678")
        #expect(try TypedInput.value("是", field: deletedFieldName, of: .member, city: Self.city) == .bool(true))
    }

    @Test func refusals_nameTheFieldInChinese_andNeverCarryEnglishInTheChineseMessage() {
        let cases: [(String, String, EntityKind)] = [
            ("也许", "epidemicAffected", .household), ("不知道", "primaryCause", .household), ("2020-13-01", "dueDate", .assistance),
            ("12345", "nationalId", .household), ("12", "phone", .household), ("15062", "district", .household), ("", "headName", .household),
        ]
        for (typed, field, kind) in cases {
            do {
                _ = try TypedInput.value(typed, field: field, of: kind, city: Self.city)
                Issue.record("\(field) \(typed) was accepted")
            } catch {
                let chinese = error.chineseMessage ?? ""
                #expect(!chinese.isEmpty, "\(field): \(error)")
                #expect(!chinese.contains(error.message), "\(field): \(chinese)")
                #expect(chinese.range(of: "[a-z]{4,} [a-z]{3,}", options: .regularExpression) == nil, "\(field): \(chinese)")
            }
        }
    }
}
