public import Crypto
public import Foundation

/// The constants of the bundle file format (`protocol/README.md`, section "Bundles").
///
/// A bundle file is:
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `DSBUNDLE` (ASCII) |
/// | 1 | file-format version: `1`; `2` for a bundle that carries attachments' files; `3` compressed |
/// | 2 | *e*: big-endian length of the HPKE encapsulated key (32 for X25519) |
/// | *e* | the HPKE encapsulated key |
/// | rest | the HPKE ciphertext of the JSON envelope, with its 16-byte tag |
///
/// The ciphertext is one HPKE `seal` (base mode, `Curve25519_SHA256_ChachaPoly`, info
/// `doorstep-bundle-v1`, associated data = every header byte before it) of the envelope
/// `{"manifest": BundleManifest, "batches": [base64 of each batch's JSON], "signature": base64}`.
/// The signature is the device's Ed25519 signature over the canonical JSON bytes of the manifest.
/// In version 2 the plaintext is a 4-byte big-endian length, the envelope, then the bytes of each
/// file the manifest's `files` lists, one after the other in that order. In version 3 it is that
/// same content (its files may be none) compressed with gzip; the limits count it decoded.
public enum BundleFormat {
    /// The first 8 bytes of every bundle file.
    public static let magic: [UInt8] = Array("DSBUNDLE".utf8)
    /// The file-format version of a bundle without files (what a server before 1.4 reads).
    public static let version: UInt8 = 1
    /// The file-format version of a bundle that carries attachments' files (protocol 1.4).
    public static let filesVersion: UInt8 = 2
    /// The file-format version of a compressed bundle: version 2's content (length, envelope,
    /// files, which may be none) in one gzip member before it is sealed (protocol 1.5).
    public static let compressedVersion: UInt8 = 3
    /// The most files one bundle carries.
    public static let maxFiles = 1000
    /// The HPKE `info` (key-schedule context) of every bundle.
    public static let info = Data("doorstep-bundle-v1".utf8)
    /// The HPKE cipher suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
    public static var ciphersuite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }
    /// The length of an X25519 encapsulated key.
    public static let encapsulatedKeyLength = 32
    /// The length of the ChaCha20-Poly1305 tag that ends the ciphertext.
    public static let tagLength = 16
    /// The most batches one bundle carries.
    public static let maxBatches = 1000
    /// The largest decrypted envelope, in bytes (64 MiB).
    public static let maxPlaintextBytes = 64 * 1024 * 1024
    /// The recommended file-name extension.
    public static let fileExtension = "dsbundle"

    /// The header before the ciphertext: magic, version, length of the encapsulated key, the key.
    static func header(encapsulatedKey: Data, version: UInt8) -> [UInt8] {
        let length = UInt16(clamping: encapsulatedKey.count)
        return magic + [version, UInt8(length >> 8), UInt8(length & 0xFF)] + Array(encapsulatedKey)
    }

    /// The bytes of a version 2 plaintext's envelope length.
    static let envelopeLengthBytes = 4

    /// The canonical JSON bytes of a manifest: the bytes the device signs.
    public static func canonicalManifest(_ manifest: BundleManifest) throws(DoorstepError) -> Data {
        do {
            return try WireCoding.encode(manifest)
        } catch {
            throw invalid("the manifest cannot be encoded")
        }
    }

    /// Lower-case hex SHA-256 of some bytes, as manifest entries carry it.
    public static func sha256Hex(_ data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A `bundleInvalid` error with a message naming the failed check.
    static func invalid(_ message: String) -> DoorstepError {
        DoorstepError(.bundleInvalid, message)
    }
}

/// The decrypted payload of a bundle file: the manifest, each batch's JSON (base64) and the
/// device's signature over the manifest (in version 2, the files follow it).
struct BundleEnvelope: Codable, Sendable {
    var manifest: BundleManifest
    /// Base64 of each batch's canonical JSON bytes, in manifest order.
    var batches: [String]
    /// Base64 of the device's Ed25519 signature over the canonical manifest JSON.
    var signature: String
}

