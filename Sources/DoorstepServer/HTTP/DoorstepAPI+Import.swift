import Hummingbird

extension DoorstepAPI {
    /// Import of existing household files and the civil-affairs roster comparison.
    func addImportRoutes(to group: RouterGroup<DoorstepRequestContext>) {}
}
