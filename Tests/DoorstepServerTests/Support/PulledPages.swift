import DoorstepCore
import Foundation

@testable import DoorstepServer
@testable import DoorstepStorage

extension ServerStorage {
    /// One page as storage writes it, its next position written as a plain number (the API's
    /// checkable cursors are the HTTP layer's: ``PullCursors``).
    func pullEncoded(
        for principal: Principal, after cursor: Int64, limit: Int, estimate: Bool = false, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> [UInt8] {
        try await pullEncoded(
            for: principal, after: cursor, limit: limit, maxBytes: .max, estimate: estimate, attachments: true, engine: engine, now: now,
            physicalMillis: physicalMillis, cursor: { String($0) })
    }

    /// One pull page, decoded (tests read pages as values; the server only writes them).
    func pull(
        for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> PullPage {
        let bytes = try await pullEncoded(for: principal, after: cursor, limit: limit, engine: engine, now: now, physicalMillis: physicalMillis)
        return try WireCoding.decode(PullPage.self, from: Data(bytes))
    }

    /// One pull page as written (`encoded`) and the same page built from values (`built`): each
    /// of its households read again through ``ServerStorage/household(_:engine:)`` (the merge
    /// engine over the stored states, not the stored wire texts), its cursor, removals and clock as
    /// the page says. Encoded by `WireCoding`, `built` must give `encoded`'s bytes.
    func pages(
        for principal: Principal, after cursor: Int64, limit: Int, engine: MergeEngine, now: String,
        physicalMillis: @escaping @Sendable () -> Int64
    ) async throws -> (built: PullPage, encoded: [UInt8]) {
        let encoded = try await pullEncoded(for: principal, after: cursor, limit: limit, engine: engine, now: now, physicalMillis: physicalMillis)
        var built = try WireCoding.decode(PullPage.self, from: Data(encoded))
        var households: [HouseholdAggregate] = []
        for sent in built.households {
            guard let aggregate = try await household(sent.household.id, engine: engine) else {
                throw DoorstepError(.notFound, "the page sent \(sent.household.id), which the storage does not hold")
            }
            households.append(aggregate)
        }
        built.households = households
        return (built, encoded)
    }
}
