// FieldApp: DoorstepClient used the way a desktop application uses it.
//
// A real app would draw windows; this one prints. The calls are the same: open the local
// database, enroll once with the office's code, list the households (offline), record a visit
// (offline), and sync at day end while the household list is observed, so that the screen follows
// the sync as it happens. See README.md beside this file.

import DoorstepClient
import Foundation
import GRDB

@main
struct FieldApp {
    static func main() async {
        let options: Options
        do {
            options = try Options(CommandLine.arguments.dropFirst())
        } catch {
            fail("\(error)\n\n\(Options.usage)", status: 64)
        }
        do {
            try await run(options)
        } catch let error as DoorstepError where error.code == .serverUnreachable {
            // Offline is normal for a field laptop: the work stays in the database for the next sync.
            fail("the server could not be reached (\(error.message)); the work stays on this device", status: 3)
        } catch let error as DoorstepError {
            fail("[\(error.code.rawValue)] \(error.message)", status: 1)
        } catch {
            fail("\(error)", status: 1)
        }
    }

    static func run(_ options: Options) async throws {
        // 1. Open (or create) the local database. Everything below works offline except enroll and sync.
        var configuration = ClientConfiguration(databasePath: options.database)
        if let server = options.server {
            // The enrolled server, reached at another address this time (a tunnel, a new port).
            configuration.transport = { _ in URLSessionTransport(baseURL: server) }
        }
        let client = try FieldClient(configuration: configuration)

        // 2. Enroll once, with the one-time code from the office.
        if let code = options.code {
            guard let server = options.server else { throw Usage("--code needs --server URL") }
            let enrollment = try await client.enroll(server: server, code: code, deviceName: options.deviceName)
            say(
                "enrolled as \(enrollment.role.englishLabel) (\(enrollment.role.chineseLabel)) of district \(enrollment.district ?? "-"), device \(enrollment.device)"
            )
        }
        guard let enrollment = try await client.enrollment else {
            throw Usage("\(options.database) is not enrolled yet: give --server URL --code CODE once")
        }
        say(
            "device \(enrollment.deviceName) · \(enrollment.role.englishLabel) · district \(enrollment.district ?? "all") · server \(enrollment.server.absoluteString)"
        )

        // 3. List: what the app's main window shows, from the local copy (no network needed).
        if options.list {
            let status = try await client.status()
            let households = try await client.households(matching: HouseholdQuery(limit: options.limit))
            say(
                "\(status.households) household(s) on this device, \(status.pending) change(s) waiting for a sync"
                    + (households.isEmpty ? " (a first sync downloads the district's)" : "; the first \(households.count) by name:"))
            for household in households {
                var marks: [String] = []
                if household.conflicts > 0 { marks.append("\(household.conflicts) open conflict(s)") }
                if household.hasLocalChanges { marks.append("unsynced changes") }
                let state = household.status.map { "\($0.chineseLabel) \($0.rawValue)" } ?? "-"
                say(
                    "  \(household.id.description.prefix(8))  \(household.headName)  \(household.nationalIdMasked)  \(state)"
                        + (marks.isEmpty ? "" : "  [" + marks.joined(separator: ", ") + "]"))
            }
        }

        // 4. Record a visit (an immutable event) to a household named by the first characters of its id.
        if let prefix = options.recordVisit {
            let candidates = try await client.households(matching: HouseholdQuery(limit: 100_000)).filter { $0.id.description.hasPrefix(prefix.lowercased()) }
            guard candidates.count == 1, let household = candidates.first else {
                throw Usage("\(prefix) names \(candidates.count) households on this device; give more of the id")
            }
            let zone = TimeZone(identifier: configuration.city.district(household.district)?.timeZone ?? "Asia/Shanghai") ?? .current
            let visit = try await client.recordVisit(
                to: household.id,
                [
                    "visitedAt": .string(Instant.format(Date(), in: zone)),
                    "visitor": .string(enrollment.deviceName),
                    "mode": .string(VisitMode.atHome.rawValue),
                    "verified": .array([.string(VerifiedFact.income.rawValue), .string(VerifiedFact.members.rawValue)]),
                    "conclusion": .string(VisitConclusion.eligible.rawValue),
                    "notes": .string("FieldApp sample visit (示例)"),
                ])
            say("visit \(visit.description.prefix(8)) recorded for \(household.headName); \(try await client.status().pending) change(s) now wait for a sync")
        }

        // 5. Sync, with a progress callback, while the list is observed as a window would observe it.
        if options.sync {
            let shown = ShownList()
            let observation = Task {
                for try await households in client.observeHouseholds(HouseholdQuery(limit: 100_000)) {
                    let line = Self.describe(households)
                    if await shown.replace(with: line) { say("  [list] " + line) }
                }
            }
            defer { observation.cancel() }
            let summary = try await client.sync { progress in
                switch progress.phase {
                case .pushing: say("  [sync] pushing \(progress.done)/\(progress.total ?? 0)")
                case .pulling: say("  [sync] pulled \(progress.done) household(s) so far")
                case .done: say("  [sync] done")
                }
            }
            // The observation delivers asynchronously: give it up to two seconds to show the list as
            // the sync left it (a window would simply redraw when it does).
            let now = Self.describe(try await client.households(matching: HouseholdQuery(limit: 100_000)))
            var waited = 0
            while await shown.line != now, waited < 40 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            if await shown.line != now {
                say("  note: the list observation has not reported the sync's changes; the list now: " + now)
            }
            say(
                "sync done: pushed \(summary.pushed), already applied \(summary.alreadyApplied), conflicts \(summary.conflicts), "
                    + "quarantined \(summary.quarantined), pulled \(summary.pulledHouseholds) household(s) in \(String(format: "%.1f", summary.seconds)) s")
            if summary.clockSkew { say("warning: the server found this computer's clock too far ahead") }
        }
    }

