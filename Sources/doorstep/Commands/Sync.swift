import ArgumentParser
import DoorstepClient
import DoorstepCore
import Foundation
import Synchronization

struct Sync: DoorstepCommand {
    static let configuration = CommandConfiguration(
        abstract: Help.text("help.sync.sendThisDeviceWorkTo"),
        discussion: Help.text("help.sync.pushesThePendingWorkIn")
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
                    "cli.sync.thisAddressReachesTheSame", ["absoluteString": "\(server.absoluteString)"]))
        }
        let status = try await client.status()
        let result = Result(summary: summary, pending: status.pending, quarantine: status.quarantined, server: server.absoluteString)
        try console.output(result) { render(summary, quarantine: status.quarantined) }
        if summary.clockSkew {
            console.note(console.t("cli.sync.warningTheServerFoundThis"))
        }
        if status.quarantined > 0 {
            console.note(
                console.t(
                    "cli.sync.changeWereRefusedByThe", ["quarantined": "\(status.quarantined)"]))
            throw ExitCode(ExitStatus.quarantineNotEmpty)
        }
    }

    private func render(_ summary: SyncSummary, quarantine: Int) -> String {
        let console = global.console
        var facts = FactList()
        let seconds = String(format: "%.1f", summary.seconds)
        facts.add(
            console.t("cli.sync.pushed"),
            console.t(
                "cli.sync.andAlreadyApplied", ["alreadyApplied": "\(summary.alreadyApplied)", "pushed": "\(summary.pushed)"]))
        facts.add(
            console.t("cli.sync.pulled"),
            console.t(
                "cli.sync.householdRemoved", ["pulledHouseholds": "\(summary.pulledHouseholds)", "removedHouseholds": "\(summary.removedHouseholds)"]))
        facts.add(console.t("cli.common.conflicts"), console.t("cli.sync.waitingForTheOfficeReview", ["conflicts": "\(summary.conflicts)"]))
        facts.add(
            console.t("cli.sync.quarantined"),
            console.t(
                "cli.sync.thisTimeInQuarantine", ["quarantine": "\(quarantine)", "quarantined": "\(summary.quarantined)"]))
        if let sent = summary.filesSent, let waiting = summary.filesWaiting {
            facts.add(console.t("cli.sync.files"), console.t("cli.sync.filesSent", ["sent": "\(sent)", "waiting": "\(waiting)"]))
        }
        if let relayed = summary.relayed, relayed > 0 {
            facts.add(console.t("cli.sync.relayedLabel"), console.t("cli.sync.relayedCount", ["relayed": "\(relayed)"]))
        }
        if let sent = summary.sentAgain, sent > 0 {
            facts.add(console.t("cli.sync.sentAgain"), console.t("cli.sync.sentAgainCount", ["sent": "\(sent)"]))
        }
        if let lost = summary.declaredLost, lost > 0 {
            facts.add(console.t("cli.sync.lostWork"), console.t("cli.sync.declaredLost", ["lost": "\(lost)"]))
        }
        facts.add(console.t("cli.sync.duration"), console.t("cli.sync.seconds", ["seconds": "\(seconds)"]))
        return console.t("cli.sync.syncComplete") + "\n" + facts.render(indent: "  ")
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
            text =
                (drawBar ? console.t("cli.sync.push") + " " + bar(progress.done, total) + " " + counts : console.t("cli.sync.pushing") + counts)
                + bytes(progress)
        case .pulling:
            if let total = progress.total {
                // The server's estimate (protocol 1.3), the bytes, and the time left at the pace so far.
                var line = console.t("cli.sync.pullingOf", ["done": "\(progress.done)", "total": "\(total)"]) + bytes(progress)
                if drawBar {
                    // By bytes when known: the bar moves while a page travels on a slow link.
                    let filled = progress.expectedBytes.map { expected in (Int(min(progress.bytes, expected)), Int(max(1, expected))) }
                    line = (filled.map { bar($0.0, $0.1) } ?? bar(progress.done, total)) + " " + line
                }
                if let left = progress.secondsLeft, left >= 1 {
                    line += console.t("cli.sync.timeLeft", ["seconds": "\(Int(left.rounded(.up)))"])
                }
                text = line
            } else {
                text = console.t("cli.sync.pullingHousehold", ["done": "\(progress.done)"]) + bytes(progress)
            }
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

    /// The bytes moved, and of how many when an estimate is known ("", before any).
    private func bytes(_ progress: SyncProgress) -> String {
        guard progress.bytes > 0 else { return "" }
        if let expected = progress.expectedBytes, expected >= progress.bytes {
            return console.t("cli.sync.bytesOf", ["done": Self.size(progress.bytes), "total": Self.size(expected)])
        }
        return console.t("cli.sync.bytesDone", ["done": Self.size(progress.bytes)])
    }

    /// A byte count as people read it: 812 B, 35 KB, 1.4 MB.
    static func size(_ bytes: Int64) -> String {
        switch bytes {
        case ..<1000: "\(bytes) B"
        case ..<1_000_000: "\(bytes / 1000) KB"
        default: String(format: "%.1f MB", Double(bytes) / 1_000_000)
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
        abstract: Help.text("help.sync.thisDeviceAtAGlance"),
        discussion: Help.text("help.sync.withJsonKeysDatabaseEnrollment")
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
        var kept: Int
        var lost: [LostWork]
    }

    func run() async throws {
        let client = try global.openClient()
        let status = try await client.status()
        let console = global.console
        let format = global.format
        let result = Result(
            database: global.databasePath, enrollment: status.enrollment, pending: status.pending,
            awaitingConfirmation: status.awaitingConfirmation, quarantined: status.quarantined,
            households: status.households, lastSyncAt: status.lastSyncAt, lastSyncError: status.lastSyncError, kept: status.kept,
            lost: status.lost)
        try console.output(result) {
            var facts = FactList()
            facts.add(console.t("cli.sync.database"), global.databasePath)
            if let enrollment = status.enrollment {
                facts.add(
                    console.t("cli.sync.enrollment"),
                    "\(enrollment.role.label(console.language)) · "
                        + (enrollment.district.map(format.district) ?? console.t("cli.common.everyDistrict")) + " · \(enrollment.deviceName)")
                facts.add(console.t("cli.sync.device"), enrollment.device.rawValue)
                facts.add(console.t("cli.common.server"), enrollment.server.absoluteString)
                if let revokedAt = enrollment.revokedAt {
                    facts.add(
                        console.t("cli.sync.access"),
                        console.t("cli.sync.revokedThisDeviceCanNo", ["revokedAt": "\(format.time(revokedAt))"]))
                    facts.add(
                        console.t("cli.sync.unsyncedWork"),
                        enrollment.revokedBundle.map {
                            console.t("cli.sync.savedEncryptedToGiveIt", ["value": "\($0)"])
                        } ?? console.t("cli.sync.none"))
                }
            } else {
                facts.add(console.t("cli.sync.enrollment"), console.t("cli.sync.notEnrolledRunDoorstepEnroll"))
            }
            facts.add(console.t("cli.sync.pending"), console.t("cli.sync.change", ["pending": "\(status.pending)"]))
            facts.add(
                console.t("cli.sync.awaitingConfirmation"),
                console.t(
                    "cli.sync.deliveredConfirmedAtTheNext", ["awaitingConfirmation": "\(status.awaitingConfirmation)"]))
            facts.add(console.t("cli.sync.quarantine"), console.t("cli.sync.nQuarantined", ["quarantined": "\(status.quarantined)"]))
            facts.add(console.t("cli.sync.households"), console.t("cli.sync.nHouseholds", ["households": "\(status.households)"]))
            facts.add(console.t("cli.sync.kept"), console.t("cli.sync.keptCount", ["kept": "\(status.kept)"]))
            for gap in status.lost {
                facts.add(
                    console.t("cli.sync.lostWork"),
                    console.t("cli.sync.lostRange", ["from": "\(gap.from)", "through": "\(gap.through)", "at": format.time(gap.at)]))
            }
            var last = status.lastSyncAt.map(format.time) ?? console.t("cli.sync.never")
            if let error = status.lastSyncError { last += console.t("cli.sync.lastAttemptFailed", ["error": "\(error)"]) }
            facts.add(console.t("cli.common.lastSync"), last)
            return facts.render()
        }
    }
}
