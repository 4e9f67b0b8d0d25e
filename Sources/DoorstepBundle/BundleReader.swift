public import Crypto
import DoorstepCompression
public import Foundation

/// A bundle that passed every check: its manifest and its batches, in seq order.
public struct OpenedBundle: Hashable, Sendable {
    /// The verified manifest (signed by ``device``).
    public var manifest: BundleManifest
    /// The batches, each matching its manifest entry (size, SHA-256, seqs) and naming ``device``.
    public var batches: [PushBatch]
    /// The attachments' files (a version 2 bundle), each of the size and SHA-256 its manifest
    /// entry names and of an accepted type; empty for a version 1 bundle.
    public var files: [BundleFile] = []

    /// The device whose work the bundle carries, and whose key signed it.
    public var device: DeviceID { manifest.device }
    /// The number of mutations in all batches.
    public var mutationCount: Int { batches.reduce(0) { $0 + $1.mutations.count } }
}

/// An attachment's file carried in a bundle: its bytes and the SHA-256 that names them.
public struct BundleFile: Hashable, Sendable {
    /// Lower-case hex SHA-256 of ``data``.
    public var sha256: String
    public var data: Data

    /// A file named by the SHA-256 of its bytes.
    public init(data: Data) {
        self.sha256 = BundleFormat.sha256Hex(data)
        self.data = data
    }

    init(sha256: String, data: Data) {
        self.sha256 = sha256
        self.data = data
    }
}

/// Reads bundle files: decrypts with the server's key, verifies the device's signature and
/// every batch's size and hash, and checks that manifest and batches agree.
///
/// Never crashes on input: every failure is a `DoorstepError` with code `bundleInvalid`
/// whose message names the check that failed.
public enum BundleReader {
    /// Opens a bundle file.
    ///
    /// - Parameters:
    ///   - data: the bytes of the file.
    ///   - serverPrivateKey: the server's X25519 private key.
    ///   - serverKeyID: the id of that key; the manifest must name it.
    ///   - signingKeyOf: the enrolled Ed25519 public key of a device, or `nil` for a device
    ///     the server does not know (the bundle is then refused).
    /// - Returns: the verified manifest and batches.
    /// - Throws: `DoorstepError` `bundleInvalid` naming the failed check (not a bundle,
    ///   unsupported version, truncated, encrypted to another server, signature, hash or
    ///   size, manifest and batches disagree, limits); errors thrown by `signingKeyOf` pass through.
    public static func open(
        _ data: Data, serverPrivateKey: Curve25519.KeyAgreement.PrivateKey, serverKeyID: String,
        signingKeyOf: (DeviceID) throws -> Curve25519.Signing.PublicKey?
    ) throws -> OpenedBundle {
        let content = try decrypt(data, serverPrivateKey: serverPrivateKey, serverKeyID: serverKeyID)
        return try verify(content, signingKey: try signingKeyOf(content.envelope.manifest.device))
    }

    /// Opens a bundle file, looking the device's key up asynchronously (say, in a database).
    ///
    /// The same checks as ``open(_:serverPrivateKey:serverKeyID:signingKeyOf:)``; the
    /// lookup runs only once the file has been decrypted and its manifest read.
    public static func open(
        _ data: Data, serverPrivateKey: Curve25519.KeyAgreement.PrivateKey, serverKeyID: String,
        signingKeyLookup: (DeviceID) async throws -> Curve25519.Signing.PublicKey?
    ) async throws -> OpenedBundle {
        let content = try decrypt(data, serverPrivateKey: serverPrivateKey, serverKeyID: serverKeyID)
        return try verify(content, signingKey: try await signingKeyLookup(content.envelope.manifest.device))
    }

    // MARK: Stage 1: header, decryption, envelope, manifest

    /// A decrypted bundle: its envelope, and in version 2 the bytes of its files, in manifest order.
    struct Content {
        var envelope: BundleEnvelope
        var files: Data?
    }

