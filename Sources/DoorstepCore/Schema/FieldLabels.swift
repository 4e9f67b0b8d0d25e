/// The names people read for the fields of each kind, in Chinese and English: written once,
/// here, for the CLI's tables and prompts and the dashboard's pages alike.
///
/// Every field of `FieldSpec.catalog` has a label (a test holds this); so has the
/// `_deleted` pseudo-field.
public enum FieldLabels {
    /// The label of a field of a kind, e.g. `(.household, "nationalId")` → 身份证号 / national ID;
    /// `nil` when the kind has no such field.
    public static func label(_ field: String, of kind: EntityKind, _ language: Language) -> String? {
        name(field, of: kind)?.text(language)
    }

    /// Both labels of a field of a kind; `nil` when the kind has no such field.
    public static func name(_ field: String, of kind: EntityKind) -> LocalizedName? {
        if field == deletedFieldName { return deleted }
        return table[kind]?[field]
    }

    /// The `_deleted` pseudo-field: whether a child entry was deleted (its value reads 已删除 or 恢复).
    static let deleted = LocalizedName(zh: "删除", en: "deleted")

    static let table: [EntityKind: [String: LocalizedName]] = [
        .household: [
            "headName": .init(zh: "户主姓名", en: "head of household"),
            "nationalId": .init(zh: "身份证号", en: "national ID"),
            "phone": .init(zh: "联系电话", en: "phone"),
            "address": .init(zh: "住址", en: "address"),
            "district": .init(zh: "旗区", en: "district"),
            "employer": .init(zh: "工作单位", en: "employer"),
            "employerUnion": .init(zh: "单位工会", en: "employer's union"),
            "fileLevel": .init(zh: "档案级别", en: "file level"),
            "primaryCause": .init(zh: "主要致困原因", en: "primary cause"),
            "otherCauses": .init(zh: "其他致困原因", en: "other causes"),
            "difficulty": .init(zh: "困难程度", en: "difficulty"),
            "skillLevel": .init(zh: "技能水平", en: "skill level"),
            "monthlyIncomeFen": .init(zh: "家庭月收入", en: "monthly income"),
            "epidemicAffected": .init(zh: "受疫情影响", en: "affected by the epidemic"),
            "status": .init(zh: "状态", en: "status"),
            "notes": .init(zh: "备注", en: "notes"),
        ],
        .member: [
            "name": .init(zh: "姓名", en: "name"),
            "relation": .init(zh: "与户主关系", en: "relation"),
            "nationalId": .init(zh: "身份证号", en: "national ID"),
            "birthDate": .init(zh: "出生日期", en: "birth date"),
            "health": .init(zh: "健康状况", en: "health"),
            "employment": .init(zh: "就业状况", en: "employment"),
            "skills": .init(zh: "技能", en: "skills"),
        ],
        .liaison: [
            "name": .init(zh: "姓名", en: "name"),
            "level": .init(zh: "层级", en: "level"),
            "organization": .init(zh: "单位", en: "organization"),
            "phone": .init(zh: "电话", en: "phone"),
        ],
        .problem: [
            "category": .init(zh: "类别", en: "category"),
            "description": .init(zh: "问题描述", en: "description"),
            "status": .init(zh: "状态", en: "status"),
        ],
        .assistance: [
            "category": .init(zh: "帮扶类别", en: "category"),
            "measure": .init(zh: "帮扶措施", en: "measure"),
            "leadDepartment": .init(zh: "牵头部门", en: "lead department"),
            "dueDate": .init(zh: "完成时限", en: "due date"),
            "status": .init(zh: "状态", en: "status"),
            "amountFen": .init(zh: "金额", en: "amount"),
        ],
        .visit: [
            "visitedAt": .init(zh: "走访时间", en: "visited at"),
            "visitor": .init(zh: "走访人", en: "visitor"),
            "mode": .init(zh: "核实方式", en: "mode"),
            "verified": .init(zh: "核实事项", en: "verified"),
            "conclusion": .init(zh: "结论", en: "conclusion"),
            "proposedStatus": .init(zh: "建议状态", en: "proposed status"),
            "observedIncomeFen": .init(zh: "核实收入", en: "observed income"),
            "notes": .init(zh: "备注", en: "notes"),
        ],
    ]
}

extension EntityKind {
    /// The kind's name for people, e.g. 走访记录 / visit: the same words in the CLI and the dashboard.
    public func label(_ language: Language) -> String {
        let pair: (String, String) =
            switch self {
            case .household: ("困难户", "household")
            case .member: ("家庭成员", "member")
            case .liaison: ("帮扶联系人", "liaison")
            case .problem: ("问题清单", "problem")
            case .assistance: ("帮扶清单", "assistance item")
            case .visit: ("走访记录", "visit")
            }
        return language == .chinese ? pair.0 : pair.1
    }

    /// The title of a list of entities of this kind, e.g. 走访记录 / Visits.
    public func listTitle(_ language: Language) -> String {
        let pair: (String, String) =
            switch self {
            case .household: ("困难户", "Households")
            case .member: ("家庭成员", "Members")
            case .liaison: ("帮扶联系人", "Liaisons")
            case .problem: ("问题清单", "Problem list")
            case .assistance: ("帮扶清单", "Assistance list")
            case .visit: ("走访记录", "Visits")
            }
        return language == .chinese ? pair.0 : pair.1
    }

    /// The label of one of this kind's fields (or of `_deleted`); the wire name itself when the
    /// kind has no such field, so an unknown name still reads as something.
    public func label(ofField field: String, _ language: Language) -> String {
        FieldLabels.label(field, of: self, language) ?? field
    }
}

extension FieldSpec {
    /// This field's label, read as a field of `kind`: the same name (`phone`, `status`) may read
    /// differently in two kinds (联系电话 for a household, 电话 for a liaison).
    public func label(in kind: EntityKind, _ language: Language) -> String {
        kind.label(ofField: name, language)
    }
}

extension MutationOperation {
    /// What people call the operation: 新建 / create, 修改 / update, 删除 / delete, 重复关联 / link decision.
    public func label(_ language: Language) -> String {
        let pair: (String, String) =
            switch self {
            case .create: ("新建", "create")
            case .update: ("修改", "update")
            case .delete: ("删除", "delete")
            case .linkDecision: ("重复关联", "link decision")
            }
        return language == .chinese ? pair.0 : pair.1
    }
}
