import DoorstepCore
import Foundation
import HTTPTypes
import Testing

@testable import DoorstepServer

/// A refused write waits for review in the office that can act on it.
struct RejectionFilingTests {
    @Test func aWriteToAnotherDistrictsHousehold_isFiledUnderTheWritersDistrict() async throws {
        let server = TestServer()
        try await server.test { session in
            let dongsheng = try await session.enroll(district: "150602", role: .visitor)
            let kangbashi = try await session.enroll(district: "150603", role: .visitor)
            let ownFactory = MutationFactory(device: dongsheng.id, clock: server.clock)
            let theirFactory = MutationFactory(device: kangbashi.id, clock: server.clock)
            let theirs = EntityID.random()
            _ = try await session.pushOK(kangbashi, [theirFactory.make(.create, .household, entity: theirs,
                                                                          fields: Sample.household(nationalID: Sample.nationalID(7, region: "150603"), district: "150603"))])
            let refused = try await session.pushOK(dongsheng, [ownFactory.make(.create, .visit, entity: EntityID.random(), household: theirs, fields: Sample.visit())])
            #expect(refused.results.map(\.outcome) == [.rejected] && refused.results.map(\.code) == [.outOfScope])

            let dongshengOffice = try await session.enroll(district: "150602", role: .office)
            let kangbashiOffice = try await session.enroll(district: "150603", role: .office)
            let own = try await session.call(.get, "/v1/review", token: dongshengOffice.token).json(ReviewQueue.self)
            #expect(own.rejections.map(\.device) == [dongsheng.id], "the writer's office sees its device's refused write")
            #expect(own.rejections.allSatisfy { $0.district == "150602" && $0.code == .outOfScope })
            let target = try await session.call(.get, "/v1/review", token: kangbashiOffice.token).json(ReviewQueue.self)
            #expect(target.rejections.isEmpty, "the other district's office is not sent another office's device's refusals")
            let city = try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self)
            #expect(city.rejections.map(\.device) == [dongsheng.id])
        }
    }
}
