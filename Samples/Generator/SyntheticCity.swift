import DoorstepCore

/// A person of the sample data: a fictitious name and a national ID with a valid check digit.
struct SamplePerson {
    var name: String
    var nationalId: String
    var birth: (year: Int, month: Int, day: Int)
    var male: Bool

    var birthDate: String {
        String(birth.year) + "-" + pad(birth.month, 2) + "-" + pad(birth.day, 2)
    }

    /// Age on 2020-04-02, the campaign's first day.
    var ageIn2020: Int {
        2020 - birth.year - ((birth.month, birth.day) > (4, 2) ? 1 : 0)
    }
}

struct SampleMember {
    var person: SamplePerson
    var relation: MemberRelation
    var health: HealthCondition
    var employment: EmploymentSituation
    var skills: String?

    var fields: [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "name": .string(person.name), "relation": .string(relation.rawValue), "nationalId": .string(person.nationalId),
            "birthDate": .string(person.birthDate), "health": .string(health.rawValue), "employment": .string(employment.rawValue),
        ]
        if let skills { fields["skills"] = .string(skills) }
        return fields
    }
}

struct SampleLiaison {
    var name: String
    var level: LiaisonLevel
    var organization: String
    var phone: String

    var fields: [String: JSONValue] {
        ["name": .string(name), "level": .string(level.rawValue), "organization": .string(organization), "phone": .string(phone)]
    }
}

/// One synthetic household file.
struct SampleHousehold {
    /// A reference for people reading the files: district and number, e.g. 150602-007.
    var ref: String
    var district: District
    var head: SamplePerson
    var phone: String
    var address: String
    var employer: String?
    var fileLevel: FileLevel
    var primaryCause: HardshipCause
    var otherCauses: [HardshipCause]
    var difficulty: DifficultyDegree
    var skill: SkillLevel
    var monthlyIncomeFen: Int64
    var epidemicAffected: Bool
    /// The status the sample means the household to have once the office has decided on it
    /// (after the visits): filed for most; out of hardship, in the safety net or closed for a few.
    /// Every household is imported as filed, as a new file must be.
    var status: HouseholdStatus
    var members: [SampleMember]
    var liaisons: [SampleLiaison]

    static let notes = "合成示例数据，非真实人员 (synthetic sample data, not a real person)"

    var employerUnion: String? { employer.map { $0 + "工会" } }
    var persons: Int { 1 + members.count }

    /// The household's facts by wire name (the protocol's fields, as `doorstep admin import` takes
    /// them), with the status it is imported with: filed.
    var fields: [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "headName": .string(head.name), "nationalId": .string(head.nationalId), "phone": .string(phone),
            "address": .string(address), "district": .string(district.code), "fileLevel": .string(fileLevel.rawValue),
            "primaryCause": .string(primaryCause.rawValue), "otherCauses": .array(otherCauses.map { .string($0.rawValue) }),
            "difficulty": .string(difficulty.rawValue), "skillLevel": .string(skill.rawValue),
            "monthlyIncomeFen": .int(monthlyIncomeFen), "epidemicAffected": .bool(epidemicAffected),
            "status": .string(HouseholdStatus.filed.rawValue), "notes": .string(Self.notes),
        ]
        if let employer, let employerUnion {
            fields["employer"] = .string(employer)
            fields["employerUnion"] = .string(employerUnion)
        }
        return fields
    }
}

/// A row of the civil-affairs roster (民政低保名单).
struct RosterEntry {
    var district: District
    var name: String
    var nationalId: String
    var persons: Int
    var allowanceFen: Int64
}

/// A difference planted in the roster on purpose, as `doorstep roster compare` should list it.
struct RosterMismatch: Encodable {
    /// `onFileNotInRoster`, `inRosterNotOnFile` or `disagreement`.
    var kind: String
    /// For a disagreement: `headName` or `status` (an allowance paid after the household exited).
    var field: String?
    var district: String
    /// The household's `ref`, when it is on file.
    var ref: String?
    var nationalId: String
    var onFile: String?
    var inRoster: String?
}

/// Makes the households of a city's districts and the civil-affairs roster that goes with them.
struct SyntheticCity {
    let city: CityData
    let seed: UInt64
    let householdsPerDistrict: Int

    /// National IDs given so far (heads, members, roster-only people): each is used once.
    private var usedIDs = Set<String>()

    init(city: CityData, seed: UInt64, householdsPerDistrict: Int) {
        self.city = city
        self.seed = seed
        self.householdsPerDistrict = householdsPerDistrict
    }

    // MARK: Households

