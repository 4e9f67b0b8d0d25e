import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DoorstepImport
@testable import DoorstepServer
@testable import DoorstepStorage

/// The civil-affairs roster comparison (数据比对) through `POST /v1/roster/compare`.
@Suite struct RosterTests {
    /// Imports households of 150602 (and one of 150603) and returns their ids by name.
    static func seed(_ session: Session, office: TestDevice) async throws -> [String: EntityID] {
        let rows = [
            ImportTests.englishRow("王某某", Sample.nationalID(1)),
            ImportTests.englishRow("李某", Sample.nationalID(2)),
            ImportTests.englishRow("阿拉坦·其其格", Sample.nationalID(3)),
            ImportTests.englishRow("张某", Sample.nationalID(4)),
            ImportTests.englishRow("赵某", Sample.nationalID(5)),
            ImportTests.englishRow("周某", Sample.nationalID(6), status: "candidate"),
        ]
        let body = Data(ImportTests.csv(ImportTests.englishHeader, rows).utf8)
        #expect(try await session.importFile(body, token: office.token).json(ImportReport.self).imported == 6)
        let elsewhere = Data(ImportTests.csv(ImportTests.englishHeader, [ImportTests.englishRow("孙某", Sample.nationalID(7), district: "150603")]).utf8)
        #expect(try await session.importFile(elsewhere, token: session.adminToken).json(ImportReport.self).imported == 1)
        var ids: [String: EntityID] = [:]
        for aggregate in try await session.pullAll(office).households.values {
            if let name = aggregate.household["headName"].stringValue { ids[name] = aggregate.household.id }
        }
        // 张某 has left hardship, 赵某 is closed.
        for (name, status) in [("张某", "outOfHardship"), ("赵某", "closed")] {
            let id = try #require(ids[name])
            let response = try await session.call(.post, "/v1/households/\(id)/status", token: office.token, json: ["to": status])
            #expect(response.status == .ok, "\(response.text)")
        }
        return ids
    }

    static let roster = """
        身份证号,姓名,低保金,旗区,备注
        \(Sample.nationalID(1)),王某某,350.00,东胜区,
        \(Sample.nationalID(2)),李某某,350,150602,
        \(Sample.nationalID(3)),阿拉坦 • 其其格,"1,200.5",150602,
        \(Sample.nationalID(4)),张某,420.50,150602,
        \(Sample.nationalID(5)),赵某,,150602,
        \(Sample.nationalID(8)),钱某,300,150602,
        \(Sample.nationalID(9)),吴某,300,150603,
        150602198507011234,坏号,300,150602,
        \(Sample.nationalID(1)),王某某,350,150602,
        \(Sample.nationalID(10)),郑某,三百,150602,

        """

    static func show(_ value: JSONValue) -> String {
        value.stringValue ?? value.intValue.map { String($0) } ?? "\(value)"
    }

    @Test func findsTheThreeKindsOfMismatchAndChangesNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let ids = try await Self.seed(session, office: office)
            let before = try await server.dumpDomainTables()
            let bytes = Data([0xEF, 0xBB, 0xBF]) + Data(Self.roster.replacingOccurrences(of: "\n", with: "\r\n").utf8)
            let response = try await session.postImportFile("/v1/roster/compare", bytes, token: office.token, contentType: "text/csv")
            #expect(response.status == .ok, "\(response.text)")
            let report = try response.json(RosterReport.self)
            #expect(report.rosterRows == 10)
            #expect(report.invalidRows.map(\.line) == [9, 10, 11])
            #expect(report.rowsOutsideScope == 1)
            #expect(report.inRosterNotOnFile.map(\.line) == [7])
            #expect(report.inRosterNotOnFile.first?.nationalIdMasked == "150602********" + Sample.nationalID(8).suffix(4))
            #expect(report.inRosterNotOnFile.first?.allowanceFen == 30000)
            // On file, not in the roster: 周某 (candidate); 张某 and 赵某 are no longer on file; 孙某 is another district.
            #expect(report.onFileNotInRoster.map(\.household) == [ids["周某"]].compactMap { $0 })
            let found = Set(report.disagreements.map { "\($0.line) \($0.field) \(Self.show($0.onFile)) \(Self.show($0.inRoster))" })
            #expect(found == ["3 headName 李某 李某某", "5 status outOfHardship 42050"])
            #expect(report.disagreements.first { $0.field == "status" }?.household == ids["张某"])
            for n in 1...10 { #expect(!response.text.contains(Sample.nationalID(n)), "a full national ID in the answer") }
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    @Test func aClosedHouseholdReceivingAnAllowanceDisagreesAndFenHeadersAreRead() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            _ = try await Self.seed(session, office: office)
            let roster = "nationalId,name,allowance（分）\r\n\(Sample.nationalID(5)),赵某,30000\r\n\(Sample.nationalID(2)),李某,12.5\r\n"
            let response = try await session.postImportFile("/v1/roster/compare", Data(roster.utf8), token: office.token, contentType: "text/csv")
            let report = try response.json(RosterReport.self)
            #expect(report.disagreements.map { "\($0.field) \(Self.show($0.onFile)) \(Self.show($0.inRoster))" } == ["status closed 30000"])
            #expect(report.invalidRows.map(\.line) == [3])
        }
    }

    @Test func gb18030RostersAreRead() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            _ = try await Self.seed(session, office: office)
            let roster = "身份证号,姓名,低保金\r\n\(Sample.nationalID(2)),李四,350\r\n"
            let data = try #require(roster.data(using: CSVReader.gb18030))
            let response = try await session.postImportFile("/v1/roster/compare", data, token: office.token, contentType: nil)
            let report = try response.json(RosterReport.self)
            #expect(report.disagreements.map { "\($0.field) \(Self.show($0.onFile)) \(Self.show($0.inRoster))" } == ["headName 李某 李四"])
        }
    }

    @Test func scopeAndRoles() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let ids = try await Self.seed(session, office: office)
            let data = Data(Self.roster.utf8)
            let denied = try await session.postImportFile("/v1/roster/compare", data, token: visitor.token, contentType: "text/csv")
            #expect(denied.status == .forbidden && denied.errorCode == "forbiddenForRole")
            let other = try await session.postImportFile("/v1/roster/compare?district=150603", data, token: office.token, contentType: "text/csv")
            #expect(other.status == .forbidden && other.errorCode == "outOfScope")
            // The city sees every district: 孙某 of 150603 is on file and not in the roster, and 吴某's row is not outside the scope.
            let city = try await session.postImportFile("/v1/roster/compare", data, token: session.adminToken, contentType: "text/csv")
            let all = try city.json(RosterReport.self)
            #expect(all.onFileNotInRoster.count == 2)
            #expect(all.onFileNotInRoster.contains { $0.household == ids["周某"] })
            #expect(all.onFileNotInRoster.contains { $0.district == "150603" })
            #expect(all.rowsOutsideScope == 0 && all.inRosterNotOnFile.map(\.line) == [7, 8])
            let one = try await session.postImportFile("/v1/roster/compare?district=150603", data, token: session.adminToken, contentType: "text/csv")
            let only = try one.json(RosterReport.self)
            #expect(only.onFileNotInRoster.count == 1 && only.inRosterNotOnFile.map(\.line) == [8])
            let noColumn = try await session.postImportFile("/v1/roster/compare", Data("姓名,低保金\n王某,300\n".utf8), token: office.token, contentType: "text/csv")
            #expect(noColumn.status == .unprocessableContent && noColumn.errorCode == "missingField")
        }
    }
}
