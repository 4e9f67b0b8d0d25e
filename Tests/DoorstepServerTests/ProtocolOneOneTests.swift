import Crypto
import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// Protocol 1.1 (issue 17): checkable cursors bound to a scope, the resume point of
/// `missingPredecessor` as a field, receipts that name a link's survivor, refusals whose details
/// explain them and that reach an office's queue.
@Suite struct ProtocolOneOneTests {
    static let districtA = "150602"
    static let districtB = "150603"

    /// The cursor a page of `token`'s scope says to send next.
    static func nextCursor(_ session: Session, token: String, cursor: String = "") async throws -> String {
        let page = try await session.call(.get, "/v1/pull?cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")", token: token)
        #expect(page.status == .ok, "\(page.text)")
        return try page.json(PullPage.self).nextCursor
    }

    @Test func cursors_areIssuedCheckable_andBoundToTheScope() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let other = try await session.enroll(district: Self.districtB, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let pushed = try await session.push(
                visitor, [factory.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(1)))])
            #expect(pushed.status == .ok)
            let cursor = try await Self.nextCursor(session, token: visitor.token)
            #expect(cursor.hasPrefix("c1.") && cursor.split(separator: ".").count == 3, "\(cursor)")
            // Sent back, it is accepted, by this device and by another of the same district.
            let again = try await Self.nextCursor(session, token: visitor.token, cursor: cursor)
            #expect(again == cursor)
            let colleague = try await session.enroll(district: Self.districtA, role: .office)
            #expect(try await Self.nextCursor(session, token: colleague.token, cursor: cursor) == cursor)
            // Another district's device, and the city, cannot use it.
            for token in [other.token, session.adminToken] {
                let refused = try await session.call(.get, "/v1/pull?cursor=\(cursor)", token: token)
                #expect(refused.status == .badRequest && refused.errorCode == "invalidCursor", "\(refused.text)")
            }
            // Positions it never issued, in any spelling, and a changed tag are refused.
            let position = cursor.split(separator: ".")[1]
            var forged = Array(cursor)
            forged[forged.count - 1] = forged[forged.count - 1] == "0" ? "1" : "0"
            for text in ["014", "%2014", "-1", "c1.\(position)", "c1.\(position).0000000000000000", String(forged), "c2.\(position).\(cursor.suffix(16))"] {
                let refused = try await session.call(.get, "/v1/pull?cursor=\(text)", token: visitor.token)
                #expect(refused.status == .badRequest && refused.errorCode == "invalidCursor", "\(text): \(refused.text)")
            }
            // The start: no cursor, an empty one, or protocol 1.0's "0"; a 1.0 cursor in canonical form is still read.
            for text in ["", "0", "1"] {
                #expect(try await session.call(.get, "/v1/pull?cursor=\(text)", token: visitor.token).status == .ok, "\(text)")
            }
        }
    }

    /// The golden page's cursor is one the server makes (with the example's secret, §9) for its
    /// district, and no other district's.
    @Test func theGoldenPagesCursor_isOneTheServerAccepts() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("protocol/examples/pull-page.json")
        let page = try WireCoding.decode(PullPage.self, from: Data(contentsOf: url))
        let cursors = PullCursors(secret: Data((1...32).map { UInt8($0) }))
        let district = Principal(device: DeviceID.random(), role: .visitor, district: "150602")
        #expect(try cursors.position(of: page.nextCursor, for: district) == 0xa7)
        #expect(cursors.issue(0xa7, for: district) == page.nextCursor)
        let another = Principal(device: DeviceID.random(), role: .visitor, district: "150603")
        #expect(throws: DoorstepError.self) { try cursors.position(of: page.nextCursor, for: another) }
    }

    @Test func missingPredecessor_saysWhereToResume_andAnEmptyBatchSaysWhereTheServerIs() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let first = try await session.push(
                visitor, [factory.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(1)))])
            #expect(first.status == .ok)
            _ = factory.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(2)))
            let gap = try await session.push(
                visitor, [factory.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(3)))])
            #expect(gap.status == .conflict)
            let body = try gap.json(ErrorBody.self)
            #expect(body.error.code == .missingPredecessor && body.error.details?.resumeFrom == 2)
            #expect(body.error.details?.rule == "resumeFrom" && body.error.messageZh?.contains("2") == true)
            let empty = try await session.push(visitor, [])
            #expect(empty.status == .ok)
            let receipt = try empty.json(PushReceipt.self)
            #expect(receipt.results.isEmpty && receipt.highestContiguousSeq == 1)
        }
    }

    @Test func aReceipt_namesTheSurvivorOfALink() async throws {
        let server = TestServer()
        try await server.test { session in
            let a = try await session.enroll(district: Self.districtA, role: .visitor)
            let b = try await session.enroll(district: Self.districtA, role: .visitor)
            let first = EntityID.random(), second = EntityID.random()
            let fa = MutationFactory(device: a.id, clock: server.clock), fb = MutationFactory(device: b.id, clock: server.clock)
            let id = Sample.nationalID(7)
            let one = try await session.push(a, [fa.make(.create, .household, entity: first, fields: Sample.household(nationalID: id))]).json(PushReceipt.self)
            #expect(one.results[0].survivor == nil, "no link yet")
            server.clock.advance(60_000)
            let two = try await session.push(b, [fb.make(.create, .household, entity: second, fields: Sample.household(nationalID: id))]).json(PushReceipt.self)
            #expect(two.results[0].survivor == first, "the earlier creation survives: \(two.results[0])")
        }
    }

    /// A change to a household whose creation was refused is `dependsOnRejected`; it is reviewed by
    /// the writer's district (the household has none), on the office's queue with its details.
    @Test func dependsOnRejected_reachesTheWritersOffice() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let office = try await session.enroll(district: Self.districtA, role: .office)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            var bad = Sample.household(nationalID: Sample.nationalID(9))
            bad[1] = FieldWrite(field: "nationalId", value: "150602198507011239")
            let receipt = try await session.push(
                visitor,
                [
                    factory.make(.create, .household, entity: household, fields: bad),
                    factory.make(.update, .household, entity: household, fields: [FieldWrite(field: "phone", value: "13912345678")]),
                ]
            ).json(PushReceipt.self)
            #expect(receipt.results.map(\.code) == [.invalidNationalId, .dependsOnRejected])
            #expect(receipt.results[0].details?.rule == "nationalIdCheckDigit" && receipt.results[0].details?.field == "nationalId")
            let queue = try await session.call(.get, "/v1/review", token: office.token).json(ReviewQueue.self)
            let rows = queue.rejections.filter { $0.device == visitor.id }
            #expect(rows.map(\.seq) == [1, 2], "both refusals reach the district office: \(rows)")
            #expect(rows.allSatisfy { $0.district == Self.districtA })
            #expect(rows.first?.explanation(.chinese) == "身份证号校验位不对，请核对是否输错")
        }
    }

    /// Pages bounded in bytes (§9, §15): with a small cap each page holds one household, and the
    /// cursors lead through every household of the scope.
    @Test func pagesStopAtTheByteCap_andTheCursorsLeadThroughEverything() async throws {
        let server = TestServer { $0.limits.maxPullPageBytes = 400 }
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let ids = (0..<5).map { _ in EntityID.random() }
            let mutations = ids.enumerated().map { index, id in
                factory.make(.create, .household, entity: id, fields: Sample.household(nationalID: Sample.nationalID(20 + index)))
            }
            #expect(try await session.push(visitor, mutations).status == .ok)
            var cursor = ""
            var seen: [EntityID] = []
            var pages = 0
            while pages < 20 {
                let response = try await session.call(.get, "/v1/pull?cursor=\(cursor)", token: visitor.token)
                let page = try response.json(PullPage.self)
                pages += 1
                #expect(page.households.count <= 1, "a household passes 400 bytes: one a page")
                seen += page.households.map(\.household.id)
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
            #expect(Set(seen) == Set(ids) && seen.count == ids.count, "\(pages) pages")
        }
    }

    /// A cap that holds a dozen households: storage reads a page's households in chunks (on
    /// PostgreSQL 8, then as many as the bytes so far say will fit), and each page still stops
    /// at the household that reaches the cap, delivering every household once, none twice.
    @Test func pagesOfManyHouseholds_readInChunks_deliverEachHouseholdOnce() async throws {
        let server = TestServer { $0.limits.maxPullPageBytes = 15_000 }
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let ids = (0..<60).map { _ in EntityID.random() }
            let mutations = ids.enumerated().map { index, id in
                factory.make(.create, .household, entity: id, fields: Sample.household(nationalID: Sample.nationalID(100 + index)))
            }
            #expect(try await session.push(visitor, mutations).status == .ok)
            var cursor = ""
            var pages: [[EntityID]] = []
            var sizes: [Int] = []
            while pages.count < 20 {
                let response = try await session.call(.get, "/v1/pull?cursor=\(cursor)", token: visitor.token)
                let page = try response.json(PullPage.self)
                pages.append(page.households.map(\.household.id))
                sizes.append(response.body.readableBytes)
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
            let seen = pages.flatMap { $0 }
            #expect(seen.count == ids.count && Set(seen) == Set(ids), "each household once: \(pages.map(\.count))")
            #expect(pages.count >= 3, "60 households do not fit in two pages of 15,000 bytes: \(pages.map(\.count))")
            for (page, size) in zip(pages.dropLast(), sizes) {
                #expect(page.count > 8, "a full page reads past the first chunk: \(pages.map(\.count))")
                #expect(size >= 15_000, "a page with more stops only at the cap: \(sizes)")
            }
        }
    }

    /// §9, revision 1.3: a pull that asks `estimate=true` is told how many households of its
    /// scope changed after the page (each once, however many changes), none without asking, 0 on
    /// the last page; anything but true or false is refused and changes nothing.
    @Test func anEstimate_countsTheHouseholdsAfterThePage_onlyWhenAsked() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let other = try await session.enroll(district: Self.districtB, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let ids = (0..<30).map { _ in EntityID.random() }
            var mutations = ids.enumerated().map { index, id in
                factory.make(.create, .household, entity: id, fields: Sample.household(nationalID: Sample.nationalID(200 + index)))
            }
            // The last household changed twice more: still one household.
            for phone in ["13912345670", "13912345671"] {
                mutations.append(factory.make(.update, .household, entity: ids[29], fields: [FieldWrite(field: "phone", value: .string(phone))]))
            }
            #expect(try await session.push(visitor, mutations).status == .ok)
            // Another district's households are not counted for this one.
            let otherFactory = MutationFactory(device: other.id, clock: server.clock)
            let elsewhere = otherFactory.make(
                .create, .household, entity: EntityID.random(),
                fields: Sample.household(nationalID: Sample.nationalID(260), district: Self.districtB))
            #expect(try await session.push(other, [elsewhere]).status == .ok)

            let first = try await session.call(.get, "/v1/pull?limit=10&estimate=true", token: visitor.token).json(PullPage.self)
            #expect(first.households.count == 10 && first.remaining == 20, "\(String(describing: first.remaining))")
            let plain = try await session.call(.get, "/v1/pull?limit=10", token: visitor.token)
            #expect(!String(buffer: plain.body).contains("remaining"), "not counted unless asked")
            let asked = try await session.call(.get, "/v1/pull?limit=10&estimate=false", token: visitor.token).json(PullPage.self)
            #expect(asked.remaining == nil)
            var cursor = first.nextCursor
            var last = first
            while last.hasMore {
                last = try await session.call(.get, "/v1/pull?limit=10&estimate=true&cursor=\(cursor)", token: visitor.token).json(PullPage.self)
                cursor = last.nextCursor
            }
            #expect(last.remaining == 0, "nothing remains after the last page")
            let refused = try await session.call(.get, "/v1/pull?limit=10&estimate=yes", token: visitor.token)
            #expect(refused.status == .unprocessableContent)
            let error = try refused.json(ErrorBody.self).error
            #expect(error.code == .invalidValue && error.details?.field == "estimate")
        }
    }

    /// §6.3: a visitor who re-verified a conflicted fact at the door may settle it (a write whose
    /// base names every head); the household's history marks the write, so the office sees it, and
    /// the dashboard says it was settled in the field.
    @Test func aVisitorsCorrectionAtTheDoor_settlesAConflict_visiblyToTheOffice() async throws {
        let server = TestServer()
        try await server.test { session in
            let a = try await session.enroll(district: Self.districtA, role: .visitor)
            let b = try await session.enroll(district: Self.districtA, role: .visitor)
            let fa = MutationFactory(device: a.id, clock: server.clock), fb = MutationFactory(device: b.id, clock: server.clock)
            let household = EntityID.random()
            let create = fa.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(31)))
            #expect(try await session.push(a, [create]).status == .ok)
            let base = [create.writeID]
            server.clock.advance(1000)
            _ = try await session.push(
                a, [fa.make(.update, .household, entity: household, fields: [FieldWrite(field: "address", value: "甲街 1 号", base: base)])])
            server.clock.advance(1000)
            let second = fb.make(.update, .household, entity: household, fields: [FieldWrite(field: "address", value: "乙街 2 号", base: base)])
            let conflicted = try await session.push(b, [second]).json(PushReceipt.self)
            #expect(conflicted.results[0].outcome == .conflict)
            let heads = try await session.call(.get, "/v1/households/\(household)", token: session.adminToken).json(HouseholdAggregate.self)
                .household.heads("address").map(\.write)
            #expect(heads.count == 2)
            server.clock.advance(1000)
            let settle = fb.make(.update, .household, entity: household, fields: [FieldWrite(field: "address", value: "乙街 2 号", base: heads)])
            let settled = try await session.push(b, [settle]).json(PushReceipt.self)
            #expect(settled.results[0].outcome == .applied)
            let history = try await session.history(of: household, token: session.adminToken).filter { $0.field == "address" }
            #expect(history.map(\.settledConflict) == [nil, nil, nil, true], "creation, two edits, the settling write: \(history)")
            #expect(history.last?.device == b.id)

            try await DashboardTests.account(session, "wang")
            let browser = Browser(session)
            _ = try await browser.signIn("wang", DashboardTests.password)
            let page = try await browser.get("/dashboard/households/\(household)")
            #expect(page.text.contains("走访人员现场核实后解决了冲突"))
        }
    }
}
