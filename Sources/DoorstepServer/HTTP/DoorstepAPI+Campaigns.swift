import DoorstepCore
import DoorstepStorage
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// `GET /v1/admin/campaigns`, `PUT /v1/admin/campaigns/{id}`, `DELETE /v1/admin/campaigns/{id}`:
    /// the year's campaign as data, stored by the city's administrator instead of an edited file.
    func addCampaignRoutes(to group: RouterGroup<DoorstepRequestContext>) {
        group.get("admin/campaigns") { _, context in try await listCampaigns(context) }
        group.put("admin/campaigns/:id") { request, context in try await saveCampaign(request, context) }
        group.delete("admin/campaigns/:id") { request, context in try await deleteCampaign(request, context) }
    }

    /// The campaign id of the path, percent-decoded (an id may be `2027年`).
    static func campaignID(_ context: DoorstepRequestContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// The city data as the server serves it: the configured data (its file and `--campaigns`)
    /// with the stored campaigns added, a stored one replacing a configured one of the same id.
    func city() async throws -> CityData {
        let stored = try await storage.storedCampaigns()
        guard !stored.isEmpty else { return configuration.city }
        return try configuration.city.addingCampaigns(stored)
    }

    /// Campaigns by first day (a campaign without stages last), then id: the API's, the CLI's
    /// and the dashboard's order.
    static func byFirstDay(_ campaigns: [Campaign]) -> [Campaign] {
        func order(_ campaign: Campaign) -> (Int, String, String) { (campaign.start == nil ? 1 : 0, campaign.start?.description ?? "", campaign.id) }
        return campaigns.sorted { order($0) < order($1) }
    }

    /// Every campaign, by first day (a campaign without stages last): `GET /v1/admin/campaigns` for
    /// any office, `GET /v1/campaigns` for any device (protocol 1.2).
    func listCampaigns(_ context: DoorstepRequestContext) async throws -> Response {
        _ = try context.caller
        let campaigns = Self.byFirstDay(try await city().campaigns)
        return try JSONResponse.make(CampaignList(campaigns: campaigns))
    }

    /// Stores a campaign (the city only): its id is the path's, its stages are checked as city
    /// data is, and the city data with it must still be valid. Answers the campaign.
    func saveCampaign(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard caller.principal.role == .city else {
            throw DoorstepError(.forbiddenForRole, "only the city defines campaigns", zh: "只有市总工会可以定义攻坚行动")
        }
        let id = Self.campaignID(context)
        let campaign = try await body(Campaign.self, request)
        guard campaign.id == id else {
            throw DoorstepError(
                .invalidValue, "the campaign's id \"\(campaign.id)\" is not the path's \"\(id)\"",
                zh: "请求体中的周期编号「\(campaign.id)」与路径中的「\(id)」不一致")
        }
        try campaign.validate()
        let city = try configuration.city.addingCampaigns(try await storage.storedCampaigns() + [campaign])
        if let start = campaign.start, let end = campaign.end,
            let other = city.campaigns.first(where: { other in
                guard other.id != campaign.id, let otherStart = other.start, let otherEnd = other.end else { return false }
                return otherStart <= end && start <= otherEnd
            })
        {
            throw DoorstepError(
                .invalidCityData, "campaign \(campaign.id) overlaps campaign \(other.id): one campaign runs at a time",
                zh: "攻坚行动 \(campaign.id) 的日期与攻坚行动 \(other.id) 重叠：同一时间只能进行一个攻坚行动")
        }
        try await storage.saveCampaign(campaign, by: caller.actor, at: now)
        context.logger.info("campaign stored", metadata: ["campaign": "\(campaign.id)", "by": "\(caller.actor)"])
        return try JSONResponse.make(campaign)
    }

    /// Removes a stored campaign (the city only); a campaign of the city data or the
    /// configuration file is not stored here and is `404 notFound`.
    func deleteCampaign(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard caller.principal.role == .city else {
            throw DoorstepError(.forbiddenForRole, "only the city defines campaigns", zh: "只有市总工会可以定义攻坚行动")
        }
        let id = Self.campaignID(context)
        guard try await storage.deleteCampaign(id: id) else {
            throw DoorstepError(
                .notFound, "no stored campaign \(id) (campaigns of the city data or the --campaigns file are changed there)",
                zh: "没有存储的攻坚行动 \(id)（城市数据或 --campaigns 文件中的周期须在那里修改）")
        }
        context.logger.info("campaign removed", metadata: ["campaign": "\(id)", "by": "\(caller.actor)"])
        return Response(status: .noContent)
    }
}
