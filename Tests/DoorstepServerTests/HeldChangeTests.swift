import DoorstepBundle
import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// A revoked laptop's bundle, uploaded by its office: each held change can be read in full,
/// accepted as the office's decision (its origin kept in the history) or dismissed with a reason;
/// either way it leaves the review queue and the report's count.
struct HeldChangeTests {
    @Test func revokedLaptopsWork_isReadAcceptedOrDismissed_andLeavesTheQueue() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let neighbour = try await session.enroll(district: "150603", role: .office)
            let work = BundleWork(visitor: visitor, clock: server.clock)
            _ = try await session.pushOK(visitor, Array(work.batches[0].mutations.prefix(1)))
            #expect(try await session.call(.post, "/v1/admin/devices/\(visitor.id)/revoke", token: office.token).status == .ok)
            #expect(try await session.upload(try key.seal(work.batches, by: visitor), token: office.token).status == .ok)

            // Read in full: every held change carries the mutation as the laptop made it.
            let queue = try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self)
            let held = queue.rejections.filter { $0.device == visitor.id }
            #expect(held.map(\.mutation) == work.batches[1].mutations.map(Optional.some))
            #expect(try await pendingRefusals(session, office) == 2)

            // Refused as wholes, nothing changed: no reason, another district, an unknown key.
            let before = try await server.dumpDomainTables()
            let noReason = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/3/dismiss", token: office.token, json: ["reason": " "])
            #expect(noReason.status == .unprocessableContent && noReason.errorCode == "missingField")
            let elsewhere = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/2/accept", token: neighbour.token, body: nil)
            #expect(elsewhere.status == .notFound, "\(elsewhere.text)")
            let unknown = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/99/accept", token: office.token, body: nil)
            #expect(unknown.status == .notFound)
            let badSeq = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/x/accept", token: office.token, body: nil)
            #expect(badSeq.errorCode == "invalidValue")
            #expect(try await server.dumpDomainTables() == before)

            // Accept the visit: applied as the office's decision, its laptop, seq and time in the history.
            let accepted = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/2/accept", token: office.token, body: nil)
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(try accepted.json(MutationResult.self).outcome == .applied)
            let household = try await session.call(.get, "/v1/households/\(work.household)", token: office.token).json(HouseholdAggregate.self)
            let visit = try #require(household.entities.first { $0.id == work.visit })
            #expect(visit["visitor"] == "走访员甲" && visit["visitedAt"] == "2020-04-12T10:30:00+08:00")
            let history = try await session.history(of: work.household, token: office.token).filter { $0.entity == work.visit }
            let original = work.batches[1].mutations[0]
            #expect(!history.isEmpty && history.allSatisfy { $0.origin == AuditOrigin(device: visitor.id, seq: 2, hlc: original.hlc) }, "\(history)")
            #expect(history.allSatisfy { $0.actor == "device:\(office.id)" })
            let again = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/2/accept", token: office.token, body: nil)
            #expect(again.status == .notFound, "an accepted change is no longer open")

            // Dismiss the edit with a reason: nothing applied, the queue and the report are clear.
            let dismissed = try await session.call(
                .post, "/v1/review/rejections/\(visitor.id)/3/dismiss", token: office.token,
                json: ["reason": "收入已由办公室核实"])
            #expect(dismissed.status == .ok, "\(dismissed.text)")
            let closed = try dismissed.json(ClosedRejection.self)
            #expect(closed.closedAs == .dismissed && closed.reason == "收入已由办公室核实" && closed.closedBy == "device:\(office.id)")
            let after = try await session.call(.get, "/v1/households/\(work.household)", token: office.token).json(HouseholdAggregate.self)
            #expect(after.household["monthlyIncomeFen"] == .int(120_000))
            #expect(try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self).rejections.isEmpty)
            #expect(try await pendingRefusals(session, office) == 0)
        }
    }

    @Test func aHeldNewHousehold_isAcceptedBeforeItsVisit_theVisitAloneIsRefusedAndChangesNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let (visitor, key) = try await session.enrollForBundles(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let work = BundleWork(visitor: visitor, clock: server.clock)
            #expect(try await session.call(.post, "/v1/admin/devices/\(visitor.id)/revoke", token: office.token).status == .ok)
            #expect(try await session.upload(try key.seal(work.batches, by: visitor), token: office.token).status == .ok)

            let before = try await server.dumpDomainTables()
            for seq in 2...3 {
                let early = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/\(seq)/accept", token: office.token, body: nil)
                #expect(early.status == .unprocessableContent && early.errorCode == "unknownEntity", "seq \(seq): \(early.status) \(early.text)")
            }
            #expect(try await server.dumpDomainTables() == before, "a refused acceptance changes nothing")

            for seq in 1...3 {
                let accepted = try await session.call(.post, "/v1/review/rejections/\(visitor.id)/\(seq)/accept", token: office.token, body: nil)
                #expect(accepted.status == .ok, "seq \(seq): \(accepted.text)")
            }
            let household = try await session.call(.get, "/v1/households/\(work.household)", token: office.token).json(HouseholdAggregate.self)
            #expect(household.household["nationalId"] == work.batches[0].mutations[0].fields.first { $0.field == "nationalId" }?.value)
            #expect(household.household["monthlyIncomeFen"] == .int(90_000))
            #expect(household.entities.map(\.id) == [work.visit])
            #expect(try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self).rejections.isEmpty)
        }
    }

    /// The refused and held changes the district's report counts as waiting for review.
    private func pendingRefusals(_ session: Session, _ office: TestDevice) async throws -> Int {
        let report = try await session.call(.get, "/v1/reports", token: office.token).json(CampaignReport.self)
        return report.districts.first { $0.district == "150602" }?.review.rejections ?? -1
    }
}
