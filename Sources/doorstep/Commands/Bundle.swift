import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Carry unsynced work on a USB stick when there is no network.",
        discussion: """
            Example:
              doorstep bundle export --out /media/usb/zhangsan-2020-04-12.dsbundle
            """,
        subcommands: [Export.self]
    )
}

extension BundleCommand {
    struct Export: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the unsynced work to an encrypted, signed bundle file.",
            discussion: """
                Only the server can open the file; the office uploads it with `doorstep upload`. The work \
                stays pending on this device until a sync confirms it (then answered "already applied"). \
                With --json: keys file, written (false when there was nothing to export), mutations.

                Example:
                  doorstep bundle export --out /media/usb/zhangsan-2020-04-12.dsbundle
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The bundle file to write.", valueName: "file"))
        var out: String

        @Flag(help: "Replace the file if it exists.")
        var force = false

        struct Result: Encodable {
            var file: String
            var written: Bool
            var mutations: Int
        }

        func run() async throws {
            let console = global.console
            let path = (out as NSString).expandingTildeInPath
            if FileManager.default.fileExists(atPath: path) && !force {
                throw console.failure("fileExists", "文件 \(out) 已存在（用 --force 覆盖）", "\(out) exists (use --force to replace it)")
            }
            let (client, _) = try await global.enrolledClient()
            let pending = try await client.status().pending
            let written = try await client.exportBundle(to: path, allowEmpty: false)
            try console.output(Result(file: path, written: written, mutations: written ? pending : 0)) {
                written
                    ? console.t(
                        "已将 \(pending) 条未同步的修改导出到 \(out)（已加密）。交给旗区工会用 doorstep upload 上传。",
                        "Exported \(pending) unsynced change(s) to \(out) (encrypted). The office uploads it with doorstep upload.")
                    : console.t("没有未同步的修改，未写入文件。", "Nothing is unsynced; no file written.")
            }
        }
    }
}

struct Upload: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload bundle files by hand (office): each is applied like a sync.",
        discussion: """
            Needs an office token (or an office device). Uploading the same bundle twice is harmless: \
            the server answers "already applied". A revoked device's bundle is held for review. \
            One receipt summary per file; the exit code is that of a failed file (the others are still \
            uploaded): 3 when the server could not be reached (no file after it is tried), else as the \
            failure's code says (see `doorstep --help`). \
            With --json: an array, keys file, device, batches, applied, alreadyApplied, conflicts, \
            rejected, heldForReview, error (code and message, when the file failed).

            Example:
              doorstep upload /media/usb/*.dsbundle
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Bundle files.")
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
        var error: ErrorBody.Detail?
    }

    func validate() throws {
        if files.isEmpty { throw Usage.error("请至少给出一个数据包文件", "name at least one bundle file") }
    }

    func run() async throws {
        let console = global.console
        let session = try await global.office()
        var receipts: [Receipt] = []
        for (index, file) in files.enumerated() {
            console.note(console.t("上传 \(index + 1)/\(files.count)：\(file)", "uploading \(index + 1)/\(files.count): \(file)"))
            var receipt = Receipt(file: file)
            do {
                let result = try await session.client.upload(bundle: try Files.read(file, console: console))
                receipt.device = result.device
                receipt.batches = result.batches
                receipt.heldForReview = result.heldForReview
                for outcome in result.receipts.flatMap(\.results).map(\.outcome) {
                    switch outcome {
                    case .applied: receipt.applied += 1
                    case .alreadyApplied: receipt.alreadyApplied += 1
                    case .conflict: receipt.applied += 1; receipt.conflicts += 1
                    case .rejected: receipt.rejected += 1
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
        if receipt.heldForReview {
            return console.t(
                "\(receipt.file)：设备 \(device) 已被撤销，\(receipt.rejected + receipt.applied + receipt.alreadyApplied) 条修改留待审核。",
                "\(receipt.file): device \(device) is revoked; its changes are held for review.")
        }
        if receipt.applied == 0 && receipt.rejected == 0 && receipt.alreadyApplied > 0 {
            return console.t(
                "\(receipt.file)：此前已上传过（\(receipt.alreadyApplied) 条均已应用），没有新的修改。",
                "\(receipt.file): uploaded before (all \(receipt.alreadyApplied) already applied); nothing new.")
        }
        return console.t(
            "\(receipt.file)：设备 \(device)，\(receipt.batches) 批；应用 \(receipt.applied) 条（冲突 \(receipt.conflicts)），此前已应用 \(receipt.alreadyApplied) 条，拒绝 \(receipt.rejected) 条。",
            "\(receipt.file): device \(device), \(receipt.batches) batch(es); applied \(receipt.applied) (\(receipt.conflicts) in conflict), already applied \(receipt.alreadyApplied), rejected \(receipt.rejected)."
        )
    }
}
