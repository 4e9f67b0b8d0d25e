/// A cause of hardship (致困原因). A household has one or more, one of them primary.
public enum HardshipCause: String, DomainTerm {
    case illness
    case disability
    case childEducation
    case unemployment
    case socialInsurance
    case lowIncome
    case disaster
    case epidemic
    case other

    public var chineseLabel: String {
        switch self {
        case .illness: "因病"
        case .disability: "因残"
        case .childEducation: "因子女上学"
        case .unemployment: "失业"
        case .socialInsurance: "社保待遇未落实"
        case .lowIncome: "收入低"
        case .disaster: "因灾或意外"
        case .epidemic: "受疫情影响"
        case .other: "其他"
        }
    }

    public var englishLabel: String {
        switch self {
        case .illness: "illness"
        case .disability: "disability"
        case .childEducation: "children's education"
        case .unemployment: "unemployment"
        case .socialInsurance: "social insurance not delivered"
        case .lowIncome: "low income"
        case .disaster: "disaster or accident"
        case .epidemic: "epidemic"
        case .other: "other"
        }
    }
}

/// The six categories of the assistance list (清单制帮扶).
public enum AssistanceCategory: String, DomainTerm {
    case employment
    case education
    case illness
    case socialInsurance
    case housing
    case minimumLiving

    public var chineseLabel: String {
        switch self {
        case .employment: "就业帮扶"
        case .education: "助学帮扶"
        case .illness: "医疗救助"
        case .socialInsurance: "社会保险"
        case .housing: "住房保障"
        case .minimumLiving: "低保兜底"
        }
    }

    public var englishLabel: String {
        switch self {
        case .employment: "employment"
        case .education: "education"
        case .illness: "illness"
        case .socialInsurance: "social insurance"
        case .housing: "housing"
        case .minimumLiving: "minimum living allowance"
        }
    }

    /// The departments that lead this category by default, as the plan assigns them.
    public var leadDepartments: [LeadDepartment] {
        switch self {
        case .employment: [.humanResources]
        case .education: [.education]
        case .illness: [.civilAffairs, .medicalInsurance]
        case .socialInsurance: [.humanResources]
        case .housing: [.housingAdministration]
        case .minimumLiving: [.civilAffairs]
        }
    }
}

/// A government department (or the union itself) that leads an assistance measure.
public enum LeadDepartment: String, DomainTerm {
    case humanResources
    case education
    case civilAffairs
    case medicalInsurance
    case housingAdministration
    case tradeUnion

    public var chineseLabel: String {
        switch self {
        case .humanResources: "人社部门"
        case .education: "教育部门"
        case .civilAffairs: "民政部门"
        case .medicalInsurance: "医保部门"
        case .housingAdministration: "房管部门"
        case .tradeUnion: "工会"
        }
    }

    public var englishLabel: String {
        switch self {
        case .humanResources: "human resources & social security"
        case .education: "education"
        case .civilAffairs: "civil affairs"
        case .medicalInsurance: "medical insurance"
        case .housingAdministration: "housing administration"
        case .tradeUnion: "trade union"
        }
    }
}

/// How hard the household's situation is (困难程度).
public enum DifficultyDegree: String, DomainTerm {
    case general
    case deep

    public var chineseLabel: String { self == .general ? "一般困难" : "深度困难" }
    public var englishLabel: String { self == .general ? "general" : "deep" }
}

/// The head of household's vocational skill level (技能水平).
public enum SkillLevel: String, DomainTerm {
    case none
    case primary
    case intermediate
    case advanced

    public var chineseLabel: String {
        switch self {
        case .none: "无技能"
        case .primary: "初级"
        case .intermediate: "中级"
        case .advanced: "高级"
        }
    }

    public var englishLabel: String {
        switch self {
        case .none: "none"
        case .primary: "primary"
        case .intermediate: "intermediate"
        case .advanced: "advanced"
        }
    }
}

/// The level of the household's file; national-level files (全国级) carry the campaign's deadline.
public enum FileLevel: String, DomainTerm {
    case national
    case regional
    case city

    public var chineseLabel: String {
        switch self {
        case .national: "全国级"
        case .regional: "自治区级"
        case .city: "市级"
        }
    }

    public var englishLabel: String {
        switch self {
        case .national: "national"
        case .regional: "regional"
        case .city: "city"
        }
    }
}

/// A household member's relation to the head of household.
public enum MemberRelation: String, DomainTerm {
    case spouse
    case child
    case parent
    case sibling
    case grandchild
    case other

    public var chineseLabel: String {
        switch self {
        case .spouse: "配偶"
        case .child: "子女"
        case .parent: "父母"
        case .sibling: "兄弟姐妹"
        case .grandchild: "孙子女"
        case .other: "其他"
        }
    }

    public var englishLabel: String { rawValue }
}

