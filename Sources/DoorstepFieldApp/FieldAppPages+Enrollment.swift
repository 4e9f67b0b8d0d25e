import DoorstepClient
import DoorstepCore
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Synchronization

extension FieldAppPages {
    // MARK: Enrollment

    func enrollPage(_ request: Request, _ viewer: Viewer, form: WebForm?, problems: [String: String]) async throws -> Response {
        if viewer.enrollment != nil { return WebSecurity.redirect("/", policy: Self.policy) }
        let language = viewer.language
        let fields = [("server", "http://", 200), ("code", "", 20), ("name", "", 60)].map { name, placeholder, length in
            FormField(
                name: name, label: t("enroll.\(name)", language), required: true, value: form?[name] ?? "",
                maxLength: length, placeholder: placeholder.isEmpty ? nil : placeholder, hint: t("enroll.\(name)Hint", language),
                problem: problems[name])
        }
        return try await render(
            "enroll", request, viewer, title: t("enrollTitle", language), status: problems.isEmpty ? .ok : .unprocessableContent,
            content: ["fields": fields])
    }

    func enroll(_ request: Request, _ viewer: Viewer, _ form: WebForm) async throws -> Response {
        let language = viewer.language
        var problems: [String: String] = [:]
        let address = (form["server"] ?? "").trimmingCharacters(in: .whitespaces)
        let server = URL(string: address).flatMap { $0.scheme == "http" || $0.scheme == "https" ? $0 : nil }
        if server == nil || address.isEmpty { problems["server"] = t("enroll.badServer", language) }
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
        if code.isEmpty { problems["code"] = t("enroll.noCode", language) }
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        if name.isEmpty { problems["name"] = t("enroll.noName", language) }
        guard problems.isEmpty, let server else { return try await enrollPage(request, viewer, form: form, problems: problems) }
        do {
            try await client.enroll(server: server, code: code, deviceName: name)
        } catch let error as DoorstepError {
            let field = error.code == .invalidEnrollmentCode ? "code" : "server"
            return try await enrollPage(request, viewer, form: form, problems: [field: error.explained(language)])
        }
        await checkReachability()
        return done("/", "enrolled")
    }
}
