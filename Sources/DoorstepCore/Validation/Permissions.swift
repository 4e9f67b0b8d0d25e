/// Who may make which change (`protocol/README.md` §11), for the server's engine and the client's early checks alike.
public enum Permissions {
    /// Checks that a role may make a change: visitors file candidates and edit facts; status,
    /// restoring deleted entries and link decisions are the office's; only the city moves a
    /// household to another district (`protocol/README.md` §11). Scope (the district) is checked separately.
    public static func check(_ op: MutationOperation, kind: EntityKind, writes: [FieldWrite], role: Role) throws(DoorstepError) {
        let decides = role == .office || role == .city
        if op == .linkDecision && !decides {
            throw DoorstepError(.forbiddenForRole, "link decisions are the district office's")
        }
        for write in writes {
            switch (kind, write.field) {
            case (.household, "status"):
                if op == .create {
                    let allowed: [JSONValue] = decides ? ["candidate", "filed"] : ["candidate"]
                    guard allowed.contains(write.value) else {
                        throw DoorstepError(
                            .forbiddenForRole,
                            decides
                                ? "a new household is filed as candidate or filed"
                                : "a visitor files a new household as candidate; filing is the district office's decision"
                        )
                    }
                } else if !decides {
                    throw DoorstepError(.forbiddenForRole, "status changes are the district office's decisions")
                }
            case (.household, "district") where op == .update:
                guard role == .city else {
                    throw DoorstepError(.forbiddenForRole, "only the city office moves a household to another district")
                }
            case (.visit, voidedFieldName):
                guard decides else { throw DoorstepError(.forbiddenForRole, "voiding a visit is the district office's decision", zh: "作废走访是旗区工会的决定") }
            case (_, deletedFieldName) where op == .update:
                guard decides else { throw DoorstepError(.forbiddenForRole, "restoring a deleted entry is the district office's decision") }
            default:
                break
            }
        }
    }
}
