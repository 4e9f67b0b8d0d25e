@testable import DoorstepClient
import DoorstepCore
import Foundation
import GRDB
import Testing

/// The stored household view, kept up to date write by write, against the view computed from
/// scratch (the pulled copy with the whole outbox applied).
struct LocalViewTests {
    /// The stored views and the views recomputed from the pulled copies and the outbox.
    private func storedAndRecomputed(_ client: FieldClient) async throws -> (stored: [String: String], recomputed: [String: String]) {
        try await client.pool.write { db in
            let stored = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, view, local_changes FROM households").map {
                ($0["id"] as String, "\($0["view"] as String) \($0["local_changes"] as Int)")
            })
            for id in stored.keys { try LocalStore.refreshView(db, try EntityID(id)) }
            let recomputed = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, view, local_changes FROM households").map {
                ($0["id"] as String, "\($0["view"] as String) \($0["local_changes"] as Int)")
            })
            return (stored, recomputed)
        }
    }

    @Test func viewsKeptWriteByWrite_equalViewsRecomputedFromScratch() async throws {
        try await LiveServer.run { server in
            let client = try await server.enrolledClient()
            let other = try await server.enrolledClient()
            let pulled = try await other.fileHousehold(Facts.household(31))
            let member = try await other.addEntry(.member, to: pulled, ["name": "李某", "relation": "spouse", "health": "healthy", "employment": "unemployed"])
            try await other.sync()
            try await client.sync()

            // Local work on a pulled household and on one made on this device, of every kind of write.
            let local = try await client.fileHousehold(Facts.household(32))
            try await client.editHousehold(pulled, set: ["monthlyIncomeFen": 91_000])
            try await client.editHousehold(pulled, set: ["monthlyIncomeFen": 92_000, "address": "东胜区 新街 2 号"])
            try await client.recordVisit(to: pulled, Facts.visit)
            try await client.editEntry(member, in: pulled, set: ["health": "chronicIllness"])
            let child = try await client.addEntry(.member, to: local, ["name": "张某", "relation": "child", "health": "healthy", "employment": "student"])
            try await client.recordVisit(to: local, Facts.visit)
            try await client.removeEntry(child, in: local)
            try await client.removeEntry(member, in: pulled)

            // A concurrent edit on the server side makes the next pull bring a conflict under local work.
            try await other.editHousehold(pulled, set: ["monthlyIncomeFen": 99_000])
            try await other.sync()
            var (stored, recomputed) = try await storedAndRecomputed(client)
            #expect(stored.count == 2)
            #expect(stored == recomputed)

            try await client.sync()
            try await client.recordVisit(to: pulled, Facts.visit)
            try await client.editHousehold(local, set: ["address": "东胜区 新街 3 号"])
            (stored, recomputed) = try await storedAndRecomputed(client)
            #expect(stored == recomputed)
            let view = try #require(try await client.household(pulled))
            #expect(view.household.fields["monthlyIncomeFen"]?.heads.count == 2, "the conflict is shown")
            #expect(view.entities.filter { $0.kind == .visit }.count == 2)
            #expect(try await client.households().first { $0.id == pulled }?.hasLocalChanges == true)
        }
    }
}
