import DoorstepBundle
public import DoorstepClient
import DoorstepCore
import DoorstepStorage
import DoorstepWeb
public import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// How a server runs as a district relay (protocol 1.8, `protocol/README.md` §19).
public struct RelayConfiguration: Sendable {
    /// The district it serves.
    public var district: String
    /// The city's server.
    public var upstream: URL
    /// The relay's token from the city (`POST /v1/admin/relays`).
    public var token: String
    /// The time between two rounds with the city while no device pushes.
    public var interval: Duration
    /// How long the relay keeps its copy of a file once the city holds it (§19.3).
    public var keepFilesFor: Duration = .seconds(30 * 86_400)
    /// How the relay reaches the city (tests put a fault proxy's address in `upstream`).
    public var transport: @Sendable (URL) -> any SyncTransport

    public init(
        district: String, upstream: URL, token: String, interval: Duration = .seconds(5),
        transport: @escaping @Sendable (URL) -> any SyncTransport = { ClientConfiguration.platformTransport($0, stallTimeout: 60) }
    ) {
        self.district = district
        self.upstream = upstream
        self.token = token
        self.interval = interval
        self.transport = transport
    }

    /// Where a relay keeps its token, in its data folder.
    public static func tokenPath(in dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("relay.token")
    }
}

/// A relay's HTTP API for its devices: the same calls a device makes to the city (§19.1), answered
/// from the relay's store; enrollment and files go on to the city.
struct RelayAPI: Sendable {
    let store: RelayStore
    /// The files its devices upload, held until the city has them (§19.3).
    let files: FolderFileStore
    let upstream: RelayUpstream
    let relay: RelayConfiguration
    let configuration: ServerConfiguration

    /// The devices' pull cursors: keyed by the relay's own id, salted anew when the city was
    /// restored (``RelayStore/cityRestored()``).
    func cursors() throws -> PullCursors {
        PullCursors(secret: Data(("doorstep-relay:" + store.instance).utf8), restoreEpoch: try store.value(.cursorEpoch))
    }

    var now: String { Instant.format(Date(timeIntervalSince1970: Double(configuration.clock()) / 1000), in: .gmt) }

    func addRoutes(to router: Router<DoorstepRequestContext>) {
        router.get("health") { _, _ in try JSONResponse.make(JSONValue.object(["status": .string("ok"), "relayFor": .string(relay.district)])) }
        router.get("metrics") { _, _ in try metrics() }
        let v1 = router.group("v1").add(middleware: ProtocolVersionMiddleware())
        v1.get("server") { _, _ in try serverInfo() }
        v1.post("enroll") { request, _ in try await enroll(request) }
        v1.post("push") { request, _ in try await push(request) }
        v1.get("pull") { request, _ in try await pull(request) }
        v1.get("campaigns") { request, _ in try await campaigns(request) }
        v1.post("admin/devices/:device/revoke") { request, context in try await revoke(request, context) }
        v1.get("relay/status") { request, _ in
            _ = try device(request)
            return try JSONResponse.make(try store.status(upstream: relay.upstream.absoluteString))
        }
        v1.on("files/:sha256", method: .head) { request, context in try await fileOffset(request, context) }
        v1.patch("files/:sha256") { request, context in try await uploadFile(request, context) }
        v1.get("attachments/:id/file") { request, context in try await downloadAttachment(request, context) }
    }

    /// The city's identity (bundles and signatures are for the city), and the district served.
    func serverInfo() throws -> Response {
        guard let keyID = try store.value(.cityKeyID), let key = try store.value(.cityPublicKey) else {
            throw DoorstepError(.upstreamUnreachable, "this relay has not reached the city yet; it answers once it has")
        }
        return try JSONResponse.make(
            ServerInfo(serverKeyID: keyID, serverPublicKey: key, protocolVersions: Array(ProtocolVersion.served), relayFor: relay.district))
    }

