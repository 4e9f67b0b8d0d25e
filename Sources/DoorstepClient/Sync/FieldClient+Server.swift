public import DoorstepCore
public import Foundation
import GRDB

extension FieldClient {
    /// Asks an address which server answers there (`GET /v1/server`); sends no token.
    public func serverInfo(at server: URL) async throws -> ServerInfo {
        try checkTransport(server)
        let api = ServerAPI(
            transport: configuration.transport(server), token: nil, retry: configuration.retry, compression: configuration.compresses(with: server))
        do {
            return try await api.call("GET", "/v1/server", as: ServerInfo.self)
        } catch let error as DoorstepError where error.code == .notFound {
            throw DoorstepError(
                .serverMismatch,
                "\(server.absoluteString) does not say which server it is (no /v1/server): it is not a Doorstep server of this version",
                zh: "\(server.absoluteString) 没有说明自己是哪台服务器，不是这一版本的 Doorstep 服务器"
            )
        }
    }

    /// Checks that an address reaches the server this device enrolled with: the same bundle key
    /// id, whatever the address. Throws `serverMismatch` otherwise; nothing is sent there but the
    /// question, the device's token least of all.
    public func verifyServer(at server: URL) async throws {
        let expected = try await pool.read { db in try LocalStore.setting(db, .serverKeyID) }
        guard let expected else {
            throw DoorstepError(
                .notEnrolled, "this device is not enrolled yet: run enroll with the code from the office",
                zh: "本机尚未登记，请先用办公室给的登记码登记")
        }
        let info = try await serverInfo(at: server)
        guard info.serverKeyID == expected else {
            throw DoorstepError(
                .serverMismatch,
                "\(server.absoluteString) is another server (key id \(info.serverKeyID), this device enrolled with \(expected)); nothing was sent to it",
                zh: "\(server.absoluteString) 是另一台服务器（密钥编号 \(info.serverKeyID)，本机登记的服务器是 \(expected)），未向它发送任何数据"
            )
        }
    }

    /// Points this device at its server's new address (the server moved, or was given a new
    /// name), after checking that the address answers as the same server. Later syncs, office
    /// commands and bundles use the new address; the old one is forgotten.
    @discardableResult
    public func moveServer(to server: URL) async throws -> Enrollment {
        try await verifyServer(at: server)
        return try await pool.write { db in
            try LocalStore.set(db, .server, server.absoluteString)
            guard let enrollment = try Self.enrollment(db) else {
                throw DoorstepError(.notEnrolled, "this device is not enrolled yet")
            }
            return enrollment
        }
    }
}

extension FieldClient {
    /// The identity (bundle key id) of the server this device enrolled with; `nil` before enrollment.
    public var serverKeyID: String? {
        get async throws { try await pool.read { db in try LocalStore.setting(db, .serverKeyID) } }
    }
}
