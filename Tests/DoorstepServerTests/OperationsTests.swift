import DoorstepCore
import DoorstepTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DoorstepServer

/// Health, metrics, the served OpenAPI document, and what the server writes to its data folder.
struct OperationsTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func health_metrics_openapi() async throws {
        let server = TestServer()
        try await server.test { session in
            let health = try await session.call(.get, "/health", token: nil, protocolVersion: nil)
            #expect(health.status == .ok)
            #expect(health.text.contains("\"ok\""))
            let visitor = try await session.enroll(district: "150602", role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            _ = try await session.pushOK(
                visitor, [factory.make(.create, .household, entity: EntityID.random(), fields: Sample.household(nationalID: Sample.nationalID(21)))])
            _ = try await session.pullAll(visitor)
            let metrics = try await session.call(.get, "/metrics", token: nil, protocolVersion: nil)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("doorstep_pushes_total 1"))
            #expect(metrics.text.contains(#"doorstep_mutations_total{outcome="applied"} 1"#))
            #expect(metrics.text.contains("doorstep_request_duration_seconds"))
            #expect(!metrics.text.contains(visitor.id.rawValue), "metrics name routes, never ids")
            let document = try await session.call(.get, "/openapi.yaml", token: nil, protocolVersion: nil)
            let file = try String(contentsOf: Self.root.appendingPathComponent("protocol/openapi.yaml"), encoding: .utf8)
            #expect(document.text == file, "the served document is protocol/openapi.yaml, byte for byte")
        }
    }

    /// Whether `python3` can import the modules (comma-separated).
    static func python(importing modules: String) async -> Bool {
        (try? await ChildProcess.run(program: "python3", ["-c", "import \(modules)"]).status) == 0
    }

    @Test(
        .enabled("openapi-spec-validator is not installed (pip install openapi-spec-validator); .ci/run installs it") {
            await python(importing: "openapi_spec_validator")
        })
    func openAPIDocument_passesTheValidator() async throws {
        let result = try await ChildProcess.run(
            program: "python3", ["-m", "openapi_spec_validator", Self.root.appendingPathComponent("protocol/openapi.yaml").path])
        #expect(result.status == 0, "openapi-spec-validator: \(result)")
    }

    #if os(Linux)
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil, "an explicit MALLOC_MMAP_THRESHOLD_ wins"))
    func glibcTakesTheFixedMmapThreshold() {
        #expect(ProcessMemory.returnLargeBlocksToTheSystem())
    }
    #endif

    @Test func rotateAdminToken_replacesTheOldOne_andBackupCopiesTheDatabase() async throws {
        let server = TestServer()
        let old = try await server.test { session in session.adminToken }
        let configuration = try await server.resolvedConfiguration()
        _ = try await DoorstepServerSetup.rotateAdminToken(configuration: configuration)
        let new = try server.adminToken
        #expect(new != old)
        try await server.test { (session: Session) async throws -> Void in
            let refused = try await session.call(.get, "/v1/pull", token: old)
            #expect(refused.status == .unauthorized)
            let accepted = try await session.call(.get, "/v1/pull", token: new)
            #expect(accepted.status == .ok)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: server.configuration.adminTokenPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let backup = server.configuration.dataDirectory + "/backup.sqlite"
        if configuration.databaseURL == nil {
            try await DoorstepServerSetup.backup(configuration: configuration, to: backup)
            #expect(FileManager.default.fileExists(atPath: backup))
        }
        // A second backup never overwrites the first; on PostgreSQL, backup says to use pg_dump.
        await #expect(throws: DoorstepError.self) { try await DoorstepServerSetup.backup(configuration: configuration, to: backup) }
    }
}
