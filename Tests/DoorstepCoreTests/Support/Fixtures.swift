@testable import DoorstepCore

/// Valid national ID numbers for tests: 17 digits from a seed, then the GB 11643 check character.
enum Fixtures {
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        let serial = String(100 + n % 900)
        let day = 1 + (n / 900) % 28
        let body = region + "1985" + "07" + (day < 10 ? "0\(day)" : "\(day)") + serial
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    static func householdFields(
        nationalID: String, district: String = "150602", status: String = "candidate",
        income: Int64 = 120_000, address: String = "东胜区 建设街 12 号"
    ) -> [FieldWrite] {
        [
            FieldWrite(field: "headName", value: "王某某"),
            FieldWrite(field: "nationalId", value: .string(nationalID)),
            FieldWrite(field: "address", value: .string(address)),
            FieldWrite(field: "district", value: .string(district)),
            FieldWrite(field: "fileLevel", value: "national"),
            FieldWrite(field: "primaryCause", value: "illness"),
            FieldWrite(field: "difficulty", value: "general"),
            FieldWrite(field: "skillLevel", value: "none"),
            FieldWrite(field: "monthlyIncomeFen", value: .int(income)),
            FieldWrite(field: "epidemicAffected", value: false),
            FieldWrite(field: "status", value: .string(status)),
        ]
    }

    static func memberFields(name: String = "李某") -> [FieldWrite] {
        [
            FieldWrite(field: "name", value: .string(name)),
            FieldWrite(field: "relation", value: "spouse"),
            FieldWrite(field: "health", value: "healthy"),
            FieldWrite(field: "employment", value: "unemployed"),
        ]
    }

    static func visitFields(visitor: String = "走访员甲", day: Int = 12) -> [FieldWrite] {
        [
            FieldWrite(field: "visitedAt", value: .string("2020-04-\(day < 10 ? "0\(day)" : "\(day)")T10:30:00+08:00")),
            FieldWrite(field: "visitor", value: .string(visitor)),
            FieldWrite(field: "mode", value: "atHome"),
            FieldWrite(field: "verified", value: ["income", "cause"]),
            FieldWrite(field: "conclusion", value: "eligible"),
        ]
    }
}
