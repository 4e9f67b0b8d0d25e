import Testing

@testable import DoorstepCore

/// One definition of the field labels, read by the CLI and the dashboard.
@Suite struct FieldLabelsTests {
    static let allFields: [(EntityKind, FieldSpec)] = EntityKind.allCases.flatMap { kind in kind.fields.map { (kind, $0) } }

    @Test func everyFieldOfEveryKind_hasAChineseAndAnEnglishLabel() throws {
        #expect(Self.allFields.count == FieldSpec.catalog.values.map(\.count).reduce(0, +))
        for (kind, spec) in Self.allFields {
            let name = try #require(FieldLabels.name(spec.name, of: kind), "\(kind).\(spec.name) has no label")
            #expect(!name.zh.isEmpty && !name.en.isEmpty, "\(kind).\(spec.name)")
            #expect(name.zh.unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF }, "\(kind).\(spec.name): \(name.zh) is not Chinese")
            #expect(name.en != spec.name || !spec.name.contains(where: \.isUppercase), "\(kind).\(spec.name): the English label is the wire name")
            #expect(spec.label(in: kind, .chinese) == name.zh && spec.label(in: kind, .english) == name.en)
        }
    }

    @Test func noLabelForAFieldTheKindDoesNotHave() throws {
        for key in Texts.keys where key.hasPrefix("field.") && key != "field._deleted" {
            let parts = key.split(separator: ".").map(String.init)
            let kind = try #require(parts.count == 3 ? EntityKind(rawValue: parts[1]) : nil, "\(key) names no kind")
            #expect(kind.field(parts[2]) != nil, "\(key) is labelled but is not in the catalog")
        }
        #expect(FieldLabels.label("headName", of: .member, .chinese) == nil)
        #expect(EntityKind.member.label(ofField: "headName", .chinese) == "headName", "an unknown field reads as its wire name")
    }

    @Test func sameNameReadsByItsKind_andDeletedHasALabel() {
        #expect(EntityKind.household.label(ofField: "phone", .chinese) == "联系电话")
        #expect(EntityKind.liaison.label(ofField: "phone", .chinese) == "电话")
        #expect(EntityKind.assistance.label(ofField: "category", .english) == "category")
        #expect(EntityKind.assistance.label(ofField: "category", .chinese) == "帮扶类别")
        #expect(EntityKind.member.label(ofField: deletedFieldName, .chinese) == "删除")
        #expect(EntityKind.member.label(ofField: deletedFieldName, .english) == "deleted")
    }

    @Test func everyKindHasOneNameInEachLanguage_distinctFromTheOthers() {
        for language in [Language.chinese, .english] {
            let names = EntityKind.allCases.map { $0.label(language) }
            let titles = EntityKind.allCases.map { $0.listTitle(language) }
            #expect(Set(names).count == names.count && Set(titles).count == titles.count, "\(names) \(titles)")
        }
        for kind in EntityKind.allCases {
            #expect(kind.label(.chinese).unicodeScalars.allSatisfy { $0.value >= 0x4E00 && $0.value <= 0x9FFF }, "\(kind)")
        }
        // `docs/DOMAIN.md`'s terms: a hardship household (困难户), its problem and assistance lists.
        #expect(EntityKind.household.label(.chinese) == "困难户")
        #expect(EntityKind.problem.label(.chinese) == "问题清单" && EntityKind.assistance.label(.chinese) == "帮扶清单")
    }
}
