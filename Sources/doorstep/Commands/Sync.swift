import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation
import Synchronization

struct Sync: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send this device's work to the server and fetch the district's changes.",
        discussion: """
            Pushes the pending work in batches, then pulls until caught up; safe to interrupt (the next \
            sync resumes). A progress bar is drawn on a terminal, plain lines otherwise (on stderr), \
            then a summary: pushed, pulled, conflicts, quarantined, duration.

            Exit codes: 3 when the server could not be reached (the work is kept on this device: sync \
            again later), 4 when the quarantine is not empty afterwards (see `doorstep quarantine \
            list`), 5 when this device's access was revoked (unsynced work is saved to a bundle file \
            beside the database, then the district's data is wiped).

            With --server, the enrolled server is reached at another address this time (a tunnel, a new \
            name): the address must answer as the same server (its key id), else nothing is sent \
            (serverMismatch). When the server has moved for good, `doorstep server set URL` remembers \
            the new address.

            With --json: keys summary (pushed, alreadyApplied, conflicts, quarantined, pulledHouseholds, \
            removedHouseholds, clockSkew, seconds), pending, quarantine (items in quarantine now), server.

            Example:
              doorstep sync
            """
    )

    @OptionGroup var global: GlobalOptions

    /// The `--json` answer.
    struct Result: Encodable {
        var summary: SyncSummary
        var pending: Int
        var quarantine: Int
        var server: String
    }

    func run() async throws {
        let console = global.console
        let (client, enrollment) = try await global.enrolledClient()
        let server = try global.server.map(global.serverURL) ?? enrollment.server
        let progress = SyncProgressView(console: console, drawBar: Console.stderrIsTerminal)
        let summary: SyncSummary
        do {
            summary = try await client.sync(via: server) { progress.update($0) }
            progress.finish()
        } catch {
            progress.finish()
            throw error
        }
        if server != enrollment.server {
            console.note(
                console.t(
                    "此地址与登记时的服务器相同。以后都用这个地址：doorstep server set \(server.absoluteString)",
                    "This address reaches the same server. To use it from now on: doorstep server set \(server.absoluteString)"))
        }
        let status = try await client.status()
        let result = Result(summary: summary, pending: status.pending, quarantine: status.quarantined, server: server.absoluteString)
        try console.output(result) { render(summary, quarantine: status.quarantined) }
        if summary.clockSkew {
            console.note(console.t("注意：服务器认为本机时钟过快，请校准系统时间。", "Warning: the server found this computer's clock too far ahead; please set the time."))
        }
        if status.quarantined > 0 {
            console.note(
                console.t(
                    "有 \(status.quarantined) 条修改被服务器拒绝，已放入隔离区：运行 doorstep quarantine list 查看并修正。",
                    "\(status.quarantined) change(s) were refused by the server and are in quarantine: run doorstep quarantine list."))
            throw ExitCode(ExitStatus.quarantineNotEmpty)
        }
    }

    private func render(_ summary: SyncSummary, quarantine: Int) -> String {
        let console = global.console
        var facts = FactList()
        let seconds = String(format: "%.1f", summary.seconds)
        facts.add(
            console.t("推送", "pushed"),
            console.t(
                "\(summary.pushed) 条（另有 \(summary.alreadyApplied) 条此前已送达）",
                "\(summary.pushed) (and \(summary.alreadyApplied) already applied)"))
        facts.add(
            console.t("拉取", "pulled"),
            console.t(
                "\(summary.pulledHouseholds) 户（移出 \(summary.removedHouseholds) 户）",
                "\(summary.pulledHouseholds) household(s) (\(summary.removedHouseholds) removed)"))
        facts.add(console.t("冲突", "conflicts"), console.t("\(summary.conflicts) 条（等待旗区工会审核）", "\(summary.conflicts) (waiting for the office's review)"))
        facts.add(
            console.t("隔离", "quarantined"),
            console.t(
                "本次 \(summary.quarantined) 条，隔离区共 \(quarantine) 条",
                "\(summary.quarantined) this time, \(quarantine) in quarantine"))
        facts.add(console.t("用时", "duration"), console.t("\(seconds) 秒", "\(seconds) s"))
        return console.t("同步完成。", "Sync complete.") + "\n" + facts.render(indent: "  ")
    }
}

/// Sync progress on stderr: a bar redrawn in place on a terminal, one line per step otherwise.
final class SyncProgressView: Sendable {
    private let console: Console
    private let drawBar: Bool
    /// The text last shown, and whether a bar is on the line.
    private let shown = Mutex((last: "", drawn: false))

