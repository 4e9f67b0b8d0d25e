import DoorstepCore

/// The `--json` answer of a command that wrote on this device: what was written and how much
/// work now waits for a sync.
struct LocalWrite: Encodable {
    /// The entity written (a household, visit or list item).
    var id: EntityID
    /// Its household.
    var household: EntityID
    /// `household`, `visit`, `assistance` …
    var kind: EntityKind
    /// The fields written, by wire name.
    var fields: [String]
    /// Mutations waiting to be pushed.
    var pending: Int
}
