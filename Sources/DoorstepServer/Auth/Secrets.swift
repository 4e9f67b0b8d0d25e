import Crypto
import DoorstepWeb
import Foundation

/// Random tokens and codes, and the hashes they are stored as.
enum Secrets {
    /// A bearer token: a prefix and 32 random bytes, base64url.
    static func token(prefix: String) -> String {
        prefix + WebSecurity.base64url(WebSecurity.randomBytes(32))
    }

    /// A one-time enrollment code of 12 characters (60 bits) in groups of four, easy to read aloud:
    /// Crockford's alphabet, no I, L, O or U.
    static func enrollmentCode() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        let bytes = WebSecurity.randomBytes(12)
        let chars = bytes.map { alphabet[Int($0) % 32] }
        return String(chars[0..<4]) + "-" + String(chars[4..<8]) + "-" + String(chars[8..<12])
    }

    /// The form a code is hashed in: upper case, no separators, confusable letters mapped.
    static func normalizeCode(_ code: String) -> String {
        code.uppercased().filter { $0.isLetter || $0.isNumber }
            .map { c -> Character in
                switch c {
                case "O": "0"
                case "I", "L": "1"
                default: c
                }
            }
            .reduce(into: "") { $0.append($1) }
    }

    /// The SHA-256 of a secret, lower-case hex: how tokens and codes are stored.
    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