    mutating func households(of district: District) -> [SampleHousehold] {
        var random = SeededGenerator(seed: seed, stream: "households:" + district.code)
        let count = householdsPerDistrict
        let causes = HardshipCause.allCases
        // Primary causes in turn from a random start, so that every cause is represented.
        let offset = random.int(0...(causes.count - 1))
        let primary = (0..<count).map { causes[($0 + offset) % causes.count] }
        let statuses = Self.statuses(count: count, primary: primary, random: &random)
        let staff = (0..<4).map { _ in Self.name(random: &random, mongolianPercent: 10) }
        var result: [SampleHousehold] = []
        for index in 0..<count {
            result.append(household(index, district: district, primary: primary[index], status: statuses[index], staff: staff, random: &random))
        }
        return result
    }

    /// Statuses for a district: mostly filed; some in the safety net (ill or disabled first),
    /// some out of hardship, a few closed. Small districts are all filed.
    static func statuses(count: Int, primary: [HardshipCause], random: inout SeededGenerator) -> [HouseholdStatus] {
        var statuses = Array(repeating: HouseholdStatus.filed, count: count)
        let safetyNet = count >= 6 ? max(1, count / 12) : 0
        let exited = count >= 4 ? max(1, count / 10) : 0
        let closed = count >= 8 ? max(1, count / 20) : 0
        let order = random.shuffled(Array(0..<count))
        let frail = order.filter { [.illness, .disability].contains(primary[$0]) }
        var free = order
        for index in (frail + order).prefix(count) where statuses.filter({ $0 == .safetyNet }).count < safetyNet {
            statuses[index] = .safetyNet
            free.removeAll { $0 == index }
        }
        for index in free.prefix(exited) { statuses[index] = .outOfHardship }
        for index in free.dropFirst(exited).prefix(closed) { statuses[index] = .closed }
        return statuses
    }

    private mutating func household(
        _ index: Int, district: District, primary: HardshipCause, status: HouseholdStatus,
        staff: [String], random: inout SeededGenerator
    ) -> SampleHousehold {
        let male = random.chance(percent: 55)
        let surname = random.pick(SyntheticNames.surnames)
        let mongolian = random.chance(percent: 10)
        let headName =
            mongolian
            ? SyntheticNames.mongolian(random.pick(SyntheticNames.mongolianNames), marker: random.pick(SyntheticNames.markers))
            : SyntheticNames.han(surname: surname, marker: random.pick(SyntheticNames.markers))
        let headBirth = Self.birthDate(years: 1960...1990, random: &random)
        let head = SamplePerson(
            name: headName, nationalId: nationalID(district: district, birth: headBirth, male: male, random: &random),
            birth: headBirth, male: male)

        // Members: a spouse most of the time, then children, then parents.
        let persons = random.weighted([(1, 10), (2, 20), (3, 35), (4, 25), (5, 10)])
        var members: [SampleMember] = []
        if persons >= 2 && random.chance(percent: 85) {
            let birth = Self.birthDate(years: (headBirth.year - 4)...(headBirth.year + 4), random: &random)
            let spouseName =
                mongolian
                ? SyntheticNames.mongolian(random.pick(SyntheticNames.mongolianNames), marker: random.pick(SyntheticNames.markers))
                : SyntheticNames.han(surname: random.pick(SyntheticNames.surnames), marker: random.pick(SyntheticNames.markers))
            let spouse = SamplePerson(
                name: spouseName, nationalId: nationalID(district: district, birth: birth, male: !male, random: &random),
                birth: birth, male: !male)
            members.append(member(spouse, relation: .spouse, random: &random))
        }
        var parents = 0
        var nextChildYear = headBirth.year + 22
        while 1 + members.count < persons {
            let children = members.filter { $0.relation == .child }.count
            if nextChildYear <= 2019 && children < 3 {
                // Children at least two years apart, born by 2019.
                let birth = Self.birthDate(years: nextChildYear...max(nextChildYear, min(2019, headBirth.year + 36)), random: &random)
                nextChildYear = birth.year + 2
                let childMale = random.chance(percent: 50)
                let name =
                    mongolian
                    ? SyntheticNames.mongolian(random.pick(SyntheticNames.mongolianNames), marker: random.pick(SyntheticNames.markers))
                    : SyntheticNames.han(surname: surname, marker: random.pick(SyntheticNames.markers))
                let child = SamplePerson(
                    name: name, nationalId: nationalID(district: district, birth: birth, male: childMale, random: &random),
                    birth: birth, male: childMale)
                members.append(member(child, relation: .child, random: &random))
            } else if parents < 2 {
                parents += 1
                let birth = Self.birthDate(years: (headBirth.year - 32)...(headBirth.year - 22), random: &random)
                let parentMale = parents == 1
                let name =
                    mongolian
                    ? SyntheticNames.mongolian(random.pick(SyntheticNames.mongolianNames), marker: random.pick(SyntheticNames.markers))
                    : SyntheticNames.han(surname: parentMale ? surname : random.pick(SyntheticNames.surnames), marker: random.pick(SyntheticNames.markers))
                let parent = SamplePerson(
                    name: name, nationalId: nationalID(district: district, birth: birth, male: parentMale, random: &random),
                    birth: birth, male: parentMale)
                members.append(member(parent, relation: .parent, random: &random))
            } else {
                break
            }
        }

        // The head's own health and work follow the primary cause.
        let otherCauses = HardshipCause.allCases.filter { $0 != primary && random.chance(percent: 12) }
        let employer: String? = primary == .unemployment || random.chance(percent: 12) ? nil : random.pick(SyntheticNames.employers)
        let deep = status == .safetyNet || random.chance(percent: 25)
        let skill: SkillLevel =
            status == .safetyNet
            ? .none
            : random.weighted([(.none, 40), (.primary, 35), (.intermediate, 20), (.advanced, 5)])

        // Income around the minimum-living standard for the household's size: below it for most
        // files, above it for households out of hardship or closed. Rounded to 10 yuan.
        let percent: Int
        switch status {
        case .outOfHardship: percent = random.int(105...140)
        case .closed: percent = random.int(95...150)
        case .safetyNet: percent = random.int(35...75)
        case .filed, .candidate: percent = random.int(55...105)
        }
        let raw = district.minimumLivingStandardFen * Int64(1 + members.count) * Int64(percent) / 100
        let income = max(1000, (raw + 500) / 1000 * 1000)

        let number = index + 1
        let address =
            district.name.zh + random.pick(SyntheticNames.streets) + "\(random.int(1...199))号"
            + "\(random.int(1...6))单元\(random.int(1...18))0\(random.int(1...4))室"
        var liaisons = [
            SampleLiaison(
                name: staff[index % staff.count], level: .districtUnion, organization: district.name.zh + "总工会",
                phone: phone(random: &random))
        ]
        if let employer {
            liaisons.append(
                SampleLiaison(
                    name: Self.name(random: &random, mongolianPercent: 10), level: .enterpriseUnion,
                    organization: employer + "工会", phone: phone(random: &random)))
        } else {
            liaisons.append(
                SampleLiaison(
                    name: Self.name(random: &random, mongolianPercent: 10), level: .cityUnion,
                    organization: city.city.name.zh + "总工会", phone: phone(random: &random)))
        }
        return SampleHousehold(
            ref: district.code + "-" + pad(number, 3), district: district, head: head, phone: phone(random: &random), address: address,
            employer: employer, fileLevel: random.weighted([(.national, 75), (.regional, 15), (.city, 10)]),
            primaryCause: primary, otherCauses: otherCauses, difficulty: deep ? .deep : .general, skill: skill,
            monthlyIncomeFen: income, epidemicAffected: primary == .epidemic || otherCauses.contains(.epidemic) || random.chance(percent: 10),
            status: status, members: members, liaisons: liaisons
        )
    }

