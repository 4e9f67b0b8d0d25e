import Crypto
import DoorstepWeb
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import NIOPosix

/// Passwords, session ids, form tokens and cookies of the dashboard.
enum DashboardSecurity {
    // MARK: Passwords

    /// A bcrypt hash of the password at ``DashboardSettings/passwordCost``, computed on NIO's
    /// thread pool, off the concurrency pool (bcrypt is slow on purpose).
    static func hashPassword(_ password: String) async throws -> String {
        let cost = DashboardSettings.passwordCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether the password matches the hash; with no hash (unknown account) it spends the same
    /// time hashing and answers `false`, so that timing does not tell which names exist.
    static func verifyPassword(_ password: String, hash: String?) async throws -> Bool {
        let cost = DashboardSettings.passwordCost
        return try await NIOThreadPool.singleton.runIfActive {
            guard let hash else {
                _ = Bcrypt.hash(password, cost: cost)
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }

    /// Checks a new password: 10 characters or more, at most 72 bytes (bcrypt's limit), no control characters.
    static func validatePassword(_ password: String) throws(DoorstepError) {
        guard password.count >= DashboardSettings.minPasswordLength else {
            throw DoorstepError(.invalidValue, "the password must have at least \(DashboardSettings.minPasswordLength) characters")
        }
        guard password.utf8.count <= DashboardSettings.maxPasswordBytes else {
            throw DoorstepError(.invalidValue, "the password must not be longer than \(DashboardSettings.maxPasswordBytes) bytes")
        }
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw DoorstepError(.invalidValue, "the password must not contain control characters")
        }
    }

    /// An account name as stored: trimmed and lower case; 2 to 64 characters of `a-z0-9._-`, starting with a letter or digit.
    static func normalizeName(_ text: String) throws(DoorstepError) -> String {
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-" }
        guard (2...64).contains(name.count), allowed, let first = name.unicodeScalars.first, first != ".", first != "_", first != "-" else {
            throw DoorstepError(.invalidValue, "an account name has 2 to 64 characters of a-z, 0-9, '.', '_' and '-', and starts with a letter or digit")
        }
        return name
    }

    // MARK: Session ids and form tokens

    /// A new session id: 32 random bytes (256 bits), base64url. Only its hash is stored.
    static func newSessionID() -> String { WebSecurity.newSecret() }

    /// The form token of a session (or of a sign-in cookie): derived from the secret by SHA-256 with a
    /// purpose prefix, so the database holds nothing that yields it and it never reveals the secret.
    static func formToken(for secret: String, purpose: String) -> String {
        WebSecurity.formToken(for: secret, application: "dashboard", purpose: purpose)
    }
}
