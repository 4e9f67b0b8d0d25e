import DoorstepCore
import Foundation
import Testing

/// A year's campaign taken from a server's configuration, not from an edited city file.
struct CampaignConfigurationTests {
    static let campaign2027 = Data(
        """
        [{ "id": "2027", "name": { "zh": "2027年城镇困难职工解困脱困", "en": "2027 campaign" },
           "stages": [
             { "stage": "identification", "name": { "zh": "精准识别", "en": "precise identification" }, "start": "2027-04-01", "end": "2027-05-31" },
             { "stage": "measures", "name": { "zh": "精准施策", "en": "precise measures" }, "start": "2027-06-01", "end": "2027-07-31" },
             { "stage": "exit", "name": { "zh": "精准解困脱困", "en": "exit" }, "start": "2027-08-01", "end": "2027-09-30" } ] }]
        """.utf8)

    @Test func campaignsFromAFile_areAdded_orReplaceTheirNamesake_andTheReportPicksTheCurrentOne() throws {
        let city = try CityData.ordos.addingCampaigns(try CityData.decodeCampaigns(Self.campaign2027))
        #expect(city.campaigns.map(\.id) == ["2020", "2027"])
        #expect(CampaignReport.defaultCampaign(in: city, on: try LocalDate("2027-06-15"))?.id == "2027")
        #expect(CampaignReport.defaultCampaign(in: city, on: try LocalDate("2021-01-01"))?.id == "2020")
        var replaced = try CityData.decodeCampaigns(Self.campaign2027)
        replaced[0].id = "2020"
        #expect(try CityData.ordos.addingCampaigns(replaced).campaigns.map(\.id) == ["2020"])
    }

    @Test func aBadCampaignsFile_isRefusedWithTheReason() throws {
        do {
            _ = try CityData.decodeCampaigns(Data("{\"id\": \"2027\"}".utf8))
            Issue.record("an object was read as an array of campaigns")
        } catch {
            #expect(error.code == .invalidCityData && error.chineseMessage?.contains("攻坚行动") == true)
        }
        let overlapping = Data(String(decoding: Self.campaign2027, as: UTF8.self).replacingOccurrences(of: "2027-06-01", with: "2027-05-01").utf8)
        do {
            _ = try CityData.ordos.addingCampaigns(try CityData.decodeCampaigns(overlapping))
            Issue.record("overlapping stages were accepted")
        } catch {
            #expect(error.code == .invalidCityData && error.message.contains("overlap"))
        }
    }
}