    private func member(_ person: SamplePerson, relation: MemberRelation, random: inout SeededGenerator) -> SampleMember {
        let age = person.ageIn2020
        let health: HealthCondition = random.weighted([(.healthy, 80), (.chronicIllness, 12), (.seriousIllness, 3), (.disabled, 5)])
        let employment: EmploymentSituation
        if health == .disabled || health == .seriousIllness, age >= 16 {
            employment = .unableToWork
        } else if age < 6 {
            employment = .preschool
        } else if age < 22 {
            employment = .student
        } else if age >= 60 {
            employment = .retired
        } else {
            employment = random.chance(percent: 60) ? .employed : .unemployed
        }
        let skills = age >= 22 && age < 60 && random.chance(percent: 40) ? random.pick(SyntheticNames.skills) : nil
        return SampleMember(person: person, relation: relation, health: health, employment: employment, skills: skills)
    }

    static func name(random: inout SeededGenerator, mongolianPercent: Int) -> String {
        if random.chance(percent: mongolianPercent) {
            return SyntheticNames.mongolian(random.pick(SyntheticNames.mongolianNames), marker: random.pick(SyntheticNames.markers))
        }
        return SyntheticNames.han(surname: random.pick(SyntheticNames.surnames), marker: random.pick(SyntheticNames.markers))
    }

    static func birthDate(years: ClosedRange<Int>, random: inout SeededGenerator) -> (year: Int, month: Int, day: Int) {
        let year = random.int(years)
        let month = random.int(1...12)
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (year, month, random.int(1...days))
    }

