/// The kinds of entity that sync (`protocol/README.md` §2).
public enum EntityKind: String, Codable, Hashable, Sendable, CaseIterable {
    /// A hardship household's file. Never deleted: closed by status.
    case household
    /// A member of a household (besides the head).
    case member
    /// A liaison of the two-level liaison system.
    case liaison
    /// A problem-list item (问题清单).
    case problem
    /// An assistance-list item (帮扶清单).
    case assistance
    /// A home visit: an immutable event.
    case visit
    /// A proof document's metadata (a photo or scan, 证明材料); its bytes travel apart (protocol 1.4).
    case attachment

    /// Whether the kind belongs to a household (everything but the household itself).
    public var isChild: Bool { self != .household }

    /// Whether entities of this kind can be deleted (a tombstone). Households are closed, visits corrected.
    public var isDeletable: Bool { self != .household && self != .visit }

    /// Whether entities of this kind can be edited after creation.
    public var isMutable: Bool { self != .visit }

    /// The fields of this kind, in display order.
    public var fields: [FieldSpec] { FieldSpec.catalog[self] ?? [] }

    /// The field with the given name, if the kind has it.
    public func field(_ name: String) -> FieldSpec? {
        FieldSpec.byName[self]?[name]
    }
}

/// The pseudo-field that holds a child entity's deletion (a tombstone register).
public let deletedFieldName = "_deleted"

/// The pseudo-field that voids a mistaken home visit: the office's reason (text), or `null` when
/// restored. Visits are otherwise immutable; a voided visit stays in the history and lists, and
/// reports ignore it (`protocol/README.md` section 6.4).
public let voidedFieldName = "_voided"
