public import DoorstepCore

/// What office reports need from storage.
public protocol ReportStorage: Sendable {
    /// Everything a campaign report is computed from, for one district (every district for `nil`),
    /// read in one consistent snapshot: the merged survivor households with their entities, the
    /// status history of those households, the devices, and what waits for review per district.
    func reportInputs(district: String?, engine: MergeEngine) async throws -> ReportInputs
}
