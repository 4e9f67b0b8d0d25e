import Crypto
import DoorstepCore
import DoorstepStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import Synchronization

/// The HTTP API: each route parses its input, checks the caller, and calls the storage seam.
struct DoorstepAPI: Sendable {
    let storage: any ServerStorage
    /// Attachments' bytes (protocol 1.4).
    let files: any FileStore
    let configuration: ServerConfiguration
    let identity: ServerIdentity
    let bundlePublicKey: String
    let metrics: ServerMetrics
    /// The pull cursors this server issues and checks, keyed by its own secret.
    let cursors: PullCursors
    /// Turns of the checks under keys over their failure limit.
    let throttle: GuessThrottle
    /// Counts pushed changes into the office tally in the background.
    let tallyKeeper = TallyKeeper()
    /// The backups the server makes itself (`backup.every`), if any.
    let backups: ScheduledBackups?

    init(
        storage: any ServerStorage, files: any FileStore, configuration: ServerConfiguration, identity: ServerIdentity, bundlePublicKey: String,
        metrics: ServerMetrics, backups: ScheduledBackups? = nil
    ) {
        self.backups = backups
        self.storage = storage
        self.files = files
        self.configuration = configuration
        self.identity = identity
        self.bundlePublicKey = bundlePublicKey
        self.metrics = metrics
        cursors = PullCursors(
            secret: Data(base64Encoded: identity.bundlePrivateKey) ?? Data(identity.bundlePrivateKey.utf8), restoreEpoch: identity.restoreEpoch)
        throttle = GuessThrottle(interval: .milliseconds(configuration.authThrottleMillis))
    }

    // A valid header name literal: the initializer fails only for names with illegal characters.
    static let protocolHeader = HTTPField.Name("Doorstep-Protocol")!

    var engine: MergeEngine { configuration.engine }

    var now: String {
        Instant.format(Date(timeIntervalSince1970: Double(configuration.clock()) / 1000), in: .gmt)
    }

    func addRoutes(to router: Router<DoorstepRequestContext>) {
        router.get("health") { _, _ in try await health() }
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }
        router.get("metrics") { _, _ in
            if let statistics = try? await files.statistics() { metrics.record(statistics) }
            if let statistics = storage.writeLockStatistics() { metrics.record(statistics) }
            if let status = backups?.status.withLock({ $0 }) { metrics.record(status) }
            if let devices = try? await storage.devices(district: nil) {
                metrics.record(
                    devices: DeviceList(devices: devices, restoredAt: identity.restoredAt),
                    now: Date(timeIntervalSince1970: Double(configuration.clock()) / 1000))
            }
            if let review = try? await storage.reviewQueue(district: nil) { metrics.record(review: review) }
            metrics.recordDisk(of: configuration.dataDirectory)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        let v1 = router.group("v1").add(middleware: ProtocolVersionMiddleware())
        v1.get("server") { _, _ in
            try JSONResponse.make(
                ServerInfo(
                    serverKeyID: identity.keyID, serverPublicKey: bundlePublicKey,
                    protocolVersions: Array(ProtocolVersion.served)))
        }
        v1.post("enroll") { request, context in try await enroll(request, context) }
        // A device's routes: a token is required (``TokenAuthenticator``).
        let devices = v1.group().add(middleware: TokenAuthenticator(api: self))
        devices.post("push") { request, context in try await push(request, context) }
        devices.get("pull") { request, context in try await pull(request, context) }
        devices.get("households/:id") { request, context in try await household(request, context) }
        devices.get("households/:id/history") { request, context in try await history(request, context) }
        devices.get("campaigns") { _, context in try await listCampaigns(context) }
        addBundleRoutes(to: devices)
        addFileRoutes(to: devices)
        // An office's routes: an office's or the city's token (``OfficeOnly``).
        let offices = devices.group().add(middleware: OfficeOnly())
        offices.post("admin/enrollment-codes") { request, context in try await createEnrollmentCode(request, context) }
        offices.get("admin/devices") { request, context in try await listDevices(request, context) }
        offices.post("admin/devices/:device/revoke") { request, context in try await revoke(request, context) }
        offices.get("review") { request, context in try await review(request, context) }
        offices.post("review/conflicts/confirm") { request, context in try await confirm(request, context) }
        offices.post("review/conflicts/overturn") { request, context in try await overturn(request, context) }
        offices.post("review/links/unlink") { request, context in try await unlink(request, context) }
        offices.post("review/rejections/:device/:seq/accept") { request, context in try await acceptHeld(request, context) }
        offices.post("review/rejections/:device/:seq/dismiss") { request, context in try await dismissRejection(request, context) }
        offices.post("households/:id/status") { request, context in try await setStatus(request, context) }
        offices.post("visits/:id/void") { request, context in try await voidVisit(request, context) }
        addImportRoutes(to: offices)
        addReportRoutes(to: offices)
        addDashboardAccountRoutes(to: offices)
        addCampaignRoutes(to: offices)
        addRelayRoutes(devices: devices, offices: offices)
        addDashboardRoutes(to: router)
    }

