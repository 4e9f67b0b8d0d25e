import Foundation
import Testing

@testable import DoorstepCore

@Suite struct LanguageTests {
    @Test(
        arguments: [
            ("zh_CN.UTF-8", Language.chinese),
            ("en_US.UTF-8", .english),
            ("C", .english),
            ("zh-CN,zh;q=0.9,en;q=0.8", .chinese),
            ("C.UTF-8", .english),
            ("POSIX", .english),
            ("en", .english),
            ("en-GB", .english),
            ("EN_us", .english),
            ("zh", .chinese),
            ("zh-Hant-TW", .chinese),
            ("en-US,en;q=0.9,zh-CN;q=0.8", .english),
            ("fr-FR, en;q=0.8", .english),  // first language we speak wins
            ("fr-FR,de;q=0.5", .chinese),  // nothing we speak: the default
            ("", .chinese),
            ("*", .chinese),
        ] as [(String, Language)])
    func fromLocale_picksLanguage(_ locale: String, _ expected: Language) {
        #expect(Language.from(locale: locale) == expected)
    }

    @Test func fromLocale_nil_chinese() {
        #expect(Language.from(locale: nil) == .chinese)
    }

    @Test func rawValues_areLanguageTags() {
        #expect(Language.chinese.rawValue == "zh")
        #expect(Language.english.rawValue == "en")
    }

    @Test func label_followsLanguage() {
        #expect(HardshipCause.epidemic.label(.chinese) == "受疫情影响")
        #expect(HardshipCause.epidemic.label(.english) == "epidemic")
        #expect(LocalizedName(zh: "东胜区", en: "Dongsheng").text(.english) == "Dongsheng")
    }
}
