public import Foundation

/// A name in both languages Doorstep speaks.
public struct LocalizedName: Codable, Hashable, Sendable {
    /// The Simplified Chinese name.
    public var zh: String
    /// The English name.
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    /// The name in the given language.
    public func text(_ language: Language) -> String { language == .chinese ? zh : en }
}

/// A district (旗区), identified by its GB/T 2260 administrative division code.
public struct District: Codable, Hashable, Sendable, Identifiable {
    /// The six-digit division code, e.g. `150602`; used as the district id everywhere.
    public var code: String
    public var name: LocalizedName
    /// The IANA time zone in which the district's dates and stage windows are read.
    public var timeZone: String
    /// The monthly per-capita minimum-living standard (低保标准), in fen.
    public var minimumLivingStandardFen: Int64
    /// Whether the standard is an illustrative sample rather than the published figure.
    public var standardIsSample: Bool?

    public var id: String { code }

    public init(code: String, name: LocalizedName, timeZone: String, minimumLivingStandardFen: Int64, standardIsSample: Bool? = nil) {
        self.code = code
        self.name = name
        self.timeZone = timeZone
        self.minimumLivingStandardFen = minimumLivingStandardFen
        self.standardIsSample = standardIsSample
    }
}

/// The stages of a campaign, in the plan's order.
public enum CampaignStageKind: String, DomainTerm {
    public static let textKey = "stage"
    /// Precise identification (精准识别): every file verified.
    case identification
    /// Precise measures (精准施策): problem and assistance lists.
    case measures
    /// Exit (精准解困脱困): households exit hardship or enter the safety net.
    case exit
}

/// One stage of a campaign, with its window of local dates (both ends included).
public struct CampaignStage: Codable, Hashable, Sendable {
    public var stage: CampaignStageKind
    public var name: LocalizedName
    /// The first day of the stage, `YYYY-MM-DD` in the district's time zone.
    public var start: LocalDate
    /// The last day of the stage, `YYYY-MM-DD` in the district's time zone.
    public var end: LocalDate

    public init(stage: CampaignStageKind, name: LocalizedName, start: LocalDate, end: LocalDate) {
        self.stage = stage
        self.name = name
        self.start = start
        self.end = end
    }

    /// Whether a local date falls inside the stage.
    public func contains(_ date: LocalDate) -> Bool { start <= date && date <= end }
}

/// A yearly campaign: its id and its stages. Next year's campaign is new data, not new code.
public struct Campaign: Codable, Hashable, Sendable, Identifiable {
    public var id: String
    public var name: LocalizedName
    public var stages: [CampaignStage]

    public init(id: String, name: LocalizedName, stages: [CampaignStage]) {
        self.id = id
        self.name = name
        self.stages = stages
    }

    /// The stage of the given kind, if the campaign has it.
    public func stage(_ kind: CampaignStageKind) -> CampaignStage? {
        stages.first { $0.stage == kind }
    }

    /// The first day of the campaign.
    public var start: LocalDate? { stages.map(\.start).min() }
    /// The last day of the campaign.
    public var end: LocalDate? { stages.map(\.end).max() }

    /// The stage a local date falls in, if any.
    public func stage(on date: LocalDate) -> CampaignStage? {
        stages.first { $0.contains(date) }
    }

    /// Throws `invalidCityData` for an empty or overlong id, an empty name, a stage listed twice,
    /// one that ends before it starts, or stages that overlap or are out of order.
    public func validate() throws(DoorstepError) {
        let trimmed = id.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed == id, id.count <= 64, !id.contains("/") else {
            throw DoorstepError(
                .invalidCityData, "campaign id \"\(id)\" must be 1 to 64 characters without spaces at its ends or a slash",
                zh: "攻坚行动编号「\(id)」应为 1 到 64 个字符，首尾不能有空格，不能含斜杠")
        }
        guard !name.zh.trimmingCharacters(in: .whitespaces).isEmpty, !name.en.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DoorstepError(.invalidCityData, "campaign \(id) needs a name in Chinese and English", zh: "攻坚行动 \(id) 需要中英文名称")
        }
        guard Set(stages.map(\.stage)).count == stages.count else {
            throw DoorstepError(.invalidCityData, "campaign \(id) lists a stage twice", zh: "攻坚行动 \(id) 的某个阶段出现了两次")
        }
        for stage in stages where stage.end < stage.start {
            throw DoorstepError(
                .invalidCityData, "stage \(stage.stage.rawValue) of campaign \(id) ends before it starts",
                zh: "攻坚行动 \(id) 的「\(stage.stage.chineseLabel)」阶段结束日期早于开始日期")
        }
        for (earlier, later) in zip(stages, stages.dropFirst()) where later.start <= earlier.end {
            throw DoorstepError(
                .invalidCityData,
                "stages \(earlier.stage.rawValue) and \(later.stage.rawValue) of campaign \(id) overlap or are out of order",
                zh: "攻坚行动 \(id) 的「\(earlier.stage.chineseLabel)」和「\(later.stage.chineseLabel)」阶段日期重叠或顺序颠倒")
        }
    }
}

/// The districts and campaigns of one city, loaded from JSON data (`Samples/data/ordos.json`).
public struct CityData: Codable, Hashable, Sendable {
    /// The city itself.
    public struct City: Codable, Hashable, Sendable {
        public var code: String
        public var name: LocalizedName
        public var timeZone: String

        public init(code: String, name: LocalizedName, timeZone: String) {
            self.code = code
            self.name = name
            self.timeZone = timeZone
        }
    }

    /// Always `doorstep-city-data`.
    public var format: String
    /// The format version, currently 1.
    public var version: Int
    public var city: City
    public var districts: [District]
    public var campaigns: [Campaign]

