import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

/// `doorstep attach FILE --to HOUSEHOLD [--of ITEM] [--caption TEXT]`: a proof document.
struct Attach: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.attach.abstract"),
        discussion: Help.text("help.attach.discussion")
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: .text("help.attach.file"))
    var file: String

    @Option(help: .text("help.attach.to"))
    var to: String

    @Option(help: .text("help.attach.of"))
    var of: String?

    @Option(help: .text("help.attach.caption"))
    var caption: String?

    func run() async throws {
        let (client, _) = try await global.enrolledClient()
        let console = global.console
        let household = try await Resolve.household(to, in: client, console: console)
        var owner: EntityID?
        if let of {
            guard let aggregate = try await client.household(household) else {
                throw console.failure("notFound", "cli.error.notFound.noHouseholdOnThis", ["householdID": "\(household)"])
            }
            owner = try Resolve.entry(of, in: aggregate, console: console).id
        }
        let url = URL(fileURLWithPath: (file as NSString).expandingTildeInPath)
        let id = try await client.attach(fileAt: url, to: household, of: owner, caption: caption)
        let attachment = try await client.attachments(of: household).first { $0.id == id }
        let pending = try await client.status().pending
        try console.output(
            LocalWrite(id: id, household: household, kind: .attachment, fields: ["of", "sha256", "mediaType", "size", "fileName"], pending: pending)
        ) {
            console.t(
                "cli.attach.added",
                [
                    "id": Format.short(id), "name": attachment?.fileName ?? url.lastPathComponent,
                    "size": AttachmentFile.sizeText(attachment?.size ?? 0, console.language),
                ])
        }
        console.note(console.t("cli.common.runDoorstepSyncToSend"))
    }
}

/// `doorstep attachments [list] HOUSEHOLD`, `doorstep attachments save ITEM --household H [--out PATH]`.
struct Attachments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.attachments.abstract"),
        subcommands: [List.self, Save.self],
        defaultSubcommand: List.self
    )

    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(abstract: Help.text("help.attachments.list.abstract"))

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.assist.theHouseholdIdOrIts"))
        var household: String

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let id = try await Resolve.household(household, in: client, console: console)
            let attachments = try await client.attachments(of: id)
            try console.output(attachments) {
                guard !attachments.isEmpty else { return console.t("cli.attachments.none") }
                var table = Table([
                    .init(title: console.t("cli.common.id")), .init(title: Strings.field("fileName", of: .attachment, console.language), maxWidth: 30),
                    .init(title: Strings.field("caption", of: .attachment, console.language), maxWidth: 30),
                    .init(title: Strings.field("mediaType", of: .attachment, console.language)),
                    .init(title: Strings.field("size", of: .attachment, console.language), numeric: true),
                    .init(title: console.t("cli.attachments.where")),
                ])
                for attachment in attachments {
                    let place = [
                        attachment.held ? console.t("cli.attachments.onLaptop") : nil, attachment.onServer ? console.t("cli.attachments.onServer") : nil,
                    ].compactMap { $0 }
                    table.add([
                        Format.short(attachment.id), attachment.fileName, attachment.caption ?? "",
                        attachment.mediaType?.label(console.language) ?? "", AttachmentFile.sizeText(attachment.size, console.language),
                        place.isEmpty ? console.t("cli.attachments.nowhereYet") : place.joined(separator: console.t("cli.common.listSeparator")),
                    ])
                }
                return table.render()
            }
        }
    }

    struct Save: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.attachments.save.abstract"),
            discussion: Help.text("help.attachments.save.discussion")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.attachments.item"))
        var item: String

        @Option(help: .text("help.assist.theHouseholdIdOrIts"))
        var household: String

        @Option(help: .text("help.attachments.out"))
        var out: String?

        func run() async throws {
            let (client, _) = try await global.enrolledClient()
            let console = global.console
            let householdID = try await Resolve.household(household, in: client, console: console)
            let attachments = try await client.attachments(of: householdID)
            let attachment =
                try (try? EntityID(item)).flatMap { id in attachments.first { $0.id == id } }
                ?? Resolve.unique(item, among: attachments, id: \.id.description, what: Strings.kind(.attachment, console.language), console: console)
            let file = try await client.attachmentFile(attachment.id, in: householdID)
            // The name a colleague gave is only a name: its last component, in this folder, never
            // over a file that is there (a path of the visitor's own choosing takes --out).
            let given = attachment.fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
            let safe = given.isEmpty || given.hasPrefix("~") || given.hasPrefix(".") ? nil : given
            let target = out ?? safe ?? "\(attachment.sha256.prefix(12)).\(attachment.mediaType?.fileExtension ?? "bin")"
            if out == nil, FileManager.default.fileExists(atPath: target) {
                throw console.failure("fileUnwritable", "cli.attachments.exists", ["path": target])
            }
            try Files.write(try Data(contentsOf: file), to: target, console: console)
            try console.output(["path": target, "sha256": attachment.sha256]) { console.t("cli.attachments.saved", ["path": target]) }
        }
    }
}
