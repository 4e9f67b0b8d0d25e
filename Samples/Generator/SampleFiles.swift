import DoorstepCore
import Foundation

/// Writes the sample files: the import CSV, the full JSON, and the civil-affairs roster.
enum SampleFiles {
    /// The import file's columns: the Chinese headers `doorstep admin import` reads, and the field.
    static let importColumns: [(header: String, field: String)] = [
        ("户主姓名", "headName"), ("身份证号", "nationalId"), ("联系电话", "phone"), ("家庭住址", "address"), ("旗区", "district"),
        ("工作单位", "employer"), ("基层工会", "employerUnion"), ("档案级别", "fileLevel"), ("主要致困原因", "primaryCause"),
        ("其他致困原因", "otherCauses"), ("困难程度", "difficulty"), ("技能水平", "skillLevel"), ("家庭月收入(分)", "monthlyIncomeFen"),
        ("受疫情影响", "epidemicAffected"), ("状态", "status"), ("备注", "notes"),
    ]

    /// `households.csv`: one row per household as an office's spreadsheet has it (Chinese labels
    /// for terms, 是/否, income in fen), UTF-8 with a byte-order mark and CRLF, as Excel saves it.
    static func importCSV(_ households: [SampleHousehold]) -> Data {
        var rows = [importColumns.map(\.header)]
        for household in households {
            rows.append(
                importColumns.map { column in
                    switch column.field {
                    case "headName": household.head.name
                    case "nationalId": household.head.nationalId
                    case "phone": household.phone
                    case "address": household.address
                    case "district": household.district.code
                    case "employer": household.employer ?? ""
                    case "employerUnion": household.employerUnion ?? ""
                    case "fileLevel": household.fileLevel.chineseLabel
                    case "primaryCause": household.primaryCause.chineseLabel
                    case "otherCauses": household.otherCauses.map(\.chineseLabel).joined(separator: "、")
                    case "difficulty": household.difficulty.chineseLabel
                    case "skillLevel": household.skill.chineseLabel
                    case "monthlyIncomeFen": String(household.monthlyIncomeFen)
                    case "epidemicAffected": household.epidemicAffected ? "是" : "否"
                    case "status": HouseholdStatus.filed.chineseLabel
                    case "notes": SampleHousehold.notes
                    default: ""
                    }
                })
        }
        return csv(rows)
    }

    /// `roster.csv`: the civil-affairs roster (民政低保名单) as the bureau sends it: a running
    /// number, name, national ID, district name, people covered and the monthly allowance in yuan.
    static func rosterCSV(_ entries: [RosterEntry]) -> Data {
        var rows = [["序号", "姓名", "身份证号", "旗区", "保障人口", "月低保金(元)"]]
        for (index, entry) in entries.enumerated() {
            rows.append([String(index + 1), entry.name, entry.nationalId, entry.district.name.zh, String(entry.persons), yuan(entry.allowanceFen)])
        }
        return csv(rows)
    }

    /// An amount in yuan with two decimals, as the roster writes it: 32000 fen is "320.00".
    static func yuan(_ fen: Int64) -> String {
        String(fen / 100) + "." + pad(Int(fen % 100), 2)
    }

    static func csv(_ rows: [[String]]) -> Data {
        CSVWriter.document(rows)
    }

    /// `households.json`: everything generated, by the protocol's wire names: each household's
    /// facts (the fields of the import), the status the office is to decide later, its members and
    /// liaisons (which the import file cannot carry), and the differences planted in the roster.
    struct Document: Encodable {
        struct Generator: Encodable {
            var name = "doorstep-sample-data"
            var seed: UInt64
            var householdsPerDistrict: Int
            var districts: [String]
        }

        struct Entry: Encodable {
            var ref: String
            var household: [String: JSONValue]
            /// The status the office is to decide after the import (absent: it stays filed). The
            /// roster is written as if these decisions were made: see `roster.mismatches`.
            var laterStatus: HouseholdStatus?
            var members: [[String: JSONValue]]
            var liaisons: [[String: JSONValue]]
        }

        struct Roster: Encodable {
            var file = "roster.csv"
            var note =
                "These are the differences once the office has decided every laterStatus; before that, the households to exit that the roster does not list are reported as on file, not in roster."
            var rows: Int
            var mismatches: [RosterMismatch]
        }

        var format = "doorstep-sample-households"
        var version = 1
        var synthetic = true
        var notice =
            "合成示例数据：姓名、身份证号、电话、地址、单位均为虚构，非真实人员。Synthetic sample data: every name, ID number, phone, address and employer is made up; none is a real person."
        var generator: Generator
        var households: [Entry]
        var roster: Roster
    }

    static func json(_ document: Document) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(document)
        data.append(0x0A)
        return data
    }
}
