import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: Help.text("help.bundle.carryUnsyncedWorkOnA"),
        discussion: Help.text("help.bundle.exampleDoorstepBundleExportOut"),
        subcommands: [Export.self]
    )
}

extension BundleCommand {
    struct Export: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.bundle.writeTheUnsyncedWorkTo"),
            discussion: Help.text("help.bundle.onlyTheServerCanOpen")
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp(Help.text("help.bundle.theBundleFileToWrite"), valueName: "file"))
        var out: String

        @Flag(help: .text("help.bundle.replaceTheFileIfIt"))
        var force = false

        struct Result: Encodable {
            var file: String
            var written: Bool
            var mutations: Int
            /// Every file written: `file`, then the bundles of further proof documents beside it.
            var files: [String]
            var attachments: Int
        }

        func run() async throws {
            let console = global.console
            let path = (out as NSString).expandingTildeInPath
            if FileManager.default.fileExists(atPath: path) && !force {
                throw console.failure("fileExists", "cli.error.fileExists.existsUseForceTo", ["out": "\(out)"])
            }
            let (client, _) = try await global.enrolledClient()
            let export = try await client.exportBundles(to: path, allowEmpty: false)
            let result = Result(
                file: path, written: export != nil, mutations: export?.mutations ?? 0, files: export?.paths ?? [],
                attachments: export?.attachments ?? 0)
            try console.output(result) {
                guard let export else { return console.t("cli.bundle.nothingIsUnsyncedNoFile") }
                if export.attachments == 0 {
                    return console.t("cli.bundle.exportedUnsyncedChangeToEncrypted", ["out": "\(out)", "pending": "\(export.mutations)"])
                }
                return console.t(
                    "cli.bundle.exportedWithAttachments",
                    ["out": "\(out)", "pending": "\(export.mutations)", "attachments": "\(export.attachments)", "count": "\(export.paths.count)"])
            }
        }
    }
}

struct Upload: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.bundle.uploadBundleFilesByHand"),
        discussion: Help.text("help.bundle.needsAnOfficeTokenOr")
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: .text("help.bundle.bundleFiles"))
    var files: [String]

    struct Receipt: Encodable {
        var file: String
        var device: DeviceID?
        var batches = 0
        var applied = 0
        var alreadyApplied = 0
        var conflicts = 0
        var rejected = 0
        var heldForReview = false
        /// The proof documents the bundle carried, now held by the server (a bundle of version 2).
        var files: Int?
        var error: ErrorBody.Detail?
    }

    func validate() throws {
        if files.isEmpty { throw Usage.error("cli.bundle.nameAtLeastOneBundle") }
    }

    func run() async throws {
        let console = global.console
        let session = try await global.office()
        var receipts: [Receipt] = []
        for (index, file) in files.enumerated() {
            console.note(console.t("cli.bundle.uploading", ["count": "\(files.count)", "file": "\(file)", "index": "\(index + 1)"]))
            var receipt = Receipt(file: file)
            do {
                let result = try await session.client.upload(bundle: try Files.read(file, console: console))
                receipt.device = result.device
                receipt.batches = result.batches
                receipt.heldForReview = result.heldForReview
                receipt.files = result.files
                for outcome in result.receipts.flatMap(\.results).map(\.outcome) {
                    switch outcome {
                    case .applied: receipt.applied += 1
                    case .alreadyApplied: receipt.alreadyApplied += 1
                    case .conflict: receipt.applied += 1; receipt.conflicts += 1
                    case .rejected: receipt.rejected += 1
                    case .relayed: break  // a relay's answer, never the city's to a bundle
                    }
                }
                if !console.json { console.say(summary(receipt)) }
            } catch {
                let failure = error as? DoorstepError ?? DoorstepError(.init("failed"), String(describing: error))
                receipt.error = ErrorBody(failure).error
                console.note(console.errorLine(failure))
                if failure.code == .serverUnreachable {
                    // The server is out of reach: the other files would only wait for it too.
                    receipts.append(receipt)
                    for later in files.dropFirst(index + 1) { receipts.append(Receipt(file: later, error: receipt.error)) }
                    break
                }
            }
            receipts.append(receipt)
        }
        if console.json { try console.emit(receipts) }
        let failures = receipts.compactMap { $0.error.map { DoorstepError($0.code, $0.message) } }
        if let worst = failures.first(where: { $0.code == .serverUnreachable }) ?? failures.first {
            throw ExitCode(ExitStatus.code(for: worst))
        }
    }

    private func summary(_ receipt: Receipt) -> String {
        let console = global.console
        let device = receipt.device.map(Format.short) ?? "-"
        guard let files = receipt.files, files > 0 else { return changes(receipt, device: device) }
        if receipt.batches == 0 { return console.t("cli.bundle.filesOnly", ["file": receipt.file, "device": device, "files": "\(files)"]) }
        return changes(receipt, device: device) + " " + console.t("cli.bundle.filesHeld", ["files": "\(files)"])
    }

    private func changes(_ receipt: Receipt, device: String) -> String {
        let console = global.console
        if receipt.heldForReview {
            return console.t(
                "cli.bundle.heldForReview",
                ["file": receipt.file, "device": device, "count": "\(receipt.rejected + receipt.applied + receipt.alreadyApplied)"])
        }
        if receipt.applied == 0 && receipt.rejected == 0 && receipt.alreadyApplied > 0 {
            return console.t(
                "cli.bundle.uploadedBeforeAllAlreadyApplied", ["alreadyApplied": "\(receipt.alreadyApplied)", "file": "\(receipt.file)"])
        }
        return console.t(
            "cli.bundle.deviceBatchEsAppliedIn",
            [
                "alreadyApplied": "\(receipt.alreadyApplied)", "applied": "\(receipt.applied)", "batches": "\(receipt.batches)",
                "conflicts": "\(receipt.conflicts)", "device": "\(device)", "file": "\(receipt.file)", "rejected": "\(receipt.rejected)",
            ])
    }
}
