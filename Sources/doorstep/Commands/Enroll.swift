import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation

struct Enroll: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.enroll.enrollThisDeviceWithA"),
        discussion: Help.text("help.enroll.makesThisDeviceSigningKey")
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: .text("help.enroll.theOneTimeEnrollmentCode"))
    var code: String

    @Option(help: .text("help.enroll.aNameForThisDevice"))
    var name: String?

    func run() async throws {
        guard let server = global.server else {
            throw Usage.error("cli.enroll.enrollNeedsServerUrlThe")
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
            console.t("cli.enroll.thisDeviceIsEnrolled") + "\n" + EnrollmentView.facts(enrollment, global.format).render(indent: "  ")
        }
        console.note(console.t("cli.enroll.nextRunDoorstepSyncTo"))
    }
}

/// An enrollment as label-value lines.
enum EnrollmentView {
    static func facts(_ enrollment: Enrollment, _ format: Format) -> FactList {
        var facts = FactList()
        facts.add(format.t("cli.common.device"), "\(enrollment.deviceName) (\(enrollment.device))")
        facts.add(format.t("cli.common.role"), enrollment.role.label(format.language))
        facts.add(format.t("cli.common.district"), enrollment.district.map(format.district) ?? format.t("cli.common.everyDistrict"))
        facts.add(format.t("cli.common.server"), enrollment.server.absoluteString)
        return facts
    }
}
