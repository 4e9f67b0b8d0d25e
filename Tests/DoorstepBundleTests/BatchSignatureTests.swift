import Crypto
import DoorstepBundle
import Foundation
import Testing

/// Protocol 1.8's push signatures (§19.2): the golden example verifies with the package's own
/// check, and a body changed by one byte, another key, or a malformed signature does not.
@Suite struct BatchSignatureTests {
    struct Example: Decodable {
        var publicSigningKey: String
        var body: String
        var signature: String
    }

    static var example: Example {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try JSONDecoder().decode(Example.self, from: Data(contentsOf: root.appendingPathComponent("protocol/examples/push-signature.json")))
        }
    }

    @Test func theGoldenSignature_verifies_andNothingElseDoes() throws {
        let example = try Self.example
        let key = try #require(BatchSignature.publicKey(example.publicSigningKey))
        let body = Data(example.body.utf8)
        #expect(BatchSignature.verify(example.signature, of: body, by: key))
        var changed = body
        changed[changed.count / 2] ^= 0x01
        #expect(!BatchSignature.verify(example.signature, of: changed, by: key))
        #expect(!BatchSignature.verify(example.signature, of: body, by: Curve25519.Signing.PrivateKey().publicKey))
        #expect(!BatchSignature.verify("not base64!", of: body, by: key))
        #expect(!BatchSignature.verify(String(example.signature.dropLast(4)) + "AAA=", of: body, by: key))
        // Signed without the context, the same bytes are not a push signature.
        let bare = try Curve25519.Signing.PrivateKey().signature(for: body).base64EncodedString()
        #expect(!BatchSignature.verify(bare, of: body, by: key))
    }

    @Test func aSignatureMadeHere_verifiesWithItsKeyOnly() throws {
        let key = Curve25519.Signing.PrivateKey()
        let body = Data(#"{"device":"d","mutations":[],"protocolVersion":1}"#.utf8)
        let signature = try BatchSignature.sign(body, with: key)
        #expect(BatchSignature.verify(signature, of: body, by: key.publicKey))
        #expect(!BatchSignature.verify(signature, of: body + Data(" ".utf8), by: key.publicKey))
        #expect(BatchSignature.publicKey("too short") == nil && BatchSignature.publicKey(nil) == nil)
    }
}
