import DoorstepCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DoorstepImport
@testable import DoorstepServer
@testable import DoorstepStorage

/// Import of existing household files through `POST /v1/admin/import`, against a real SQLite file.
@Suite struct ImportTests {
    static let chineseHeader = "户主姓名,身份证号,电话,住址,旗区,工作单位,基层工会,档案级别,主要致困原因,其他致困原因,困难程度,技能水平,家庭月收入（分）,受疫情影响,状态,备注"
    static let englishHeader =
        "headName,nationalId,phone,address,district,employer,employerUnion,fileLevel,primaryCause,otherCauses,difficulty,skillLevel,monthlyIncomeFen,epidemicAffected,status,notes"

    /// A row for the Chinese header: labels instead of wire names, 是/否, causes split by 、.
    static func chineseRow(_ name: String, _ id: String, district: String = "150602", status: String = "") -> String {
        "\(name),\(id),13912345678,\"东胜区 建设街 12 号, 3 单元\",\(district),鄂尔多斯某煤业公司,某煤业公司工会,全国级,因病,失业、收入低,一般困难,无技能,120000,是,\(status),"
    }

    /// A row for the English header, with wire names.
    static func englishRow(_ name: String, _ id: String, district: String = "150602", status: String = "filed") -> String {
        "\(name),\(id),,Jianshe St 12,\(district),,,national,illness,unemployment;lowIncome,general,none,98000,false,\(status),"
    }

