import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// A mistaken visit is voided by the office, not changed: it stays in the history, the reports
/// ignore it, and only an office may void it (or restore it).
struct VoidVisitTests {
    @Test func officeVoidsAMistakenVisit_reportsIgnoreIt_visitorsCannot_andARestoreBringsItBack() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random(), early = EntityID.random(), mistaken = EntityID.random()
            var notEligible = Sample.visit(day: 20)
            notEligible[3] = FieldWrite(field: "conclusion", value: "notEligible")
            _ = try await session.pushOK(
                visitor,
                [
                    factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(60))),
                    factory.make(.create, .visit, entity: early, household: household, fields: Sample.visit(day: 3)),
                    factory.make(.create, .visit, entity: mistaken, household: household, fields: notEligible),
                ])
            #expect(try await session.call(.post, "/v1/households/\(household)/status", token: office.token, json: ["to": "filed"]).status == .ok)
            #expect(try await wrong(session, office) == [household], "the latest visit found it not eligible")

            // A visitor can neither void a visit nor change one.
            let attempts = try await session.pushOK(
                visitor,
                [
                    factory.make(.update, .visit, entity: mistaken, household: household, fields: [FieldWrite(field: voidedFieldName, value: "录错了")]),
                    factory.make(.update, .visit, entity: mistaken, household: household, fields: [FieldWrite(field: "conclusion", value: "eligible")]),
                ])
            #expect(attempts.results.map(\.code) == [.forbiddenForRole, .visitImmutable])

            // The office voids it, with a reason; a void without one is refused and changes nothing.
            let before = try await server.dumpDomainTables()
            let empty = try await session.call(.post, "/v1/visits/\(mistaken)/void", token: office.token, json: ["reason": " "])
            #expect(empty.status == .unprocessableContent && empty.errorCode == "invalidValue")
            #expect(try await server.dumpDomainTables() == before)
            let notAVisit = try await session.call(.post, "/v1/visits/\(household)/void", token: office.token, json: ["reason": "x"])
            #expect(notAVisit.status == .notFound)
            let voided = try await session.call(.post, "/v1/visits/\(mistaken)/void", token: office.token, json: ["reason": "录到了别的户"])
            #expect(voided.status == .ok, "\(voided.text)")
            #expect(try await wrong(session, office).isEmpty, "the report ignores a voided visit")
            let aggregate = try await session.call(.get, "/v1/households/\(household)", token: office.token).json(HouseholdAggregate.self)
            let visit = try #require(aggregate.entities.first { $0.id == mistaken })
            #expect(visit.isVoided && visit[voidedFieldName] == "录到了别的户" && visit["conclusion"] == "notEligible")
            let history = try await session.history(of: household, token: office.token)
            #expect(history.contains { $0.entity == mistaken && $0.field == voidedFieldName && $0.new == "录到了别的户" })

            // Restored: it counts again.
            let restored = try await session.call(.post, "/v1/visits/\(mistaken)/void", token: office.token, json: ["reason": JSONValue.null])
            #expect(restored.status == .ok, "\(restored.text)")
            #expect(try await wrong(session, office) == [household])
        }
    }

    /// The district's households that the report lists as wrong (filed, but found not eligible).
    private func wrong(_ session: Session, _ office: TestDevice) async throws -> [EntityID] {
        let report = try await session.call(.get, "/v1/reports", token: office.token).json(CampaignReport.self)
        return report.districts.first { $0.district == "150602" }?.wrongHouseholds.map(\.household) ?? []
    }
}