    /// The device calling, by its token; `deviceRevoked` for one revoked at the city or here.
    func device(_ request: Request) throws -> DeviceRecord {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else {
            throw DoorstepError(.unauthorized, "this request needs a token: send Authorization: Bearer <token>")
        }
        let hash = Secrets.hash(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        guard let (record, revokedHere, forgotten) = try store.device(tokenHash: hash) else {
            throw DoorstepError(
                .unauthorized, "the token is not known to this relay (a device enrolled at the city is known after the relay's next contact with it)")
        }
        guard !forgotten else {
            // As the restored city answers it (§19.8).
            throw DoorstepError(
                .unauthorized, "the city no longer knows this device (it was restored from a backup taken before the device was enrolled): enroll it again")
        }
        guard !record.isRevoked, !revokedHere else {
            throw DoorstepError(.deviceRevoked, "this device's access was revoked; export unsynced work to a bundle, then wipe the local copy")
        }
        guard record.district == relay.district else {
            throw DoorstepError(.outOfScope, "this relay serves district \(relay.district) only")
        }
        return record
    }

    func body(_ request: Request) async throws -> Data {
        do {
            return Data(try await request.body.collect(upTo: configuration.limits.maxBodyBytes).readableBytesView)
        } catch let error as DoorstepError {
            throw error
        } catch {
            throw DoorstepError(.payloadTooLarge, "the body is larger than \(configuration.limits.maxBodyBytes) bytes")
        }
    }

    /// `POST /v1/enroll`: passed on to the city, which alone issues devices; the relay keeps the
    /// device it made so that the device's calls are known here at once.
    func enroll(_ request: Request) async throws -> Response {
        let data = try await body(request)
        let input = try WireCoding.decode(EnrollRequest.self, from: data)
        let code = Secrets.hash(Secrets.normalizeCode(input.code))
        if try store.holdsCode(code) { return try await enrollHere(input, code: code) }
        let answer: EnrollResponse
        do {
            answer = try await upstream.api.sendingOnce.call("POST", "/v1/enroll", body: data, as: EnrollResponse.self)
        } catch let error as DoorstepError where error.code == .serverUnreachable {
            throw DoorstepError(.upstreamUnreachable, "the relay cannot reach the city to enroll this device: try again when the district's line is up")
        }
        // The city spent the code: its answer goes back whatever the district (the laptop is enrolled
        // at the city, and syncs there or with its own district's relay); this relay serves it only
        // when it is of its district.
        guard answer.district == relay.district else { return try JSONResponse.make(answer, status: .created) }
        let record = DeviceRecord(
            id: answer.device, name: input.deviceName, role: answer.role, district: answer.district, signingKey: input.publicSigningKey,
            enrolledAt: now, revokedAt: nil, highestSeq: 0, clockSkew: false, lastPushAt: nil, lastPullAt: nil)
        try store.takeDevices([RelayDevice(device: record, tokenHash: Secrets.hash(answer.token))])
        return try JSONResponse.make(answer, status: .created)
    }

    /// An enrollment with a code the city issued to this relay (§19.6): made here at once, whether or
    /// not the city is reachable (the city makes the device at the relay's next round).
    func enrollHere(_ input: EnrollRequest, code: String) async throws -> Response {
        try refuseWhenRevoked()
        let name = input.deviceName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw DoorstepError(.invalidValue, "deviceName must have 1 to 100 characters") }
        guard BatchSignature.publicKey(input.publicSigningKey) != nil else {
            throw DoorstepError(.invalidValue, "publicSigningKey must be a base64 Ed25519 public key (32 bytes)")
        }
        guard let keyID = try store.value(.cityKeyID), let key = try store.value(.cityPublicKey) else {
            throw DoorstepError(.upstreamUnreachable, "this relay has not reached the city yet; it enrolls once it has")
        }
        let token = Secrets.token(prefix: "dsd_")
        let record = try store.enroll(
            code: code, device: DeviceID.random(), name: name, tokenHash: Secrets.hash(token), signingKey: input.publicSigningKey, now: now)
        upstream.wake()
        return try JSONResponse.make(
            EnrollResponse(
                device: record.id, token: token, role: record.role, district: record.district, serverPublicKey: key, serverKeyID: keyID,
                serverClock: store.tick()), status: .created)
    }

