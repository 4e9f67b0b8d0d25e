import DoorstepCore
import DoorstepTestSupport
import Foundation
import Testing

/// The office, admin and enrollment bodies (DoorstepCore's wire types, one declaration each) are
/// what `protocol/openapi.yaml` says: every type, with every optional field set and without, is
/// encoded as the server and client send it and validated against its schema by
/// `Tests/contract/validate.py` (JSON Schema, objects closed: a key the schema does not name
/// fails), and every property of a schema is carried by some document of its type.
struct ContractTests {
    /// Runs `Tests/contract/validate.py` on a samples file: its exit status and output.
    static func validate(_ file: URL) async throws -> (Int32, String) {
        let result = try await ChildProcess.run(
            program: "python3",
            [
                OperationsTests.root.appendingPathComponent("Tests/contract/validate.py").path,
                OperationsTests.root.appendingPathComponent("protocol/openapi.yaml").path, file.path,
            ])
        return (result.status, result.stdout + result.stderr)
    }

    @Test(
        .enabled("PyYAML and jsonschema are not installed (pip install openapi-spec-validator brings both); .ci/run installs them") {
            await OperationsTests.python(importing: "yaml, jsonschema")
        })
    func everyOfficeAndEnrollmentBody_isItsSchemaInOpenAPI() async throws {
        let device = DeviceID.random(), entity = EntityID.random(), other = EntityID.random()
        let key = Data(repeating: 7, count: 32).base64EncodedString()
        let hlc = HLC(wallMillis: 1_588_291_200_000, logical: 3)
        let at = "2020-05-01T00:00:00Z"
        var record = DeviceRecord(
            id: device, name: "王某的笔记本", role: .visitor, district: "150602", signingKey: key, enrolledAt: at,
            revokedAt: at, highestSeq: 12, clockSkew: false, lastPushAt: at, lastPullAt: at, lost: [LostWork(from: 6, through: 7, at: at)])
        record.notSyncedSinceRestore = true
        let bare = DeviceRecord(
            id: device, name: "laptop", role: .office, district: nil, signingKey: nil, enrolledAt: at, revokedAt: nil,
            highestSeq: 0, clockSkew: true, lastPushAt: nil, lastPullAt: nil)
        let account = DashboardAccount(
            name: "wang.li", role: .office, district: "150602", createdBy: "city-admin", createdAt: at,
            passwordChangedAt: at, disabledAt: at)
        let write = WriteID(hlc: hlc, device: device).description
        let audit = AuditEntry(
            entity: entity, kind: .household, field: "status", old: "candidate", new: "filed", write: write, device: device,
            seq: 4, actor: "office:wang.li", at: at, origin: AuditOrigin(device: device, seq: 9, hlc: hlc), settledConflict: true)
        let plainAudit = AuditEntry(
            entity: entity, kind: .visit, field: "conclusion", old: .null, new: "eligible", write: write, device: device,
            seq: 5, actor: "device:\(device)", at: at)
        var samples: [String: [any Encodable]] = [:]
        samples["EnrollRequest"] = [EnrollRequest(code: "K7QM-3XWD-PA4N", deviceName: "王某的笔记本", publicSigningKey: key)]
        samples["EnrollResponse"] = [
            EnrollResponse(
                device: device, token: "t0ken", role: .visitor, district: "150602", serverPublicKey: key, serverKeyID: "0123456789abcdef", serverClock: hlc),
            EnrollResponse(device: device, token: "t0ken", role: .city, district: nil, serverPublicKey: key, serverKeyID: "0123456789abcdef", serverClock: hlc),
        ]
        samples["EnrollmentCodeRequest"] = [
            EnrollmentCodeRequest(district: "150602", role: .visitor, expiresInHours: 24, relay: "r-" + String(repeating: "0a", count: 16)),
            EnrollmentCodeRequest(district: nil, role: .city),
        ]
        samples["EnrollmentCode"] = [
            EnrollmentCode(code: "K7QM-3XWD-PA4N", expiresAt: at, district: "150602", role: .visitor, relay: "r-" + String(repeating: "0a", count: 16)),
            EnrollmentCode(code: "K7QM-3XWD-PA4N", expiresAt: at, district: nil, role: .city),
        ]
        samples["DeviceRecord"] = [record, bare]
        samples["DeviceList"] = [DeviceList(devices: [record, bare]), DeviceList(devices: [record], restoredAt: at)]
        samples["NewDashboardUser"] = [
            NewDashboardUser(name: "wang.li", password: "a long passphrase", role: .office, district: "150602"),
            NewDashboardUser(name: "city.head", password: "a long passphrase", role: .city, district: nil),
        ]
        samples["DashboardAccount"] = [account]
        samples["DashboardAccountList"] = [DashboardAccountList(users: [account])]
        samples["PasswordChange"] = [PasswordChange(password: "a long passphrase")]
        samples["ConflictConfirm"] = [ConflictConfirm(entity: entity, field: "monthlyIncomeFen")]
        samples["ConflictOverturn"] = [
            ConflictOverturn(entity: entity, field: "monthlyIncomeFen", value: 260_000),
            ConflictOverturn(entity: entity, field: deletedFieldName, value: nil),
        ]
        samples["UnlinkRequest"] = [UnlinkRequest(survivor: entity, alias: other)]
        samples["StatusChange"] = [StatusChangeRequest(to: .filed)]
        samples["VoidRequest"] = [VoidRequest(reason: "走访日期录错"), VoidRequest(reason: nil)]
        samples["DismissRequest"] = [DismissRequest(reason: "重复录入")]
        samples["AuditEntry"] = [audit, plainAudit]
        samples["HistoryList"] = [HistoryList(history: [audit, plainAudit])]
        samples["ServerInfo"] = [
            ServerInfo(serverKeyID: "0123456789abcdef", serverPublicKey: key, protocolVersions: [1]),
            ServerInfo(serverKeyID: "0123456789abcdef", serverPublicKey: key, protocolVersions: [1], relayFor: "150602"),
        ]
        // District relays (1.8).
        let relay = RelayRecord(
            id: "r-" + String(repeating: "0a", count: 16), name: "乌审旗中转", district: "150626", createdAt: at, createdBy: "city-admin", revokedAt: at,
            lastContactAt: at)
        let freshRelay = RelayRecord(id: relay.id, name: "relay", district: "150602", createdAt: at, createdBy: "device:\(device)")
        samples["RelayRecord"] = [relay, freshRelay]
        samples["NewRelayRequest"] = [NewRelayRequest(name: "乌审旗中转", district: "150626")]
        samples["NewRelayResponse"] = [NewRelayResponse(relay: freshRelay, token: "dsr_" + String(repeating: "A", count: 43))]
        samples["RelayList"] = [RelayList(relays: [relay, freshRelay])]
        let hash = String(repeating: "ab", count: 32)
        samples["RelayDevice"] = [RelayDevice(device: record, tokenHash: hash)]
        let code = RelayCode(codeHash: hash, role: .visitor, expiresAt: at)
        samples["RelayDeviceList"] = [
            RelayDeviceList(relay: freshRelay, devices: [RelayDevice(device: bare, tokenHash: hash)], serverClock: hlc),
            RelayDeviceList(relay: relay, devices: [], serverClock: hlc, codes: [code]),
        ]
        samples["RelayCode"] = [code]
        samples["RelayEnrollment"] = [RelayEnrollment(codeHash: hash, device: device, deviceName: "新笔记本", tokenHash: hash, publicSigningKey: key)]
        samples["RelayStatus"] = [
            RelayStatus(
                district: "150626", upstream: "https://doorstep.ordos.example", upstreamReachable: false, lastContactAt: at, lastError: "serverUnreachable",
                pendingMutations: 12, pendingBatches: 2, pendingFiles: 3, lastForwardAt: at, oldestUnconfirmedAt: at, refusedNotYetSeen: 1, devices: 4,
                revoked: false),
            RelayStatus(
                district: "150626", upstream: "https://doorstep.ordos.example", upstreamReachable: true, lastContactAt: nil, lastError: nil,
                pendingMutations: 0, pendingBatches: 0, lastForwardAt: nil, oldestUnconfirmedAt: nil, refusedNotYetSeen: 0, devices: 0, revoked: true),
        ]
        samples["ClosedRejection"] = [
            ClosedRejection(device: device, seq: 3, closedAs: .dismissed, closedBy: "office:wang.li", closedAt: at, reason: "重复录入"),
            ClosedRejection(device: device, seq: 4, closedAs: .accepted, closedBy: "office:wang.li", closedAt: at, reason: nil),
        ]

        var documents: [String: JSONValue] = [:]
        for (schema, values) in samples {
            documents[schema] = .array(try values.map { try WireCoding.decode(JSONValue.self, from: try WireCoding.encode($0)) })
        }
        let file = Scratch.root.appendingPathComponent("doorstep-contract-\(UUID().uuidString).json")
        try WireCoding.encode(JSONValue.object(documents)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try await Self.validate(file)
        #expect(status == 0, "the wire types and protocol/openapi.yaml disagree:\n\(output)")
    }

    @Test(.enabled("PyYAML and jsonschema are not installed") { await OperationsTests.python(importing: "yaml, jsonschema") })
    func theValidatorRefusesAKeyTheContractDoesNotName() async throws {
        let file = Scratch.root.appendingPathComponent("doorstep-contract-\(UUID().uuidString).json")
        try Data(#"{"DismissRequest": [{"reason": "x", "because": "y"}], "UnlinkRequest": [{"survivor": "not an id"}]}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try await Self.validate(file)
        #expect(status == 1)
        #expect(output.contains("DismissRequest[0]") && output.contains("because"), "\(output)")
        #expect(output.contains("UnlinkRequest[0]") && output.contains("alias"), "a required key missing: \(output)")
    }
}
