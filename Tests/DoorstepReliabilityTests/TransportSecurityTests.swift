import Crypto
import DoorstepClient
import DoorstepCore
import DoorstepTestSupport
import Foundation
import HTTPTypes
import HummingbirdTLS
import HummingbirdTesting
import NIOCore
import Testing

/// Issue 7, security: the server serves HTTPS itself given a certificate and key (swift-nio-ssl
/// through Hummingbird), and the client refuses plain HTTP to anything but this machine unless
/// told `--insecure` (`allowInsecureHTTP` in the library).
@Suite struct TransportSecurityTests {
    static let openssl = Executables.onPath("openssl")

    /// A self-signed certificate for localhost and 127.0.0.1, made by `openssl req -x509`.
    static func selfSigned(in folder: String) async throws -> (certificate: String, key: String) {
        let certificate = folder + "/cert.pem", key = folder + "/key.pem"
        let result = try await ChildProcess.run(
            try #require(openssl),
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        #expect(result.status == 0, "\(result)")
        return (certificate, key)
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed (apt-get install openssl): no certificate to serve HTTPS with"))
    func theServerProcess_servesHTTPSWithTheGivenCertificateAndKey() async throws {
        let folder = Executables.temporaryFolder("doorstep-tls")
        let (certificate, key) = try await Self.selfSigned(in: folder)
        let server = ServerProcess(extraArguments: ["--tls-cert", certificate, "--tls-key", key])
        let url = try await server.start(checkHealth: false)
        #expect(url.scheme == "https", "server.addr says \(url)")
        let port = try #require(url.port)

        // A TLS client that trusts only this certificate gets the API.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
        let (health, document) = try await TestClient.withClient(
            host: "127.0.0.1", port: port,
            configuration: .init(tlsConfiguration: tls, serverName: "localhost")
        ) { client in
            let health = try await client.get("/health")
            let document = try await client.get("/openapi.yaml")
            return (health, document)
        }
        #expect(health.head.status == .ok)
        #expect(String(buffer: health.body ?? ByteBuffer()).contains("ok"))
        #expect(String(buffer: document.body ?? ByteBuffer()).hasPrefix("openapi:"))

        // Plain HTTP to the HTTPS port gets no answer; a client that does not trust the certificate is refused.
        let plain = try? await URLSessionTransport(baseURL: URL(string: "http://127.0.0.1:\(port)")!, timeout: 5)
            .send(TransportRequest(method: "GET", path: "/health"))
        #expect(plain == nil || plain?.status != 200, "plain HTTP got an answer from the HTTPS port")
        let untrusted = try? await URLSessionTransport(baseURL: url, timeout: 5).send(TransportRequest(method: "GET", path: "/health"))
        #expect(untrusted == nil, "a client that does not trust the self-signed certificate must not connect")
        let untrustedByDefault = try? await platformTransport(url, timeout: 5).send(TransportRequest(method: "GET", path: "/health"))
        #expect(untrustedByDefault == nil, "the client's own transport must not connect to an untrusted certificate either")
        await server.stop()
        #expect(!server.log.contains("BEGIN"), "the server's log must not hold key material")
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed"))
    func aCertificateWithoutItsKey_orAnUnreadableOne_isAClearStartupError() async throws {
        let folder = Executables.temporaryFolder("doorstep-tls-bad")
        let (certificate, _) = try await Self.selfSigned(in: folder)
        let data = Executables.temporaryFolder("doorstep-tls-bad-data")
        let alone = try await ChildProcess.run(Executables.server, ["--port", "0", "--data", data, "--tls-cert", certificate], timeout: 30)
        #expect(alone.status != 0 && (alone.stdout + alone.stderr).contains("--tls-key"), "\(alone)")
        let garbage = folder + "/garbage.pem"
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: garbage))
        let unreadable = try await ChildProcess.run(
            Executables.server, ["--port", "0", "--data", data, "--tls-cert", certificate, "--tls-key", garbage], timeout: 30)
        #expect(unreadable.status != 0 && (unreadable.stdout + unreadable.stderr).contains("TLS private key"), "\(unreadable)")
    }

    /// Token and enrollment-code guesses over real sockets: after 10 failures from an address in 5
    /// minutes, that address is refused (429), even with a right token, until the window passes.
    /// Fifty failed guesses (unknown tokens and enrollment codes) from one address, as a stale
    /// laptop or a guesser behind an office's NAT would send: the guessing is answered 429 from the
    /// eleventh failure of each kind on, but a valid token and a valid enrollment code from the same
    /// address are still accepted (§11: a valid credential is never refused for others' failures).
    @Test func fiftyGuesses_overRealSockets_areSlowed_butValidCredentialsStillWork() async throws {
        // Over the limit, one check every 25 ms per address and kind (1 s by default).
        let server = ServerProcess(extraArguments: ["--auth-throttle-ms", "25"])
        let url = try await server.start()
        let transport = URLSessionTransport(baseURL: url)
        var statuses: [Int] = []
        var throttledStart: ContinuousClock.Instant?
        for n in 0..<50 {
            if n == 20 { throttledStart = .now }
            let request =
                n % 2 == 0
                ? TransportRequest(method: "GET", path: "/v1/pull", headers: ["Doorstep-Protocol": "1", "Authorization": "Bearer dsd_guess\(n)"])
                : TransportRequest(
                    method: "POST", path: "/v1/enroll", headers: ["Doorstep-Protocol": "1", "Content-Type": "application/json"],
                    body: Data(#"{"code":"AAAA-BBBB-CC\#(n)","deviceName":"guesser","publicSigningKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}"#.utf8))
            statuses.append(try await transport.send(request).status)
        }
        // Ten failures of each kind are answered as they are; the rest are slowed: each waits its
        // turn, 15 a kind one after the other, so they took at least 14 turns of 25 ms.
        let throttled = ContinuousClock.now - (throttledStart ?? .now)
        #expect(statuses.prefix(20).allSatisfy { $0 == 401 }, "\(statuses)")
        #expect(statuses.dropFirst(22).allSatisfy { $0 == 429 }, "\(statuses)")
        #expect(throttled >= .milliseconds(14 * 25), "\(throttled)")
        let slowed = try await transport.send(
            TransportRequest(method: "GET", path: "/v1/pull", headers: ["Doorstep-Protocol": "1", "Authorization": "Bearer dsd_another"]))
        #expect(slowed.status == 429 && String(decoding: slowed.body, as: UTF8.self).contains("retryAfterSeconds"))

        // The city's own token from the same address works.
        let admin = ["Doorstep-Protocol": "1", "Authorization": "Bearer \(try server.adminToken)"]
        let pulled = try await transport.send(TransportRequest(method: "GET", path: "/v1/pull", headers: admin))
        #expect(pulled.status == 200, "\(String(decoding: pulled.body, as: UTF8.self))")
        // A colleague enrolls with a real code from the same address.
        var codeHeaders = admin
        codeHeaders["Content-Type"] = "application/json"
        let issued = try await transport.send(
            TransportRequest(
                method: "POST", path: "/v1/admin/enrollment-codes", headers: codeHeaders,
                body: Data(#"{"role":"visitor","district":"150602"}"#.utf8)))
        #expect(issued.status == 201, "\(String(decoding: issued.body, as: UTF8.self))")
        let code = try #require((try JSONSerialization.jsonObject(with: issued.body) as? [String: Any])?["code"] as? String)
        let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        let enrolled = try await transport.send(
            TransportRequest(
                method: "POST", path: "/v1/enroll", headers: ["Doorstep-Protocol": "1", "Content-Type": "application/json"],
                body: Data(#"{"code":"\#(code)","deviceName":"colleague","publicSigningKey":"\#(key)"}"#.utf8)))
        #expect(enrolled.status == 201, "\(String(decoding: enrolled.body, as: UTF8.self))")
        // And its token works at once.
        let token = try #require((try JSONSerialization.jsonObject(with: enrolled.body) as? [String: Any])?["token"] as? String)
        let own = try await transport.send(
            TransportRequest(method: "GET", path: "/v1/pull", headers: ["Doorstep-Protocol": "1", "Authorization": "Bearer \(token)"]))
        #expect(own.status == 200)
        await server.stop()
    }

    /// A transport that records what would have been sent and answers nothing.
    final class Recorder: SyncTransport, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var sent: [String] = []
        func send(_ request: TransportRequest) async throws -> TransportResponse {
            lock.withLock { sent.append(request.path) }
            throw URLError(.cannotConnectToHost)
        }
    }

    @Test func theLibrary_refusesPlainHTTPToAnotherMachine_unlessAllowed() async throws {
        for (address, allowed) in [
            ("http://doorstep.example.org", false), ("http://10.1.2.3:8080", false), ("http://2130706433:8080", false),
            ("http://127.0.0.1:8080", true), ("http://localhost:8080", true), ("https://doorstep.example.org", true),
        ] {
            let recorder = Recorder()
            var configuration = ClientConfiguration(
                databasePath: Executables.temporaryFolder("doorstep-insecure") + "/local.sqlite",
                retry: RetryPolicy(maxAttempts: 1))
            configuration.transport = { _ in recorder }
            let client = try FieldClient(configuration: configuration)
            do {
                try await client.enroll(server: URL(string: address)!, code: "AAAA-BBBB-CCCC", deviceName: "laptop")
                Issue.record("\(address): enrollment cannot succeed against a recorder")
            } catch let error as DoorstepError {
                if allowed {
                    #expect(error.code == .serverUnreachable && recorder.sent == ["/v1/enroll"], "\(address): \(error)")
                } else {
                    #expect(error.code == .insecureTransport && recorder.sent.isEmpty, "\(address) must be refused before any byte is sent: \(error)")
                    #expect(throws: DoorstepError.self) { try OfficeClient(server: URL(string: address)!, token: "t", configuration: configuration) }
                }
            }
            // Told it is a test network, the library sends.
            if !allowed {
                configuration.allowInsecureHTTP = true
                configuration.databasePath = Executables.temporaryFolder("doorstep-insecure") + "/local.sqlite"
                let insecure = try FieldClient(configuration: configuration)
                await #expect(throws: DoorstepError.self) {
                    try await insecure.enroll(server: URL(string: address)!, code: "AAAA-BBBB-CCCC", deviceName: "laptop")
                }
                #expect(recorder.sent == ["/v1/enroll"], "\(address) with allowInsecureHTTP: \(recorder.sent)")
            }
        }
    }

    /// A name `/etc/hosts` gives 127.0.0.1 that the client cannot tell is this machine (not
    /// `localhost`, not `127.…`): so the test reaches the server with no lookup and no packet
    /// leaving the machine. `nil` when there is none (the host name usually is one).
    static var loopbackAlias: String? {
        guard let hosts = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) else { return nil }
        for line in hosts.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.first == "127.0.0.1" else { continue }
            if let name = fields.dropFirst().first(where: { !$0.hasPrefix("#") && $0 != "localhost" && !$0.hasPrefix("localhost.") && !$0.contains(":") }) {
                return name
            }
        }
        return nil
    }

    /// The CLI against a real server, addressed by plain HTTP under a name that does not look like this machine.
    @Test func theCLI_refusesPlainHTTPToAnotherMachine_unlessInsecure() async throws {
        let server = ServerProcess()
        let url = try await server.start()
        let admin = AdminAPI(url: url, token: try server.adminToken)
        let database = Executables.temporaryFolder("doorstep-insecure-cli") + "/doorstep.sqlite"
        let code = try await admin.code(district: "150602", role: .visitor)
        // Refused before any byte is sent, whatever the name stands for.
        for name in ["doorstep.example.org", "10.1.2.3", "2130706433"] + (Self.loopbackAlias.map { [$0] } ?? []) {
            let refused = try await ChildProcess.run(
                Executables.cli,
                [
                    "enroll", "--server", "http://\(name):\(url.port ?? 0)", "--code", code,
                    "--db", database, "--lang", "en",
                ])
            #expect(refused.status != 0 && refused.stderr.contains("insecureTransport"), "\(name): \(refused)")
        }
        // Loopback by name or number is this machine: plain HTTP is fine there.
        let local = try await ChildProcess.run(
            Executables.cli,
            [
                "enroll", "--server", "http://localhost:\(url.port ?? 0)", "--code", "AAAA-BBBB-CCCC",
                "--db", database + ".local", "--lang", "en", "--retries", "1",
            ])
        #expect(local.stderr.contains("invalidEnrollmentCode"), "localhost must be reached: \(local)")
        guard let alias = Self.loopbackAlias else {
            print("TransportSecurityTests: /etc/hosts names no alias of 127.0.0.1; the --insecure half of the CLI test is skipped")
            await server.stop()
            return
        }
        let disguised = "http://\(alias):\(url.port ?? 0)"
        let accepted = try await ChildProcess.run(Executables.cli, ["enroll", "--server", disguised, "--code", code, "--db", database, "--insecure", "--json"])
        #expect(accepted.status == 0, "\(accepted)")
        let sync = try await ChildProcess.run(Executables.cli, ["sync", "--db", database, "--insecure", "--json"])
        #expect(sync.status == 0, "\(sync)")
        let refusedSync = try await ChildProcess.run(Executables.cli, ["sync", "--db", database, "--lang", "en"])
        #expect(refusedSync.status != 0 && refusedSync.stderr.contains("insecureTransport"), "\(refusedSync)")
        await server.stop()
    }
}
