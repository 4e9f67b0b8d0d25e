import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// Proof documents from the CLI (protocol 1.4): attached offline, listed, sent at a sync after
/// the changes; a colleague's file saved under a name that cannot reach outside this folder.
@Suite(.serialized)
struct AttachCommandTests {
    static func jpeg(_ count: Int, fill: UInt8) -> Data { Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: fill, count: count)) }

    @Test func aPhotoAttachedFromTheCLI_syncs_andAColleaguesFileIsSavedUnderASafeName() async throws {
        try await LiveServer.run { server in
            let cli = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(cli, 60)
            let short = String(household.prefix(8))
            let photo = (cli.folder as NSString).appendingPathComponent("收入证明.jpg")
            try Self.jpeg(3_000, fill: 7).write(to: URL(fileURLWithPath: photo))
            let attached = try await cli.run("attach", photo, "--to", short, "--caption", "2020年3月收入证明")
            #expect(attached.status == 0 && attached.stdout.contains("已添加证明材料"), "\(attached)")
            let note = (cli.folder as NSString).appendingPathComponent("说明.jpg")
            try Data("这不是照片".utf8).write(to: URL(fileURLWithPath: note))
            let refused = try await cli.run("attach", note, "--to", short)
            #expect(refused.status != 0 && refused.stderr.contains("[unsupportedMediaType]") && refused.stderr.contains("JPEG"), "\(refused)")
            let listed = try await cli.run("attachments", short)
            #expect(listed.status == 0 && listed.stdout.contains("收入证明.jpg") && listed.stdout.contains("尚未上传") == false, "\(listed)")
            let synced = try await cli.run("sync", "--json")
            #expect(try synced.status == 0 && synced.syncJSON().summary.filesSent == 1, "\(synced)")

            // A colleague's photo, named to climb out of the folder it is saved in.
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            let folder = Scratch.root.appendingPathComponent("doorstep-cli-photo-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let hostile = folder.appendingPathComponent("x.jpg")
            let bytes = Self.jpeg(2_000, fill: 9)
            try bytes.write(to: hostile)
            let id = try await colleague.attach(fileAt: hostile, to: try EntityID(household), fileName: "../../.bashrc")
            _ = try await colleague.sync()
            #expect(try await cli.run("sync").status == 0)
            let saved = try await cli.run("attachments", "save", String(id.description.prefix(8)), "--household", short, "--json")
            #expect(saved.status == 0, "\(saved)")
            let path = try #require(try saved.json()["path"]?.stringValue)
            #expect(!path.contains("/") && !path.hasPrefix("."), "\(path)")
            #expect(FileManager.default.contents(atPath: (cli.folder as NSString).appendingPathComponent(path)) == bytes)
            #expect(!FileManager.default.fileExists(atPath: ((cli.folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".bashrc")))
            let again = try await cli.run("attachments", "save", String(id.description.prefix(8)), "--household", short)
            #expect(again.status != 0 && again.stderr.contains("已经存在"), "never over a file that is there: \(again)")
            let chosen = try await cli.run("attachments", "save", String(id.description.prefix(8)), "--household", short, "--out", "乙的照片.jpg")
            #expect(chosen.status == 0 && FileManager.default.contents(atPath: (cli.folder as NSString).appendingPathComponent("乙的照片.jpg")) == bytes)
        }
    }
}

extension AttachCommandTests {
    /// A photo that never went over the link leaves on a USB stick with the day's changes, and
    /// the office's upload says the server now holds it.
    @Test func aPhotoExportedInABundle_isUploadedByTheOffice_andTheNextSyncSendsNoByte() async throws {
        try await LiveServer.run { server in
            let cli = try await VisitorCommandTests.enrolled(server)
            let household = try await VisitorCommandTests.fileHousehold(cli, 61)
            let short = String(household.prefix(8))
            let photo = (cli.folder as NSString).appendingPathComponent("残疾证.jpg")
            try Self.jpeg(5_000, fill: 9).write(to: URL(fileURLWithPath: photo))
            #expect(try await cli.run("attach", photo, "--to", short).status == 0)
            let file = cli.folder + "/usb.dsbundle"
            let export = try await cli.run("bundle", "export", "--out", file)
            #expect(export.status == 0 && export.stdout.contains("1 份证明材料") && export.stdout.contains("doorstep upload"), "\(export)")
            let json = try await cli.run("bundle", "export", "--out", file, "--force", "--json")
            #expect(try json.json()["attachments"] == 1 && json.json()["files"] == [.string(file)], "\(json)")

            let office = CLI()
            let upload = try await office.run(["upload", file] + OfficeCommandTests.admin(server))
            #expect(upload.status == 0 && upload.stdout.contains("1 份证明材料已存到服务器"), "\(upload)")
            let again = try await office.run(["upload", file, "--json"] + OfficeCommandTests.admin(server))
            #expect(try again.json([[String: JSONValue]].self).first?["files"] == 1, "\(again)")
            let before = try await cli.run("attachments", short)
            #expect(before.status == 0 && !before.stdout.contains("服务器"), "the laptop does not know yet: \(before)")
            let synced = try await cli.run("sync", "--json")
            #expect(try synced.status == 0 && (synced.syncJSON().summary.filesSent ?? 0) == 0, "the server held it already: \(synced)")
            let listed = try await cli.run("attachments", short)
            #expect(listed.status == 0 && listed.stdout.contains("服务器"), "the list says the server holds it: \(listed)")
        }
    }
}
