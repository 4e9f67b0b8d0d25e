import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// Push, pull and the merge rules through the real HTTP API and a real SQLite file.
struct SyncTests {
    @Test(arguments: [TestingSetup.router, .live])
    func batchPushedThreeTimes_yieldsOneCopy(setup: TestingSetup) async throws {
        let server = TestServer()
        try await server.test(setup) { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            let visit = EntityID.random()
            let batch = [
                factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(1))),
                factory.make(.create, .visit, entity: visit, household: household, fields: Sample.visit()),
            ]
            let first = try await session.pushOK(visitor, batch)
            #expect(first.results.map(\.outcome) == [.applied, .applied])
            #expect(first.highestContiguousSeq == 2)
            for _ in 0..<2 {
                let again = try await session.pushOK(visitor, batch)
                #expect(again.results.map(\.outcome) == [.alreadyApplied, .alreadyApplied])
                #expect(again.highestContiguousSeq == 2)
            }
            let pulled = try await session.pullAll(visitor)
            #expect(pulled.households.count == 1)
            #expect(pulled.households[household]?.entities.filter { $0.kind == .visit }.count == 1)
            let entries = try await session.history(of: household, token: visitor.token)
            #expect(entries.filter { $0.kind == .visit && $0.field == "visitor" }.count == 1)
        }
    }

    @Test func concurrentEditsOfOneField_conflictInReview_sameStateWhicheverArrivesFirst() async throws {
        var finals: [HouseholdAggregate] = []
        for order in [false, true] {
            let server = TestServer()
            let final = try await server.test { session in
                let a = try await session.enroll(district: "150602", role: .visitor)
                let b = try await session.enroll(district: "150602", role: .visitor)
                let office = try await session.enroll(district: "150602", role: .office)
                let fa = MutationFactory(device: a.id, clock: server.clock)
                let fb = MutationFactory(device: b.id, clock: server.clock)
                let household = EntityID(UUID(uuidString: "00000000-0000-4000-8000-000000000001") ?? UUID())
                _ = try await session.pushOK(a, [fa.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(2)))])
                let seen = try await session.pullAll(b).households[household]
                let base = seen?.household.heads("monthlyIncomeFen").map(\.write) ?? []
                let fromA = fa.make(.update, .household, entity: household, fields: [FieldWrite(field: "monthlyIncomeFen", value: 90_000, base: base)])
                server.clock.advance(10)
                let fromB = fb.make(.update, .household, entity: household, fields: [FieldWrite(field: "monthlyIncomeFen", value: 95_000, base: base)])
                if order {
                    _ = try await session.pushOK(a, [fromA])
                    let receipt = try await session.pushOK(b, [fromB])
                    #expect(receipt.results.first?.outcome == .conflict)
                } else {
                    _ = try await session.pushOK(b, [fromB])
                    let receipt = try await session.pushOK(a, [fromA])
                    #expect(receipt.results.first?.outcome == .conflict)
                }
                let review = try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self)
                #expect(review.conflicts.count == 1)
                #expect(review.conflicts.first?.record.field == "monthlyIncomeFen")
                #expect(review.conflicts.first?.record.heads.count == 2)
                #expect(review.conflicts.first?.record.shown?.value == 95_000, "the later stamp is shown")
                let aggregate = try await session.pullAll(a).households[household]
                return try #require(aggregate)
            }
            finals.append(final)
        }
        // Device ids differ between the two servers; the values and which one is shown must not.
        let values = finals.map { $0.household.fields.mapValues { register in register.heads.map(\.value) } }
        #expect(values[0] == values[1])
        #expect(finals[0].household["monthlyIncomeFen"] == finals[1].household["monthlyIncomeFen"])
    }

    @Test func officeConfirm_resolvesConflict_andSyncsBack() async throws {
        let server = TestServer()
        try await server.test { session in
            let a = try await session.enroll(district: "150602", role: .visitor)
            let b = try await session.enroll(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let fa = MutationFactory(device: a.id, clock: server.clock)
            let fb = MutationFactory(device: b.id, clock: server.clock)
            let household = EntityID.random()
            _ = try await session.pushOK(a, [fa.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(3)))])
            let base = try await session.pullAll(b).households[household]?.household.heads("address").map(\.write) ?? []
            _ = try await session.pushOK(
                a, [fa.make(.update, .household, entity: household, fields: [FieldWrite(field: "address", value: "东胜区 天骄路 1 号", base: base)])])
            server.clock.advance(10)
            _ = try await session.pushOK(
                b, [fb.make(.update, .household, entity: household, fields: [FieldWrite(field: "address", value: "东胜区 天骄路 2 号", base: base)])])
            let cursor = try await session.pullAll(a).cursor
            let confirm = try await session.call(
                .post, "/v1/review/conflicts/confirm", token: office.token,
                json: ["entity": JSONValue.string(household.description), "field": "address"])
            #expect(confirm.status == .ok, "\(confirm.text)")
            let review = try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self)
            #expect(review.conflicts.isEmpty)
            let after = try await session.pullAll(a, cursor: cursor)
            let register = try #require(after.households[household]?.household.fields["address"])
            #expect(register.heads.count == 1)
            #expect(register.value == "东胜区 天骄路 2 号")
            #expect(try await session.history(of: household, token: office.token).last?.actor == "device:\(office.id)")
        }
    }

    @Test func twoOfflineHouseholdsWithOneNationalID_endLinked() async throws {
        let server = TestServer()
        try await server.test { session in
            let a = try await session.enroll(district: "150602", role: .visitor)
            let b = try await session.enroll(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let fa = MutationFactory(device: a.id, clock: server.clock)
            let fb = MutationFactory(device: b.id, clock: server.clock)
            let first = EntityID.random(), second = EntityID.random()
            let early = fa.make(.create, .household, entity: first, fields: Sample.household(nationalID: Sample.nationalID(4)))
            server.clock.advance(1000)
            let late = fb.make(.create, .household, entity: second, fields: Sample.household(nationalID: Sample.nationalID(4).lowercased()))
            _ = try await session.pushOK(b, [late, fb.make(.create, .visit, entity: EntityID.random(), household: second, fields: Sample.visit())])
            _ = try await session.pushOK(a, [early])
            let pulled = try await session.pullAll(a)
            #expect(pulled.households.count == 1)
            let survivor = try #require(pulled.households[first], "the earlier creation survives")
            #expect(survivor.aliases == [second])
            #expect(survivor.entities.filter { $0.kind == .visit }.count == 1, "the alias's visit moves to the survivor")
            let review = try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self)
            #expect(review.duplicates.map(\.alias) == [second])
            // An edit still addressed to the alias lands on the survivor.
            let base = survivor.household.heads("phone").map(\.write)
            let edit = fb.make(.update, .household, entity: second, fields: [FieldWrite(field: "phone", value: "13912345678", base: base)])
            #expect(try await session.pushOK(b, [edit]).results.first?.outcome == .applied)
            let household = try await session.call(.get, "/v1/households/\(second)", token: a.token).json(HouseholdAggregate.self)
            #expect(household.household.id == first)
            #expect(household.household["phone"] == "13912345678")
            // The office separates them: both come back on their own.
            let unlink = try await session.call(
                .post, "/v1/review/links/unlink", token: office.token,
                json: ["survivor": first.description, "alias": second.description])
            #expect(unlink.status == .ok, "\(unlink.text)")
            let split = try await session.pullAll(a, cursor: pulled.cursor)
            #expect(Set(split.households.keys) == [first, second])
            // Each side's history shows its own writes, and only those: the edit addressed to the
            // alias while they were linked (filed then under the survivor) is the alias's.
            let ofFirst = try await session.history(of: first, token: office.token), ofSecond = try await session.history(of: second, token: office.token)
            let decision = { (entry: AuditEntry) in entry.field.hasPrefix("link:") }
            #expect(ofFirst.contains { $0.entity == first && $0.field == "nationalId" })
            #expect(ofFirst.allSatisfy { $0.entity == first || decision($0) }, "\(ofFirst.map { "\($0.entity) \($0.field)" })")
            #expect(ofSecond.contains { $0.entity == second && $0.field == "phone" })
            #expect(ofSecond.contains { $0.kind == .visit }, "the alias's visit")
            #expect(ofSecond.allSatisfy { $0.entity != first || decision($0) })
            #expect(ofFirst.contains(where: decision) && ofSecond.contains(where: decision), "the unlink shows on both sides")
        }
    }

    @Test func historyAfterAnUnlink_findsWritesFiledUnderASurvivorTwoLinksAway() async throws {
        let server = TestServer()
        try await server.test { session in
            let a = try await session.enroll(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            let fa = MutationFactory(device: a.id, clock: server.clock)
            let first = Sample.nationalID(11), second = Sample.nationalID(12)
            // C is filed first (second ID); A and B share the first ID; B's ID is then corrected to the
            // second, so B links to C as well (a household keeps every ID it held): C survives all three.
            let c = EntityID.random(), alone = EntityID.random(), b = EntityID.random()
            _ = try await session.pushOK(a, [fa.make(.create, .household, entity: c, fields: Sample.household(nationalID: second))])
            server.clock.advance(1000)
            _ = try await session.pushOK(a, [fa.make(.create, .household, entity: alone, fields: Sample.household(nationalID: first))])
            server.clock.advance(1000)
            let created = fa.make(.create, .household, entity: b, fields: Sample.household(nationalID: first))
            _ = try await session.pushOK(a, [created])
            _ = try await session.pushOK(
                a,
                [
                    fa.make(
                        .update, .household, entity: b,
                        fields: [
                            FieldWrite(field: "nationalId", value: .string(second), base: [created.writeID])
                        ])
                ])
            let linked = try await session.call(.get, "/v1/households/\(alone)", token: office.token).json(HouseholdAggregate.self)
            #expect(linked.household.id == c && Set(linked.aliases) == [alone, b], "\(linked.household.id) \(linked.aliases)")
            // An edit to A while linked is filed under C, two links away from A.
            let base = linked.household.heads("phone").map(\.write)
            _ = try await session.pushOK(
                a, [fa.make(.update, .household, entity: alone, fields: [FieldWrite(field: "phone", value: "13912345678", base: base)])])
            // The office separates A from B (what linked it): A stands alone, B stays with C.
            let unlink = try await session.call(
                .post, "/v1/review/links/unlink", token: office.token, json: ["survivor": b.description, "alias": alone.description])
            #expect(unlink.status == .ok, "\(unlink.text)")
            let separate = try await session.call(.get, "/v1/households/\(alone)", token: office.token).json(HouseholdAggregate.self)
            #expect(separate.household.id == alone && separate.aliases.isEmpty)

            #expect(
                try await session.history(of: alone, token: office.token).contains { $0.entity == alone && $0.field == "phone" }, "A's own edit, filed under C")
            #expect(
                try await session.history(of: c, token: office.token).allSatisfy { $0.entity != alone || $0.field.hasPrefix("link:") },
                "C's history does not show A's edit")
        }
    }

    @Test func visitorOfOneDistrict_readsAndWritesNothingOfAnother() async throws {
        let server = TestServer()
        try await server.test { session in
            let here = try await session.enroll(district: "150602", role: .visitor)
            let there = try await session.enroll(district: "150603", role: .visitor)
            let fh = MutationFactory(device: here.id, clock: server.clock)
            let ft = MutationFactory(device: there.id, clock: server.clock)
            let household = EntityID.random()
            _ = try await session.pushOK(here, [fh.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(5)))])
            #expect(try await session.pullAll(there).households.isEmpty)
            #expect(try await session.call(.get, "/v1/households/\(household)", token: there.token).status == .notFound)
            #expect(try await session.call(.get, "/v1/households/\(household)/history", token: there.token).status == .notFound)
            let before = try await server.dumpDomainTables()
            let write = ft.make(.update, .household, entity: household, fields: [FieldWrite(field: "phone", value: "13912345678", base: [])])
            let receipt = try await session.pushOK(there, [write])
            #expect(receipt.results.first?.outcome == .rejected)
            #expect(receipt.results.first?.code == .outOfScope)
            let create = ft.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(6), district: "150602"))
            #expect(try await session.pushOK(there, [create]).results.first?.code == .outOfScope)
            let after = try await server.dumpDomainTables()
            #expect(try await session.pullAll(here).households[household]?.household["phone"] == .null)
            #expect(before != after, "rejections are logged")
            let review = try await session.call(.get, "/v1/review", token: session.adminToken).json(ReviewQueue.self)
            #expect(review.rejections.count == 2)
            #expect(try await session.call(.get, "/v1/review", token: there.token).status == .forbidden)
            // Both refusals wait in the writer's office (it can act on them), not in the household's.
            let writers = try await session.enroll(district: "150603", role: .office)
            let households = try await session.enroll(district: "150602", role: .office)
            let own = try await session.call(.get, "/v1/review", token: writers.token).json(ReviewQueue.self)
            #expect(own.rejections.count == 2 && own.rejections.allSatisfy { $0.device == there.id && $0.district == "150603" && $0.code == .outOfScope })
            #expect(try await session.call(.get, "/v1/review", token: households.token).json(ReviewQueue.self).rejections.isEmpty)
        }
    }

    @Test func revokedDevice_isRefusedOnItsNextRequest() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let office = try await session.enroll(district: "150602", role: .office)
            #expect(try await session.call(.get, "/v1/pull", token: visitor.token).status == .ok)
            let revoke = try await session.call(.post, "/v1/admin/devices/\(visitor.id)/revoke", token: office.token)
            #expect(revoke.status == .ok)
            let pull = try await session.call(.get, "/v1/pull", token: visitor.token)
            #expect(pull.status == .unauthorized)
            #expect(pull.errorCode == "deviceRevoked")
            let push = try await session.push(visitor, [])
            #expect(push.errorCode == "deviceRevoked")
            let other = try await session.enroll(district: "150603", role: .office)
            #expect(try await session.call(.post, "/v1/admin/devices/\(office.id)/revoke", token: other.token).status == .notFound)
        }
    }

    @Test func gapInSeqs_missingPredecessor_andReuse_seqReuse_changeNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            let one = factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(7)))
            let two = factory.make(.create, .visit, entity: EntityID.random(), household: household, fields: Sample.visit())
            let three = factory.make(.create, .visit, entity: EntityID.random(), household: household, fields: Sample.visit(day: 13))
            _ = try await session.pushOK(visitor, [one])
            let before = try await server.dumpDomainTables()
            let gap = try await session.push(visitor, [three])
            #expect(gap.status == .conflict)
            #expect(gap.errorCode == "missingPredecessor")
            var reused = two
            reused.seq = 1
            let reuse = try await session.push(visitor, [reused])
            #expect(reuse.status == .conflict)
            #expect(reuse.errorCode == "seqReuse")
            #expect(try await server.dumpDomainTables() == before)
            #expect(try await session.pushOK(visitor, [two, three]).highestContiguousSeq == 3)
        }
    }

    @Test func duplicateOfAnotherDistrictsHousehold_isOutOfScope_notALinkThatMovesIt() async throws {
        let server = TestServer()
        try await server.test { session in
            let here = try await session.enroll(district: "150602", role: .visitor)
            let there = try await session.enroll(district: "150603", role: .visitor)
            let fh = MutationFactory(device: here.id, clock: server.clock)
            let ft = MutationFactory(device: there.id, clock: server.clock)
            let household = EntityID.random()
            _ = try await session.pushOK(here, [fh.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(70)))])
            let copy = ft.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(70), district: "150603"))
            let receipt = try await session.pushOK(there, [copy])
            #expect(receipt.results.first?.code == .outOfScope)
            #expect(try await session.pullAll(there).households.isEmpty, "nothing of 150602 reaches 150603")
            let own = try await session.pullAll(here).households[household]
            #expect(own?.household["district"] == "150602")
            #expect(own?.aliases.isEmpty == true)
        }
    }

    @Test func deviceNamedServer_isListedAndRevocable() async throws {
        let server = TestServer()
        try await server.test { session in
            let code = try await session.call(.post, "/v1/admin/enrollment-codes", token: session.adminToken, json: ["district": "150602", "role": "visitor"])
            let text = try code.json([String: JSONValue].self)["code"]?.stringValue ?? ""
            let key = Data(repeating: 9, count: 32).base64EncodedString()
            let enrolled = try await session.call(.post, "/v1/enroll", token: nil, json: ["code": text, "deviceName": "server", "publicSigningKey": key])
            let device = try enrolled.json(EnrollResponse.self)
            let list = try await session.call(.get, "/v1/admin/devices", token: session.adminToken).json(DeviceList.self)
            #expect(list.devices.contains { $0.id == device.device } == true)
            #expect(try await session.call(.post, "/v1/admin/devices/\(device.device)/revoke", token: session.adminToken).status == .ok)
            #expect(try await session.call(.get, "/v1/pull", token: device.token).errorCode == "deviceRevoked")
        }
    }
}
