import Foundation

/// The type of a field's value, and so how it is validated.
public enum FieldType: Hashable, Sendable {
    /// Free text, trimmed, with a maximum length in characters.
    case text(maxLength: Int)
    /// A whole number of fen, never negative.
    case money
    /// A whole number in a range.
    case integer(ClosedRange<Int64>)
    /// `true` or `false`.
    case boolean
    /// One of a closed set of wire names.
    case term([String])
    /// A set of wire names from a closed set, sent as a sorted array without repeats.
    case termSet([String])
    /// A calendar date `YYYY-MM-DD`.
    case date
    /// An instant with its offset, RFC 3339 (`2020-04-12T10:30:00+08:00`).
    case instant
    /// A GB 11643 national ID number.
    case nationalID
    /// A mainland phone number.
    case phone
    /// A district code of the loaded city data.
    case district
    /// An entity id (a UUID), stored in lower case (protocol 1.4).
    case entityReference
    /// A SHA-256 as 64 hexadecimal digits, stored in lower case (protocol 1.4).
    case sha256
}

/// One field of an entity kind: its wire name, type and whether it must have a value.
public struct FieldSpec: Hashable, Sendable {
    public let name: String
    public let type: FieldType
    public let required: Bool
    /// What people call the field (`FieldLabels`), for messages; set for every field of the catalog.
    public private(set) var label: LocalizedName?
    /// The kind the field belongs to; set for every field of the catalog.
    public private(set) var kind: EntityKind?

    public init(_ name: String, _ type: FieldType, required: Bool) {
        self.name = name
        self.type = type
        self.required = required
    }

    /// The largest amount of money a field holds, in fen (a billion yuan).
    public static let maxFen: Int64 = 100_000_000_000

    /// Details of an error about this field.
    private func named(limit: Int64? = nil, minimum: Int64? = nil, allowed: [String]? = nil, expected: String? = nil) -> ErrorDetails {
        ErrorDetails(field: name, kind: kind?.rawValue, limit: limit, minimum: minimum, allowed: allowed, expected: expected)
    }

    /// Validates and normalises a value for this field.
    ///
    /// Returns the value to store (trimmed text, normalised national ID or phone, sorted
    /// set); throws `missingField`, `invalidValue`, `invalidNationalId`, `invalidPhone`,
    /// `negativeAmount` or `unknownDistrict` with a message that names the field.
    public func normalize(_ value: JSONValue, city: CityData) throws(DoorstepError) -> JSONValue {
        if value.isNull || value.stringValue.map({ $0.trimmedWhitespace.isEmpty }) == true {
            if required { throw DoorstepError(.missingField, rule: "required", named()) }
            return .null
        }
        switch type {
        case .text(let maxLength):
            var text = try string(value)
            if text.utf8.contains(0x0D) { text = text.replacingOccurrences(of: "\r\n", with: "\n") }
            text = text.trimmedWhitespace
            guard text.count <= maxLength else {
                throw DoorstepError(.invalidValue, rule: "tooLong", named(limit: Int64(maxLength)))
            }
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
                throw DoorstepError(.invalidValue, rule: "controlCharacters", named())
            }
            return .string(text)
        case .money:
            guard let amount = value.intValue else {
                throw DoorstepError(.invalidValue, rule: "wholeFen", named())
            }
            guard amount >= 0 else { throw DoorstepError(.negativeAmount, rule: "negativeAmount", named()) }
            guard amount <= FieldSpec.maxFen else { throw DoorstepError(.invalidValue, rule: "tooLarge", named(limit: FieldSpec.maxFen)) }
            return value
        case .integer(let range):
            guard let number = value.intValue, range.contains(number) else {
                throw DoorstepError(.invalidValue, rule: "outOfRange", named(limit: Int64(range.upperBound), minimum: Int64(range.lowerBound)))
            }
            return value
        case .boolean:
            guard value.boolValue != nil else { throw DoorstepError(.invalidValue, rule: "boolean", named()) }
            return value
        case .term(let names):
            let text = try string(value)
            guard names.contains(text) else {
                throw DoorstepError(.invalidValue, rule: "oneOf", named(allowed: names))
            }
            return .string(text)
        case .termSet(let names):
            guard let items = value.arrayValue else {
                throw DoorstepError(.invalidValue, rule: "someOf", named(allowed: names))
            }
            var set = Set<String>()
            for item in items {
                guard let text = item.stringValue, names.contains(text) else {
                    throw DoorstepError(.invalidValue, rule: "someOf", named(allowed: names))
                }
                set.insert(text)
            }
            if required && set.isEmpty { throw DoorstepError(.missingField, rule: "atLeastOne", named()) }
            return .array(names.filter(set.contains).map(JSONValue.string))
        case .date:
            do {
                return .string(try LocalDate(try string(value)).description)
            } catch {
                throw error.naming(field: name, kind: kind)
            }
        case .instant:
            let text = try string(value)
            guard Instant.parse(text) != nil else {
                throw DoorstepError(.invalidValue, rule: "instant", named(expected: "2020-04-12T10:30:00+08:00"))
            }
            return .string(text)
        case .nationalID:
            do { return .string(try NationalID(try string(value)).value) } catch { throw error.naming(field: name, kind: kind) }
        case .phone:
            do { return .string(try PhoneNumber(try string(value)).value) } catch { throw error.naming(field: name, kind: kind) }
        case .district:
            do { return .string(try city.requireDistrict(try string(value).trimmedWhitespace).code) } catch { throw error.naming(field: name, kind: kind) }
        case .entityReference:
            guard let id = try? EntityID(try string(value).trimmedWhitespace) else {
                throw DoorstepError(.invalidValue, rule: "entityId", named(expected: "0e1d2c16-9d56-4c0c-b362-db5697d7e41e"))
            }
            return .string(id.description)
        case .sha256:
            let text = try string(value).trimmedWhitespace.lowercased()
            guard AttachmentFile.isSHA256(text) else { throw DoorstepError(.invalidValue, rule: "sha256", named(limit: 64)) }
            return .string(text)
        }
    }

    private func string(_ value: JSONValue) throws(DoorstepError) -> String {
        guard let text = value.stringValue else {
            throw DoorstepError(.invalidValue, rule: "text", named())
        }
        return text
    }
}

