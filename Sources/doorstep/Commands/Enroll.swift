import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Enroll: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enroll this device with a one-time code from the office.",
        discussion: """
            Makes this device's signing key, registers it with the server (--server, required here) and \
            keeps the server's address and the device's token in the local database (--db). A visitor's \
            code binds the device to one district; an office code makes it an office device, which can \
            also run the office commands without --token.

            With --json: the enrollment, keys device, server, role, district, deviceName.

            Example:
              doorstep enroll --server https://doorstep.example.cn --code 7KQ2-9M4P \\
                --name "张三的笔记本"
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The one-time enrollment code from the office.")
    var code: String

    @Option(help: "A name for this device, shown to the office (default: the computer's name).")
    var name: String?

    func run() async throws {
        guard let server = global.server else {
            throw Usage.error("登记需要 --server 服务器地址（办公室随登记码一起给出）", "enroll needs --server URL, the address the office gave with the code")
        }
        let url = try global.serverURL(server)
        let path = global.databasePath
        let folder = (path as NSString).deletingLastPathComponent
        let files = FileManager.default
        let created = (database: !files.fileExists(atPath: path), folder: !files.fileExists(atPath: folder))
        let deviceName = name ?? ProcessInfo.processInfo.hostName
        let enrollment: Enrollment
        do {
            enrollment = try await global.createClient()
                .enroll(server: url, code: code.trimmingCharacters(in: .whitespaces), deviceName: deviceName)
        } catch {
            // A failed enrollment leaves nothing behind that it made: no empty database, no folder.
            if created.database {
                for suffix in ["", "-wal", "-shm"] { try? files.removeItem(atPath: path + suffix) }
            }
            if created.folder { try? files.removeItem(atPath: folder) }
            throw error
        }
        let console = global.console
        try console.output(enrollment) {
            console.t("本设备已登记。", "This device is enrolled.") + "\n" + EnrollmentView.facts(enrollment, global.format).render(indent: "  ")
        }
        console.note(console.t("下一步：运行 doorstep sync 下载本旗区的档案。", "Next: run doorstep sync to download the district's files."))
    }
}

/// An enrollment as label-value lines.
enum EnrollmentView {
    static func facts(_ enrollment: Enrollment, _ format: Format) -> FactList {
        var facts = FactList()
        facts.add(format.t("设备", "device"), "\(enrollment.deviceName) (\(enrollment.device))")
        facts.add(format.t("角色", "role"), enrollment.role.label(format.language))
        facts.add(format.t("旗区", "district"), enrollment.district.map(format.district) ?? format.t("全市", "every district"))
        facts.add(format.t("服务器", "server"), enrollment.server.absoluteString)
        return facts
    }
}
