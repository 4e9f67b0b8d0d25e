import DoorstepCore
import DoorstepImport
import DoorstepStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension DoorstepAPI {
    /// Import of existing household files and the civil-affairs roster comparison.
    func addImportRoutes(to group: RouterGroup<DoorstepRequestContext>) {
        group.post("admin/import") { request, context in try await importHouseholds(request, context) }
        group.post("roster/compare") { request, context in try await compareRoster(request, context) }
    }

    /// `POST /v1/admin/import[?check=true][&acceptValid=true]`: creates households from a CSV or JSON file.
    ///
    /// Offices import their own district, the city any. A file with any problem imports
    /// nothing and answers 422 with the report, unless `acceptValid` imports the valid rows;
    /// `check` is a dry run. Rows whose national ID is on file are skipped, so a re-import
    /// changes nothing.
    func importHouseholds(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let query = request.uri.queryParameters
        let dryRun = try flag("check", query.get("check"))
        let acceptValid = try flag("acceptValid", query.get("acceptValid"))
        let format = Self.uploadFormat(request.headers[.contentType])
        let text = try CSVReader.decode(try await bytes(request), charset: format.charset)
        let importer = HouseholdImport(city: configuration.city, scope: caller.principal)
        // The rows are read and checked one at a time while storage writes them; a file with any
        // problem commits nothing (unless acceptValid), and a dry run never does.
        let file: ImportFile
        if format.json ?? text.drop(while: { $0.isWhitespace || $0 == "\u{FEFF}" }).hasPrefix("[") {
            file = ImportFile(json: text, importer: importer)
        } else {
            file = try ImportFile(csv: text, importer: importer)
        }
        let policy: ImportCommitPolicy = dryRun ? .never : acceptValid ? .keepValid : .allOrNothing
        let outcome = try await storage.importHouseholds(
            file, by: caller.principal, actor: caller.actor, policy: policy, engine: engine, now: now, physicalMillis: configuration.clock)
        let errors = (file.issues + outcome.rejected).sorted { ($0.line, $0.field ?? "") < ($1.line, $1.field ?? "") }
        let refused = !dryRun && !acceptValid && !errors.isEmpty
        var report = ImportReport(
            imported: outcome.committed || dryRun ? outcome.created.count : 0,
            skipped: outcome.skipped.count, errors: errors, dryRun: dryRun
        )
        context.logger.info(
            "household import",
            metadata: [
                "by": "\(caller.actor)", "imported": "\(report.imported)", "skipped": "\(report.skipped)",
                "errors": "\(errors.count)", "dryRun": "\(dryRun)", "committed": "\(outcome.committed)",
            ])
        if refused {
            let lines = Set(errors.map(\.line)).count
            report.error =
                ErrorBody(
                    DoorstepError(
                        .invalidValue,
                        "\(errors.count) problem(s) on \(lines) line(s); nothing was imported. Fix them, or send ?acceptValid=true to import the valid rows"
                    )
                ).error
            return try JSONResponse.make(report, status: .unprocessableContent)
        }
        return try JSONResponse.make(report)
    }

    /// `POST /v1/roster/compare[?district=]`: compares a civil-affairs roster (CSV) with the household file.
    ///
    /// Offices compare their own district; the city every district or one. Reads only.
    func compareRoster(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let principal = caller.principal
        var district = try districtQuery(request)
        if let district {
            guard principal.covers(district: district) else {
                throw DoorstepError(.outOfScope, "an office compares its own district only")
            }
        }
        if principal.role != .city { district = principal.district }
        let format = Self.uploadFormat(request.headers[.contentType])
        guard format.json != true else {
            throw DoorstepError(.malformedInput, "a roster is a CSV file (身份证号, 姓名, 低保金); send it as text/csv")
        }
        let roster = try RosterComparison.read(try await bytes(request), charset: format.charset, city: configuration.city)
        let report = try await compare(roster, district: district)
        context.logger.info(
            "roster comparison",
            metadata: [
                "by": "\(caller.actor)", "district": "\(district ?? "all")", "rows": "\(report.rosterRows)",
                "disagreements": "\(report.disagreements.count)",
            ])
        return try JSONResponse.make(report)
    }

    /// A Boolean query flag: absent, `false`, `0` or `no` are false; `true`, `1`, `yes` or an empty value are true.
    func flag(_ name: String, _ value: String?) throws(DoorstepError) -> Bool {
        guard let value else { return false }
        switch value.lowercased() {
        case "true", "1", "yes", "": return true
        case "false", "0", "no": return false
        default: throw DoorstepError(.invalidValue, "\(name) must be true or false")
        }
    }

    /// What a content type says of an upload: JSON (`true`), CSV (`false`) or unknown (`nil`, sniff it), and its charset.
    static func uploadFormat(_ contentType: String?) -> (json: Bool?, charset: String?) {
        guard let contentType else { return (nil, nil) }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }.map { String($0.dropFirst("charset=".count)) }
        let type = parts.first ?? ""
        if type.hasSuffix("/json") || type.hasSuffix("+json") { return (true, charset) }
        if type == "text/csv" || type == "application/csv" || type == "text/plain" || type == "text/tab-separated-values"
            || type == "application/vnd.ms-excel"
        {
            return (false, charset)
        }
        return (nil, charset)
    }
}