extension FieldSpec {
    /// ``catalog`` by kind and field name (validation looks up every written field).
    static let byName: [EntityKind: [String: FieldSpec]] = catalog.mapValues { specs in
        Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The fields of each kind, each with its label.
    static let catalog: [EntityKind: [FieldSpec]] = Dictionary(
        uniqueKeysWithValues: unlabelled.map { kind, specs in
            (
                kind,
                specs.map { spec in
                    var labelled = spec
                    labelled.label = FieldLabels.name(spec.name, of: kind)
                    labelled.kind = kind
                    return labelled
                }
            )
        })

    private static let unlabelled: [EntityKind: [FieldSpec]] = [
        .household: [
            FieldSpec("headName", .text(maxLength: 64), required: true),
            FieldSpec("nationalId", .nationalID, required: true),
            FieldSpec("phone", .phone, required: false),
            FieldSpec("address", .text(maxLength: 200), required: true),
            FieldSpec("district", .district, required: true),
            FieldSpec("employer", .text(maxLength: 200), required: false),
            FieldSpec("employerUnion", .text(maxLength: 200), required: false),
            FieldSpec("fileLevel", .term(FileLevel.wireNames), required: true),
            FieldSpec("primaryCause", .term(HardshipCause.wireNames), required: true),
            FieldSpec("otherCauses", .termSet(HardshipCause.wireNames), required: false),
            FieldSpec("difficulty", .term(DifficultyDegree.wireNames), required: true),
            FieldSpec("skillLevel", .term(SkillLevel.wireNames), required: true),
            FieldSpec("monthlyIncomeFen", .money, required: true),
            FieldSpec("epidemicAffected", .boolean, required: true),
            FieldSpec("status", .term(HouseholdStatus.wireNames), required: true),
            FieldSpec("notes", .text(maxLength: 2000), required: false),
        ],
        .member: [
            FieldSpec("name", .text(maxLength: 64), required: true),
            FieldSpec("relation", .term(MemberRelation.wireNames), required: true),
            FieldSpec("nationalId", .nationalID, required: false),
            FieldSpec("birthDate", .date, required: false),
            FieldSpec("health", .term(HealthCondition.wireNames), required: true),
            FieldSpec("employment", .term(EmploymentSituation.wireNames), required: true),
            FieldSpec("skills", .text(maxLength: 200), required: false),
        ],
        .liaison: [
            FieldSpec("name", .text(maxLength: 64), required: true),
            FieldSpec("level", .term(LiaisonLevel.wireNames), required: true),
            FieldSpec("organization", .text(maxLength: 200), required: true),
            FieldSpec("phone", .phone, required: false),
        ],
        .problem: [
            FieldSpec("category", .term(AssistanceCategory.wireNames), required: true),
            FieldSpec("description", .text(maxLength: 1000), required: true),
            FieldSpec("status", .term(ProblemStatus.wireNames), required: true),
        ],
        .assistance: [
            FieldSpec("category", .term(AssistanceCategory.wireNames), required: true),
            FieldSpec("measure", .text(maxLength: 500), required: true),
            FieldSpec("leadDepartment", .term(LeadDepartment.wireNames), required: true),
            FieldSpec("dueDate", .date, required: true),
            FieldSpec("status", .term(AssistanceStatus.wireNames), required: true),
            FieldSpec("amountFen", .money, required: false),
        ],
        .visit: [
            FieldSpec("visitedAt", .instant, required: true),
            FieldSpec("visitor", .text(maxLength: 64), required: true),
            FieldSpec("mode", .term(VisitMode.wireNames), required: true),
            FieldSpec("verified", .termSet(VerifiedFact.wireNames), required: false),
            FieldSpec("conclusion", .term(VisitConclusion.wireNames), required: true),
            FieldSpec("proposedStatus", .term(HouseholdStatus.wireNames), required: false),
            FieldSpec("observedIncomeFen", .money, required: false),
            FieldSpec("notes", .text(maxLength: 2000), required: false),
        ],
        .attachment: [
            FieldSpec("of", .entityReference, required: true),
            FieldSpec("sha256", .sha256, required: true),
            FieldSpec("mediaType", .term(AttachmentMediaType.wireNames), required: true),
            FieldSpec("size", .integer(1...AttachmentFile.maxBytes), required: true),
            FieldSpec("fileName", .text(maxLength: 200), required: true),
            FieldSpec("caption", .text(maxLength: 500), required: false),
        ],
    ]
}

extension String {
    /// The text without leading and trailing white space and line breaks: what
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gives (the Unicode White_Space scalars and,
    /// as Foundation counts it, U+200B), without Foundation's cost on every validated value; the
    /// text itself when there is none.
    var trimmedWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return self }
        guard Self.isTrimmed(first) || Self.isTrimmed(last) else { return self }
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, Self.isTrimmed(scalars[start]) { start = scalars.index(after: start) }
        while end > start, Self.isTrimmed(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }

    private static func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || scalar == "\u{200B}"
    }
}
