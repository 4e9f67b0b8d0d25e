import Foundation
import Testing

@testable import DoorstepCore

/// The one table of texts (`Resources/texts.json`): complete, both languages, the same
/// placeholders in each, every key the code names present and every entry used.
@Suite struct TextsTests {
    /// Keys built at run time from a prefix (a kind, a field, a term, an error code, a parser
    /// heading); their entries are checked against what they label instead of by a literal.
    static let builtPrefixes = [
        "kind.", "kinds.", "field.", "term.", "operation.", "value.workReason.", "error.code.", "error.rule.", "cli.usage.", "help.parser.",
        "cli.reportView.csv.",
        // The dashboard's columns, tables, flashes, errors, navigation and mismatch kinds, named by id.
        "dashboard.column.", "dashboard.table.", "dashboard.done.", "dashboard.error.", "dashboard.errorPage.", "dashboard.nav.",
        "dashboard.review.reason.", "dashboard.compare.",
        // The field app's notes after an action, sync summary rows, hints and enrollment fields, named by id.
        "app.done.", "app.summary.", "app.hint.", "app.enroll.",
        // A relay's status lines (`relay-status`), named by id.
        "relay.status.",
    ]

    static func sources() throws -> [(path: String, text: String)] {
        let root = packageRoot()
        var files: [(String, String)] = []
        for folder in ["Sources", "Samples"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" {
                files.append((url.path, try String(contentsOf: url, encoding: .utf8)))
            }
        }
        return files
    }

    /// Every string literal in code that names a key, e.g. `"cli.sync.pushed"`, and the
    /// dashboard's `texts["…"]` and `{{t.…}}` (its keys live under `dashboard.`).
    static func namedKeys() throws -> Set<String> {
        let literal = try NSRegularExpression(pattern: #""((?:cli|help|dashboard|value|list|language|error|history|app)\.[A-Za-z0-9_.]+)""#)
        let dashboardLiteral = try NSRegularExpression(pattern: #""([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*)""#)
        let template = try NSRegularExpression(pattern: #"\{\{[#^]?t\.([A-Za-z0-9]+)\}\}"#)
        var keys: Set<String> = []
        func matches(_ regex: NSRegularExpression, _ text: String) -> [String] {
            regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range(at: 1), in: text).map { String(text[$0]) }
            }
        }
        for (path, text) in try sources() {
            keys.formUnion(matches(literal, text))
            if path.contains("/DoorstepFieldApp/") {
                // The field app names its texts without the prefix too (`t("nav.sync", language)`, `{{t.syncNow}}`).
                keys.formUnion(matches(template, text).map { "app." + $0 })
                keys.formUnion(matches(dashboardLiteral, text).map { "app." + $0 }.filter { Texts.name($0) != nil })
            }
            if path.contains("/Dashboard/") {
                keys.formUnion(matches(template, text).map { "dashboard." + $0 })
                // Dashboard code names its texts without the prefix (`texts["signIn.failed"]`, `error: "compare.noFile"`).
                keys.formUnion(matches(dashboardLiteral, text).map { "dashboard." + $0 }.filter { Texts.name($0) != nil })
            }
        }
        return keys
    }

    @Test func theTableDecodes_andEveryEntryHasBothLanguages() {
        #expect(Texts.keys.count > 700)
        for key in Texts.keys {
            let name = Texts.name(key)
            #expect(name?.zh.isEmpty == false && name?.en.isEmpty == false, "\(key) lacks a language")
        }
    }

    @Test func bothLanguagesHaveTheSamePlaceholders() throws {
        let placeholder = try NSRegularExpression(pattern: #"\{([A-Za-z0-9]+)\}"#)
        func names(_ text: String) -> Set<String> {
            Set(
                placeholder.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                    Range($0.range(at: 1), in: text).map { String(text[$0]) }
                })
        }
        for key in Texts.keys {
            guard let name = Texts.name(key) else { continue }
            #expect(names(name.zh) == names(name.en), "\(key): \(name.zh) / \(name.en)")
        }
    }

    @Test func aChineseTextNeverCarriesEnglishInBrackets() throws {
        // An English phrase (two words or more) inside brackets, as in 令牌无效（invalid token）.
        let bracketed = try NSRegularExpression(pattern: #"[（(]\s*[A-Za-z]+(?:[ ,'][A-Za-z]+)+\s*[)）]"#)
        for key in Texts.keys where !key.hasPrefix("help.") {
            guard let zh = Texts.name(key)?.zh else { continue }
            #expect(bracketed.firstMatch(in: zh, range: NSRange(zh.startIndex..., in: zh)) == nil, "\(key): \(zh)")
        }
    }

    @Test func everyKeyTheCodeNamesExists_andEveryEntryIsUsed() throws {
        let named = try Self.namedKeys()
        // (Dashboard code names its own texts without their prefix, `texts["error.refused"]`.)
        let missing = named.filter { !$0.hasSuffix(".") && Texts.name($0) == nil && Texts.name("dashboard." + $0) == nil }.sorted()
        #expect(missing.isEmpty, "the code names keys the table lacks: \(missing)")
        let unused = Texts.keys.filter { !Self.builtPrefixes.contains(where: $0.hasPrefix) && !named.contains($0) }
        #expect(unused.isEmpty, "entries no code names: \(unused)")
    }

    /// Every rule an error names in the code (`rule: "tooLong"`) has its explanation, and every
    /// explanation is of a rule the code names; every code with an explanation is a code.
    @Test func everyErrorRule_isExplained_andEveryExplanationIsARule() throws {
        let pattern = try NSRegularExpression(pattern: #"rule: (?:[a-z]+ \? )?"([A-Za-z][A-Za-z0-9]*)"(?: : "([A-Za-z][A-Za-z0-9]*)")?"#)
        var rules = Set<String>()
        for (_, text) in try Self.sources() {
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                for group in 1...2 { if let range = Range(match.range(at: group), in: text) { rules.insert(String(text[range])) } }
            }
        }
        #expect(rules.count > 30, "\(rules)")
        for rule in rules { #expect(Texts.name("error.rule.\(rule)") != nil, "error.rule.\(rule) is missing") }
        let explained = Set(Texts.keys.filter { $0.hasPrefix("error.rule.") }.map { String($0.dropFirst("error.rule.".count)) })
        #expect(explained.subtracting(rules).isEmpty, "explanations of no rule: \(explained.subtracting(rules).sorted())")
    }

    /// An error's details explain it in both languages, naming the field by its label in Chinese.
    @Test func details_explainAnErrorInEitherLanguage() throws {
        let error = DoorstepError(.invalidValue, rule: "tooLong", ErrorDetails(field: "name", kind: "member", limit: 64))
        #expect(error.message == "name is longer than 64 characters")
        #expect(error.explained(.chinese) == "「姓名」不能超过 64 个字")
        // A rule the reader does not know falls back to the sender's words, never English in a Chinese sentence.
        let unknown = DoorstepError.explain(
            code: .invalidValue, details: ErrorDetails(rule: "fromTheFuture"), message: "some English", messageZh: nil, .chinese)
        #expect(unknown == "取值不正确；原文：some English")
        // A field-less rule whose text names a field is no explanation: the message stands.
        #expect(ErrorDetails(rule: "tooLong").explanation(.chinese) == nil)
        let transition = DoorstepError(
            .illegalTransition, rule: "transition",
            ErrorDetails(field: "status", kind: "household", allowed: ["filed", "closed"], from: ["candidate"], to: "outOfHardship"))
        #expect(transition.explained(.chinese) == "状态不能从待核实改为已脱困；待核实只能改为：在档、已销档")
    }

    @Test func builtKeys_coverWhatTheyLabel() {
        for kind in EntityKind.allCases {
            #expect(Texts.name("kind.\(kind.rawValue)") != nil && Texts.name("kinds.\(kind.rawValue)") != nil)
        }
        func terms<T: DomainTerm>(_ type: T.Type) {
            for term in T.allCases { #expect(Texts.name("term.\(T.textKey).\(term.rawValue)") != nil, "\(T.self).\(term)") }
        }
        terms(CampaignStageKind.self); terms(HouseholdStatus.self); terms(HardshipCause.self); terms(AssistanceCategory.self)
        terms(LeadDepartment.self); terms(DifficultyDegree.self); terms(SkillLevel.self); terms(FileLevel.self)
        terms(MemberRelation.self); terms(HealthCondition.self); terms(EmploymentSituation.self); terms(LiaisonLevel.self)
        terms(ProblemStatus.self); terms(AssistanceStatus.self); terms(VisitMode.self); terms(VisitConclusion.self)
        terms(VerifiedFact.self); terms(Role.self)
        for reason in WorkReason.allCases { #expect(Texts.name("value.workReason.\(reason.rawValue)") != nil, "\(reason)") }
        for key in Texts.keys where key.hasPrefix("term.") {
            #expect(key.split(separator: ".").count == 3, "\(key)")
        }
    }

    @Test func placeholdersAreFilledOnce_andUnknownOnesStay() {
        #expect(Texts.fill("{a} and {b}", ["a": "{b}", "b": "2"]) == "{b} and 2")
        #expect(Texts.fill("{a} {missing} {", ["a": "1"]) == "1 {missing} {")
        #expect(Texts.text("no.such.key", .chinese) == "no.such.key")
        #expect(Texts.text("cli.sync.seconds", .chinese, ["seconds": "1.5"]) == "1.5 秒")
        #expect(Texts.section("dashboard", .english)["signIn"] == "Sign in")
    }
}
