import Mustache
import Testing

@testable import DoorstepFieldApp

/// The templates read the app's values by name without reflection (`TemplateValues.swift`):
/// every stored property answers under its own name, with its own value, and an absent one as
/// absent, so a property added to a type and not to its lookup fails here, not on a page.
@Suite struct TemplateValuesTests {
    /// Each property the type declares (by reflection, here only) answers under its name with
    /// the value reflection finds; those in `absent` hold no value and answer nothing.
    static func check(_ value: some MustacheParent, absent: Set<String> = []) {
        func unwrapped(_ value: Any) -> Any? {
            let mirror = Mirror(reflecting: value)
            guard mirror.displayStyle == .optional else { return value }
            return mirror.children.first?.value
        }
        let mirror = Mirror(reflecting: value)
        #expect(!mirror.children.isEmpty)
        for child in mirror.children {
            guard let label = child.label else { continue }
            let answer = value.child(named: label)
            if absent.contains(label) {
                #expect(answer == nil, "\(type(of: value)).\(label) is absent")
            } else {
                let expected = unwrapped(child.value).map { String(describing: $0) }
                #expect(expected != nil, "\(type(of: value)).\(label) is given a value by the test")
                #expect(answer.map { String(describing: $0) } == expected, "\(type(of: value)).\(label)")
            }
        }
        #expect(value.child(named: "noSuchProperty") == nil)
    }

    @Test func theChromeAndItsParts_answerEveryProperty() {
        let link = AppChrome.Link(href: "/sync", label: "同步", current: true, lang: "zh-CN")
        let chrome = AppChrome(
            lang: "zh-CN", title: "工作清单", csrf: "token", enrolled: true, nav: [link], languageLink: link, flash: "已保存", error: "出错",
            refreshSeconds: 2, connection: .init(kind: "online", text: "在线"), pendingText: "全部已发送", lastSyncText: "上次同步", syncRunning: true,
            revoked: true)
        Self.check(chrome)
        Self.check(link)
        Self.check(chrome.connection)
        var quiet = chrome
        quiet.flash = nil
        quiet.error = nil
        quiet.refreshSeconds = nil
        Self.check(quiet, absent: ["flash", "error", "refreshSeconds"])
        Self.check(AppChrome.Link(href: "/", label: "工作清单"), absent: ["lang"])
    }

    @Test func aFormField_answersEveryProperty() {
        var field = FormField(name: "fact.phone", label: "联系电话", required: false, value: "13912345678")
        field.inputMode = "tel"
        field.maxLength = 20
        field.placeholder = "例如 13912345678"
        field.hint = "手机或座机"
        field.accept = "image/jpeg,application/pdf"
        field.options = [.init(value: "a", label: "甲", selected: true)]
        field.problem = "电话号码不对"
        field.changedBy = "张三 · 昨天"
        field.was = "13800000000"
        field.base = "w1"
        field.conflicted = true
        Self.check(field)
        Self.check(field.options[0])
        Self.check(
            FormField(name: "fact.phone", label: "联系电话", required: true, value: ""),
            absent: ["inputMode", "maxLength", "placeholder", "hint", "accept", "problem", "changedBy", "was", "base"])
    }
}
