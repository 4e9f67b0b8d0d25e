import ArgumentParser
import DoorstepCore
import Foundation

@main
struct SampleDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doorstep-sample-data",
        abstract: "Generate synthetic households and a civil-affairs roster for trying Doorstep (sample data, not real people).",
        discussion: """
            Writes three files to --out:
              households.csv   the households in the import format (UTF-8 with
                               BOM, Chinese headers, all 在档 filed):
                               doorstep admin import households.csv
              households.json  every household by wire name, with members,
                               liaisons, the status the office is to decide
                               later (laterStatus), and the roster's planted
                               differences
              roster.csv       a civil-affairs roster (民政低保名单) that differs
                               on purpose: a few people missing, a few extra,
                               a few names spelled differently, a few
                               allowances paid after the household exited:
                               doorstep roster compare roster.csv

            The same seed makes the same files, and a district's households do not depend on \
            which other districts are generated with it. Names are marked 示例 (example); IDs \
            have valid GB 11643 check digits; incomes lie around each district's minimum-living \
            standard (sample values in the city data). Samples/data/README.md says more.

            Examples:
              doorstep-sample-data --households-per-district 20 --out /tmp/s
              doorstep-sample-data --seed 7 --districts 150602,150603 \\
                --households-per-district 200 --out /tmp/big
            """
    )

    @Option(help: "The random seed: the same seed makes the same files.")
    var seed: UInt64 = 2020

    @Option(name: .customLong("households-per-district"), help: "Households to make in each district.")
    var householdsPerDistrict = 20

    @Option(help: ArgumentHelp("The districts, comma-separated codes (default: every district of the city data).", valueName: "codes"))
    var districts: String?

    @Option(help: ArgumentHelp("A city data JSON file in the format of Samples/data/ordos.json (default: the Ordos data compiled in).", valueName: "file"))
    var city: String?

    @Option(help: ArgumentHelp("The folder to write the files to (created if missing; the three files are replaced).", valueName: "dir"))
    var out: String

    func validate() throws {
        guard (1...10_000).contains(householdsPerDistrict) else {
            throw ValidationError("--households-per-district takes a number from 1 to 10000")
        }
    }

    func run() throws {
        let cityData = try loadCity()
        let selected = try selectedDistricts(of: cityData)
        var generator = SyntheticCity(city: cityData, seed: seed, householdsPerDistrict: householdsPerDistrict)
        var households: [SampleHousehold] = []
        var roster: [RosterEntry] = []
        var mismatches: [RosterMismatch] = []
        for district in selected {
            let made = generator.households(of: district)
            let (entries, planted) = generator.roster(of: district, households: made)
            households += made
            roster += entries
            mismatches += planted
        }
        try check(households, city: cityData)

        let folder = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let document = SampleFiles.Document(
            generator: .init(seed: seed, householdsPerDistrict: householdsPerDistrict, districts: selected.map(\.code)),
            households: households.map {
                .init(
                    ref: $0.ref, household: $0.fields, laterStatus: $0.status == .filed ? nil : $0.status, members: $0.members.map(\.fields),
                    liaisons: $0.liaisons.map(\.fields))
            },
            roster: .init(rows: roster.count, mismatches: mismatches)
        )
        try SampleFiles.importCSV(households).write(to: folder.appendingPathComponent("households.csv"))
        try SampleFiles.json(document).write(to: folder.appendingPathComponent("households.json"))
        try SampleFiles.rosterCSV(roster).write(to: folder.appendingPathComponent("roster.csv"))

        let members = households.reduce(0) { $0 + $1.members.count }
        let counts = Dictionary(grouping: mismatches) { $0.kind + ($0.field.map { ":" + $0 } ?? "") }.mapValues(\.count)
        print("合成示例数据 synthetic sample data (seed \(seed)) → \(folder.path)")
        print("  \(households.count) households in \(selected.count) district(s) (\(selected.map(\.code).joined(separator: ","))), \(members) members")
        print("  households.csv (import format), households.json (with members and liaisons), roster.csv (\(roster.count) rows)")
        print(
            "  roster differences planted: \(counts["onFileNotInRoster"] ?? 0) missing, \(counts["inRosterNotOnFile"] ?? 0) extra, "
                + "\(counts["disagreement:headName"] ?? 0) names differ, \(counts["disagreement:status"] ?? 0) allowances after exit")
    }

    func loadCity() throws -> CityData {
        guard let city else { return CityData.ordos }
        guard let data = FileManager.default.contents(atPath: city) else {
            throw ValidationError("cannot read the city data file \(city)")
        }
        return try CityData.decode(data)
    }

    func selectedDistricts(of city: CityData) throws -> [District] {
        guard let districts else { return city.districts }
        let codes = districts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !codes.isEmpty else { throw ValidationError("--districts takes comma-separated district codes, such as 150602,150603") }
        var seen = Set<String>()
        return try codes.filter { seen.insert($0).inserted }.map { code in
            guard let district = city.district(code) else {
                throw ValidationError("\(code) is not a district of \(city.city.name.en): \(city.districts.map(\.code).joined(separator: ", "))")
            }
            return district
        }
    }

    /// Every generated value passes the same field rules as the server's (a bug here is caught
    /// before a sample file is written, not at import).
    func check(_ households: [SampleHousehold], city: CityData) throws {
        func validate(_ fields: [String: JSONValue], _ kind: EntityKind, _ ref: String) throws {
            for spec in kind.fields {
                do {
                    _ = try spec.normalize(fields[spec.name] ?? .null, city: city)
                } catch {
                    throw GeneratorBug("generated \(kind.rawValue) of \(ref) fails \(spec.name): \(error.message)")
                }
            }
        }
        for household in households {
            try validate(household.fields, .household, household.ref)
            for member in household.members { try validate(member.fields, .member, household.ref) }
            for liaison in household.liaisons { try validate(liaison.fields, .liaison, household.ref) }
        }
    }
}

/// A generated value that the field rules refuse: a bug in the generator.
struct GeneratorBug: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
