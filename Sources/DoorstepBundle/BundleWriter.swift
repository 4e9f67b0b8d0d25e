public import Crypto
import DoorstepCompression
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
        try seal(
            batches: batches, files: nil, device: device, signingKey: signingKey, serverPublicKey: serverPublicKey,
            serverKeyID: serverKeyID, createdAt: createdAt)
    }

    /// Seals batches and attachments' files into a bundle file: version 2 when `files` is not
    /// `nil` (protocol 1.4), version 1 otherwise (what every server reads).
    ///
    /// A version 2 bundle may carry files only (no batch): a laptop whose changes reached the
    /// server but whose photos did not. Each file is checked as the reader will (hash, size,
    /// type by its first bytes); the manifest lists each file's SHA-256 and size, so the
    /// device's signature covers them.
    ///
    /// - Throws: `DoorstepError` with code `bundleInvalid` when the batches or files break a rule
    ///   or exceed the limits (``BundleFormat/maxBatches``, ``BundleFormat/maxFiles``,
    ///   ``BundleFormat/maxPlaintextBytes``).
    /// With `compressed` (for a server that reads protocol 1.5) the bundle is of version 3: the
    /// same content, with or without files, compressed before it is sealed (a day of changes is
    /// an eighth of the bytes on the stick and on the wire).
    public static func seal(
        batches: [PushBatch], files: [BundleFile]?, compressed: Bool = false, device: DeviceID, signingKey: Curve25519.Signing.PrivateKey,
        serverPublicKey: Curve25519.KeyAgreement.PublicKey, serverKeyID: String, createdAt: String
    ) throws -> Data {
        if let files {
            guard !files.isEmpty else { throw BundleFormat.invalid("a version 2 bundle carries at least one file") }
            try FileChecks.check(files)
        }
        try BatchChecks.check(batches, device: device, entries: nil, carriesFiles: files != nil)
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
        var manifest = BundleManifest(
            device: device, createdAt: createdAt, serverKeyID: serverKeyID, batches: entries,
            files: files?.map { BundleManifest.FileEntry(sha256: $0.sha256, size: Int64($0.data.count)) })
        if compressed { manifest.version = BundleManifest.compressedVersion }
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
        var plaintext: Data
        do {
            plaintext = try WireCoding.encode(envelope)
        } catch {
            throw BundleFormat.invalid("the bundle envelope cannot be encoded")
        }
        if files != nil || compressed {
            let files = files ?? []
            let total = BundleFormat.envelopeLengthBytes + plaintext.count + files.reduce(0) { $0 + $1.data.count }
            guard total <= BundleFormat.maxPlaintextBytes else { throw tooLarge(total) }
            let length = UInt32(plaintext.count)
            var payload = Data(capacity: total)
            payload.append(contentsOf: [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)])
            payload.append(plaintext)
            for file in files { payload.append(file.data) }
            plaintext = payload
        }
        var version = files == nil ? BundleFormat.version : BundleFormat.filesVersion
        if compressed {
            do {
                plaintext = Data(try ContentEncoding.gzip.compress(plaintext, level: 6))
            } catch {
                throw BundleFormat.invalid("the bundle's content cannot be compressed")
            }
            version = BundleFormat.compressedVersion
        }
        // The whole file (header and tag included) within the limit, so that its upload fits the request limit.
        let fileBytes = plaintext.count + BundleFormat.magic.count + 3 + BundleFormat.encapsulatedKeyLength + BundleFormat.tagLength
        guard fileBytes <= BundleFormat.maxPlaintextBytes else { throw tooLarge(fileBytes) }
        return try encrypt(plaintext, to: serverPublicKey, version: version)
    }

    /// The bytes of a bundle's content beside its files: what a writer leaves for them when it
    /// shares ``BundleFormat/maxPlaintextBytes`` between several bundles (generous: the
    /// envelope's batches in base64, the manifest's lines and the length).
    public static func overhead(batchBytes: Int, files: Int) -> Int {
        4096 + (batchBytes + 2) / 3 * 4 + batchBytes / 4 + files * 160
    }

    static func tooLarge(_ bytes: Int) -> DoorstepError {
        BundleFormat.invalid(
            "the bundle would hold \(bytes) bytes, more than the limit of \(BundleFormat.maxPlaintextBytes); export the work as several bundles")
    }

    /// Encrypts an envelope's bytes to the server's key and prepends the header.
    static func encrypt(
        _ plaintext: Data, to serverPublicKey: Curve25519.KeyAgreement.PublicKey, version: UInt8 = BundleFormat.version
    ) throws(DoorstepError) -> Data {
        do {
            var sender = try HPKE.Sender(recipientKey: serverPublicKey, ciphersuite: BundleFormat.ciphersuite, info: BundleFormat.info)
            let header = BundleFormat.header(encapsulatedKey: sender.encapsulatedKey, version: version)
            let ciphertext = try sender.seal(plaintext, authenticating: header)
            var file = Data(header)
            file.append(ciphertext)
            return file
        } catch {
            throw BundleFormat.invalid("the bundle cannot be encrypted to the server's key")
        }
    }
}
