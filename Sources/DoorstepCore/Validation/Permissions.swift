/// Who may make which change (`protocol/README.md` §11), for the server's engine and the client's early checks alike.
public enum Permissions {
    /// Checks that a role may make a change: visitors file candidates and edit facts; status,
    /// restoring deleted entries and link decisions are the office's; only the city moves a
    /// household to another district (`protocol/README.md` §11). Scope (the district) is checked separately.
    public static func check(_ op: MutationOperation, kind: EntityKind, writes: [FieldWrite], role: Role) throws(DoorstepError) {
        let decides = role == .office || role == .city
        if op == .linkDecision && !decides {
            throw DoorstepError(.forbiddenForRole, rule: "officeDecidesLinks")
        }
        for write in writes {
            switch (kind, write.field) {
            case (.household, "status"):
                if op == .create {
                    let allowed: [JSONValue] = decides ? ["candidate", "filed"] : ["candidate"]
                    guard allowed.contains(write.value) else {
                        throw DoorstepError(.forbiddenForRole, rule: decides ? "newHouseholdStatus" : "visitorFilesCandidates")
                    }
                } else if !decides {
                    throw DoorstepError(.forbiddenForRole, rule: "officeDecidesStatus")
                }
            case (.household, "district") where op == .update:
                guard role == .city else {
                    throw DoorstepError(.forbiddenForRole, rule: "cityMovesHouseholds")
                }
            case (.visit, voidedFieldName):
                guard decides else { throw DoorstepError(.forbiddenForRole, rule: "officeVoidsVisits") }
            case (.attachment, let field) where op == .update && AttachmentFile.fixedFields.contains(field):
                // Another file is another attachment: what names the bytes never changes.
                throw DoorstepError(.invalidValue, rule: "fixedAtCreation", ErrorDetails(field: field, kind: kind.rawValue))
            case (_, deletedFieldName) where op == .update:
                guard decides else { throw DoorstepError(.forbiddenForRole, rule: "officeRestores") }
            default:
                break
            }
        }
    }
}
