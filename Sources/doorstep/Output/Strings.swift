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

    /// A Chinese explanation for the commonest error codes, put before the library's message.
    static func chineseHint(_ code: DoorstepError.Code) -> String? {
        switch code.rawValue {
        case "invalidNationalId": "身份证号不正确"
        case "invalidPhone": "电话号码不正确"
        case "missingField": "缺少必填项"
        case "invalidValue": "取值不正确"
        case "unknownField": "没有这个字段"
        case "negativeAmount": "金额不能为负数"
        case "unknownDistrict": "没有这个旗区代码"
        case "illegalTransition": "不允许这样变更状态"
        case "forbiddenForRole": "当前角色无权这样操作"
        case "outOfScope": "超出本设备的旗区范围"
        case "serverUnreachable": "无法连接服务器，本机数据已保留，稍后再同步"
        case "notEnrolled": "本机尚未登记，请先运行 doorstep enroll"
        case "deviceRevoked": "本设备的访问权限已被撤销"
        case "unauthorized": "令牌无效"
        case "invalidEnrollmentCode": "登记码无效、已使用或已过期"
        case "insecureTransport": "拒绝使用不加密的 HTTP 连接"
        case "notFound": "找不到"
        case "ambiguousId": "编号前缀对应多条记录"
        case "rateLimited": "尝试次数过多，请稍后再试"
        case "bundleInvalid": "数据包无效"
        case "inputEnded": "输入已结束"
        case "fileUnreadable": "无法读取文件"
        case "fileUnwritable": "无法写入文件"
        case "missingToken": "缺少令牌"
        case "invalidOperation": "无法执行该操作"
        default: nil
        }
    }
}

// MARK: Dashboard accounts

extension Strings {
    /// An account's state: 有效 / active, or when it was disabled.
    static func accountState(_ account: DashboardAccount, format: Format) -> String {
        account.isDisabled ? format.t("已停用 ", "disabled ") + format.time(account.disabledAt) : format.t("有效", "active")
    }

    /// An account's facts, for the answer to `admin users add`.
    static func accountFacts(_ account: DashboardAccount, format: Format) -> FactList {
        var facts = FactList()
        facts.add(format.t("账号", "name"), account.name)
        facts.add(format.t("角色", "role"), account.role.label(format.language))
        facts.add(format.t("旗区", "district"), account.district.map(format.district) ?? format.t("全市", "every district"))
        facts.add(format.t("状态", "state"), accountState(account, format: format))
        return facts
    }
}