    // MARK: Authentication

    /// Whether `key` has failed `limit` times or more in the current window (its guesses are then slowed).
    func isOverLimit(_ key: String, limit: Int? = nil) async throws -> Bool {
        try await storage.authFailures(key: key, nowMillis: configuration.clock(), windowMillis: configuration.authFailureWindowMillis)
            >= (limit ?? configuration.authFailureLimit)
    }

    /// Waits for the turn of a check under `key`, which is over its limit; `rateLimited` at once
    /// when too many checks wait under it already (`protocol/README.md` §11).
    func waitTurn(_ key: String) async throws {
        guard await throttle.turn(key) else { throw Self.rateLimited(windowMillis: configuration.authFailureWindowMillis) }
    }

    /// The refusal of a failed attempt (a wrong token or enrollment code) from a client address:
    /// counted against the address (`key`) while under its limit, `refusal` then; over it, the
    /// answer waits its turn (``GuessThrottle``: guessing from there goes one check an interval)
    /// and is `rateLimited`. A valid credential never comes here: it is accepted whatever others
    /// behind the same address did (`protocol/README.md` §11).
    func failedAttempt(_ key: String, _ refusal: DoorstepError) async throws -> DoorstepError {
        let window = configuration.authFailureWindowMillis
        if try await isOverLimit(key) {
            try await waitTurn(key)
            return Self.rateLimited(windowMillis: window)
        }
        let failures = try await storage.noteAuthFailure(key: key, nowMillis: configuration.clock(), windowMillis: window)
        return failures > configuration.authFailureLimit ? Self.rateLimited(windowMillis: window) : refusal
    }

    /// `rateLimited`, saying when to try again (the failure window).
    static func rateLimited(windowMillis: Int64) -> DoorstepError {
        DoorstepError(.rateLimited, rule: "rateLimited", ErrorDetails(retryAfterSeconds: max(1, windowMillis / 1000)))
    }

    /// The caller of a request by its bearer token, or the refusal (see ``TokenAuthenticator``).
    func authenticate(_ request: Request, _ context: DoorstepRequestContext) async throws -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else {
            throw DoorstepError(.unauthorized, "this request needs a token: send Authorization: Bearer <token>")
        }
        let hash = Secrets.hash(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        if let admin = try await storage.adminTokenHash(), admin == hash { return .admin }
        if let device = try await storage.device(tokenHash: hash) {
            if device.isRevoked {
                throw DoorstepError(.deviceRevoked, "this device's access was revoked; export unsynced work to a bundle, then wipe the local copy")
            }
            return .device(device)
        }
        if let relay = try await storage.relay(tokenHash: hash) {
            guard !relay.isRevoked else { throw DoorstepError(.relayRevoked, "the city revoked this relay; it takes and forwards nothing more") }
            try await storage.noteRelayContact(relay.id, at: now)
            return .relay(relay)
        }
        throw try await failedAttempt("token-addr:\(context.remoteAddress)", DoorstepError(.unauthorized, "the token is not known to this server"))
    }

