import DoorstepCore

/// The words the CLI shows people, in Chinese and English: field names, kinds, terms and the
/// Chinese explanations put before the library's (English) error messages.
enum Strings {
    /// A field's label, e.g. `nationalId` → 身份证号 / national ID (the labels are DoorstepCore's
    /// `FieldLabels`, shared with the dashboard); the wire name when the kind has no such field.
    static func field(_ name: String, of kind: EntityKind, _ language: Language) -> String {
        kind.label(ofField: name, language)
    }

    /// An entity kind's name, e.g. 走访记录 / visit (DoorstepCore's, shared with the dashboard).
    static func kind(_ kind: EntityKind, _ language: Language) -> String {
        kind.label(language)
    }

    /// The title of a household's section of entries, e.g. 走访记录 / Visits.
    static func section(_ kind: EntityKind, _ language: Language) -> String {
        kind.listTitle(language)
    }

    /// An operation's name, e.g. 新建 / create.
    static func operation(_ op: MutationOperation, _ language: Language) -> String {
        op.label(language)
    }

    /// The terms a field takes, with their labels (DoorstepCore's, shared with the parser and the dashboard).
    static func terms(of field: String, kind: EntityKind) -> [TermLabel]? {
        TypedInput.terms(of: field, kind: kind)
    }
}

// MARK: Dashboard accounts

extension Strings {
    /// An account's state: 有效 / active, or when it was disabled.
    static func accountState(_ account: DashboardAccount, format: Format) -> String {
        account.isDisabled ? format.t("cli.strings.disabled") + format.time(account.disabledAt) : format.t("cli.common.active")
    }

    /// An account's facts, for the answer to `admin users add`.
    static func accountFacts(_ account: DashboardAccount, format: Format) -> FactList {
        var facts = FactList()
        facts.add(format.t("cli.common.name2"), account.name)
        facts.add(format.t("cli.common.role"), account.role.label(format.language))
        facts.add(format.t("cli.common.district"), account.district.map(format.district) ?? format.t("cli.common.everyDistrict"))
        facts.add(format.t("cli.common.state"), accountState(account, format: format))
        return facts
    }
}
