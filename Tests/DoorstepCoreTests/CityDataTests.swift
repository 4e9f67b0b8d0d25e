import Foundation
import Testing

@testable import DoorstepCore

@Suite struct CityDataTests {
    /// The district codes of `docs/DOMAIN.md`, in the order of the sample file.
    static let ordosCodes = ["150602", "150603", "150621", "150622", "150623", "150624", "150625", "150626", "150627", "150600"]

    // MARK: The embedded copy and the sample file

    @Test func ordosJSON_embedded_equalsSampleFileBytes() throws {
        let url = packageRoot().appendingPathComponent("Samples/data/ordos.json")
        let file = try Data(contentsOf: url)
        #expect(Data(CityData.ordosJSON.utf8) == file)
    }

    @Test func ordos_decodes_tenDistrictsInAsiaShanghai() throws {
        let city = try CityData.decode(Data(CityData.ordosJSON.utf8))
        #expect(city == CityData.ordos)
        #expect(city.format == "doorstep-city-data")
        #expect(city.version == 1)
        #expect(city.city.code == "150600")
        #expect(city.city.name == LocalizedName(zh: "鄂尔多斯市", en: "Ordos"))
        #expect(city.city.timeZone == "Asia/Shanghai")
        #expect(city.districts.count == 10)
        #expect(city.districts.map(\.code) == Self.ordosCodes)
        #expect(Set(city.districts.map(\.id)) == Set(Self.ordosCodes))
        for district in city.districts {
            #expect(district.timeZone == "Asia/Shanghai")
            #expect(district.minimumLivingStandardFen > 0)
            #expect(district.standardIsSample == true)
        }
    }

    @Test(arguments: [
        ("150602", "东胜区", "Dongsheng"),
        ("150603", "康巴什区", "Kangbashi"),
        ("150621", "达拉特旗", "Dalad"),
        ("150622", "准格尔旗", "Jungar"),
        ("150623", "鄂托克前旗", "Otog Front"),
        ("150624", "鄂托克旗", "Otog"),
        ("150625", "杭锦旗", "Hanggin"),
        ("150626", "乌审旗", "Uxin"),
        ("150627", "伊金霍洛旗", "Ejin Horo"),
        ("150600", "市直", "City-direct unions"),
    ])
    func ordos_district_namesFromDomain(_ code: String, _ zh: String, _ en: String) throws {
        let district = try CityData.ordos.requireDistrict(code)
        #expect(district.name.zh == zh)
        #expect(district.name.en == en)
        #expect(district.name.text(.chinese) == zh)
        #expect(district.name.text(.english) == en)
    }

    @Test func ordos_campaign2020_threeStagesWithPlanDates() throws {
        let campaign = try #require(CityData.ordos.campaign("2020"))
        #expect(CityData.ordos.campaigns.count == 1)
        #expect(campaign.stages.map(\.stage) == [.identification, .measures, .exit])
        let identification = try #require(campaign.stage(.identification))
        #expect(identification.start == (try LocalDate("2020-04-02")))
        #expect(identification.end == (try LocalDate("2020-05-31")))
        #expect(identification.name == LocalizedName(zh: "精准识别", en: "precise identification"))
        let measures = try #require(campaign.stage(.measures))
        #expect(measures.start == (try LocalDate("2020-06-01")))
        #expect(measures.end == (try LocalDate("2020-07-31")))
        let exit = try #require(campaign.stage(.exit))
        #expect(exit.start == (try LocalDate("2020-08-01")))
        #expect(exit.end == (try LocalDate("2020-09-30")))
        #expect(campaign.start == (try LocalDate("2020-04-02")))
        #expect(campaign.end == (try LocalDate("2020-09-30")))
        #expect(CityData.ordos.campaign("2021") == nil)
    }

    @Test(
        arguments: [
            ("2020-04-01", nil),
            ("2020-04-02", CampaignStageKind.identification),
            ("2020-05-31", .identification),
            ("2020-06-01", .measures),
            ("2020-07-31", .measures),
            ("2020-08-01", .exit),
            ("2020-09-30", .exit),
            ("2020-10-01", nil),
            ("2021-04-10", nil),
        ] as [(String, CampaignStageKind?)])
    func stageOnDate_windowsIncludeBothEnds(_ day: String, _ expected: CampaignStageKind?) throws {
        let campaign = try #require(CityData.ordos.campaign("2020"))
        #expect(campaign.stage(on: try LocalDate(day))?.stage == expected)
    }

    @Test func requireDistrict_unknownCode_rejectedWithCode() {
        for code in ["150699", "110105", "", "15060"] {
            let error = expectError(.unknownDistrict) { _ = try CityData.ordos.requireDistrict(code) }
            #expect(error?.message.contains("150602") == true)  // lists the known codes
        }
        #expect(CityData.ordos.district("150699") == nil)
    }

    @Test func stageKind_labels_bothLanguages() {
        #expect(CampaignStageKind.identification.label(.chinese) == "精准识别")
        #expect(CampaignStageKind.exit.label(.english) == "exit")
        #expect(CampaignStageKind.wireNames == ["identification", "measures", "exit"])
    }

    // MARK: Another city's data

