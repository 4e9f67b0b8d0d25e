import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Sync

    func startSync(_ viewer: Viewer) async throws -> Response {
        let state = state
        state.sync.start(client) { outcome in
            let online: Bool
            switch outcome {
            case .done: online = true
            case .failed(let error): online = error.code != .serverUnreachable
            case .cancelled: return
            }
            state.reachability.withLock { $0 = (online, Date()) }
        }
        return WebSecurity.redirect("/sync", policy: Self.policy)
    }

    func syncPage(_ request: Request, _ viewer: Viewer, serverForm: WebForm? = nil, serverProblem: String? = nil) async throws -> Response {
        let language = viewer.language
        let snapshot = state.sync.snapshot
        var content: [String: Any] = ["running": snapshot.running]
        // Where the laptop syncs, and a new address when the server moved (checked before it is used).
        var serverOpen = serverProblem != nil
        if snapshot.running {
            let progress = snapshot.progress
            let phase = progress?.phase ?? .pushing
            if phase == .pulling, let total = progress?.total {
                content["phaseText"] = t("pullingOf", language, ["count": "\(progress?.done ?? 0)", "total": "\(total)"])
            } else if phase == .pulling {
                content["phaseText"] = t("pulling", language, ["count": "\(progress?.done ?? 0)"])
            } else if (progress?.total ?? 0) == 0 {
                content["phaseText"] = t("connecting", language)
            } else {
                content["phaseText"] = t("pushing", language, ["done": "\(progress?.done ?? 0)", "total": "\(progress?.total ?? 0)"])
            }
            content["done"] = progress?.done ?? 0
            if let total = progress?.total { content["total"] = total }
            let bytes = progress?.bytes ?? 0
            let seconds = snapshot.started.map { Date().timeIntervalSince($0) } ?? 0
            if let expected = progress?.expectedBytes, expected > bytes {
                content["bytesText"] = t("bytesOf", language, ["kib": "\(bytes / 1024)", "expected": "\(expected / 1024)", "seconds": "\(Int(seconds))"])
            } else {
                content["bytesText"] = t("bytes", language, ["kib": "\(bytes / 1024)", "seconds": "\(Int(seconds))"])
            }
            // The library's estimate from the pace so far, once there is a pace to go by.
            if let left = progress?.secondsLeft, seconds > 1, left >= 1 {
                content["etaText"] =
                    left < 90
                    ? t("timeLeft", language, ["seconds": "\(Int(left.rounded(.up)))"])
                    : t("timeLeftMinutes", language, ["minutes": "\(Int((left / 60).rounded(.up)))"])
            }
        } else if let outcome = snapshot.outcome {
            switch outcome {
            case .done(let summary):
                let rows: [(String, Int)] =
                    [
                        ("pushed", summary.pushed), ("alreadyApplied", summary.alreadyApplied), ("conflicts", summary.conflicts),
                        ("quarantined", summary.quarantined), ("pulledHouseholds", summary.pulledHouseholds),
                    ] + (summary.relayed.map { $0 > 0 ? [("relayed", $0)] : [] } ?? [])
                var summaryContent: [String: Any] = [
                    "rows": rows.map { ["key": $0.0, "label": t("summary.\($0.0)", language), "value": "\($0.1)"] }
                        + [["key": "seconds", "label": t("summary.seconds", language), "value": String(format: "%.1f", summary.seconds)]]
                ]
                if summary.conflicts > 0 || summary.quarantined > 0 { summaryContent["attentionHref"] = "/attention" }
                content["summary"] = summaryContent
            case .failed(let error) where error.code == .deviceRevoked:
                content["revoked"] = true
                let bundle = try await client.enrollment?.revokedBundle
                content["revokedText"] = bundle.map { t("revokedWithBundle", language, ["path": $0]) } ?? t("revokedNoBundle", language)
            case .failed(let error) where error.code == .serverUnreachable:
                content["failure"] = t("unreachable", language)
                serverOpen = true
            case .failed(let error):
                content["failure"] = error.explained(language)
            case .cancelled:
                content["failure"] = t("syncCancelled", language)
            }
        }
        if try await client.enrollment?.revokedAt != nil, content["revoked"] == nil {
            content["revoked"] = true
            let bundle = try await client.enrollment?.revokedBundle
            content["revokedText"] = bundle.map { t("revokedWithBundle", language, ["path": $0]) } ?? t("revokedNoBundle", language)
        }
        if let server = viewer.enrollment?.server, content["revoked"] == nil {
            content["server"] =
                [
                    "open": serverOpen, "text": t("server.now", language, ["server": server.absoluteString]),
                    "field": FormField(
                        name: "server", label: t("server.address", language), required: true, value: serverForm?["server"] ?? "", maxLength: 200,
                        placeholder: "http://", hint: t("server.hint", language), problem: serverProblem),
                ] as [String: Any]
        }
        return try await render(
            "sync", request, viewer, title: t("nav.sync", language), current: "sync", refresh: snapshot.running ? 1 : nil,
            status: serverProblem == nil ? .ok : .unprocessableContent, content: content)
    }

    /// Points the laptop at the server's new address, once the same server answers there
    /// (``FieldClient/moveServer(to:)``); anything else leaves the address as it was.
    func moveServer(_ request: Request, _ viewer: Viewer, _ form: WebForm) async throws -> Response {
        let language = viewer.language
        let address = (form["server"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !state.sync.snapshot.running else {
            return try await syncPage(request, viewer, serverForm: form, serverProblem: t("server.whileSyncing", language))
        }
        guard let server = URL(string: address), server.scheme == "http" || server.scheme == "https", server.host?.isEmpty == false else {
            return try await syncPage(request, viewer, serverForm: form, serverProblem: t("enroll.badServer", language))
        }
        do {
            try await client.moveServer(to: server)
        } catch let error as DoorstepError {
            let problem = error.code == .serverUnreachable ? t("server.notAnswering", language) : error.explained(language)
            return try await syncPage(request, viewer, serverForm: form, serverProblem: problem)
        }
        state.sync.forgetOutcome()
        await checkReachability()
        return done("/sync", "serverMoved")
    }
}
