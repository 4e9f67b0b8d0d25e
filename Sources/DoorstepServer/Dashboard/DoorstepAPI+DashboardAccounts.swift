import DoorstepCore
import DoorstepStorage
import Foundation
import Hummingbird
import Logging

extension DoorstepAPI {
    /// `POST /v1/admin/users`, `GET /v1/admin/users`, `POST /v1/admin/users/{name}/disable`,
    /// `POST /v1/admin/users/{name}/enable`, `POST /v1/admin/users/{name}/password`:
    /// dashboard accounts, managed with an office or city token (the admin token is the city's).
    func addDashboardAccountRoutes(to group: RouterGroup<DoorstepRequestContext>) {
        group.post("admin/users") { request, context in try await createDashboardUser(request, context) }
        group.get("admin/users") { request, context in try await listDashboardUsers(request, context) }
        group.post("admin/users/:name/disable") { request, context in try await setDashboardUserDisabled(request, context, disabled: true) }
        group.post("admin/users/:name/enable") { request, context in try await setDashboardUserDisabled(request, context, disabled: false) }
        group.post("admin/users/:name/password") { request, context in try await resetDashboardPassword(request, context) }
    }

    /// Creates an office or city account. An office creates office accounts of its own district;
    /// the city creates any. Answers 201 with the account (never its password or hash).
    func createDashboardUser(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let input = try await body(NewDashboardUser.self, request)
        let name = try DashboardSecurity.normalizeName(input.name)
        try DashboardSecurity.validatePassword(input.password)
        let principal = caller.principal
        var district = input.district.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        switch input.role {
        case .visitor:
            throw DoorstepError(.invalidValue, "a dashboard account is an office or city account; visitors use their laptops")
        case .city:
            guard principal.role == .city else { throw DoorstepError(.forbiddenForRole, "only the city creates city accounts") }
            guard district == nil else { throw DoorstepError(.invalidValue, "a city account has no district") }
        case .office:
            if principal.role != .city { district = district ?? principal.district }
            guard let code = district else { throw DoorstepError(.missingField, "district is required for an office account") }
            _ = try configuration.city.requireDistrict(code)
            guard principal.covers(district: code) else {
                throw DoorstepError(.outOfScope, "an office creates accounts for its own district only")
            }
        }
        let account = DashboardAccount(
            name: name, role: input.role, district: district, createdBy: caller.actor,
            createdAt: now, passwordChangedAt: now)
        try await storage.createDashboardAccount(account, passwordHash: try await DashboardSecurity.hashPassword(input.password))
        context.logger.info("dashboard account created", metadata: ["account": "\(name)", "role": "\(input.role.rawValue)", "by": "\(caller.actor)"])
        return try JSONResponse.make(account, status: .created)
    }

    /// Lists accounts: an office sees its district's office accounts; the city sees all, or one district's with `?district=`.
    func listDashboardUsers(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let principal = caller.principal
        var accounts: [DashboardAccount]
        let district = try districtQuery(request)
        if principal.role == .city {
            accounts = try await storage.dashboardAccounts(district: district)
        } else {
            accounts = try await storage.dashboardAccounts(district: principal.district ?? "").filter { $0.role == .office }
        }
        accounts.sort { $0.name < $1.name }
        return try JSONResponse.make(DashboardAccountList(users: accounts))
    }

    /// The account named in the path, if the caller manages it: an office manages its district's office accounts.
    func managedAccount(_ context: DoorstepRequestContext, caller: Caller) async throws -> DashboardAccount {
        let text = context.parameters.get("name") ?? ""
        guard let name = try? DashboardSecurity.normalizeName(text), let found = try await storage.dashboardAccount(named: name) else {
            throw DoorstepError(.notFound, "no account \(text.prefix(64))")
        }
        let principal = caller.principal
        guard principal.role == .city || (found.account.role == .office && found.account.district == principal.district) else {
            throw DoorstepError(.notFound, "no account \(found.account.name) in your district")
        }
        return found.account
    }

    /// Disables an account (its sessions end at once) or enables it again.
    func setDashboardUserDisabled(_ request: Request, _ context: DoorstepRequestContext, disabled: Bool) async throws -> Response {
        let caller = try context.caller
        let account = try await managedAccount(context, caller: caller)
        guard let updated = try await storage.setDashboardAccountDisabled(named: account.name, disabled: disabled, at: now) else {
            throw DoorstepError(.notFound, "no account \(account.name)")
        }
        context.logger.info(
            disabled ? "dashboard account disabled" : "dashboard account enabled",
            metadata: ["account": "\(account.name)", "by": "\(caller.actor)"])
        return try JSONResponse.make(updated)
    }

    /// Sets a new password (its sessions end at once). The account stays disabled if it was.
    func resetDashboardPassword(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let account = try await managedAccount(context, caller: caller)
        let input = try await body(PasswordChange.self, request)
        try DashboardSecurity.validatePassword(input.password)
        let hash = try await DashboardSecurity.hashPassword(input.password)
        guard let updated = try await storage.setDashboardPassword(named: account.name, passwordHash: hash, at: now) else {
            throw DoorstepError(.notFound, "no account \(account.name)")
        }
        context.logger.info("dashboard password reset", metadata: ["account": "\(account.name)", "by": "\(caller.actor)"])
        return try JSONResponse.make(updated)
    }
}