    @Test func decode_anotherCityAndNextCampaign_noCodeChange() throws {
        let json = """
            {"format":"doorstep-city-data","version":1,
             "city":{"code":"150200","name":{"zh":"包头市","en":"Baotou"},"timeZone":"Asia/Shanghai"},
             "districts":[{"code":"150202","name":{"zh":"东河区","en":"Donghe"},"timeZone":"Asia/Shanghai","minimumLivingStandardFen":0}],
             "campaigns":[{"id":"2021","name":{"zh":"2021","en":"2021"},"stages":[
               {"stage":"identification","name":{"zh":"精准识别","en":"id"},"start":"2021-03-01","end":"2021-03-01"}]}]}
            """
        let city = try CityData.decode(Data(json.utf8))
        #expect(city.districts.map(\.code) == ["150202"])
        #expect(city.districts[0].standardIsSample == nil)
        #expect(city.campaign("2021")?.stage(on: try LocalDate("2021-03-01"))?.stage == .identification)
    }

    // MARK: Invalid city data

    /// Encodes a modified copy of the Ordos data and decodes it again, expecting `invalidCityData`.
    @discardableResult
    func expectInvalid(
        sourceLocation: SourceLocation = #_sourceLocation,
        _ change: (inout CityData) throws -> Void
    ) throws -> DoorstepError? {
        var city = CityData.ordos
        try change(&city)
        let data = try JSONEncoder().encode(city)
        let viaDecode = expectError(.invalidCityData, sourceLocation: sourceLocation) { _ = try CityData.decode(data) }
        let viaValidate = expectError(.invalidCityData, sourceLocation: sourceLocation) { try city.validate() }
        #expect(viaDecode?.message == viaValidate?.message, sourceLocation: sourceLocation)
        return viaDecode
    }

    @Test func validate_duplicateDistrictCode_rejectedWithCode() throws {
        let error = try expectInvalid { $0.districts[3].code = "150602" }
        #expect(error?.message.contains("150602") == true)
        #expect(error?.message.contains("twice") == true)
    }

    @Test func validate_unknownTimeZone_rejectedWithCode() throws {
        let error = try expectInvalid { $0.districts[1].timeZone = "Asia/Ordos" }
        #expect(error?.message.contains("Asia/Ordos") == true)
    }

    @Test func validate_overlappingStages_rejectedWithCode() throws {
        let error = try expectInvalid { $0.campaigns[0].stages[1].start = try LocalDate("2020-05-31") }
        #expect(error?.message.contains("overlap") == true)
    }

    @Test func validate_stagesOutOfOrder_rejectedWithCode() throws {
        try expectInvalid { $0.campaigns[0].stages.swapAt(0, 2) }
    }

    @Test func validate_stageEndsBeforeStart_rejectedWithCode() throws {
        let error = try expectInvalid { $0.campaigns[0].stages[2].end = try LocalDate("2020-07-31") }
        #expect(error?.message.contains("ends before it starts") == true)
    }

    @Test func validate_negativeStandard_rejectedWithCode() throws {
        let error = try expectInvalid { $0.districts[0].minimumLivingStandardFen = -1 }
        #expect(error?.message.contains("negative") == true)
    }

    @Test func validate_wrongFormat_rejectedWithCode() throws {
        let error = try expectInvalid { $0.format = "doorstep-city" }
        #expect(error?.message.contains("doorstep-city-data") == true)
    }

    @Test func validate_unsupportedVersion_rejectedWithCode() throws {
        try expectInvalid { $0.version = 2 }
    }

    @Test func validate_noDistricts_rejectedWithCode() throws {
        try expectInvalid { $0.districts = [] }
    }

    @Test(arguments: ["15060", "1506020", "15060a", "", "１５０６０２"])
    func validate_districtCodeNotSixDigits_rejectedWithCode(_ code: String) throws {
        try expectInvalid { $0.districts[0].code = code }
    }

    @Test func validate_duplicateOrEmptyCampaignId_rejectedWithCode() throws {
        try expectInvalid { $0.campaigns.append($0.campaigns[0]) }
        try expectInvalid { $0.campaigns[0].id = "" }
    }

    @Test(arguments: [
        "",
        "not json",
        "[]",
        #"{"format":"doorstep-city-data","version":1}"#,
    ])
    func decode_notCityDataShape_rejectedWithCode(_ text: String) {
        let error = expectError(.invalidCityData) { _ = try CityData.decode(Data(text.utf8)) }
        #expect(error?.message.contains("expected shape") == true)
    }

    @Test func decode_missingKey_messageNamesPath() {
        let json = CityData.ordosJSON.replacingOccurrences(
            of: #""timeZone": "Asia/Shanghai", "minimumLivingStandardFen": 81000, "standardIsSample": true },"#, with: #""minimumLivingStandardFen": 81000 },"#)
        #expect(json != CityData.ordosJSON)
        let error = expectError(.invalidCityData) { _ = try CityData.decode(Data(json.utf8)) }
        #expect(error?.message.contains("timeZone") == true)
    }

    @Test func decode_impossibleStageDate_rejectedWithCode() {
        let json = CityData.ordosJSON.replacingOccurrences(of: "2020-05-31", with: "2020-05-32")
        let error = expectError(.invalidCityData) { _ = try CityData.decode(Data(json.utf8)) }
        #expect(error?.message.contains("not a real date") == true)
    }

    @Test func decode_unknownStageKind_rejectedWithCode() {
        let json = CityData.ordosJSON.replacingOccurrences(of: #""stage": "exit""#, with: #""stage": "celebration""#)
        expectError(.invalidCityData) { _ = try CityData.decode(Data(json.utf8)) }
    }
}