/// A person's health, as far as it bears on hardship and the ability to work.
public enum HealthCondition: String, DomainTerm {
    case healthy
    case chronicIllness
    case seriousIllness
    case disabled

    public var chineseLabel: String {
        switch self {
        case .healthy: "健康"
        case .chronicIllness: "慢性病"
        case .seriousIllness: "重大疾病"
        case .disabled: "残疾"
        }
    }

    public var englishLabel: String {
        switch self {
        case .healthy: "healthy"
        case .chronicIllness: "chronic illness"
        case .seriousIllness: "serious illness"
        case .disabled: "disabled"
        }
    }
}

/// A member's occupation, as far as it bears on the household's income.
public enum EmploymentSituation: String, DomainTerm {
    case employed
    case unemployed
    case student
    case retired
    case unableToWork
    case preschool

    public var chineseLabel: String {
        switch self {
        case .employed: "在职"
        case .unemployed: "失业"
        case .student: "在校生"
        case .retired: "退休"
        case .unableToWork: "无劳动能力"
        case .preschool: "学龄前"
        }
    }

    public var englishLabel: String {
        switch self {
        case .employed: "employed"
        case .unemployed: "unemployed"
        case .student: "student"
        case .retired: "retired"
        case .unableToWork: "unable to work"
        case .preschool: "preschool"
        }
    }
}

/// The level of a liaison in the two-level liaison system (帮扶联系人制度).
public enum LiaisonLevel: String, DomainTerm {
    case cityUnion
    case districtUnion
    case enterpriseUnion

    public var chineseLabel: String {
        switch self {
        case .cityUnion: "市总工会联系人"
        case .districtUnion: "旗区工会联系人"
        case .enterpriseUnion: "企业工会联系人"
        }
    }

    public var englishLabel: String {
        switch self {
        case .cityUnion: "city union"
        case .districtUnion: "district union"
        case .enterpriseUnion: "enterprise union"
        }
    }
}

/// Where a problem-list item stands.
public enum ProblemStatus: String, DomainTerm {
    case open
    case resolved

    public var chineseLabel: String { self == .open ? "未解决" : "已解决" }
    public var englishLabel: String { rawValue }
}

/// Where an assistance-list item stands.
public enum AssistanceStatus: String, DomainTerm {
    case planned
    case inProgress
    case done
    case cancelled

    public var chineseLabel: String {
        switch self {
        case .planned: "计划中"
        case .inProgress: "进行中"
        case .done: "已完成"
        case .cancelled: "已取消"
        }
    }

    public var englishLabel: String {
        switch self {
        case .planned: "planned"
        case .inProgress: "in progress"
        case .done: "done"
        case .cancelled: "cancelled"
        }
    }
}

/// How a home visit was made: online verification or at the household's home (线上核实/入户核实).
public enum VisitMode: String, DomainTerm {
    case online
    case atHome

    public var chineseLabel: String { self == .online ? "线上核实" : "入户核实" }
    public var englishLabel: String { self == .online ? "online" : "at home" }
}

/// A visitor's conclusion after a visit.
public enum VisitConclusion: String, DomainTerm {
    /// The household meets the criteria.
    case eligible
    /// The household does not meet the criteria (a "wrong" file if still filed).
    case notEligible
    /// More checking is needed.
    case needsFollowUp

    public var chineseLabel: String {
        switch self {
        case .eligible: "符合条件"
        case .notEligible: "不符合条件"
        case .needsFollowUp: "需进一步核实"
        }
    }

    public var englishLabel: String {
        switch self {
        case .eligible: "eligible"
        case .notEligible: "not eligible"
        case .needsFollowUp: "needs follow-up"
        }
    }
}

/// A fact that a visit verified (逐人逐项核查).
public enum VerifiedFact: String, DomainTerm {
    case cause
    case income
    case members
    case skills
    case difficulty
    case address

    public var chineseLabel: String {
        switch self {
        case .cause: "致困原因"
        case .income: "家庭收入"
        case .members: "家庭成员"
        case .skills: "技能水平"
        case .difficulty: "困难程度"
        case .address: "住址"
        }
    }

    public var englishLabel: String { rawValue }
}

/// What a credential may do (`protocol/README.md` §11).
public enum Role: String, DomainTerm {
    /// One district: read, record visits, edit facts, file candidates.
    case visitor
    /// One district: a visitor's rights plus status decisions, review, import, roster, codes, devices.
    case office
    /// Every district, everything.
    case city

    public var chineseLabel: String {
        switch self {
        case .visitor: "走访人员"
        case .office: "旗区工会"
        case .city: "市总工会"
        }
    }

    public var englishLabel: String {
        switch self {
        case .visitor: "visitor"
        case .office: "district office"
        case .city: "city office"
        }
    }
}
