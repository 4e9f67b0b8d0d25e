import DoorstepBundle
import DoorstepCore
import DoorstepStorage
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The city's side of district relays (protocol 1.8, `protocol/README.md` §19).
extension DoorstepAPI {
    // A valid header name literal: the initializer fails only for names with illegal characters.
    static let signatureHeader = HTTPField.Name(BatchSignature.header)!

    /// What a relay's token may call: pulls of its district, the relay routes, campaigns and files.
    static func relayMayCall(_ path: String) -> Bool {
        path == "/v1/pull" || path.hasPrefix("/v1/relay/") || path == "/v1/campaigns" || path.hasPrefix("/v1/files/")
    }

    func addRelayRoutes(devices: RouterGroup<DoorstepRequestContext>, offices: RouterGroup<DoorstepRequestContext>) {
        devices.post("relay/push") { request, context in try await relayPush(request, context) }
        devices.get("relay/devices") { request, context in try await relayDevices(request, context) }
        devices.post("relay/devices/:device/revoke") { request, context in try await relayRevokes(request, context) }
        devices.post("relay/enrollments") { request, context in try await relayEnrollment(request, context) }
        // A relay's own status (§19.7): asked of the city, a token is checked and the answer is that it is none.
        devices.get("relay/status") { _, _ -> Response in
            throw DoorstepError(.notFound, "this is the city's server, not a relay: a relay answers its status at its own address")
        }
        offices.post("admin/relays") { request, context in try await createRelay(request, context) }
        offices.get("admin/relays") { request, context in try await listRelays(request, context) }
        offices.post("admin/relays/:relay/revoke") { request, context in try await revokeRelay(request, context) }
    }

