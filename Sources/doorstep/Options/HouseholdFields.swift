import ArgumentParser
import DoorstepCore

/// A flag for every household fact (`household new`, `household edit`).
struct HouseholdFields: ParsableArguments {
    @Option(help: "Head of household's name (户主姓名).")
    var name: String?

    @Option(name: .customLong("national-id"), help: "Head's 18-character national ID number (身份证号); the check digit is verified.")
    var nationalId: String?

    @Option(help: "Phone number (联系电话).")
    var phone: String?

    @Option(help: "Address (住址).")
    var address: String?

    @Option(help: "District code (旗区), e.g. 150602 (default: this device's district).")
    var district: String?

    @Option(help: "Employer (工作单位).")
    var employer: String?

    @Option(name: .customLong("employer-union"), help: "The employer's grassroots union (单位工会).")
    var employerUnion: String?

    @Option(name: .customLong("file-level"), help: "File level (档案级别): national, regional, city.")
    var fileLevel: String?

    @Option(help: "Primary cause (主要致困原因): illness, disability, childEducation, unemployment, socialInsurance, lowIncome, disaster, epidemic, other.")
    var cause: String?

    @Option(name: .customLong("other-causes"), help: "Other causes, comma-separated (其他致困原因).")
    var otherCauses: String?

    @Option(help: "Difficulty (困难程度): general, deep.")
    var difficulty: String?

    @Option(help: "Skill level (技能水平): none, primary, intermediate, advanced.")
    var skill: String?

    @Option(name: .customLong("income-fen"), help: "Monthly household income in fen (家庭月收入，分).")
    var incomeFen: String?

    @Option(name: .customLong("income-yuan"), help: "Monthly household income in yuan, e.g. 1200.50 (instead of --income-fen).")
    var incomeYuan: String?

    @Option(help: "Affected by the epidemic (受疫情影响): yes or no.")
    var epidemic: String?

    @Option(help: "Notes (备注).")
    var notes: String?

    @Flag(name: .customLong("interactive"), help: .hidden)
    var interactive = false

    func validate() throws {
        if incomeFen != nil && incomeYuan != nil {
            throw Usage.error("收入只能给一次：--income-fen 或 --income-yuan", "give the income once: --income-fen or --income-yuan")
        }
    }

    /// The flags given, as (field, text, money unit).
    var given: [(field: String, text: String, unit: TypedInput.MoneyUnit)] {
        let flags: [(String, String?, TypedInput.MoneyUnit)] = [
            ("headName", name, .yuan), ("nationalId", nationalId, .yuan), ("phone", phone, .yuan), ("address", address, .yuan),
            ("district", district, .yuan), ("employer", employer, .yuan), ("employerUnion", employerUnion, .yuan),
            ("fileLevel", fileLevel, .yuan), ("primaryCause", cause, .yuan), ("otherCauses", otherCauses, .yuan),
            ("difficulty", difficulty, .yuan), ("skillLevel", skill, .yuan), ("monthlyIncomeFen", incomeFen, .fen),
            ("monthlyIncomeFen", incomeYuan, .yuan), ("epidemicAffected", epidemic, .yuan), ("notes", notes, .yuan),
        ]
        return flags.compactMap { field, text, unit in text.map { (field, $0, unit) } }
    }

    /// The flags' values, each checked by its field's rule (the first wrong one throws).
    func values(city: CityData) throws -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for (field, text, unit) in given {
            values[field] = try TypedInput.value(text, field: field, of: .household, city: city, moneyUnit: unit)
        }
        return values
    }
}
