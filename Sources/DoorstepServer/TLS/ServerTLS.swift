import DoorstepCore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// HTTPS served by the server itself (swift-nio-ssl through Hummingbird), from a PEM certificate
/// chain and a PEM private key. Without them the server speaks plain HTTP (behind a TLS proxy,
/// or on loopback for tests).
enum ServerTLS {
    /// The server's HTTP builder: TLS over HTTP/1.1 when the configuration names a certificate
    /// and a key, plain HTTP/1.1 otherwise. Throws `invalidValue` when only one is given, or
    /// when a file cannot be read as PEM.
    static func serverBuilder(_ configuration: ServerConfiguration) throws -> HTTPServerBuilder {
        guard let tls = try tlsConfiguration(configuration) else { return .http1() }
        return try .tls(.http1(), tlsConfiguration: tls)
    }

    /// The scheme clients use to reach this server.
    static func scheme(_ configuration: ServerConfiguration) -> String {
        configuration.tlsCertificatePath != nil ? "https" : "http"
    }

    static func tlsConfiguration(_ configuration: ServerConfiguration) throws -> TLSConfiguration? {
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificate)
            } catch {
                throw DoorstepError(.invalidValue, "cannot read the TLS certificate \(certificate) as PEM: \(error)")
            }
            guard !chain.isEmpty else {
                throw DoorstepError(.invalidValue, "the TLS certificate file \(certificate) holds no certificate")
            }
            let privateKey: NIOSSLPrivateKey
            do {
                privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            } catch {
                throw DoorstepError(.invalidValue, "cannot read the TLS private key \(key) as PEM: \(error)")
            }
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(privateKey)
            )
            tls.minimumTLSVersion = .tlsv12
            return tls
        default:
            throw DoorstepError(.invalidValue, "HTTPS needs both a certificate (--tls-cert) and its private key (--tls-key)")
        }
    }
}
