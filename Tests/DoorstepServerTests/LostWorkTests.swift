import DoorstepCore
import DoorstepStorage
import DoorstepTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// Protocol 1.7 (§8 "Work a restored server lost"), on the server: a batch's `lost` is recorded as
/// a gap in the device's stream, its mutations follow it, a batch sent again changes nothing, a
/// lost seq is never applied later, and the office sees the gap in the device list. On
/// PostgreSQL too (`DOORSTEP_TEST_POSTGRES_URL`).
struct LostWorkTests {
    static let district = "150602"

    @Test func aDeclaredGap_isRecorded_theNextSeqFollows_andTheOfficeSeesIt() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.district, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            _ = try await session.pushOK(
                visitor, [factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(41)))])
            // Seqs 2 and 3: made on the laptop, "acknowledged by a server that lost them", no longer held.
            _ = factory.make(.update, .household, entity: household, fields: [FieldWrite(field: "phone", value: "13904775678")])
            _ = factory.make(.update, .household, entity: household, fields: [FieldWrite(field: "phone", value: "13904775679")])
            let fourth = factory.make(.update, .household, entity: household, fields: [FieldWrite(field: "notes", value: "户主反映医药费负担重。")])

            let beyond = try await session.call(
                .post, "/v1/push", token: visitor.token, json: PushBatch(device: visitor.id, mutations: [fourth], lost: SeqRange(from: 3, through: 3)))
            #expect(beyond.status == .conflict && beyond.errorCode == "missingPredecessor", "\(beyond.text)")
            let misplaced = try await session.call(
                .post, "/v1/push", token: visitor.token, json: PushBatch(device: visitor.id, mutations: [fourth], lost: SeqRange(from: 2, through: 2)))
            #expect(misplaced.status == .badRequest && misplaced.errorCode == "invalidBatch", "\(misplaced.text)")
            let backwards = try await session.call(
                .post, "/v1/push", token: visitor.token, json: PushBatch(device: visitor.id, mutations: [], lost: SeqRange(from: 3, through: 2)))
            #expect(backwards.errorCode == "invalidBatch", "\(backwards.text)")
            #expect(try await Self.devices(session).first?.highestSeq == 1, "refused batches change nothing")

            let batch = PushBatch(device: visitor.id, mutations: [fourth], lost: SeqRange(from: 2, through: 3))
            let receipt = try await session.call(.post, "/v1/push", token: visitor.token, json: batch).json(PushReceipt.self)
            #expect(receipt.highestContiguousSeq == 4 && receipt.results.map(\.outcome) == [.applied])
            let again = try await session.call(.post, "/v1/push", token: visitor.token, json: batch).json(PushReceipt.self)
            #expect(again.highestContiguousSeq == 4 && again.results.map(\.outcome) == [.alreadyApplied])

            var late = fourth
            late.seq = 3
            let reused = try await session.push(visitor, [late])
            #expect(reused.errorCode == "seqReuse", "a lost seq is never applied later: \(reused.text)")

            let list = try await session.call(.get, "/v1/admin/devices", token: try server.adminToken).json(DeviceList.self)
            let record = try #require(list.devices.first { $0.id == visitor.id })
            #expect(record.lost?.map { [$0.from, $0.through] } == [[2, 3]] && record.highestSeq == 4)
            #expect(list.restoredAt == nil && list.notSyncedSinceRestore.isEmpty && list.lostMutations == 2)
            let history = try await session.history(of: household, token: try server.adminToken)
            #expect(Set(history.map(\.seq)) == [1, 4], "the lost seqs left no trace but the gap")
        }
    }

    /// After a restore (SQLite: the restore command's mark), a device is awaited until the server
    /// holds what it says it had acknowledged (`acknowledgedThrough`), or, from a client that does
    /// not say, until it sends work; an empty batch without the key changes nothing.
    @Test func aRestoredServer_awaitsADevice_untilItHoldsWhatTheDeviceHadAcknowledged() async throws {
        guard TestDatabase.postgresURL == nil else { return }  // a PostgreSQL server is restored with pg_restore, not marked
        let server = TestServer()
        let (visitor, older, household) = try await server.test { session in
            let visitor = try await session.enroll(district: Self.district, role: .visitor)
            let older = try await session.enroll(district: Self.district, role: .visitor)
            let household = EntityID.random()
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            _ = try await session.pushOK(
                visitor, [factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(42)))])
            return (visitor, older, household)
        }
        try SQLiteStorage.markRestored(server.configuration.databasePath, epoch: "drill", at: "2020-05-01T00:00:00Z")
        try await server.test { session in
            func awaited() async throws -> Set<DeviceID> {
                let list = try await session.call(.get, "/v1/admin/devices", token: try server.adminToken).json(DeviceList.self)
                #expect(list.restoredAt == "2020-05-01T00:00:00Z")
                return Set(list.notSyncedSinceRestore.map(\.id))
            }
            #expect(try await awaited() == [visitor.id, older.id])
            let empty = try await session.call(.post, "/v1/push", token: visitor.token, json: PushBatch(device: visitor.id, mutations: []))
            #expect(empty.status == .ok)
            #expect(try await awaited() == [visitor.id, older.id], "an empty batch without acknowledgedThrough says nothing")
            let ahead = try await session.call(
                .post, "/v1/push", token: visitor.token, json: PushBatch(device: visitor.id, mutations: [], acknowledgedThrough: 3))
            #expect(ahead.status == .ok)
            #expect(try await awaited() == [visitor.id, older.id], "the server holds seq 1 of the 3 the laptop had acknowledged")
            let caughtUp = try await session.call(
                .post, "/v1/push", token: visitor.token, json: PushBatch(device: visitor.id, mutations: [], acknowledgedThrough: 1))
            #expect(caughtUp.status == .ok)
            #expect(try await awaited() == [older.id])
            // An older client says nothing: its first accepted change ends the wait.
            let factory = MutationFactory(device: older.id, clock: server.clock)
            _ = try await session.pushOK(
                older, [factory.make(.update, .household, entity: household, fields: [FieldWrite(field: "notes", value: "户主外出务工。")])])
            #expect(try await awaited().isEmpty)
        }
    }

    static func devices(_ session: Session) async throws -> [DeviceRecord] {
        try await session.call(.get, "/v1/admin/devices", token: try session.server.adminToken).json(DeviceList.self).devices
    }
}