    /// `POST /v1/admin/relays`: a relay for a district, by an office of that district or the city;
    /// its token is answered once (only its hash is kept).
    func createRelay(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let input = try await body(NewRelayRequest.self, request)
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw DoorstepError(.invalidValue, "name must have 1 to 100 characters") }
        let district = try configuration.city.requireDistrict(input.district).code
        guard caller.principal.covers(district: district) else {
            throw DoorstepError(.outOfScope, "an office sets up a relay for its own district only")
        }
        let token = Secrets.token(prefix: "dsr_")
        let relay = RelayRecord(
            id: "r-" + WebSecurity.randomBytes(16).map { String(format: "%02x", $0) }.joined(), name: name, district: district, createdAt: now,
            createdBy: caller.actor)
        try await storage.insertRelay(relay, tokenHash: Secrets.hash(token))
        context.logger.info("relay created", metadata: ["relay": "\(relay.id)", "district": "\(district)", "by": "\(caller.actor)"])
        return try JSONResponse.make(NewRelayResponse(relay: relay, token: token), status: .created)
    }

    /// `GET /v1/admin/relays`: the caller's district's relays (every district's for the city, or `?district=`).
    func listRelays(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        let asked = try districtQuery(request)
        let district = caller.principal.role == .city ? asked : caller.principal.district
        return try JSONResponse.make(RelayList(relays: try await storage.relays(district: district)))
    }

    /// `POST /v1/admin/relays/{relay}/revoke`: from now on the relay's token is refused (`relayRevoked`).
    func revokeRelay(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let caller = try context.caller
        guard let id = context.parameters.get("relay"), RelayRecord.isValidID(id) else {
            throw DoorstepError(.invalidValue, "the relay id is not valid")
        }
        guard let record = try await storage.revokeRelay(id, at: now, scope: caller.principal) else {
            throw DoorstepError(.notFound, "no relay \(id) in your district")
        }
        context.logger.info("relay revoked", metadata: ["relay": "\(id)", "by": "\(caller.actor)"])
        return try JSONResponse.make(record)
    }

    /// The relay calling, or `forbiddenForRole`.
    func callingRelay(_ context: DoorstepRequestContext) throws -> RelayRecord {
        guard case .relay(let relay) = try context.caller else {
            throw DoorstepError(.forbiddenForRole, "only a district relay's token calls this")
        }
        return relay
    }

    /// `POST /v1/relay/push`: a batch a relay forwards, the device's body byte for byte with the
    /// device's signature (`Doorstep-Signature`); checked against the key the device enrolled and
    /// applied as if the device had pushed it. A device of another district, an unknown one or a
    /// signature that does not verify refuses the batch, and nothing of it is applied. A device
    /// revoked since has its batch held for review, as an office's upload of its bundle would.
    func relayPush(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let relay = try callingRelay(context)
        let data = try await bytes(request)
        guard let signature = request.headers[Self.signatureHeader] else {
            throw DoorstepError(.invalidSignature, "a forwarded batch carries its device's signature in \(BatchSignature.header)")
        }
        let batch = try WireCoding.decode(PushBatch.self, from: data)
        guard let device = try await storage.device(id: batch.device), device.id != identity.device else {
            throw DoorstepError(.outOfScope, "device \(batch.device) is not enrolled at the city")
        }
        guard device.district == relay.district else {
            throw DoorstepError(.outOfScope, "device \(batch.device) is not of district \(relay.district), the relay's")
        }
        guard let key = BatchSignature.publicKey(device.signingKey), BatchSignature.verify(signature, of: data, by: key) else {
            context.logger.warning("forwarded batch with a bad signature", metadata: ["relay": "\(relay.id)", "device": "\(device.id)"])
            throw DoorstepError(.invalidSignature, "the batch is not signed by device \(device.id)'s enrolled key: the relay changed it, or forged it")
        }
        if device.isRevoked {
            let receipts = try await storage.holdForReview(
                [batch], device: device, code: .deviceRevoked, reason: Self.revokedHoldReason, now: now, physicalMillis: configuration.clock)
            guard let receipt = receipts.first else { throw DoorstepError(.internalError, "no receipt for a held batch") }
            return try JSONResponse.make(receipt)
        }
        return try await apply(batch, of: device)
    }

    /// `POST /v1/relay/devices/{device}/revoke`: a revocation an office of the relay's district made at
    /// the relay (§19.5), for a device of that district only.
    func relayRevokes(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let relay = try callingRelay(context)
        guard let text = context.parameters.get("device"), let id = try? DeviceID(text) else {
            throw DoorstepError(.invalidValue, "the device id is not valid")
        }
        let scope = Principal(device: DeviceID(unchecked: relay.id), role: .office, district: relay.district)
        guard let record = try await storage.revokeDevice(id, at: now, scope: scope) else {
            throw DoorstepError(.notFound, "no device \(id) in the relay's district")
        }
        context.logger.info("device revoked at a relay", metadata: ["device": "\(id)", "relay": "\(relay.id)"])
        return try JSONResponse.make(record)
    }

    /// `POST /v1/relay/enrollments`: a device the relay enrolled with a code issued to it (§19.6),
    /// made here with the id and token's hash the relay gave it; the code is used then.
    func relayEnrollment(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let relay = try callingRelay(context)
        let input = try await body(RelayEnrollment.self, request)
        let name = input.deviceName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw DoorstepError(.invalidValue, "deviceName must have 1 to 100 characters") }
        guard BatchSignature.publicKey(input.publicSigningKey) != nil else {
            throw DoorstepError(.invalidValue, "publicSigningKey must be a base64 Ed25519 public key (32 bytes)")
        }
        guard input.tokenHash.count == 64, input.tokenHash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }), input.codeHash.count == 64 else {
            throw DoorstepError(.invalidValue, "tokenHash and codeHash are SHA-256 digests, 64 lowercase hexadecimal digits")
        }
        let record = try await storage.redeemRelayCode(
            hash: input.codeHash, relay: relay.id, now: now,
            device: NewDevice(id: input.device, name: name, tokenHash: input.tokenHash, signingKey: input.publicSigningKey))
        context.logger.info("device enrolled through a relay", metadata: ["device": "\(record.id)", "relay": "\(relay.id)"])
        return try JSONResponse.make(record, status: .created)
    }

    /// `GET /v1/relay/devices`: the relay and every device of its district, with its token's hash.
    func relayDevices(_ request: Request, _ context: DoorstepRequestContext) async throws -> Response {
        let relay = try callingRelay(context)
        var clock = HybridLogicalClock(physicalMillis: configuration.clock)
        return try JSONResponse.make(
            RelayDeviceList(
                relay: relay, devices: try await storage.deviceCredentials(district: relay.district), serverClock: clock.tick(),
                codes: try await storage.relayCodes(relay: relay.id, now: now)))
    }
}
