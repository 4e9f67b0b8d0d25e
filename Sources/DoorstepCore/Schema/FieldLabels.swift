/// The names people read for the fields of each kind, in Chinese and English: in the table of
/// texts (`field.<kind>.<field>`), for the CLI's tables and prompts and the dashboard's pages alike.
///
/// Every field of `FieldSpec.catalog` has a label (a test holds this); so has the
/// `_deleted` pseudo-field (`field._deleted`).
public enum FieldLabels {
    /// The label of a field of a kind, e.g. `(.household, "nationalId")` → 身份证号 / national ID;
    /// `nil` when the kind has no such field.
    public static func label(_ field: String, of kind: EntityKind, _ language: Language) -> String? {
        name(field, of: kind)?.text(language)
    }

    /// Both labels of a field of a kind; `nil` when the kind has no such field (the table labels
    /// only the catalog's fields, a test holds this; `FieldSpec.catalog` reads its labels here).
    public static func name(_ field: String, of kind: EntityKind) -> LocalizedName? {
        if field == deletedFieldName { return Texts.name("field._deleted") }
        return Texts.name("field.\(kind.rawValue).\(field)")
    }
}

extension EntityKind {
    /// The kind's name for people, e.g. 走访记录 / visit: the same words in the CLI and the dashboard.
    public func label(_ language: Language) -> String {
        Texts.text("kind.\(rawValue)", language)
    }

    /// The title of a list of entities of this kind, e.g. 走访记录 / Visits.
    public func listTitle(_ language: Language) -> String {
        Texts.text("kinds.\(rawValue)", language)
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
        Texts.text("operation.\(rawValue)", language)
    }
}