/// The checks both ends make on a sequence of batches: the writer before it seals, the
/// reader after it has verified the hashes, so a writer never makes a bundle a reader refuses.
enum BatchChecks {
    /// Checks that every batch is non-empty, names `device` (itself and each mutation), has
    /// consecutive seqs, follows the previous batch without a gap, and matches its manifest entry.
    /// A bundle with files (`carriesFiles`, version 2) may carry no batch.
    static func check(_ batches: [PushBatch], device: DeviceID, entries: [BundleManifest.Entry]?, carriesFiles: Bool = false) throws(DoorstepError) {
        guard !batches.isEmpty || carriesFiles else {
            throw BundleFormat.invalid("a bundle carries at least one batch or one file; this one has none")
        }
        guard batches.count <= BundleFormat.maxBatches else {
            throw BundleFormat.invalid("a bundle carries at most \(BundleFormat.maxBatches) batches; this one has \(batches.count)")
        }
        var previousLast: Int64?
        for (index, batch) in batches.enumerated() {
            let name = "batch \(index + 1)"
            guard batch.device == device else {
                throw BundleFormat.invalid("manifest and batches disagree: \(name) names device \(batch.device), the manifest device \(device)")
            }
            guard let first = batch.mutations.first?.seq, let last = batch.mutations.last?.seq else {
                throw BundleFormat.invalid("manifest and batches disagree: \(name) carries no mutations")
            }
            var expected = first
            for mutation in batch.mutations {
                guard mutation.device == device else {
                    throw BundleFormat.invalid(
                        "manifest and batches disagree: a mutation of \(name) (seq \(mutation.seq)) names device \(mutation.device), the manifest device \(device)"
                    )
                }
                guard mutation.seq == expected, mutation.seq >= 1 else {
                    throw BundleFormat.invalid(
                        "manifest and batches disagree: the seqs of \(name) are not consecutive from \(first) (found \(mutation.seq) where \(expected) belongs)"
                    )
                }
                expected = mutation.seq &+ 1
            }
            if let previousLast, first != previousLast &+ 1 {
                throw BundleFormat.invalid(
                    "manifest and batches disagree: batches are not consecutive: \(name) starts at seq \(first), the previous one ended at \(previousLast)")
            }
            if let entries {
                guard index < entries.count else {
                    throw BundleFormat.invalid(
                        "manifest and batches disagree: the manifest lists \(entries.count) batches, the bundle carries \(batches.count)")
                }
                let entry = entries[index]
                guard entry.firstSeq == first, entry.lastSeq == last else {
                    throw BundleFormat.invalid(
                        "manifest and batches disagree: \(name) holds seqs \(first)–\(last), the manifest says \(entry.firstSeq)–\(entry.lastSeq)")
                }
            }
            previousLast = last
        }
    }
}

/// The checks both ends make on the files of a version 2 bundle: the writer before it seals,
/// the reader after it has read them.
enum FileChecks {
    /// Checks each file: at most ``BundleFormat/maxFiles``, each named once, 1 byte to
    /// `AttachmentFile.maxBytes`, its SHA-256 the one listed, of an accepted type by its first bytes.
    static func check(_ files: [BundleFile]) throws(DoorstepError) {
        guard files.count <= BundleFormat.maxFiles else {
            throw BundleFormat.invalid("a bundle carries at most \(BundleFormat.maxFiles) files; this one has \(files.count)")
        }
        var seen: Set<String> = []
        for (index, file) in files.enumerated() {
            let name = "file \(index + 1)"
            guard AttachmentFile.isSHA256(file.sha256) else {
                throw BundleFormat.invalid("\(name) is not named by a lower-case hex SHA-256")
            }
            guard seen.insert(file.sha256).inserted else {
                throw BundleFormat.invalid("\(name) is listed twice (\(file.sha256.prefix(12)))")
            }
            guard !file.data.isEmpty, Int64(file.data.count) <= AttachmentFile.maxBytes else {
                throw BundleFormat.invalid("\(name) has \(file.data.count) bytes; a file has 1 to \(AttachmentFile.maxBytes)")
            }
            guard BundleFormat.sha256Hex(file.data) == file.sha256 else {
                throw BundleFormat.invalid("hash mismatch: the SHA-256 of \(name) is not the one in the manifest")
            }
            guard AttachmentFile.mediaType(ofFirstBytes: file.data) != nil else {
                throw BundleFormat.invalid(
                    "\(name) is not an accepted type by its first bytes (\(AttachmentMediaType.wireNames.joined(separator: ", ")))")
            }
        }
    }
}