    /// What the observed list shows, in one line.
    static func describe(_ households: [HouseholdSummary]) -> String {
        let unsynced = households.filter(\.hasLocalChanges).count
        let conflicted = households.filter { $0.conflicts > 0 }.count
        return "\(households.count) household(s), \(unsynced) with unsynced changes, \(conflicted) with open conflicts"
    }

    /// One line on stdout, flushed at once (lines from the observation and the sync interleave).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data(("FieldApp: " + message + "\n").utf8))
        exit(status)
    }
}

/// The line the observed list shows last (what a window would have drawn).
actor ShownList {
    private(set) var line: String?

    /// Keeps the line; whether it differs from the one shown before.
    func replace(with line: String) -> Bool {
        defer { self.line = line }
        return line != self.line
    }
}

struct Usage: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The command line: flags only, in any order; the actions run in the order enroll, list, record, sync.
struct Options {
    var database = ""
    var server: URL?
    var code: String?
    var deviceName = ProcessInfo.processInfo.hostName
    var list = false
    var recordVisit: String?
    var sync = false
    var limit = 20

    static let usage = """
        usage: FieldApp --db PATH [--server URL] [--code CODE] [--name NAME] [--list [--limit N]] [--record-visit ID] [--sync]
          --db PATH          the local database (created if missing)
          --server URL       the server: for --code, or the enrolled server at another address for --sync
          --code CODE        enroll this database with the office's one-time code (once)
          --name NAME        the device's name when enrolling (default: the computer's name)
          --list             list the households on this device (offline)
          --limit N          list at most N households (default 20)
          --record-visit ID  record a home visit to the household whose id starts with ID (offline)
          --sync             sync with the server, observing the list and showing progress
        With no action, --list and --sync.
        """

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst(), !next.hasPrefix("--") else { throw Usage("\(flag) needs a value") }
            return next
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--db": database = try value(flag)
            case "--server":
                let text = try value(flag)
                guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw Usage("--server takes a URL such as http://127.0.0.1:8080") }
                server = url
            case "--code": code = try value(flag)
            case "--name": deviceName = try value(flag)
            case "--list": list = true
            case "--limit":
                guard let number = Int(try value(flag)), number > 0 else { throw Usage("--limit takes a positive number") }
                limit = number
            case "--record-visit": recordVisit = try value(flag)
            case "--sync": sync = true
            case "-h", "--help":
                print(Self.usage)
                exit(0)
            default: throw Usage("unknown option \(flag)")
            }
        }
        guard !database.isEmpty else { throw Usage("--db PATH is required") }
        if !list && recordVisit == nil && !sync {
            list = true
            sync = true
        }
    }
}
