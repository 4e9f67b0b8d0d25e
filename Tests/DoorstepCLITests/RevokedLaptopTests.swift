import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// A laptop revoked mid-week, as its office lives it: the laptop says where its work went, the
/// office uploads the bundle, reads every held change, accepts one and sets the other aside.
@Suite(.serialized)
struct RevokedLaptopTests {
    @Test func revokedLaptop_bundleUploaded_heldChangesReadAcceptedAndDismissed_theQueueAndReportClear() async throws {
        try await LiveServer.run { server in
            let laptop = try await VisitorCommandTests.enrolled(server)
            let office = CLI()
            #expect(try await office.run("enroll", "--server", server.url.absoluteString, "--code", try await server.code(role: .office)).status == 0)
            let household = try await VisitorCommandTests.fileHousehold(laptop, 21)
            #expect(try await laptop.run("sync").status == 0)
            // Offline work the office has not seen: a visit and a new phone.
            #expect(
                try await laptop.run(
                    "visit", "record", household, "--date", "2020-04-27", "--conclusion", "eligible", "--visitor", "张三",
                    "--observed-income-yuan", "2600", "--notes", "收入证明已核对"
                ).status == 0)
            #expect(try await laptop.run("household", "edit", household, "--phone", "13912345678").status == 0)

            let device = try #require(
                try await office.run("admin", "devices", "list", "--json").json([DeviceRecord].self)
                    .first { $0.name == "张三的笔记本" })
            #expect(try await office.run("admin", "devices", "revoke", String(device.id.rawValue.prefix(8))).status == 0)

            // The laptop learns it at its next sync: exit 5, where the work is, what to do with it.
            let sync = try await laptop.run("sync")
            #expect(sync.status == 5 && sync.errorLines.count == 1, "\(sync)")
            #expect(sync.stderr.contains("已加密保存到") && sync.stderr.contains("交给旗区工会") && !sync.stderr.contains("access was revoked"), "\(sync)")
            let bundle = try #require(try FileManager.default.contentsOfDirectory(atPath: laptop.folder).first { $0.hasSuffix(".dsbundle") })
            let status = try await laptop.run("status")
            #expect(status.stdout.contains("已撤销") && status.stdout.contains(bundle), "\(status)")
            #expect(try await laptop.run("sync").status == 5, "a revoked laptop stays revoked")

            // The office uploads it: held, and readable in full.
            let upload = try await office.run("upload", laptop.folder + "/" + bundle)
            #expect(upload.status == 0 && upload.stdout.contains("留待审核"), "\(upload)")
            let queue = try await office.run("review", "list", "--json").json(ReviewQueue.self)
            let held = queue.rejections.filter { $0.mutation != nil }
            #expect(held.count == 2, "\(queue.rejections)")
            let list = try await office.run("review", "list")
            #expect(
                list.stdout.contains("被撤销设备留待审核的修改 (2)") && list.stdout.contains("收入证明已核对")
                    && list.stdout.contains("13912345678") && list.stdout.contains("2600.00 元"), "\(list)")
            let visit = try #require(held.first { $0.kind == .visit })
            let phone = try #require(held.first { $0.kind == .household })
            let key = { (rejection: ReviewQueue.Rejection) in "\(rejection.device.rawValue.prefix(8)):\(rejection.seq)" }

            let accept = try await office.run("review", "accept", key(visit))
            #expect(accept.status == 0, "\(accept)")
            let noReason = try await office.run("review", "dismiss", key(phone))
            #expect(noReason.status == 64, "--reason is required: \(noReason)")
            let dismiss = try await office.run("review", "dismiss", key(phone), "--reason", "电话已由办公室核实")
            #expect(dismiss.status == 0, "\(dismiss)")

            #expect(try await office.run("review", "list", "--json").json(ReviewQueue.self).rejections.isEmpty)
            let shown = try await server.admin.household(try EntityID(household))
            #expect(shown.entities.contains { $0.kind == .visit && $0["notes"] == "收入证明已核对" && $0["observedIncomeFen"] == .int(260_000) })
            #expect(shown.household["phone"] != "13912345678")
            let history = try await server.admin.history(try EntityID(household))
            #expect(history.contains { $0.origin?.device == device.id }, "the accepted visit names its laptop in the history")

            let report = try await office.run("report")
            #expect(report.status == 0 && report.stdout.contains("已撤销"), "\(report)")
            let json = try await office.run("report", "--json").json(CampaignReport.self)
            #expect(json.total.review.rejections == 0)
            #expect(json.total.devices.first { $0.id == device.id }?.revokedAt != nil)
        }
    }
}
