import Crypto
import DoorstepCore
import Foundation
import Testing

@testable import DoorstepBundle

/// Bundles that carry attachments' files (file-format version 2, protocol 1.4, §14): the files
/// follow the envelope, the signed manifest lists each file's SHA-256 and size, and the reader
/// refuses any file that is not exactly what the manifest names.
@Suite struct BundleFilesTests {
    let fixture = BundleFixture()

    /// A JPEG-looking file of `count` seeded bytes.
    static func photo(_ count: Int, seed: UInt64) -> Data {
        var state = seed &* 2 &+ 1
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        bytes.reserveCapacity(count)
        while bytes.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes.append(UInt8(truncatingIfNeeded: state >> 24))
        }
        return Data(bytes)
    }

    static let pdf = Data("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".utf8)

    func seal(batches: [PushBatch]? = nil, files: [BundleFile]?) throws -> Data {
        try BundleWriter.seal(
            batches: batches ?? fixture.batches, files: files, device: fixture.device, signingKey: fixture.deviceKey,
            serverPublicKey: fixture.serverKey.publicKey, serverKeyID: fixture.serverKeyID, createdAt: "2020-04-20T18:20:00+08:00")
    }

    /// A version 2 plaintext made by hand: length, envelope, then `tail` (the files' bytes).
    func handMade(_ manifest: BundleManifest, batches: [Data] = [], tail: Data, version: UInt8 = 2) throws -> Data {
        let envelope = BundleEnvelope(manifest: manifest, batches: batches.map { $0.base64EncodedString() }, signature: try fixture.sign(manifest))
        let json = try WireCoding.encode(envelope)
        var plaintext = Data()
        if version == 2 {
            let length = UInt32(json.count)
            plaintext.append(contentsOf: [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)])
        }
        plaintext.append(json)
        plaintext.append(tail)
        return try BundleWriter.encrypt(plaintext, to: fixture.serverKey.publicKey, version: version)
    }

    func manifest(files: [BundleManifest.FileEntry]?) -> BundleManifest {
        BundleManifest(device: fixture.device, createdAt: "2020-04-20T18:20:00+08:00", serverKeyID: fixture.serverKeyID, batches: [], files: files)
    }

    @Test func filesAndBatches_roundTripExactly_asVersion2() throws {
        let photo = Self.photo(300_000, seed: 7)
        let files = [BundleFile(data: photo), BundleFile(data: Self.pdf)]
        let data = try seal(files: files)
        #expect(data[data.startIndex + 8] == 2)
        let opened = try fixture.open(data)
        #expect(opened.batches == fixture.batches)
        #expect(opened.files == files)
        #expect(opened.files.map(\.data) == [photo, Self.pdf])
        #expect(opened.manifest.version == 2)
        #expect(opened.manifest.files == files.map { BundleManifest.FileEntry(sha256: $0.sha256, size: Int64($0.data.count)) })
        // The files travel as bytes, not base64: the file is barely larger than they are.
        #expect(data.count < photo.count + Self.pdf.count + 8_000)
    }

    @Test func withoutFiles_theWriterStillWritesVersion1() throws {
        let data = try seal(files: nil)
        #expect(data[data.startIndex + 8] == 1)
        let opened = try fixture.open(data)
        #expect(opened.files.isEmpty)
        #expect(opened.manifest.files == nil)
        // The canonical manifest of version 1 has no files key: what servers before 1.4 verify.
        let canonical = String(decoding: try BundleFormat.canonicalManifest(opened.manifest), as: UTF8.self)
        #expect(!canonical.contains("files"))
        #expect(canonical.contains("\"version\":1"))
    }

    @Test func filesWithoutBatches_open_asALaptopWhosePhotosAloneWait() throws {
        let opened = try fixture.open(try seal(batches: [], files: [BundleFile(data: Self.pdf)]))
        #expect(opened.batches.isEmpty)
        #expect(opened.files.map(\.data) == [Self.pdf])
        // Neither batches nor files: refused by the writer.
        #expect(throws: DoorstepError.self) { try seal(batches: [], files: nil) }
        #expect(throws: DoorstepError.self) { try seal(batches: [], files: []) }
    }

    @Test func theWriterRefusesWhatTheReaderWould() throws {
        expectInvalid("not an accepted type") { try seal(files: [BundleFile(data: Data("GIF89a and the rest".utf8))]) }
        expectInvalid("listed twice") { try seal(files: [BundleFile(data: Self.pdf), BundleFile(data: Self.pdf)]) }
        expectInvalid("hash mismatch") {
            try seal(files: [BundleFile(sha256: BundleFormat.sha256Hex(Data("other".utf8)), data: Self.pdf)])
        }
        // Four files of 17 MiB exceed the 64 MiB of one bundle: the writer says to make several.
        let big = (0..<4).map { BundleFile(data: Self.photo(17 * 1024 * 1024, seed: UInt64(20 + $0))) }
        expectInvalid("export the work as several bundles") { try seal(files: big) }
    }

    @Test func filesThatAreNotWhatTheSignedManifestNames_areRefused() throws {
        let photo = Self.photo(5_000, seed: 3)
        let entry = BundleManifest.FileEntry(sha256: BundleFormat.sha256Hex(photo), size: Int64(photo.count))
        #expect(try fixture.open(try handMade(manifest(files: [entry]), tail: photo)).files.map(\.data) == [photo])
        // A byte changed in the file: its hash is no longer the signed one.
        var changed = photo
        changed[changed.startIndex + 100] ^= 0x55
        expectInvalid("hash mismatch") { try fixture.open(try handMade(manifest(files: [entry]), tail: changed)) }
        // Bytes added after the files, or the files cut short.
        expectInvalid("after the files") { try fixture.open(try handMade(manifest(files: [entry]), tail: photo + Data([1, 2, 3]))) }
        expectInvalid("more than the bundle holds") { try fixture.open(try handMade(manifest(files: [entry]), tail: photo.prefix(4_000))) }
        // A file larger than an attachment may be, or empty.
        let huge = BundleManifest.FileEntry(sha256: entry.sha256, size: AttachmentFile.maxBytes + 1)
        expectInvalid("size mismatch") { try fixture.open(try handMade(manifest(files: [huge]), tail: photo)) }
        // A type the server does not take (the hash is right).
        let gif = Data("GIF89a, not a proof document".utf8)
        let gifEntry = BundleManifest.FileEntry(sha256: BundleFormat.sha256Hex(gif), size: Int64(gif.count))
        expectInvalid("not an accepted type") { try fixture.open(try handMade(manifest(files: [gifEntry]), tail: gif)) }
        // A manifest signed without the file, the file slipped in after: the signature breaks.
        var unsigned = manifest(files: [entry])
        let signature = try fixture.sign(manifest(files: []))
        unsigned.files = [entry]
        let envelope = BundleEnvelope(manifest: unsigned, batches: [], signature: signature)
        let json = try WireCoding.encode(envelope)
        var plaintext = Data([0, 0, UInt8(json.count >> 8), UInt8(json.count & 0xFF)])
        plaintext.append(json)
        plaintext.append(photo)
        expectInvalid("signature does not match") {
            try fixture.open(try BundleWriter.encrypt(plaintext, to: fixture.serverKey.publicKey, version: 2))
        }
    }

    @Test func versionAndManifestMustAgree() throws {
        let photo = Self.photo(2_000, seed: 5)
        let entry = BundleManifest.FileEntry(sha256: BundleFormat.sha256Hex(photo), size: Int64(photo.count))
        // A version 1 file whose manifest lists files.
        expectInvalid("unsupported manifest version 2") { try fixture.open(try handMade(manifest(files: [entry]), tail: Data(), version: 1)) }
        // A version 2 file whose manifest is of version 1.
        expectInvalid("unsupported manifest version 1") { try fixture.open(try handMade(manifest(files: nil), tail: Data())) }
        // A version 2 file whose version 2 manifest lists no files key.
        var noFiles = manifest(files: nil)
        noFiles.version = 2
        expectInvalid("has no files key") { try fixture.open(try handMade(noFiles, tail: Data())) }
        // An envelope length that runs past the content.
        let cut = try BundleWriter.encrypt(Data([0xFF, 0xFF, 0xFF, 0x00, 0x7B]), to: fixture.serverKey.publicKey, version: 2)
        expectInvalid("runs past") { try fixture.open(cut) }
        expectInvalid("ends inside the envelope's length") {
            try fixture.open(try BundleWriter.encrypt(Data([0, 0]), to: fixture.serverKey.publicKey, version: 2))
        }
    }

    @Test func seededChangesToAFileBundle_areRefusedOrOpenUnchanged() throws {
        let files = [BundleFile(data: Self.photo(4_000, seed: 9)), BundleFile(data: Self.pdf)]
        let data = try seal(files: files)
        let content = try BundleReader.decrypt(data, serverPrivateKey: fixture.serverKey, serverKeyID: fixture.serverKeyID)
        var generator = SeededGenerator(seed: 44)
        // Re-encrypt plaintexts with one byte changed anywhere (the envelope, its length, a file):
        // each is refused, or opens to exactly the same work.
        let opened = try fixture.open(data)
        var plaintext = Data()
        let length = UInt32(try WireCoding.encode(content.envelope).count)
        plaintext.append(contentsOf: [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)])
        plaintext.append(try WireCoding.encode(content.envelope))
        for file in files { plaintext.append(file.data) }
        #expect(try fixture.open(try BundleWriter.encrypt(plaintext, to: fixture.serverKey.publicKey, version: 2)) == opened)
        for _ in 0..<200 {
            var mutated = plaintext
            let at = Int.random(in: 0..<mutated.count, using: &generator)
            mutated[mutated.startIndex + at] ^= UInt8.random(in: 1...255, using: &generator)
            do {
                let reopened = try fixture.open(try BundleWriter.encrypt(mutated, to: fixture.serverKey.publicKey, version: 2))
                #expect(reopened == opened, "byte \(at) changed and it opened to other work")
            } catch let error as DoorstepError {
                #expect(error.code == .bundleInvalid)
            }
        }
    }
}
