public import Crypto
public import Foundation

/// Writes bundle files: a device's batches with a manifest, signed with the device's key and
/// encrypted to the server's public key (the format is ``BundleFormat``).
public enum BundleWriter {
    /// Seals batches into a bundle file.
    ///
    /// Each batch is encoded in the canonical wire form (`WireCoding.encode`); the manifest
    /// lists each batch's first and last seq, byte size and SHA-256; the device signs the
    /// manifest's canonical JSON; the envelope is encrypted with HPKE to `serverPublicKey`.
    ///
    /// - Parameters:
    ///   - batches: the device's batches in seq order: at least one, each non-empty, with
    ///     consecutive seqs and no gap between batches, every batch and mutation of `device`.
    ///   - device: the device whose work the bundle carries.
    ///   - signingKey: the device's Ed25519 private key (its public half was registered at enrollment).
    ///   - serverPublicKey: the server's X25519 public key, received at enrollment.
    ///   - serverKeyID: the id of that key, received at enrollment.
    ///   - createdAt: when the bundle is made, RFC 3339.
    /// - Returns: the bytes of the bundle file.
    /// - Throws: `DoorstepError` with code `bundleInvalid` when the batches break a rule above
    ///   or exceed the limits (``BundleFormat/maxBatches``, ``BundleFormat/maxPlaintextBytes``).
    public static func seal(
        batches: [PushBatch], device: DeviceID, signingKey: Curve25519.Signing.PrivateKey,
        serverPublicKey: Curve25519.KeyAgreement.PublicKey, serverKeyID: String, createdAt: String
    ) throws -> Data {
        try BatchChecks.check(batches, device: device, entries: nil)
        var encoded: [Data] = []
        var entries: [BundleManifest.Entry] = []
        for batch in batches {
            let bytes: Data
            do {
                bytes = try WireCoding.encode(batch)
            } catch {
                throw BundleFormat.invalid("a batch cannot be encoded")
            }
            encoded.append(bytes)
            entries.append(
                BundleManifest.Entry(
                    firstSeq: batch.mutations.first?.seq ?? 0, lastSeq: batch.mutations.last?.seq ?? 0,
                    size: bytes.count, sha256: BundleFormat.sha256Hex(bytes)
                ))
        }
        let manifest = BundleManifest(device: device, createdAt: createdAt, serverKeyID: serverKeyID, batches: entries)
        let signature: Data
        do {
            signature = try signingKey.signature(for: try BundleFormat.canonicalManifest(manifest))
        } catch let error as DoorstepError {
            throw error
        } catch {
            throw BundleFormat.invalid("the manifest cannot be signed")
        }
        let envelope = BundleEnvelope(
            manifest: manifest, batches: encoded.map { $0.base64EncodedString() }, signature: signature.base64EncodedString()
        )
        let plaintext: Data
        do {
            plaintext = try WireCoding.encode(envelope)
        } catch {
            throw BundleFormat.invalid("the bundle envelope cannot be encoded")
        }
        guard plaintext.count <= BundleFormat.maxPlaintextBytes else {
            throw BundleFormat.invalid(
                "the bundle would hold \(plaintext.count) bytes, more than the limit of \(BundleFormat.maxPlaintextBytes); export the work as several bundles")
        }
        return try encrypt(plaintext, to: serverPublicKey)
    }

    /// Encrypts an envelope's bytes to the server's key and prepends the header.
    static func encrypt(_ plaintext: Data, to serverPublicKey: Curve25519.KeyAgreement.PublicKey) throws(DoorstepError) -> Data {
        do {
            var sender = try HPKE.Sender(recipientKey: serverPublicKey, ciphersuite: BundleFormat.ciphersuite, info: BundleFormat.info)
            let header = BundleFormat.header(encapsulatedKey: sender.encapsulatedKey)
            let ciphertext = try sender.seal(plaintext, authenticating: header)
            var file = Data(header)
            file.append(ciphertext)
            return file
        } catch {
            throw BundleFormat.invalid("the bundle cannot be encrypted to the server's key")
        }
    }
}