    /// Parses the header, decrypts, decodes the envelope and checks the manifest's own fields.
    static func decrypt(_ data: Data, serverPrivateKey: Curve25519.KeyAgreement.PrivateKey, serverKeyID: String) throws(DoorstepError) -> Content {
        let bytes = [UInt8](data)
        let magic = BundleFormat.magic
        guard !bytes.isEmpty else { throw BundleFormat.invalid("not a bundle: the file is empty") }
        let prefixLength = min(bytes.count, magic.count)
        guard bytes[0..<prefixLength].elementsEqual(magic[0..<prefixLength]) else {
            throw BundleFormat.invalid("not a bundle: the file does not start with DSBUNDLE")
        }
        guard bytes.count > magic.count else {
            throw BundleFormat.invalid("truncated: the file ends inside its header (\(bytes.count) bytes)")
        }
        let version = bytes[magic.count]
        guard [BundleFormat.version, BundleFormat.filesVersion, BundleFormat.compressedVersion].contains(version) else {
            throw BundleFormat.invalid(
                "unsupported bundle version \(version); this build reads versions \(BundleFormat.version) to \(BundleFormat.compressedVersion)")
        }
        let lengthAt = magic.count + 1
        guard bytes.count >= lengthAt + 2 else {
            throw BundleFormat.invalid("truncated: the file ends inside its header (\(bytes.count) bytes)")
        }
        let keyLength = Int(bytes[lengthAt]) << 8 | Int(bytes[lengthAt + 1])
        guard keyLength == BundleFormat.encapsulatedKeyLength else {
            throw BundleFormat.invalid("the header names an encapsulated key of \(keyLength) bytes; this format uses \(BundleFormat.encapsulatedKeyLength)")
        }
        let headerLength = lengthAt + 2 + keyLength
        guard bytes.count >= headerLength + BundleFormat.tagLength else {
            throw BundleFormat.invalid("truncated: the file has \(bytes.count) bytes, too few for the header and the encrypted content")
        }
        guard bytes.count - headerLength - BundleFormat.tagLength <= BundleFormat.maxPlaintextBytes else {
            throw BundleFormat.invalid("the bundle is larger than the limit of \(BundleFormat.maxPlaintextBytes) bytes of content")
        }
        let header = bytes[0..<headerLength]
        let encapsulatedKey = Data(bytes[(lengthAt + 2)..<headerLength])
        var plaintext: Data
        do {
            var recipient = try HPKE.Recipient(
                privateKey: serverPrivateKey, ciphersuite: BundleFormat.ciphersuite,
                info: BundleFormat.info, encapsulatedKey: encapsulatedKey)
            plaintext = try recipient.open(bytes[headerLength...], authenticating: header)
        } catch {
            throw BundleFormat.invalid(
                "encrypted to another server, or changed or cut short: the bundle cannot be decrypted with this server's key (key id \(serverKeyID))")
        }
        guard plaintext.count <= BundleFormat.maxPlaintextBytes else {
            throw BundleFormat.invalid("the bundle is larger than the limit of \(BundleFormat.maxPlaintextBytes) bytes of content")
        }
        if version == BundleFormat.compressedVersion {
            do {
                plaintext = Data(try ContentEncoding.gzip.decompress(plaintext, limit: BundleFormat.maxPlaintextBytes))
            } catch .tooLarge {
                throw BundleFormat.invalid("the bundle decompresses to more than the limit of \(BundleFormat.maxPlaintextBytes) bytes of content")
            } catch {
                throw BundleFormat.invalid("the bundle's content says it is compressed but does not decompress")
            }
        }
        var envelopeBytes = plaintext
        var fileBytes: Data?
        if version == BundleFormat.filesVersion || version == BundleFormat.compressedVersion {
            let prefix = BundleFormat.envelopeLengthBytes
            guard plaintext.count >= prefix else {
                throw BundleFormat.invalid("truncated: the decrypted content ends inside the envelope's length")
            }
            let start = plaintext.startIndex
            let length = plaintext[start..<(start + prefix)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= plaintext.count - prefix else {
                throw BundleFormat.invalid("truncated: the envelope's length (\(length) bytes) runs past the decrypted content")
            }
            envelopeBytes = plaintext[(start + prefix)..<(start + prefix + length)]
            fileBytes = plaintext[(start + prefix + length)...]
        }
        let envelope: BundleEnvelope
        do {
            envelope = try JSONDecoder().decode(BundleEnvelope.self, from: envelopeBytes)
        } catch {
            throw BundleFormat.invalid("the decrypted content is not a bundle envelope (manifest, batches, signature)")
        }
        let manifest = envelope.manifest
        guard manifest.format == BundleManifest.formatName else {
            throw BundleFormat.invalid("not a bundle: the manifest's format is \"\(manifest.format.prefix(40))\", not \"\(BundleManifest.formatName)\"")
        }
        guard manifest.version == Int(version) else {
            throw BundleFormat.invalid("unsupported manifest version \(manifest.version) in a bundle of version \(version)")
        }
        if let files = manifest.files, files.count > BundleFormat.maxFiles {
            throw BundleFormat.invalid("a bundle carries at most \(BundleFormat.maxFiles) files; this manifest lists \(files.count)")
        }
        if version == BundleFormat.compressedVersion {
            // Files or none; without a list, nothing may follow the envelope.
            if manifest.files == nil, let fileBytes, !fileBytes.isEmpty {
                throw BundleFormat.invalid("size mismatch: the bundle holds \(fileBytes.count) bytes after its envelope and lists no files")
            }
            if manifest.files == nil { fileBytes = nil }
        } else if (manifest.files != nil) != (version == BundleFormat.filesVersion) {
            throw BundleFormat.invalid(
                version == BundleFormat.filesVersion
                    ? "a version 2 bundle's manifest lists its files; this one has no files key"
                    : "a version 1 bundle carries no files; this manifest lists some")
        }
        guard ProtocolVersion.served.contains(manifest.protocolVersion) else {
            throw BundleFormat.invalid(
                "unsupported protocol version \(manifest.protocolVersion) in the manifest; this build serves \(ProtocolVersion.served.lowerBound) to \(ProtocolVersion.served.upperBound)"
            )
        }
        guard manifest.serverKeyID == serverKeyID else {
            throw BundleFormat.invalid(
                "encrypted to another server key: the manifest names key id \"\(manifest.serverKeyID.prefix(40))\", this server's key is \(serverKeyID)")
        }
        return Content(envelope: envelope, files: fileBytes)
    }

    // MARK: Stage 2: signature, hashes, agreement

    /// Verifies the signature with the device's key, then each batch against the manifest.
    static func verify(_ content: Content, signingKey: Curve25519.Signing.PublicKey?) throws(DoorstepError) -> OpenedBundle {
        let envelope = content.envelope
        let manifest = envelope.manifest
        guard let signingKey else {
            throw BundleFormat.invalid("device \(manifest.device) is not enrolled on this server (or has no signing key), so its signature cannot be checked")
        }
        guard let signature = Data(base64Encoded: envelope.signature),
            signingKey.isValidSignature(signature, for: try BundleFormat.canonicalManifest(manifest))
        else {
            throw BundleFormat.invalid("the signature does not match the enrolled key of device \(manifest.device)")
        }
        let files = try readFiles(manifest.files, content.files)
        let entries = manifest.batches
        guard !entries.isEmpty || !files.isEmpty else {
            throw BundleFormat.invalid("a bundle carries at least one batch or one file; this manifest lists none")
        }
        guard entries.count <= BundleFormat.maxBatches else {
            throw BundleFormat.invalid("a bundle carries at most \(BundleFormat.maxBatches) batches; this manifest lists \(entries.count)")
        }
        guard entries.count == envelope.batches.count else {
            throw BundleFormat.invalid(
                "manifest and batches disagree: the manifest lists \(entries.count) batches, the bundle carries \(envelope.batches.count)")
        }
        var batches: [PushBatch] = []
        for (index, (entry, text)) in zip(entries, envelope.batches).enumerated() {
            let name = "batch \(index + 1)"
            guard let bytes = Data(base64Encoded: text) else {
                throw BundleFormat.invalid("\(name) is not valid base64")
            }
            guard bytes.count == entry.size else {
                throw BundleFormat.invalid("size mismatch: \(name) has \(bytes.count) bytes, the manifest says \(entry.size)")
            }
            guard BundleFormat.sha256Hex(bytes) == entry.sha256 else {
                throw BundleFormat.invalid("hash mismatch: the SHA-256 of \(name) is not the one in the manifest")
            }
            do {
                batches.append(try JSONDecoder().decode(PushBatch.self, from: bytes))
            } catch {
                throw BundleFormat.invalid("\(name) matches its hash but is not a valid push batch")
            }
        }
        try BatchChecks.check(batches, device: manifest.device, entries: entries, carriesFiles: !files.isEmpty)
        return OpenedBundle(manifest: manifest, batches: batches, files: files)
    }

    /// Cuts the bytes after a version 2 envelope into the files its manifest lists, and checks
    /// each (size, SHA-256, type): they must fill those bytes exactly.
    static func readFiles(_ entries: [BundleManifest.FileEntry]?, _ bytes: Data?) throws(DoorstepError) -> [BundleFile] {
        guard let entries, let bytes else { return [] }
        guard !entries.isEmpty else { throw BundleFormat.invalid("a version 2 bundle carries at least one file; this manifest lists none") }
        guard entries.count <= BundleFormat.maxFiles else {
            throw BundleFormat.invalid("a bundle carries at most \(BundleFormat.maxFiles) files; this manifest lists \(entries.count)")
        }
        var files: [BundleFile] = []
        var at = bytes.startIndex
        for (index, entry) in entries.enumerated() {
            guard entry.size >= 1, entry.size <= AttachmentFile.maxBytes, entry.size <= Int64(bytes.endIndex - at) else {
                throw BundleFormat.invalid("size mismatch: file \(index + 1) is listed with \(entry.size) bytes, more than the bundle holds")
            }
            let end = at + Int(entry.size)
            files.append(BundleFile(sha256: entry.sha256, data: Data(bytes[at..<end])))
            at = end
        }
        guard at == bytes.endIndex else {
            throw BundleFormat.invalid("size mismatch: the bundle holds \(bytes.endIndex - at) bytes after the files its manifest lists")
        }
        try FileChecks.check(files)
        return files
    }
}
