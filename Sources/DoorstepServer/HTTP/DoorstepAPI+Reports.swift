import Hummingbird

extension DoorstepAPI {
    /// Office reports.
    func addReportRoutes(to group: RouterGroup<DoorstepRequestContext>) {}
}
