import Crypto
import DoorstepCompression
import DoorstepCore
import Foundation
import Testing

@testable import DoorstepBundle

/// Compressed bundles (file-format version 3, protocol 1.5, §14): the same content as version 2,
/// with or without files, compressed before it is sealed; refused when it does not decode or
/// decodes past the limit.
@Suite struct CompressedBundleTests {
    let fixture = BundleFixture(batchSizes: [200, 200, 150])

    func seal(files: [BundleFile]? = nil, compressed: Bool) throws -> Data {
        try BundleWriter.seal(
            batches: fixture.batches, files: files, compressed: compressed, device: fixture.device, signingKey: fixture.deviceKey,
            serverPublicKey: fixture.serverKey.publicKey, serverKeyID: fixture.serverKeyID, createdAt: "2020-04-20T18:20:00+08:00")
    }

    @Test func batchesAlone_roundTrip_asVersion3_inAFractionOfTheBytes() throws {
        let plain = try seal(compressed: false)
        let compressed = try seal(compressed: true)
        #expect(compressed[compressed.startIndex + 8] == 3)
        let opened = try fixture.open(compressed)
        #expect(opened.batches == fixture.batches)
        #expect(opened.manifest.version == 3)
        #expect(opened.manifest.files == nil)
        #expect(opened.files.isEmpty)
        #expect(compressed.count * 5 < plain.count, "\(compressed.count) bytes against \(plain.count)")
    }

    @Test func filesAndBatches_roundTrip_asVersion3() throws {
        let photo = BundleFilesTests.photo(200_000, seed: 3)
        let opened = try fixture.open(try seal(files: [BundleFile(data: photo), BundleFile(data: BundleFilesTests.pdf)], compressed: true))
        #expect(opened.batches == fixture.batches)
        #expect(opened.files.map(\.data) == [photo, BundleFilesTests.pdf])
        #expect(opened.manifest.version == 3)
    }

    /// A version 3 payload made by hand: `payload` sealed as it is (compressed or not).
    func sealed(_ payload: Data) throws -> Data {
        try BundleWriter.encrypt(payload, to: fixture.serverKey.publicKey, version: 3)
    }

    /// The version 2 layout of an envelope whose manifest is version 3, then `tail`.
    func layout(files: [BundleManifest.FileEntry]? = nil, tail: Data = Data()) throws -> Data {
        var manifest = BundleManifest(
            device: fixture.device, createdAt: "2020-04-20T18:20:00+08:00", serverKeyID: fixture.serverKeyID,
            batches: try fixture.batches.map { batch in
                let bytes = try WireCoding.encode(batch)
                return BundleManifest.Entry(
                    firstSeq: batch.mutations.first?.seq ?? 0, lastSeq: batch.mutations.last?.seq ?? 0, size: bytes.count, sha256: BundleFormat.sha256Hex(bytes)
                )
            }, files: files)
        manifest.version = 3
        let envelope = BundleEnvelope(
            manifest: manifest, batches: try fixture.batches.map { try WireCoding.encode($0).base64EncodedString() }, signature: try fixture.sign(manifest))
        let json = try WireCoding.encode(envelope)
        let length = UInt32(json.count)
        var plaintext = Data([UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)])
        plaintext.append(json)
        plaintext.append(tail)
        return plaintext
    }

    @Test func aPayloadThatIsNotGzip_orCut_isRefused() throws {
        let layout = try layout()
        #expect(throws: DoorstepError.self) { try fixture.open(try sealed(layout)) }
        let cut = Data(try ContentEncoding.gzip.compress(layout).dropLast(10))
        do {
            _ = try fixture.open(try sealed(cut))
            Issue.record("a cut payload was opened")
        } catch let error as DoorstepError {
            #expect(error.code == .bundleInvalid && error.message.contains("does not decompress"), "\(error)")
        }
        // As made by hand, whole: it opens (the check above is of the compression alone).
        #expect(try fixture.open(try sealed(Data(try ContentEncoding.gzip.compress(layout)))).batches == fixture.batches)
    }

    @Test func aPayloadThatDecodesPastTheLimit_isRefused() throws {
        let tail = Data(repeating: 0x20, count: BundleFormat.maxPlaintextBytes)
        let bomb = Data(try ContentEncoding.gzip.compress(try layout(tail: tail), level: 9))
        #expect(bomb.count < 1_000_000)
        do {
            _ = try fixture.open(try sealed(bomb))
            Issue.record("a payload past the limit was opened")
        } catch let error as DoorstepError {
            #expect(error.code == .bundleInvalid && error.message.contains("more than the limit"), "\(error)")
        }
    }

    @Test func bytesAfterTheEnvelope_withoutAListOfFiles_areRefused() throws {
        do {
            _ = try fixture.open(try sealed(Data(try ContentEncoding.gzip.compress(try layout(tail: Data("extra".utf8))))))
            Issue.record("trailing bytes were accepted")
        } catch let error as DoorstepError {
            #expect(error.code == .bundleInvalid && error.message.contains("lists no files"), "\(error)")
        }
    }
}
