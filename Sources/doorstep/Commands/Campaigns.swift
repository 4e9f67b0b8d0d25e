import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

extension Admin {
    struct Campaigns: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.campaigns.abstract"),
            discussion: Help.text("help.campaigns.discussion"),
            subcommands: [List.self, Store.self, Remove.self],
            defaultSubcommand: List.self
        )
    }
}

extension Admin.Campaigns {
    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.campaigns.list.abstract"),
            discussion: Help.text("help.campaigns.list.discussion")
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let session = try await global.office()
            let campaigns = try await session.client.campaigns()
            let console = global.console
            try console.output(campaigns) {
                guard !campaigns.isEmpty else { return console.t("cli.campaigns.none") }
                var table = Table([
                    .init(title: console.t("cli.campaigns.id")), .init(title: console.t("cli.campaigns.name")),
                    .init(title: console.t("cli.campaigns.stages")),
                ])
                for campaign in campaigns {
                    table.add([campaign.id, campaign.name.text(console.language), Admin.Campaigns.stages(campaign, console: console)])
                }
                return table.render()
            }
        }
    }

    struct Store: DoorstepCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: Help.text("help.campaigns.set.abstract"),
            discussion: Help.text("help.campaigns.set.discussion")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.campaigns.set.id"))
        var id: String

        @Option(help: .text("help.campaigns.set.name"))
        var name: String?

        @Option(name: .customLong("name-en"), help: .text("help.campaigns.set.nameEn"))
        var nameEn: String?

        @Option(name: .customLong("stage"), help: .text("help.campaigns.set.stage"))
        var stages: [String] = []

        @Option(help: .text("help.campaigns.set.file"))
        var file: String?

        func run() async throws {
            let console = global.console
            let campaign = try campaign(console: console)
            try campaign.validate()
            let session = try await global.office()
            let stored = try await session.client.saveCampaign(campaign)
            try console.output(stored) {
                console.t("cli.campaigns.stored", ["id": stored.id, "name": stored.name.text(console.language)]) + "\n  "
                    + Admin.Campaigns.stages(stored, console: console)
            }
        }

        /// The campaign the options or the file describe.
        func campaign(console: Console) throws -> Campaign {
            if let file {
                guard stages.isEmpty, name == nil, nameEn == nil else { throw Usage.error("cli.campaigns.fileOrOptions") }
                let data = try Files.read(file, console: console)
                let campaign: Campaign
                do {
                    campaign = try WireCoding.decode(Campaign.self, from: data)
                } catch {
                    throw console.failure("invalidCityData", "cli.campaigns.fileUnreadable", ["file": file])
                }
                guard campaign.id == id else {
                    throw console.failure("invalidValue", "cli.campaigns.fileOtherID", ["file": file, "fileID": campaign.id, "id": id])
                }
                return campaign
            }
            guard let name = name?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
                throw Usage.error("cli.campaigns.nameNeeded")
            }
            guard !stages.isEmpty else { throw Usage.error("cli.campaigns.stagesNeeded") }
            let parsed = try stages.map { try Admin.Campaigns.stage($0, console: console) }.sorted { $0.start < $1.start }
            return Campaign(id: id, name: LocalizedName(zh: name, en: nameEn ?? name), stages: parsed)
        }
    }

    struct Remove: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.campaigns.remove.abstract"),
            discussion: Help.text("help.campaigns.remove.discussion")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.campaigns.remove.id"))
        var id: String

        func run() async throws {
            let session = try await global.office()
            try await session.client.removeCampaign(id)
            let console = global.console
            try console.output(["removed": id]) { console.t("cli.campaigns.removed", ["id": id]) }
        }
    }
}

extension Admin.Campaigns {
    /// `identification=2027-03-01..2027-04-30`: the stage by wire name or label (精准识别), the two
    /// dates as typed anywhere else (`2027/3/1`, `2027年3月1日`), joined by `..`, `~` or `至`.
    static func stage(_ text: String, console: Console) throws -> CampaignStage {
        let typed = TypedInput.asciiForms(text)
        guard let equals = typed.firstIndex(of: "=") else { throw console.failure("invalidValue", "cli.campaigns.stageForm", ["stage": text]) }
        let kindText = typed[..<equals].trimmingCharacters(in: .whitespaces)
        guard
            let kind = CampaignStageKind.allCases.first(where: {
                $0.rawValue.lowercased() == kindText.lowercased() || $0.chineseLabel == kindText || $0.englishLabel.lowercased() == kindText.lowercased()
            })
        else {
            throw console.failure(
                "invalidValue", "cli.campaigns.unknownStage",
                ["stage": kindText, "known": CampaignStageKind.allCases.map { "\($0.rawValue)（\($0.chineseLabel)）" }.joined(separator: "、")])
        }
        let window = String(typed[typed.index(after: equals)...])
        let ends = ["..", "~", "至", "到"].lazy.compactMap { separator -> [String]? in
            let parts = window.components(separatedBy: separator)
            return parts.count == 2 ? parts : nil
        }.first
        guard let ends, let start = try? LocalDate(TypedInput.date(ends[0])), let end = try? LocalDate(TypedInput.date(ends[1])) else {
            throw console.failure("invalidValue", "cli.campaigns.stageForm", ["stage": text])
        }
        let name = Texts.name("term.stage.\(kind.rawValue)") ?? LocalizedName(zh: kind.rawValue, en: kind.rawValue)
        return CampaignStage(stage: kind, name: name, start: start, end: end)
    }

    /// A campaign's stages on one line: 精准识别 2027-03-01 至 2027-04-30；…
    static func stages(_ campaign: Campaign, console: Console) -> String {
        campaign.stages.map {
            console.t("cli.campaigns.stageWindow", ["stage": $0.name.text(console.language), "start": "\($0.start)", "end": "\($0.end)"])
        }.joined(separator: console.t("cli.householdView.semicolon"))
    }
}
