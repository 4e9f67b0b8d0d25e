import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// A screen's list refreshes when a local write or a sync changes it.
struct ObservationTests {
    /// The first value from the observation that satisfies `condition`, or `nil` after 10 seconds.
    static func first(
        _ observation: LocalObservation<[HouseholdSummary]>,
        where condition: @escaping @Sendable ([HouseholdSummary]) -> Bool
    ) async throws -> [HouseholdSummary]? {
        try await withThrowingTaskGroup(of: [HouseholdSummary]?.self) { group in
            group.addTask {
                for try await value in observation where condition(value) { return value }
                return nil
            }
            group.addTask {
                try await Task.sleep(nanoseconds: 10_000_000_000)
                return nil
            }
            let result = try await group.next() ?? nil
            group.cancelAll()
            return result
        }
    }

    @Test func observedList_refreshesAfterALocalWriteAndASync() async throws {
        try await LiveServer.run { server in
            let visitor = try await server.enrolledClient()
            let other = try await server.enrolledClient()
            let observation = visitor.observeHouseholds()
            async let sawWrite = Self.first(observation) { $0.count == 1 && $0.first?.hasLocalChanges == true }
            try await Task.sleep(nanoseconds: 100_000_000)
            let filed = try await visitor.fileHousehold(Facts.household(40))
            #expect(try await sawWrite?.map(\.id) == [filed], "the list refreshed after a local write")
            let fromElsewhere = try await other.fileHousehold(Facts.household(41))
            try await other.sync()
            async let sawSync = Self.first(visitor.observeHouseholds()) { list in
                Set(list.map(\.id)).count == 2 && !list.contains { $0.hasLocalChanges }
            }
            try await Task.sleep(nanoseconds: 100_000_000)
            try await visitor.sync()
            #expect(try await Set(sawSync?.map(\.id) ?? []) == [filed, fromElsewhere], "the list refreshed after a sync")
        }
    }
}