    init(console: Console, drawBar: Bool) {
        self.console = console
        self.drawBar = drawBar
    }

    func update(_ progress: SyncProgress) {
        shown.withLock { shown in show(progress, &shown) }
    }

    private func show(_ progress: SyncProgress, _ shown: inout (last: String, drawn: Bool)) {
        let text: String
        switch progress.phase {
        case .pushing:
            let total = progress.total ?? 0
            let counts = "\(progress.done)/\(total)"
            text = drawBar ? console.t("推送", "push") + " " + bar(progress.done, total) + " " + counts : console.t("推送 ", "pushing ") + counts
        case .pulling:
            text = console.t("拉取 \(progress.done) 户", "pulling: \(progress.done) household(s)")
        case .done:
            return
        }
        guard text != shown.last else { return }
        shown.last = text
        if drawBar {
            Console.write("\r\u{1B}[K" + text, to: .standardError)
            shown.drawn = true
        } else {
            Console.write(text + "\n", to: .standardError)
        }
    }

    /// Ends the bar's line.
    func finish() {
        shown.withLock { shown in
            if shown.drawn { Console.write("\r\u{1B}[K", to: .standardError) }
            shown.drawn = false
        }
    }

    private func bar(_ done: Int, _ total: Int) -> String {
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        return "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "]"
    }
}

struct Status: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: "This device at a glance: enrollment, server, pending work, quarantine, last sync.",
        discussion: """
            With --json: keys database, enrollment (device, server, role, district, deviceName; absent \
            before enrollment), pending, awaitingConfirmation, quarantined, households, lastSyncAt, \
            lastSyncError.

            Example:
              doorstep status
            """
    )

    @OptionGroup var global: GlobalOptions

    /// The `--json` answer: the library's `ClientStatus` and the database's path.
    struct Result: Encodable {
        var database: String
        var enrollment: Enrollment?
        var pending: Int
        var awaitingConfirmation: Int
        var quarantined: Int
        var households: Int
        var lastSyncAt: String?
        var lastSyncError: String?
    }

    func run() async throws {
        let client = try global.openClient()
        let status = try await client.status()
        let console = global.console
        let format = global.format
        let result = Result(
            database: global.databasePath, enrollment: status.enrollment, pending: status.pending,
            awaitingConfirmation: status.awaitingConfirmation, quarantined: status.quarantined,
            households: status.households, lastSyncAt: status.lastSyncAt, lastSyncError: status.lastSyncError)
        try console.output(result) {
            var facts = FactList()
            facts.add(console.t("数据库", "database"), global.databasePath)
            if let enrollment = status.enrollment {
                facts.add(
                    console.t("登记", "enrollment"),
                    "\(enrollment.role.label(console.language)) · "
                        + (enrollment.district.map(format.district) ?? console.t("全市", "every district")) + " · \(enrollment.deviceName)")
                facts.add(console.t("设备编号", "device"), enrollment.device.rawValue)
                facts.add(console.t("服务器", "server"), enrollment.server.absoluteString)
                if let revokedAt = enrollment.revokedAt {
                    facts.add(
                        console.t("访问权限", "access"),
                        console.t("已撤销（\(format.time(revokedAt))），本机不能再同步", "revoked (\(format.time(revokedAt))); this device can no longer sync"))
                    facts.add(
                        console.t("未同步的工作", "unsynced work"),
                        enrollment.revokedBundle.map {
                            console.t("已加密保存到 \($0)，请交给旗区工会上传审核", "saved, encrypted, to \($0): give it to the district office to upload")
                        } ?? console.t("无", "none"))
                }
            } else {
                facts.add(console.t("登记", "enrollment"), console.t("未登记（运行 doorstep enroll）", "not enrolled (run doorstep enroll)"))
            }
            facts.add(console.t("待同步", "pending"), console.t("\(status.pending) 条修改", "\(status.pending) change(s)"))
            facts.add(
                console.t("待确认", "awaiting confirmation"),
                console.t(
                    "\(status.awaitingConfirmation) 条（已送达，下次同步确认）",
                    "\(status.awaitingConfirmation) (delivered, confirmed at the next sync)"))
            facts.add(console.t("隔离区", "quarantine"), console.t("\(status.quarantined) 条", "\(status.quarantined)"))
            facts.add(console.t("本机档案", "households"), console.t("\(status.households) 户", "\(status.households)"))
            var last = status.lastSyncAt.map(format.time) ?? console.t("从未同步", "never")
            if let error = status.lastSyncError { last += console.t("（上次失败：\(error)）", " (last attempt failed: \(error))") }
            facts.add(console.t("上次同步", "last sync"), last)
            return facts.render()
        }
    }
}