    static func csv(_ header: String, _ rows: [String], newline: String = "\r\n") -> String {
        ([header] + rows).joined(separator: newline) + newline
    }

    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    @Test func importsCSVWithBOMAndChineseHeaders() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let body =
                Data(Self.bom)
                + Data(
                    Self.csv(
                        Self.chineseHeader,
                        [
                            Self.chineseRow("王某某", Sample.nationalID(1)), Self.chineseRow("李某", Sample.nationalID(2), status: "待核实"),
                        ]
                    ).utf8)
            let report = try await session.importFile(body, token: office.token)
            #expect(report.status == .ok, "\(report.text)")
            let body2 = try report.json(ImportReport.self)
            #expect(body2.imported == 2 && body2.skipped == 0 && body2.errors.isEmpty && !body2.dryRun)
            let pulled = try await session.pullAll(office).households.values.map(\.household)
            let first = try #require(pulled.first { $0["headName"] == "王某某" })
            #expect(first["status"] == "filed")
            #expect(first["address"] == "东胜区 建设街 12 号, 3 单元")
            #expect(first["otherCauses"] == ["unemployment", "lowIncome"])
            #expect(first["skillLevel"] == "none" && first["fileLevel"] == "national" && first["epidemicAffected"] == true)
            #expect(pulled.first { $0["headName"] == "李某" }?["status"] == "candidate")
        }
    }

    @Test func importsCSVWithoutBOMWithLFAndQuotedLineBreaks() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let text = Self.csv(
                Self.englishHeader,
                [
                    Self.englishRow("\"Zhang \"\"Big\"\" San\"", Sample.nationalID(3)),
                    "Wang Er,\(Sample.nationalID(4)),0477-8581234,\"line one\nline two\",150602,,,city,other,,deep,primary,0,0,,\"a note\"",
                ], newline: "\n")
            let response = try await session.importFile(Data(text.utf8), token: office.token)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.json(ImportReport.self).imported == 2)
            let pulled = try await session.pullAll(office).households.values.map(\.household)
            #expect(pulled.contains { $0["headName"] == "Zhang \"Big\" San" })
            #expect(pulled.first { $0["headName"] == "Wang Er" }?["address"] == "line one\nline two")
        }
    }

    @Test func importsGB18030() async throws {
        let text = Self.csv(Self.chineseHeader, [Self.chineseRow("王某某", Sample.nationalID(5)), Self.chineseRow("阿拉坦·其其格", Sample.nationalID(6))])
        let data = try #require(text.data(using: CSVReader.gb18030))
        #expect(String(data: data, encoding: .utf8) == nil, "GB18030 bytes of Chinese text are not UTF-8")
        #expect(data.starts(with: [0xBB, 0xA7, 0xD6, 0xF7]), "户主 in GB18030")
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let response = try await session.importFile(data, token: office.token)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.json(ImportReport.self).imported == 2)
            let names = try await session.pullAll(office).households.values.compactMap { $0.household["headName"].stringValue }
            #expect(Set(names) == ["王某某", "阿拉坦·其其格"])
        }
    }

    @Test func gb18030DecodesOnThisPlatform() throws {
        let text = "户主姓名,备注\r\n王某某,😀𠀀・€\r\n"
        let data = try #require(text.data(using: CSVReader.gb18030))
        // Four-byte sequences (outside GBK) and a two-byte one, as GB 18030 defines them.
        #expect(Array(data.suffix(16)) == [0x94, 0x39, 0xFC, 0x36, 0x95, 0x32, 0x82, 0x36, 0x81, 0x39, 0xA7, 0x39, 0xA2, 0xE3, 0x0D, 0x0A])
        #expect(try CSVReader.decode(data) == text)
        #expect(try CSVReader.decode(data, charset: "GBK") == text)
        #expect(throws: DoorstepError.self) { try CSVReader.decode(Data([0x81, 0x20, 0xFF]), charset: "utf-8") }
        let utf16 = try #require(("\u{FEFF}" + text).data(using: .utf16LittleEndian))
        #expect(try CSVReader.decode(utf16) == text)
    }

    @Test func csvReaderKeepsLineNumbersAndRejectsAnOpenQuote() throws {
        let records = try CSVReader.parse("a,b\r\n\"x\r\ny\",2\r\n\r\n3,\"\"\"q\"\"\"\n4")
        #expect(records.map(\.line) == [1, 2, 4, 5, 6])
        #expect(records[1].fields == ["x\r\ny", "2"])
        #expect(records[2].isBlank)
        #expect(records[3].fields == ["3", "\"q\""])
        #expect(records[4].fields == ["4"])
        #expect(try CSVReader.parse("a\tb\n1\t2").last?.fields == ["1", "2"])
        let error = try #require(throws: DoorstepError.self) { try CSVReader.parse("a,b\n1,\"open\n2,3\n") }
        #expect(error.code == .malformedInput && error.message.hasPrefix("line 2"))
    }

    @Test func importsJSON() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let rows: [JSONValue] = [
                .object([
                    "headName": "刘某", "nationalId": .string(Sample.nationalID(7).lowercased()), "address": "康巴什 1 号", "district": "150602",
                    "fileLevel": "national", "primaryCause": "因病", "otherCauses": ["epidemic"], "difficulty": "deep", "skillLevel": "none",
                    "monthlyIncomeFen": 50000, "epidemicAffected": true,
                ]),
                .object([
                    "户主姓名": "陈某", "身份证号": .string(Sample.nationalID(8)), "住址": "东胜 2 号", "旗区": "150602", "档案级别": "市级",
                    "主要致困原因": "收入低", "困难程度": "一般困难", "技能水平": "初级", "家庭月收入（分）": "80000", "受疫情影响": "否", "状态": "candidate",
                ]),
            ]
            let response = try await session.importFile(try WireCoding.encode(rows), token: office.token, contentType: "application/json")
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.json(ImportReport.self).imported == 2)
            let pulled = try await session.pullAll(office).households.values.map(\.household)
            #expect(pulled.first { $0["headName"] == "陈某" }?["status"] == "candidate")
            #expect(pulled.first { $0["headName"] == "刘某" }?["status"] == "filed")
            // Sniffed without a content type.
            let again = try await session.importFile(try WireCoding.encode(rows), token: office.token, contentType: nil)
            #expect(try again.json(ImportReport.self).skipped == 2)
        }
    }

    @Test func amountsAreReadInTheirColumnsUnit_yuanUnlessTheHeaderOrTheCellSaysFen() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            func row(_ n: Int, _ key: String, _ income: JSONValue) -> JSONValue {
                .object(
                    [
                        "户主姓名": .string("收入\(n)"), "身份证号": .string(Sample.nationalID(80 + n)), "住址": .string("东胜 \(n) 号"), "旗区": "150602",
                        "档案级别": "市级", "主要致困原因": "收入低", "困难程度": "一般困难", "技能水平": "初级", "受疫情影响": "否",
                    ].merging([key: income]) { $1 })
            }
            let rows: [JSONValue] = [
                row(1, "家庭月收入", 2600), row(2, "家庭月收入", "2,600元"), row(3, "家庭月收入（元）", "２６００"),
                row(4, "家庭月收入（分）", 260_000), row(5, "monthlyIncomeFen", 260_000), row(6, "monthlyIncomeFen", "2600元"), row(7, "家庭月收入", "1.5万"),
            ]
            let response = try await session.importFile(try WireCoding.encode(rows), token: office.token, contentType: "application/json")
            #expect(response.status == .ok, "\(response.text)")
            let pulled = try await session.pullAll(office).households.values.map(\.household)
            for n in 1...6 { #expect(pulled.first { $0["headName"] == .string("收入\(n)") }?["monthlyIncomeFen"] == .int(260_000), "row \(n)") }
            #expect(pulled.first { $0["headName"] == "收入7" }?["monthlyIncomeFen"] == .int(1_500_000))
            // A CSV cell that is no amount names the field, and does not repeat a name typed into it.
            let csv = Data(
                Self.csv(
                    "户主姓名,身份证号,住址,旗区,档案级别,主要致困原因,困难程度,技能水平,家庭月收入,受疫情影响",
                    ["赵某,\(Sample.nationalID(90)),东胜 9 号,150602,市级,收入低,一般困难,初级,钱某某,否"]
                ).utf8)
            let refused = try await session.importFile(csv, token: office.token)
            let issue = try #require(try refused.json(ImportReport.self).errors.first)
            #expect(issue.field == "monthlyIncomeFen" && issue.code == .invalidValue && issue.messageZh?.contains("家庭月收入") == true)
            #expect(!refused.text.contains("钱某某"))
        }
    }

    @Test func aBadRowRefusesTheWholeFile() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            var bad = Sample.nationalID(10)
            bad = String(bad.dropLast()) + (bad.last == "1" ? "2" : "1")
            let body = Data(Self.csv(Self.chineseHeader, [Self.chineseRow("甲", Sample.nationalID(9)), Self.chineseRow("乙", bad)]).utf8)
            let before = try await server.dumpDomainTables()
            let response = try await session.importFile(body, token: office.token)
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "invalidValue")
            let report = try response.json(ImportReport.self)
            #expect(report.imported == 0)
            #expect(report.errors.map { "\($0.line) \($0.field ?? "-") \($0.code)" } == ["3 nationalId invalidNationalId"])
            #expect(report.errors.first?.messageZh == "身份证号校验位不对，请核对是否输错")
            #expect(!response.text.contains(bad))
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    /// The rows are written while the file is read: a file that breaks after its first rows were
    /// written (a quote never closed, text after a JSON array, an entry that is no household)
    /// commits none of them.
    @Test func aFileThatBreaksAfterItsFirstRows_writesNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let rows = (20..<60).map { Self.chineseRow("户\($0)", Sample.nationalID($0)) }
            let before = try await server.dumpDomainTables()
            let open = try await session.importFile(Data((Self.csv(Self.chineseHeader, rows) + "甲,\"东胜区\n").utf8), token: office.token)
            #expect(open.status == .badRequest && open.errorCode == "malformedInput", "\(open.text)")
            #expect(open.text.contains("line 42"))
            let entries = (20..<60).map { n -> JSONValue in
                .object([
                    "户主姓名": .string("户\(n)"), "身份证号": .string(Sample.nationalID(n)), "住址": "东胜 2 号", "旗区": "150602", "档案级别": "市级",
                    "主要致困原因": "收入低", "困难程度": "一般困难", "技能水平": "初级", "家庭月收入": "2600元", "受疫情影响": "否",
                ])
            }
            let array = String(decoding: try WireCoding.encode(entries), as: UTF8.self)
            for broken in [array + " x", String(array.dropLast()) + ",7]", String(array.dropLast()) + ",{\"户主姓名\":1.5}]"] {
                let response = try await session.importFile(Data(broken.utf8), token: office.token, contentType: "application/json")
                #expect(response.status == .badRequest && response.errorCode == "malformedInput", "\(response.text)")
            }
            #expect(try await server.dumpDomainTables() == before)
            // The same rows, whole, are imported.
            let whole = try await session.importFile(Data(array.utf8), token: office.token, contentType: "application/json")
            #expect(try whole.json(ImportReport.self).imported == 40, "\(whole.text)")
        }
    }

    @Test func checkIsADryRun() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let good = Data(Self.csv(Self.englishHeader, [Self.englishRow("A", Sample.nationalID(11)), Self.englishRow("B", Sample.nationalID(12))]).utf8)
            let before = try await server.dumpDomainTables()
            let response = try await session.importFile(good, token: office.token, query: "?check=true")
            #expect(response.status == .ok)
            let report = try response.json(ImportReport.self)
            #expect(report.dryRun && report.imported == 2 && report.errors.isEmpty)
            let bad = Data(Self.csv(Self.englishHeader, [Self.englishRow("", Sample.nationalID(13)), Self.englishRow("D", "123", district: "999999")]).utf8)
            let checked = try await session.importFile(bad, token: office.token, query: "?check=true")
            #expect(checked.status == .ok)
            let problems = try checked.json(ImportReport.self).errors.map { "\($0.line) \($0.field ?? "-") \($0.code)" }
            #expect(problems == ["2 headName missingField", "3 district unknownDistrict", "3 nationalId invalidNationalId"])
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    @Test func acceptValidImportsOnlyTheValidRows() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let body = Data(
                Self.csv(
                    Self.englishHeader,
                    [
                        Self.englishRow("Good", Sample.nationalID(14)),
                        Self.englishRow("BadPhone", Sample.nationalID(15)).replacingOccurrences(of: ",,Jianshe", with: ",12345,Jianshe"),
                        Self.englishRow("Closed", Sample.nationalID(16), status: "closed"),
                        Self.englishRow("Good2", Sample.nationalID(17)),
                    ]
                ).utf8)
            let refused = try await session.importFile(body, token: office.token)
            #expect(refused.status == .unprocessableContent)
            let response = try await session.importFile(body, token: office.token, query: "?acceptValid=true")
            #expect(response.status == .ok, "\(response.text)")
            let report = try response.json(ImportReport.self)
            #expect(report.imported == 2)
            #expect(report.errors.map { "\($0.line) \($0.field ?? "-") \($0.code)" } == ["3 phone invalidPhone", "4 status forbiddenForRole"])
            let names = try await session.pullAll(office).households.values.compactMap { $0.household["headName"].stringValue }
            #expect(Set(names) == ["Good", "Good2"])
            // The rejected row left no trace in the review queue.
            #expect(!(try await server.dumpDomainTables().contains("forbiddenForRole")))
        }
    }

    /// A file of several chunks (PostgreSQL imports 200 rows per snapshot) with a refused row in
    /// its second: the other rows are imported, the refused one leaves no trace, and the file
    /// imported again skips every row on file.
    @Test func aLongFileWithARefusedRow_importsTheOthers_andAgainSkipsThem() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let rows = (0..<450).map { n in
                n == 301 ? Self.englishRow("Closed", Sample.nationalID(n), status: "closed") : Self.englishRow("户\(n)", Sample.nationalID(n))
            }
            let body = Data(Self.csv(Self.englishHeader, rows).utf8)
            let response = try await session.importFile(body, token: office.token, query: "?acceptValid=true")
            #expect(response.status == .ok, "\(response.text)")
            let report = try response.json(ImportReport.self)
            #expect(report.imported == 449 && report.skipped == 0)
            #expect(report.errors.map { "\($0.line) \($0.field ?? "-") \($0.code)" } == ["303 status forbiddenForRole"])
            #expect(!(try await server.dumpDomainTables().contains("forbiddenForRole")))
            let names = try await session.pullAll(office).households.values.compactMap { $0.household["headName"].stringValue }
            #expect(names.count == 449 && !names.contains("Closed"))
            let again = try await session.importFile(body, token: office.token, query: "?acceptValid=true")
            let second = try again.json(ImportReport.self)
            #expect(second.imported == 0 && second.skipped == 449 && second.errors.count == 1)
        }
    }

    @Test func reimportSkipsEverythingAndChangesNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let body = Data(Self.bom) + Data(Self.csv(Self.chineseHeader, (20..<25).map { Self.chineseRow("户\($0)", Sample.nationalID($0)) }).utf8)
            #expect(try await session.importFile(body, token: office.token).json(ImportReport.self).imported == 5)
            let before = try await server.dumpDomainTables()
            let again = try await session.importFile(body, token: office.token)
            #expect(again.status == .ok)
            let report = try again.json(ImportReport.self)
            #expect(report.imported == 0 && report.skipped == 5 && report.errors.isEmpty)
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    @Test func anOfficeImportsItsOwnDistrictOnly() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let body = Data(
                Self.csv(
                    Self.englishHeader,
                    [
                        Self.englishRow("Here", Sample.nationalID(30)), Self.englishRow("There", Sample.nationalID(31), district: "150603"),
                    ]
                ).utf8)
            let response = try await session.importFile(body, token: office.token)
            #expect(response.status == .unprocessableContent)
            let errors = try response.json(ImportReport.self).errors
            #expect(errors.map { "\($0.line) \($0.field ?? "-") \($0.code)" } == ["3 district outOfScope"])
            // The city imports both.
            let city = try await session.importFile(body, token: session.adminToken)
            #expect(try city.json(ImportReport.self).imported == 2)
        }
    }

    @Test func duplicatesInsideTheFileAndMissingColumnsAreErrors() async throws {
        try await TestServer().test { session in
            let office = try await session.enroll(district: "150602", role: .office)
            let id = Sample.nationalID(40)
            let twice = Data(
                Self.csv(Self.englishHeader, [Self.englishRow("A", id), Self.englishRow("B", Sample.nationalID(41)), Self.englishRow("C", id.lowercased())])
                    .utf8)
            let response = try await session.importFile(twice, token: office.token, query: "?acceptValid=true")
            let report = try response.json(ImportReport.self)
            // The first of the rows that share a national ID is imported, the repeat reported.
            #expect(report.imported == 2)
            #expect(report.errors.map { "\($0.line) \($0.field ?? "-") \($0.code)" } == ["4 nationalId duplicateInFile"])
            #expect(report.errors.first?.message.contains("line 2") == true && report.errors.first?.messageZh?.contains("第 2 行") == true)
            let noColumn = Data("headName,nationalId,extra\nA,\(Sample.nationalID(42)),x\n".utf8)
            let missing = try await session.importFile(noColumn, token: office.token)
            #expect(missing.status == .unprocessableContent)
            let issues = try missing.json(ImportReport.self).errors
            #expect(issues.contains { $0.line == 1 && $0.field == "extra" && $0.code == .unknownField })
            #expect(issues.contains { $0.line == 1 && $0.field == "address" && $0.code == .missingField })
        }
    }

    @Test func aVisitorCannotImport() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let before = try await server.dumpDomainTables()
            let body = Data(Self.csv(Self.englishHeader, [Self.englishRow("A", Sample.nationalID(50))]).utf8)
            let response = try await session.importFile(body, token: visitor.token)
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "forbiddenForRole")
            #expect(try await server.dumpDomainTables() == before)
        }
    }

    @Test func importedHouseholdsReachAVisitorsPull() async throws {
        try await TestServer().test { session in
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let elsewhere = try await session.enroll(district: "150603", role: .visitor)
            let start = try await session.pullAll(visitor)
            #expect(start.households.isEmpty)
            let office = try await session.enroll(district: "150602", role: .office)
            let body = Data(Self.csv(Self.englishHeader, [Self.englishRow("A", Sample.nationalID(60)), Self.englishRow("B", Sample.nationalID(61))]).utf8)
            #expect(try await session.importFile(body, token: office.token).json(ImportReport.self).imported == 2)
            let pulled = try await session.pullAll(visitor, cursor: start.cursor)
            #expect(Set(pulled.households.values.compactMap { $0.household["headName"].stringValue }) == ["A", "B"])
            #expect(pulled.households.values.allSatisfy { $0.household["status"] == "filed" })
            #expect(try await session.pullAll(elsewhere).households.isEmpty)
        }
    }
}

extension Session {
    /// Posts a file to the import route with its own content type (`call` always sends JSON).
    func importFile(_ data: Data, token: String, query: String = "", contentType: String? = "text/csv") async throws -> TestResponse {
        try await postImportFile("/v1/admin/import\(query)", data, token: token, contentType: contentType)
    }

    /// Posts raw bytes with a content type of the caller's choice.
    func postImportFile(_ uri: String, _ data: Data, token: String, contentType: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if let name = HTTPField.Name("Doorstep-Protocol") { headers[name] = "1" }
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: data))
    }
}
