import DoorstepCore
import DoorstepServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 7 and `protocol/README.md` §4, clocks: a laptop whose clock says 2030 cannot win every edit for
/// ever. Its stamp is clamped to the server's time plus the bound (5 minutes), the receipt says
/// `clockSkew`, the office sees the device flagged, and an honest edit made after it still wins.
@Suite struct ClockTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var millis: Int64 = 1_588_230_000_000  // 2020-04-30
        func read() -> Int64 { lock.withLock { millis } }
        func advance(_ delta: Int64) { lock.withLock { millis += delta } }
    }

    @Test func aStampFromTheFuture_isClampedFlaggedAndLosesToALaterHonestEdit() async throws {
        let clock = Clock()
        let server = InProcessServer { $0.clock = { clock.read() } }
        try await server.test { caller in
            let fast = try await caller.enroll(district: "150602", role: .visitor, name: "clock set to 2030")
            let honest = try await caller.enroll(district: "150602", role: .visitor)
            let household = EntityID.random()
            let year2030 = HLC(wallMillis: 1_893_456_000_000, logical: 0)
            let create = Mutation(
                device: fast.id, seq: 1, hlc: year2030, op: .create, kind: .household, entity: household, household: household,
                fields: Mutations.household(Facts.household(9100), district: "150602"))
            let response = try await caller.push(fast, [create])
            let receipt = try response.json(PushReceipt.self)
            let bound = ClockSkewPolicy().maxAheadMillis
            #expect(receipt.clockSkew)
            #expect(receipt.results.first?.stamp == HLC(wallMillis: clock.read() + bound, logical: 0), "clamped to the server's time plus the bound")
            let review = try await caller.call(.get, "/v1/review", token: caller.adminToken).json(ReviewQueue.self)
            #expect(review.clockFlaggedDevices.map(\.id) == [fast.id], "the office sees the device flagged")

            // Ten minutes later an honest device edits the phone, naming what it saw: its value is shown.
            clock.advance(10 * 60 * 1000)
            let pulled = try #require(try await caller.pullAll(honest.token)[household])
            let base = pulled.household.heads("headName").map(\.write)
            #expect(base.first?.hlc.wallMillis ?? .max <= clock.read(), "what others see is the clamped stamp, not 2030")
            let edit = Mutation(
                device: honest.id, seq: 1, hlc: HLC(wallMillis: clock.read(), logical: 0), op: .update, kind: .household,
                entity: household, household: household, fields: [FieldWrite(field: "headName", value: "新户主", base: base)])
            #expect(try await caller.push(honest, [edit]).json(PushReceipt.self).results.first?.outcome == .applied)
            // The fast device's next write is clamped again (never 2030): within the bound it may be the
            // conflict's shown value, but the conflict keeps both heads for the office to settle.
            let rival = Mutation(
                device: fast.id, seq: 2, hlc: HLC(wallMillis: 1_893_456_000_001, logical: 0), op: .update, kind: .household,
                entity: household, household: household, fields: [FieldWrite(field: "headName", value: "快钟户主", base: base)])
            let second = try await caller.push(fast, [rival]).json(PushReceipt.self)
            #expect(second.clockSkew && second.results.first?.outcome == .conflict)
            #expect(second.results.first?.stamp?.wallMillis == clock.read() + bound)
            let after = try #require(try await caller.pullAll(caller.adminToken)[household])
            #expect(Set(after.household.heads("headName").map(\.value)) == ["新户主", "快钟户主"])
            // Ten minutes on, an honest edit naming both heads settles it: the 2030 clock wins nothing for ever.
            clock.advance(10 * 60 * 1000)
            let settle = Mutation(
                device: honest.id, seq: 2, hlc: HLC(wallMillis: clock.read(), logical: 0), op: .update, kind: .household,
                entity: household, household: household,
                fields: [FieldWrite(field: "headName", value: "定案户主", base: after.household.heads("headName").map(\.write))])
            #expect(try await caller.push(honest, [settle]).json(PushReceipt.self).results.first?.outcome == .applied)
            #expect(try #require(try await caller.pullAll(caller.adminToken)[household]).household["headName"] == "定案户主")
            print("ClockTests: 2030 stamps clamped to server time + \(bound / 60_000) min and flagged for review; an honest later edit wins")
        }
    }
}
