/// A cause of hardship (致困原因). A household has one or more, one of them primary.
public enum HardshipCause: String, DomainTerm {
    public static let textKey = "cause"
    case illness
    case disability
    case childEducation
    case unemployment
    case socialInsurance
    case lowIncome
    case disaster
    case epidemic
    case other
}

/// The six categories of the assistance list (清单制帮扶).
public enum AssistanceCategory: String, DomainTerm {
    public static let textKey = "assistanceCategory"
    case employment
    case education
    case illness
    case socialInsurance
    case housing
    case minimumLiving

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
    public static let textKey = "department"
    case humanResources
    case education
    case civilAffairs
    case medicalInsurance
    case housingAdministration
    case tradeUnion
}

/// How hard the household's situation is (困难程度).
public enum DifficultyDegree: String, DomainTerm {
    public static let textKey = "difficulty"
    case general
    case deep
}

/// The head of household's vocational skill level (技能水平).
public enum SkillLevel: String, DomainTerm {
    public static let textKey = "skill"
    case none
    case primary
    case intermediate
    case advanced
}

/// The level of the household's file; national-level files (全国级) carry the campaign's deadline.
public enum FileLevel: String, DomainTerm {
    public static let textKey = "fileLevel"
    case national
    case regional
    case city
}

/// A household member's relation to the head of household.
public enum MemberRelation: String, DomainTerm {
    public static let textKey = "relation"
    case spouse
    case child
    case parent
    case sibling
    case grandchild
    case other
}

/// A person's health, as far as it bears on hardship and the ability to work.
public enum HealthCondition: String, DomainTerm {
    public static let textKey = "health"
    case healthy
    case chronicIllness
    case seriousIllness
    case disabled
}

/// A member's occupation, as far as it bears on the household's income.
public enum EmploymentSituation: String, DomainTerm {
    public static let textKey = "employment"
    case employed
    case unemployed
    case student
    case retired
    case unableToWork
    case preschool
}

/// The level of a liaison in the two-level liaison system (帮扶联系人制度).
public enum LiaisonLevel: String, DomainTerm {
    public static let textKey = "liaisonLevel"
    case cityUnion
    case districtUnion
    case enterpriseUnion
}

/// Where a problem-list item stands.
public enum ProblemStatus: String, DomainTerm {
    public static let textKey = "problemStatus"
    case open
    case resolved
}

/// Where an assistance-list item stands.
public enum AssistanceStatus: String, DomainTerm {
    public static let textKey = "assistanceStatus"
    case planned
    case inProgress
    case done
    case cancelled
}

/// How a home visit was made: online verification or at the household's home (线上核实/入户核实).
public enum VisitMode: String, DomainTerm {
    public static let textKey = "visitMode"
    case online
    case atHome
}

/// A visitor's conclusion after a visit.
public enum VisitConclusion: String, DomainTerm {
    public static let textKey = "conclusion"
    /// The household meets the criteria.
    case eligible
    /// The household does not meet the criteria (a "wrong" file if still filed).
    case notEligible
    /// More checking is needed.
    case needsFollowUp
}

/// A fact that a visit verified (逐人逐项核查).
public enum VerifiedFact: String, DomainTerm {
    public static let textKey = "verified"
    case cause
    case income
    case members
    case skills
    case difficulty
    case address
}

/// What a credential may do (`protocol/README.md` §11).
public enum Role: String, DomainTerm {
    public static let textKey = "role"
    /// One district: read, record visits, edit facts, file candidates.
    case visitor
    /// One district: a visitor's rights plus status decisions, review, import, roster, codes, devices.
    case office
    /// Every district, everything.
    case city
}