    /// `POST /v1/admin/devices/{device}/revoke` at the relay, by an office of its district: enforced
    /// here at once, whether or not the city is reachable, and sent to the city at the next round (§19.5).
    func revoke(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try device(request)
        guard caller.role == .office else { throw DoorstepError(.forbiddenForRole, "this is the district office's work; a visitor's device cannot do it") }
        guard let text = context.parameters.get("device"), let id = try? DeviceID(text) else {
            throw DoorstepError(.invalidValue, "the device id is not valid")
        }
        guard let record = try store.revokeHere(id, at: now) else { throw DoorstepError(.notFound, "no device \(id) in this relay's district") }
        upstream.wake()
        return try JSONResponse.make(record)
    }

    /// `relayRevoked` once the city revoked this relay: it takes nothing more.
    func refuseWhenRevoked() throws {
        guard try store.value(.revoked) != "1" else {
            throw DoorstepError(.relayRevoked, "the city revoked this relay: sync with the city directly, or export a bundle")
        }
    }

    /// `POST /v1/push`: held and answered at once (§19.2); the city's outcomes come back to the
    /// device when it sends the same seqs again.
    func push(_ request: Request) async throws -> Response {
        let caller = try device(request)
        try refuseWhenRevoked()
        let data = try await body(request)
        guard let signature = request.headers[DoorstepAPI.signatureHeader] else {
            throw DoorstepError(
                .invalidSignature, "a relay takes only signed pushes (protocol 1.8): update Doorstep on this laptop, or sync with the city directly")
        }
        guard let key = BatchSignature.publicKey(caller.signingKey), BatchSignature.verify(signature, of: data, by: key) else {
            throw DoorstepError(.invalidSignature, "the push is not signed by this device's enrolled key")
        }
        let batch = try WireCoding.decode(PushBatch.self, from: data)
        try configuration.engine.checkShape(of: batch, from: caller.principal)
        let (results, held) = try store.take(batch, body: data, signature: signature, now: now, city: configuration.city)
        if results.contains(where: { $0.outcome == .relayed }) { upstream.wake() }
        // A laptop's clock far ahead must not carry the district's clocks with it: clamped as the city would (§4).
        for mutation in batch.mutations { store.absorb(configuration.skew.clamp(mutation.hlc, serverMillis: configuration.clock()).stamp) }
        return try JSONResponse.make(
            PushReceipt(device: batch.device, highestContiguousSeq: held, serverClock: store.tick(), results: results, clockSkew: false))
    }

    /// `GET /v1/pull`: the relay's feed (§19.3), compressed as the city's pages are.
    func pull(_ request: Request) async throws -> Response {
        let caller = try device(request)
        let query = request.uri.queryParameters
        let cursors = try cursors()
        let cursor = try cursors.position(of: query.get("cursor"), for: caller.principal)
        let limit = try DoorstepAPI.pullLimit(query.get("limit"), configuration.limits)
        let page = try store.page(after: cursor, limit: limit)
        var encoded = EncodedPullPage()
        for household in page.households { encoded.add(json: household) }
        let answer = encoded.finished(
            hasMore: page.hasMore, next: cursors.issue(page.next, for: caller.principal), removed: page.removed, serverClock: store.tick())
        return try ResumablePage.answer(answer, request: request, compress: configuration.compressAnswers, level: configuration.compressionLevel)
    }

