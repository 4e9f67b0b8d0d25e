import DoorstepCore
import Foundation

/// Households and typed forms for the field app's tests.
enum Samples {
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        let body = region + "19850701" + String(100 + n % 900)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    static func household(_ n: Int, name: String = "王某某") -> [String: JSONValue] {
        [
            "headName": .string(name), "nationalId": .string(nationalID(n)), "address": .string("东胜区 建设街 \(n) 号"),
            "fileLevel": "national", "primaryCause": "illness", "difficulty": "general", "skillLevel": "none",
            "monthlyIncomeFen": 120_000,
        ]
    }

    /// A new household's form as a visitor fills it: labels chosen, money typed in yuan with its unit.
    static func formFields(_ n: Int, name: String = "李某某", income: String = "1200元") -> [(String, String)] {
        [
            ("headName", name), ("nationalId", nationalID(n)), ("address", "东胜区 幸福路 \(n) 号"), ("fileLevel", "national"),
            ("primaryCause", "illness"), ("difficulty", "general"), ("skillLevel", "none"), ("monthlyIncomeFen", income),
            ("epidemicAffected", "false"),
        ]
    }
}
