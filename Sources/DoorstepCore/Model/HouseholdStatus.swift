/// Where a household stands in the programme (`docs/DOMAIN.md`, "Status").
public enum HouseholdStatus: String, DomainTerm {
    public static let textKey = "status"
    /// Newly identified, not yet verified.
    case candidate
    /// Verified and on file (在档).
    case filed
    /// Per-capita income above the district's minimum-living standard (脱困).
    case outOfHardship
    /// Cannot work; handed to the government relief system (兜底).
    case safetyNet
    /// Not eligible after verification, or left the programme.
    case closed

    /// The statuses this one may change to (the status table of `docs/DOMAIN.md`).
    public var allowedNext: [HouseholdStatus] {
        switch self {
        case .candidate: [.filed, .closed]
        case .filed: [.outOfHardship, .safetyNet, .closed]
        case .safetyNet: [.outOfHardship, .filed, .closed]
        case .outOfHardship: [.filed, .closed]
        case .closed: [.candidate]
        }
    }

    /// Whether the status table allows changing from this status to `next`.
    public func canChange(to next: HouseholdStatus) -> Bool {
        allowedNext.contains(next)
    }

    /// Checks a status change against the statuses its writer saw (the base's values, in write
    /// order, the shown one last): keeping one of them (settling a conflict) is always allowed,
    /// and so is any change the table allows from one of them. Throws `illegalTransition`.
    public static func checkChange(from bases: [HouseholdStatus], to next: HouseholdStatus) throws(DoorstepError) {
        guard let shown = bases.last else {
            throw DoorstepError(.illegalTransition, rule: "statusNeedsBase")
        }
        if bases.contains(next) || bases.contains(where: { $0.canChange(to: next) }) { return }
        try shown.checkTransition(to: next)
    }

    /// Checks a transition and throws `illegalTransition`, naming the allowed ones, if it is not in the table.
    public func checkTransition(to next: HouseholdStatus) throws(DoorstepError) {
        guard canChange(to: next) else {
            throw DoorstepError(
                .illegalTransition, rule: "transition",
                ErrorDetails(
                    field: "status", kind: EntityKind.household.rawValue, allowed: allowedNext.map(\.rawValue), from: [rawValue], to: next.rawValue))
        }
    }
}