    /// A national ID (GB 11643): the region where the person was first registered (mostly the
    /// household's district, sometimes another district of the city or of Inner Mongolia), the
    /// birth date, a sequence number whose last digit is odd for men, and the check character.
    mutating func nationalID(
        district: District, birth: (year: Int, month: Int, day: Int), male: Bool,
        random: inout SeededGenerator
    ) -> String {
        let others =
            city.districts.map(\.code).filter { $0 != district.code && !$0.hasSuffix("00") }
            + (city.city.code.hasPrefix("15") ? SyntheticNames.innerMongoliaRegions : [])
        while true {
            let region = others.isEmpty || random.chance(percent: 80) ? district.code : random.pick(others)
            let sequence = random.int(0...499) * 2 + (male ? 1 : 0)
            let body = region + String(birth.year) + pad(birth.month, 2) + pad(birth.day, 2) + pad(sequence, 3)
            let id = body + String(NationalID.checkCharacter(for: Array(body)))
            if usedIDs.insert(id).inserted { return id }
        }
    }

    func phone(random: inout SeededGenerator) -> String {
        random.pick(["139", "138", "150", "151", "187", "133"]) + "0477" + pad(random.int(0...9999), 4)
    }

    // MARK: Roster

    /// The civil-affairs roster of a district: the households on record with their allowance
    /// (the minimum-living standard for the household's size, less its income), with a few
    /// differences planted on purpose, each returned as a mismatch.
    mutating func roster(of district: District, households: [SampleHousehold]) -> (entries: [RosterEntry], mismatches: [RosterMismatch]) {
        var random = SeededGenerator(seed: seed, stream: "roster:" + district.code)
        let onRecord = random.shuffled(households.filter { [.filed, .safetyNet, .candidate].contains($0.status) }.map(\.ref))
        let exited = random.shuffled(households.filter { [.outOfHardship, .closed].contains($0.status) }.map(\.ref))
        let few = onRecord.count >= 6 ? max(1, households.count / 10) : (onRecord.count >= 3 ? 1 : 0)
        let missing = Set(onRecord.prefix(few))
        let misspelled = Set(onRecord.dropFirst(few).prefix(few))
        let paidAfterExit = Set(exited.prefix(few))

        var entries: [RosterEntry] = []
        var mismatches: [RosterMismatch] = []
        for household in households {
            let standard = district.minimumLivingStandardFen * Int64(household.persons)
            var name = household.head.name.contains("·") ? SyntheticNames.otherDot(household.head.name) : household.head.name
            if missing.contains(household.ref) {
                mismatches.append(
                    RosterMismatch(
                        kind: "onFileNotInRoster", district: district.code, ref: household.ref,
                        nationalId: household.head.nationalId, onFile: household.status.rawValue))
                continue
            }
            if paidAfterExit.contains(household.ref) {
                let allowance = Int64(random.int(15...45)) * 1000
                entries.append(
                    RosterEntry(
                        district: district, name: name, nationalId: household.head.nationalId, persons: household.persons,
                        allowanceFen: allowance))
                mismatches.append(
                    RosterMismatch(
                        kind: "disagreement", field: "status", district: district.code, ref: household.ref,
                        nationalId: household.head.nationalId, onFile: household.status.rawValue,
                        inRoster: SampleFiles.yuan(allowance)))
                continue
            }
            guard [.filed, .safetyNet, .candidate].contains(household.status) else { continue }
            if misspelled.contains(household.ref) {
                name = SyntheticNames.misspelled(household.head.name)
                mismatches.append(
                    RosterMismatch(
                        kind: "disagreement", field: "headName", district: district.code, ref: household.ref,
                        nationalId: household.head.nationalId, onFile: household.head.name, inRoster: name))
            }
            entries.append(
                RosterEntry(
                    district: district, name: name, nationalId: household.head.nationalId, persons: household.persons,
                    allowanceFen: max(0, standard - household.monthlyIncomeFen)))
        }
        // People the roster lists who have no file in the district.
        for _ in 0..<few {
            let male = random.chance(percent: 50)
            let birth = Self.birthDate(years: 1955...1990, random: &random)
            let person = SamplePerson(
                name: Self.name(random: &random, mongolianPercent: 10),
                nationalId: nationalID(district: district, birth: birth, male: male, random: &random), birth: birth, male: male)
            let persons = random.int(1...4)
            let allowance = Int64(random.int(20...60)) * 1000
            entries.append(RosterEntry(district: district, name: person.name, nationalId: person.nationalId, persons: persons, allowanceFen: allowance))
            mismatches.append(
                RosterMismatch(
                    kind: "inRosterNotOnFile", district: district.code, nationalId: person.nationalId,
                    inRoster: person.name))
        }
        return (random.shuffled(entries), mismatches)
    }
}

/// A number with leading zeros.
func pad(_ number: Int, _ width: Int) -> String {
    let text = String(number)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
