public import Crypto
public import Foundation

/// A device's signature over a push body (protocol 1.8, §19.2): what lets the city check that a
/// batch a relay forwards was made by the device it names, byte for byte.
///
/// The signature is Ed25519, by the key the device enrolled, over `doorstep-push-1\n` followed
/// by the request body's bytes as sent before any content coding; it travels, base64, in the
/// `Doorstep-Signature` header, and a relay forwards the body's bytes and the header unchanged.
public enum BatchSignature {
    /// The header that carries it.
    public static let header = "Doorstep-Signature"
    /// What comes before the body in the signed bytes (so that no other signed thing can pass for a push).
    static let context = Data("doorstep-push-1\n".utf8)

    /// The signature of a push body, base64.
    public static func sign(_ body: Data, with key: Curve25519.Signing.PrivateKey) throws -> String {
        try key.signature(for: context + body).base64EncodedString()
    }

    /// Whether `signature` (base64) is the device's over `body`; `false` for anything malformed.
    public static func verify(_ signature: String, of body: Data, by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let raw = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)), raw.count == 64 else { return false }
        return key.isValidSignature(raw, for: context + body)
    }

    /// The public key a device enrolled (base64, raw 32 bytes); `nil` when it does not decode.
    public static func publicKey(_ text: String?) -> Curve25519.Signing.PublicKey? {
        guard let text, let raw = Data(base64Encoded: text) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }
}