    /// `GET /v1/campaigns`: the city's, as last fetched.
    func campaigns(_ request: Request) async throws -> Response {
        _ = try device(request)
        let text = try store.value(.campaigns) ?? #"{"campaigns":[]}"#
        return JSONResponse.make(encoded: Array(text.utf8), status: .ok)
    }

    /// `HEAD /v1/files/{sha256}`: the bytes the relay holds of a file (§17.2, §19.3).
    func fileOffset(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        _ = try device(request)
        let state = try await files.state(of: try Self.sha256(context))
        var headers: HTTPFields = [
            DoorstepAPI.uploadOffsetHeader: String(state.held), DoorstepAPI.fileStateHeader: state.name, .cacheControl: "no-store",
        ]
        if let length = state.length { headers[DoorstepAPI.uploadLengthHeader] = String(length) }
        return Response(status: .ok, headers: headers)
    }

    /// `PATCH /v1/files/{sha256}`: bytes from `Upload-Offset`, durable here before the answer, as the
    /// city takes them (§17.2); a file held whole goes on to the city at the relay's rounds.
    func uploadFile(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        _ = try device(request)
        try refuseWhenRevoked()
        let sha = try Self.sha256(context)
        let offset = try DoorstepAPI.headerNumber(request, DoorstepAPI.uploadOffsetHeader, minimum: 0)
        let length = try DoorstepAPI.headerNumber(request, DoorstepAPI.uploadLengthHeader, minimum: 1)
        let state: FileState
        do {
            state = try await files.append(
                to: sha, offset: offset, length: length, bytes: LimitedBody(base: request.body, limit: configuration.limits.maxBodyBytes))
        } catch let error as DoorstepError where error.code == .uploadOffsetMismatch {
            var response = JSONResponse.error(error)
            response.headers[DoorstepAPI.uploadOffsetHeader] = String(error.details.resumeFrom ?? 0)
            return response
        }
        if case .whole(let whole, _) = state {
            try store.fileHeld(sha, length: whole, now: now)
            upstream.wake()
        }
        return Response(status: .noContent, headers: [DoorstepAPI.uploadOffsetHeader: String(state.held), DoorstepAPI.fileStateHeader: state.name])
    }

    /// `GET /v1/attachments/{id}/file`: from the relay's own copy when it holds the file whole and the
    /// attachment is in its view of the district (the line may be down), a range too (a download the
    /// LAN cut goes on); else passed on to the city.
    func downloadAttachment(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        _ = try device(request)
        guard let text = context.parameters.get("id"), let id = try? EntityID(text), let attachment = try store.attachment(id),
            let sha = attachment["sha256"].stringValue
        else { return try await passOn(request) }
        guard case .whole(let length, let type) = try await files.state(of: sha) else {
            // Uploaded at the city (or removed here): fetched from it, and kept for the laptops that ask next.
            let answer = try await passedOn(request)
            if answer.status == 200, request.headers[.range] == nil { await keep(answer.body, sha: sha) }
            return Self.response(answer)
        }
        return try await DoorstepAPI.fileAnswer(request, files: files, sha: sha, length: length, type: type, fileName: attachment["fileName"].stringValue)
    }

    /// Keeps a whole file the city sent for a laptop's download as the relay's own copy (its hash
    /// checked by the store), so that colleagues on the office network get it with the line down
    /// too; held as a file the city holds (removed after the relay's keeping time; not kept at all
    /// when that is none).
    func keep(_ body: Data, sha: String) async {
        guard relay.keepFilesFor > .zero, !body.isEmpty, (try? await files.state(of: sha)) == .absent,
            case .whole(let length, _) = try? await files.append(to: sha, offset: 0, length: Int64(body.count), bytes: DataChunks(data: body))
        else { return }
        try? store.fileHeld(sha, length: length, now: now)
        try? store.fileAtCity(sha, now: now)
    }

    static func sha256(_ context: DoorstepRequestContext) throws -> String {
        let text = (context.parameters.get("sha256") ?? "").lowercased()
        guard AttachmentFile.isSHA256(text) else { throw DoorstepError(.invalidValue, rule: "sha256", ErrorDetails(field: "sha256", limit: 64)) }
        return text
    }