    /// Decodes and checks city data; throws `invalidCityData` with the reason when it is inconsistent.
    public static func decode(_ data: Data) throws(DoorstepError) -> CityData {
        let decoded: CityData
        do {
            decoded = try JSONDecoder().decode(CityData.self, from: data)
        } catch {
            throw DoorstepError(.invalidCityData, "city data is not valid JSON of the expected shape: \(describe(error))")
        }
        try decoded.validate()
        return decoded
    }

    /// The text of `Samples/data/ordos.json`, compiled into the binary (a SwiftPM resource of
    /// DoorstepCore) so that a copied binary still has it.
    public static let ordosJSON = String(decoding: PackageResources.ordos_json, as: UTF8.self)

    /// The city data shipped inside the binary: Ordos and its 2020 campaign.
    public static let ordos: CityData = {
        // The file is checked by the tests (and decoded by every one of them): it cannot fail here
        // unless Samples/data/ordos.json was broken when the binary was built.
        guard let value = try? CityData.decode(Data(CityData.ordosJSON.utf8)) else {
            preconditionFailure("the compiled-in Samples/data/ordos.json does not decode; fix the file and build again")
        }
        return value
    }()

    /// Checks codes, time zones, standards and stage windows.
    public func validate() throws(DoorstepError) {
        guard format == "doorstep-city-data" else {
            throw DoorstepError(.invalidCityData, "format must be \"doorstep-city-data\", not \"\(format)\"")
        }
        guard version == 1 else {
            throw DoorstepError(.invalidCityData, "city data version \(version) is not supported; this build reads version 1")
        }
        guard TimeZone(identifier: city.timeZone) != nil else {
            throw DoorstepError(.invalidCityData, "the city has an unknown time zone \"\(city.timeZone)\"")
        }
        guard city.code.count == 6, city.code.allSatisfy(\.isASCIIDigit) else {
            throw DoorstepError(.invalidCityData, "city code \"\(city.code)\" is not a six-digit division code")
        }
        guard !districts.isEmpty else { throw DoorstepError(.invalidCityData, "the city has no districts") }
        var seen = Set<String>()
        for district in districts {
            guard district.code.count == 6, district.code.allSatisfy(\.isASCIIDigit) else {
                throw DoorstepError(.invalidCityData, "district code \"\(district.code)\" is not a six-digit division code")
            }
            guard seen.insert(district.code).inserted else {
                throw DoorstepError(.invalidCityData, "district \(district.code) is listed twice")
            }
            guard TimeZone(identifier: district.timeZone) != nil else {
                throw DoorstepError(.invalidCityData, "district \(district.code) has an unknown time zone \"\(district.timeZone)\"")
            }
            guard district.minimumLivingStandardFen >= 0 else {
                throw DoorstepError(.invalidCityData, "district \(district.code) has a negative minimum-living standard")
            }
        }
        var campaignIds = Set<String>()
        for campaign in campaigns {
            guard campaignIds.insert(campaign.id).inserted else {
                throw DoorstepError(.invalidCityData, "campaign id \"\(campaign.id)\" is listed twice")
            }
            try campaign.validate()
        }
    }

    /// The city data with these campaigns added (a campaign with an id already present replaces
    /// it): how a server takes a year's campaign from its configuration (`--campaigns FILE`)
    /// instead of an edited city file. Throws `invalidCityData` as ``validate()`` does.
    public func addingCampaigns(_ more: [Campaign]) throws(DoorstepError) -> CityData {
        var copy = self
        for campaign in more {
            if let index = copy.campaigns.firstIndex(where: { $0.id == campaign.id }) {
                copy.campaigns[index] = campaign
            } else {
                copy.campaigns.append(campaign)
            }
        }
        try copy.validate()
        return copy
    }

    /// Campaigns as a configuration file holds them: a JSON array of campaigns in the city data's
    /// form (`{"id", "name": {"zh", "en"}, "stages": [{"stage", "name", "start", "end"}]}`).
    public static func decodeCampaigns(_ data: Data) throws(DoorstepError) -> [Campaign] {
        do {
            return try JSONDecoder().decode([Campaign].self, from: data)
        } catch {
            throw DoorstepError(
                .invalidCityData, "the campaigns file is not a JSON array of campaigns: \(describe(error))",
                zh: "攻坚行动文件不是攻坚行动的 JSON 数组：\(describe(error))")
        }
    }

    /// The district with the given code.
    public func district(_ code: String) -> District? {
        districts.first { $0.code == code }
    }

    /// Throws `unknownDistrict` unless the code names a district of this city.
    public func requireDistrict(_ code: String) throws(DoorstepError) -> District {
        guard let district = district(code) else {
            throw DoorstepError(
                .unknownDistrict, "district \"\(code)\" is not one of this city's districts (\(districts.map(\.code).joined(separator: ", ")))",
                zh: "「\(code)」不是本市的旗区代码（\(districts.map { "\($0.code) \($0.name.zh)" }.joined(separator: "、"))）")
        }
        return district
    }

    /// The campaign with the given id.
    public func campaign(_ id: String) -> Campaign? {
        campaigns.first { $0.id == id }
    }
}

func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
        return "missing \(path(context.codingPath + [key]))"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
    case DecodingError.dataCorrupted(let context):
        return context.codingPath.isEmpty ? context.debugDescription : "\(path(context.codingPath)): \(context.debugDescription)"
    default:
        return String(describing: error)
    }
}

private func path(_ keys: [any CodingKey]) -> String {
    let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    return text.isEmpty ? "the top level" : String(text.drop { $0 == "." })
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