    // MARK: Bodies

    /// The request body decoded as `type`.
    // Inlined into its callers, this crashes the Swift 6.3.1 compiler in release builds (LLVM
    // coroutine splitting, signal 11 in emitSetAndGetSwiftErrorValueAround); unoptimised, it is
    // never inlined. The decoding itself is optimised (it runs in DoorstepCore and Foundation).
    @_optimize(none)
    func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        try WireCoding.decode(type, from: try await bytes(request))
    }

    func bytes(_ request: Request, limit: Int? = nil) async throws -> Data {
        let limit = limit ?? configuration.limits.maxBodyBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as DoorstepError {
            throw error  // a gzip body that does not decode (protocol 1.5)
        } catch {
            throw DoorstepError(.payloadTooLarge, "the body is larger than \(limit) bytes")
        }
        return Data(buffer.readableBytesView)
    }

    // MARK: Routes

    /// `GET /health`: `ok` while the database answers; with scheduled backups, the last one's time
    /// and result (a failed backup is reported, not a reason to take the server out of service).
    func health() async throws -> Response {
        let (healthy, body) = await healthReport()
        return try JSONResponse.make(body, status: healthy ? .ok : .serviceUnavailable)
    }

    /// What `/health` answers: whether the database answers, and the body.
    func healthReport() async -> (healthy: Bool, body: JSONValue) {
        let healthy = await storage.isHealthy()
        var body: [String: JSONValue] = ["status": .string(healthy ? "ok" : "unavailable")]
        if let status = backups?.status.withLock({ $0 }) {
            var backup: [String: JSONValue] = ["written": .int(Int64(status.written)), "failed": .int(Int64(status.failed))]
            if let at = status.lastAttemptAt { backup["lastAttemptAt"] = .string(Instant.format(at, in: .gmt)) }
            if let ok = status.lastSucceeded { backup["lastSucceeded"] = .bool(ok) }
            if let at = status.lastSuccessAt { backup["lastSuccessAt"] = .string(Instant.format(at, in: .gmt)) }
            if let error = status.lastError { backup["lastError"] = .string(error) }
            body["backup"] = .object(backup)
        }
        if let restoredAt = identity.restoredAt, let devices = try? await storage.devices(district: nil) {
            // After a restore: the devices whose work after the backup may still be missing until
            // they sync, and what devices declared lost (protocol 1.7, docs/OPERATIONS.md).
            let list = DeviceList(devices: devices, restoredAt: restoredAt)
            body["restore"] = .object([
                "restoredAt": .string(restoredAt),
                "devicesNotSyncedSince": .int(Int64(list.notSyncedSinceRestore.count)),
                "lostMutations": .int(list.lostMutations),
            ])
        }
        return (healthy, .object(body))
    }

    func enroll(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let input = try await body(EnrollRequest.self, request)
        // Codes can be guessed (60 bits): from an address over its limit each is checked in its turn.
        let guessKey = "enroll-addr:\(context.remoteAddress)"
        let slowed = try await isOverLimit(guessKey)
        if slowed { try await waitTurn(guessKey) }
        let name = input.deviceName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw DoorstepError(.invalidValue, "deviceName must have 1 to 100 characters") }
        guard let keyData = Data(base64Encoded: input.publicSigningKey), (try? Curve25519.Signing.PublicKey(rawRepresentation: keyData)) != nil else {
            throw DoorstepError(.invalidValue, "publicSigningKey must be a base64 Ed25519 public key (32 bytes)")
        }
        let token = Secrets.token(prefix: "dsd_")
        let device: DeviceRecord
        do {
            device = try await storage.redeemEnrollmentCode(
                hash: Secrets.hash(Secrets.normalizeCode(input.code)), now: now,
                device: NewDevice(id: DeviceID.random(), name: name, tokenHash: Secrets.hash(token), signingKey: input.publicSigningKey)
            )
        } catch let error as DoorstepError where error.code == .invalidEnrollmentCode {
            if slowed { throw Self.rateLimited(windowMillis: configuration.authFailureWindowMillis) }
            throw try await failedAttempt(guessKey, error)
        }
        context.logger.info(
            "device enrolled", metadata: ["device": "\(device.id)", "role": "\(device.role.rawValue)", "district": "\(device.district ?? "-")"])
        var clock = HybridLogicalClock(physicalMillis: configuration.clock)
        return try JSONResponse.make(
            EnrollResponse(
                device: device.id, token: token, role: device.role, district: device.district,
                serverPublicKey: bundlePublicKey, serverKeyID: identity.keyID, serverClock: clock.tick()
            ), status: .created)
    }

    func push(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard case .device(let device) = caller else {
            throw DoorstepError(.forbiddenForRole, "the admin token has no device; push from an enrolled device")
        }
        return try await apply(try await body(PushBatch.self, request), of: device)
    }

    /// Applies a batch as its device's push (also one a relay forwards, §19.4) and answers the receipt.
    func apply(_ batch: PushBatch, of device: DeviceRecord) async throws -> Response {
        let receipt: PushReceipt
        do {
            receipt = try await storage.push(batch, from: device.principal, engine: engine, actor: nil, now: now, physicalMillis: configuration.clock)
        } catch {
            metrics.recordRefusedPush()
            throw error
        }
        metrics.recordPush(receipt)
        keepTally()
        return try JSONResponse.make(receipt)
    }

    /// A pull's `limit` (§9): the default when absent, else a whole number up to the configured most.
    static func pullLimit(_ text: String?, _ limits: ServerConfiguration.Limits) throws -> Int {
        guard let text else { return limits.defaultPullLimit }
        guard let value = Int(text), (1...limits.maxPullLimit).contains(value) else {
            throw DoorstepError(.invalidValue, "limit must be a whole number from 1 to \(limits.maxPullLimit)")
        }
        return value
    }

    func pull(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let query = request.uri.queryParameters
        let cursor = try cursors.position(of: query.get("cursor"), for: caller.principal)
        let limit = try Self.pullLimit(query.get("limit"), configuration.limits)
        var estimate = false
        if let text = query.get("estimate") {
            switch text {
            case "true": estimate = true
            case "false": estimate = false
            default: throw DoorstepError(.invalidValue, "estimate must be true or false", details: ErrorDetails(field: "estimate", allowed: ["true", "false"]))
            }
        }
        let principal = caller.principal
        let page = try await storage.pullEncoded(
            for: principal, after: cursor, limit: limit, maxBytes: configuration.limits.maxPullPageBytes, estimate: estimate,
            attachments: Self.readsAttachments(request), engine: engine,
            now: now,
            physicalMillis: configuration.clock, cursor: { [cursors] in cursors.issue($0, for: principal) })
        metrics.recordPull()
        return try ResumablePage.answer(page, request: request, compress: configuration.compressAnswers, level: configuration.compressionLevel)
    }

    func createEnrollmentCode(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let input = try await body(EnrollmentCodeRequest.self, request)
        let principal = caller.principal
        if input.role == .city {
            guard principal.role == .city else { throw DoorstepError(.forbiddenForRole, "only the city issues city codes") }
        } else {
            guard let district = input.district else { throw DoorstepError(.missingField, "district is required for a visitor or office code") }
            _ = try configuration.city.requireDistrict(district)
            guard principal.covers(district: district) else {
                throw DoorstepError(.outOfScope, "an office issues codes for its own district only")
            }
        }
        if let relay = input.relay {
            // A code for a relay's own enrollments (§19.6): a relay of the code's district, in the caller's scope.
            guard input.role != .city else { throw DoorstepError(.invalidValue, "a relay enrolls devices of its district only, not the city's") }
            guard RelayRecord.isValidID(relay), let district = input.district,
                let record = try await storage.relays(district: district).first(where: { $0.id == relay }), principal.covers(district: record.district)
            else { throw DoorstepError(.invalidValue, "relay must be a relay of the code's district in your scope (r- and 32 hexadecimal digits)") }
            guard !record.isRevoked else { throw DoorstepError(.invalidValue, "relay \(relay) was revoked") }
        }
        let hours = input.expiresInHours ?? Int(configuration.enrollmentCodeLifetime / 3600)
        guard (1...24 * 30).contains(hours) else { throw DoorstepError(.invalidValue, "expiresInHours must be from 1 to 720") }
        let code = Secrets.enrollmentCode()
        let expires = Instant.format(Date(timeIntervalSince1970: Double(configuration.clock()) / 1000 + Double(hours) * 3600), in: .gmt)
        var record = EnrollmentCodeRecord(
            codeHash: Secrets.hash(Secrets.normalizeCode(code)), district: input.role == .city ? nil : input.district,
            role: input.role, createdBy: caller.actor, createdAt: now, expiresAt: expires)
        record.relay = input.relay
        try await storage.insertEnrollmentCode(record)
        return try JSONResponse.make(
            EnrollmentCode(code: code, expiresAt: expires, district: input.role == .city ? nil : input.district, role: input.role, relay: input.relay),
            status: .created)
    }

    /// The `district` query parameter: absent, or a district of the city data (whoever asks: an
    /// office's is then ignored by the caller); empty or unknown is refused, never read as "all".
    func districtQuery(_ request: Request) throws -> String? {
        guard let text = request.uri.queryParameters.get("district") else { return nil }
        guard !text.isEmpty else { throw DoorstepError(.invalidValue, "district is empty: leave it out for every district") }
        return try configuration.city.requireDistrict(text).code
    }

    func listDevices(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let asked = try districtQuery(request)
        let district = caller.principal.role == .city ? asked : caller.principal.district
        return try JSONResponse.make(DeviceList(devices: try await storage.devices(district: district), restoredAt: identity.restoredAt))
    }

    func revoke(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard let text = context.parameters.get("device"), let id = try? DeviceID(text) else {
            throw DoorstepError(.invalidValue, "the device id is not valid")
        }
        guard let record = try await storage.revokeDevice(id, at: now, scope: caller.principal) else {
            throw DoorstepError(.notFound, "no device \(id) in your district")
        }
        context.logger.info("device revoked", metadata: ["device": "\(id)", "by": "\(caller.actor)"])
        return try JSONResponse.make(record)
    }

    func review(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let asked = try districtQuery(request)
        let district = caller.principal.role == .city ? asked : caller.principal.district
        return try JSONResponse.make(RevisionView.review(try await storage.reviewQueue(district: district), readsAttachments: Self.readsAttachments(request)))
    }

    func decide(_ decision: OfficeDecision, caller: Caller) async throws -> Response {
        let result = try await storage.decide(
            decision, by: caller.principal, actor: caller.actor, engine: engine, now: now, physicalMillis: configuration.clock)
        return try JSONResponse.make(result)
    }

    func confirm(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let input = try await body(ConflictConfirm.self, request)
        return try await decide(.confirm(entity: input.entity, field: input.field), caller: caller)
    }

    func overturn(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let input = try await body(ConflictOverturn.self, request)
        guard input.field == deletedFieldName || input.value != nil else {
            throw DoorstepError(.missingField, "value is required to overturn a field")
        }
        return try await decide(.overturn(entity: input.entity, field: input.field, value: input.value ?? .null), caller: caller)
    }

    func unlink(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let input = try await body(UnlinkRequest.self, request)
        return try await decide(.unlink(survivor: input.survivor, alias: input.alias), caller: caller)
    }

    /// `POST /v1/visits/{id}/void`: an office voids a mistaken visit with a reason (or restores it).
    func voidVisit(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard let text = context.parameters.get("id"), let id = try? EntityID(text) else {
            throw DoorstepError(.invalidValue, "the visit id is not a UUID")
        }
        let input = try await body(VoidRequest.self, request)
        return try await decide(.voidVisit(id, reason: input.reason), caller: caller)
    }

    /// `POST /v1/review/rejections/{device}/{seq}/accept`: a held change applied as the office's decision.
    func acceptHeld(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let (device, seq) = try rejectionKey(context)
        let result = try await storage.acceptHeld(
            device: device, seq: seq, by: caller.principal, actor: caller.actor, engine: engine, now: now,
            physicalMillis: configuration.clock)
        context.logger.info("held change accepted", metadata: ["device": "\(device)", "seq": "\(seq)", "by": "\(caller.actor)"])
        return try JSONResponse.make(result)
    }

    /// `POST /v1/review/rejections/{device}/{seq}/dismiss`: a held or refused change set aside with a reason.
    func dismissRejection(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let (device, seq) = try rejectionKey(context)
        let input = try await body(DismissRequest.self, request)
        let closed = try await storage.dismissRejection(device: device, seq: seq, by: caller.principal, actor: caller.actor, reason: input.reason, now: now)
        context.logger.info("rejection dismissed", metadata: ["device": "\(device)", "seq": "\(seq)", "by": "\(caller.actor)"])
        return try JSONResponse.make(closed)
    }

    /// The `{device}` and `{seq}` of a rejection's path.
    func rejectionKey(_ context: DoorstepRequestContext) throws -> (DeviceID, Int64) {
        guard let text = context.parameters.get("device"), let device = try? DeviceID(text) else {
            throw DoorstepError(.invalidValue, "the device id is not valid")
        }
        guard let seqText = context.parameters.get("seq"), let seq = Int64(seqText), seq > 0 else {
            throw DoorstepError(.invalidValue, "the seq must be a positive whole number")
        }
        return (device, seq)
    }

    func setStatus(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let id = try householdID(context)
        let input = try await body(StatusChangeRequest.self, request)
        return try await decide(.setStatus(household: id, to: input.to), caller: caller)
    }

    func householdID(_ context: DoorstepRequestContext) throws -> EntityID {
        guard let text = context.parameters.get("id"), let id = try? EntityID(text) else {
            throw DoorstepError(.invalidValue, "the household id is not a UUID")
        }
        return id
    }

    /// A household the caller may see, or `notFound` (another district's households do not exist for the caller).
    func visibleHousehold(_ id: EntityID, caller: Caller) async throws -> HouseholdAggregate {
        try await visibleHousehold(id, principal: caller.principal)
    }

    func household(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let aggregate = try await visibleHousehold(try householdID(context), caller: caller)
        return try JSONResponse.make(RevisionView.household(aggregate, readsAttachments: Self.readsAttachments(request)))
    }

    func history(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let aggregate = try await visibleHousehold(try householdID(context), caller: caller)
        let history = try await storage.history(of: aggregate.household.id)
        return try JSONResponse.make(HistoryList(history: RevisionView.history(history, readsAttachments: Self.readsAttachments(request))))
    }
}

/// Refuses requests that name a protocol version the server does not serve, or none.
struct ProtocolVersionMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let text = request.headers[DoorstepAPI.protocolHeader] else {
            throw DoorstepError(
                .unsupportedProtocolVersion,
                "every request names its protocol version in the \(ProtocolVersion.header) header; this server serves \(ProtocolVersion.served.lowerBound) to \(ProtocolVersion.served.upperBound)"
            )
        }
        guard let version = Int(text), ProtocolVersion.served.contains(version) else {
            let advice = (Int(text) ?? 0) < ProtocolVersion.served.lowerBound ? "update Doorstep on this device" : "this server is older than the client"
            throw DoorstepError(
                .unsupportedProtocolVersion,
                "protocol version \(text.prefix(10)) is not served; this server serves \(ProtocolVersion.served.lowerBound) to \(ProtocolVersion.served.upperBound): \(advice)"
            )
        }
        return try await next(request, context)
    }
}