    /// Downloads go on to the city as they came (the device's own token; the city checks its scope).
    func passOn(_ request: Request) async throws -> Response { Self.response(try await passedOn(request)) }

    /// The city's answer to a request passed on as it came.
    func passedOn(_ request: Request) async throws -> TransportResponse {
        _ = try device(request)
        let data = try await body(request)
        var headers: [String: String] = [:]
        for field in request.headers where !["host", "content-length", "connection", "transfer-encoding"].contains(field.name.canonicalName) {
            headers[field.name.rawName] = field.value
        }
        let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        do {
            return try await relay.transport(relay.upstream).send(
                TransportRequest(method: request.method.rawValue, path: path, headers: headers, body: data.isEmpty ? nil : data))
        } catch {
            throw DoorstepError(.upstreamUnreachable, "the relay cannot reach the city for this file now: the next sync tries again")
        }
    }

    /// The city's answer as the relay gives it to its device.
    static func response(_ answer: TransportResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            guard let field = HTTPField.Name(name), !["content-length", "connection", "transfer-encoding"].contains(field.canonicalName) else { continue }
            fields[field] = value
        }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// The relay's figures for Prometheus.
    func metrics() throws -> Response {
        let status = try store.status(upstream: relay.upstream.absoluteString)
        let oldest = status.oldestUnconfirmedAt.flatMap { Instant.parse($0) }.map { Double(configuration.clock()) / 1000 - $0.timeIntervalSince1970 } ?? 0
        let lastForward = status.lastForwardAt.flatMap { Instant.parse($0) }?.timeIntervalSince1970 ?? 0
        let text = """
            # HELP doorstep_relay_upstream_reachable Whether the city answered the relay's last round (1) or not (0).
            # TYPE doorstep_relay_upstream_reachable gauge
            doorstep_relay_upstream_reachable \(status.upstreamReachable ? 1 : 0)
            # HELP doorstep_relay_pending_mutations Mutations the relay holds whose outcome the city has not given yet.
            # TYPE doorstep_relay_pending_mutations gauge
            doorstep_relay_pending_mutations \(status.pendingMutations)
            # HELP doorstep_relay_pending_batches Batches held for the city.
            # TYPE doorstep_relay_pending_batches gauge
            doorstep_relay_pending_batches \(status.pendingBatches)
            # HELP doorstep_relay_pending_files Files its devices uploaded that the city does not hold whole yet.
            # TYPE doorstep_relay_pending_files gauge
            doorstep_relay_pending_files \(status.pendingFiles)
            # HELP doorstep_relay_refused_not_yet_seen Mutations the city refused whose device has not learnt it yet.
            # TYPE doorstep_relay_refused_not_yet_seen gauge
            doorstep_relay_refused_not_yet_seen \(status.refusedNotYetSeen)
            # HELP doorstep_relay_devices Devices of the district the relay knows.
            # TYPE doorstep_relay_devices gauge
            doorstep_relay_devices \(status.devices)
            # HELP doorstep_relay_oldest_unconfirmed_seconds Age of the oldest mutation still waiting for the city.
            # TYPE doorstep_relay_oldest_unconfirmed_seconds gauge
            doorstep_relay_oldest_unconfirmed_seconds \(max(0, oldest))
            # HELP doorstep_relay_last_forward_timestamp_seconds When the city last took a forwarded batch (Unix time; 0: never).
            # TYPE doorstep_relay_last_forward_timestamp_seconds gauge
            doorstep_relay_last_forward_timestamp_seconds \(lastForward)
            # HELP doorstep_relay_revoked Whether the city revoked this relay.
            # TYPE doorstep_relay_revoked gauge
            doorstep_relay_revoked \(status.revoked ? 1 : 0)

            """
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
