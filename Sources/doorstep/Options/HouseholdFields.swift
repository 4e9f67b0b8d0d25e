import ArgumentParser
import DoorstepCore

/// A flag for every household fact (`household new`, `household edit`).
struct HouseholdFields: ParsableArguments {
    @Option(help: .text("help.householdFields.headOfHouseholdName"))
    var name: String?

    @Option(name: .customLong("national-id"), help: .text("help.householdFields.head18CharacterNationalId"))
    var nationalId: String?

    @Option(help: .text("help.householdFields.phoneNumber"))
    var phone: String?

    @Option(help: .text("help.householdFields.address"))
    var address: String?

    @Option(help: .text("help.householdFields.districtCodeEG150602"))
    var district: String?

    @Option(help: .text("help.householdFields.employer"))
    var employer: String?

    @Option(name: .customLong("employer-union"), help: .text("help.householdFields.theEmployerGrassrootsUnion"))
    var employerUnion: String?

    @Option(name: .customLong("file-level"), help: .text("help.householdFields.fileLevelNationalRegionalCity"))
    var fileLevel: String?

    @Option(help: .text("help.householdFields.primaryCauseIllnessDisabilityChildeducation"))
    var cause: String?

    @Option(name: .customLong("other-causes"), help: .text("help.householdFields.otherCausesCommaSeparated"))
    var otherCauses: String?

    @Option(help: .text("help.householdFields.difficultyGeneralDeep"))
    var difficulty: String?

    @Option(help: .text("help.householdFields.skillLevelNonePrimaryIntermediate"))
    var skill: String?

    @Option(name: .customLong("income-fen"), help: .text("help.householdFields.monthlyHouseholdIncomeInFen"))
    var incomeFen: String?

    @Option(name: .customLong("income-yuan"), help: .text("help.householdFields.monthlyHouseholdIncomeInYuan"))
    var incomeYuan: String?

    @Option(help: .text("help.householdFields.affectedByTheEpidemicYes"))
    var epidemic: String?

    @Option(help: .text("help.householdFields.notes"))
    var notes: String?

    @Flag(name: .customLong("interactive"), help: .hidden)
    var interactive = false

    func validate() throws {
        if incomeFen != nil && incomeYuan != nil {
            throw Usage.error("cli.householdFields.giveTheIncomeOnceIncome")
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
