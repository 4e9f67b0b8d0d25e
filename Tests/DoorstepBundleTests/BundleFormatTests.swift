import Crypto
import Foundation
import Testing

@testable import DoorstepBundle

/// The bundle file format: what the writer makes, the reader accepts, and each check that refuses.
struct BundleFormatTests {
    let fixture = BundleFixture()

    @Test func roundTrip_givesBackTheBatchesAndAManifestThatDescribesThem() throws {
        let data = try fixture.seal()
        #expect(Array(data.prefix(8)) == Array("DSBUNDLE".utf8))
        #expect(data[data.startIndex + 8] == 1)
        #expect(Array(data[(data.startIndex + 9)..<(data.startIndex + 11)]) == [0, 32])
        let opened = try fixture.open(data)
        #expect(opened.batches == fixture.batches)
        #expect(opened.device == fixture.device)
        #expect(opened.mutationCount == 9)
        let manifest = opened.manifest
        #expect(manifest.format == "doorstep-bundle" && manifest.version == 1 && manifest.protocolVersion == ProtocolVersion.current)
        #expect(manifest.serverKeyID == fixture.serverKeyID)
        #expect(manifest.batches.map(\.firstSeq) == [1, 4, 6])
        #expect(manifest.batches.map(\.lastSeq) == [3, 5, 9])
        for (entry, batch) in zip(manifest.batches, fixture.batches) {
            let bytes = try WireCoding.encode(batch)
            #expect(entry.size == bytes.count)
            #expect(entry.sha256 == BundleFormat.sha256Hex(bytes))
            #expect(entry.sha256.count == 64 && entry.sha256 == entry.sha256.lowercased())
        }
        // The plaintext is nowhere in the file: it is encrypted.
        #expect(data.range(of: Data(fixture.device.rawValue.utf8)) == nil)
        #expect(data.range(of: Data("王某某".utf8)) == nil)
    }

    @Test func sealingTwice_givesDifferentFilesThatBothOpen() throws {
        let first = try fixture.seal(), second = try fixture.seal()
        #expect(first != second, "a fresh HPKE key each time")
        #expect(try fixture.open(first) == fixture.open(second))
    }

    @Test func theAsyncLookupOpensTheSameWay() async throws {
        let data = try fixture.seal()
        let key = fixture.deviceKey.publicKey.rawRepresentation
        let opened = try BundleReader.open(data, serverPrivateKey: fixture.serverKey, serverKeyID: fixture.serverKeyID) { id in
            id == fixture.device ? try Curve25519.Signing.PublicKey(rawRepresentation: key) : nil
        }
        #expect(opened.batches == fixture.batches)
    }

    @Test func emptyAndForeignFiles_areNotBundles() {
        expectInvalid("empty") { try fixture.open(Data()) }
        expectInvalid("not a bundle") { try fixture.open(Data("PK\u{3}\u{4} a zip file".utf8)) }
        expectInvalid("not a bundle") { try fixture.open(Data("{\"manifest\": {}}".utf8)) }
        expectInvalid("truncated") { try fixture.open(Data("DSBUN".utf8)) }
        expectInvalid("truncated") { try fixture.open(Data("DSBUNDLE".utf8)) }
    }

    @Test func anotherVersionOrKeyLength_isRefusedByName() throws {
        var data = try fixture.seal()
        data[data.startIndex + 8] = 4
        expectInvalid("unsupported bundle version 4") { try fixture.open(data) }
        // Version 2 exists (files), but the version byte is authenticated: a version 1 file
        // relabelled does not decrypt.
        data = try fixture.seal()
        data[data.startIndex + 8] = 2
        expectInvalid("cannot be decrypted") { try fixture.open(data) }
        data = try fixture.seal()
        data[data.startIndex + 10] = 33
        expectInvalid("encapsulated key of 33 bytes") { try fixture.open(data) }
    }

    @Test func signedByAnotherDevicesKey_isRefused() throws {
        let other = Curve25519.Signing.PrivateKey()
        let data = try fixture.seal(signedBy: other)
        expectInvalid("signature does not match the enrolled key of device \(fixture.device)") { try fixture.open(data) }
        // Even when the other device is enrolled too: the manifest's device decides whose key counts.
        let otherDevice = try DeviceID("laptop-0002")
        expectInvalid("signature does not match") {
            try fixture.open(data, enrolled: [fixture.device: fixture.deviceKey.publicKey, otherDevice: other.publicKey])
        }
    }

    @Test func anUnknownDevice_isRefused() throws {
        let data = try fixture.seal()
        expectInvalid("not enrolled") { try fixture.open(data, enrolled: [:]) }
    }

    @Test func encryptedToAnotherServer_isRefused() throws {
        let otherServer = Curve25519.KeyAgreement.PrivateKey()
        expectInvalid("encrypted to another server") { try fixture.open(try fixture.seal(to: otherServer.publicKey)) }
        // The right key, but a manifest that names another key id.
        expectInvalid("encrypted to another server key") { try fixture.open(try fixture.seal(keyID: "0123456789abcdef")) }
    }

    @Test func manifestHashEditedAndResignedWithoutTheDeviceKey_isRefused() throws {
        // The attacker holds the file and the server's public key, not the device key. Here the
        // test reads the envelope (as if the attacker knew it), swaps in a batch of its own and
        // fixes the manifest's size and hash.
        var envelope = try fixture.envelope(of: try fixture.seal())
        var forged = fixture.batches[0]
        forged.mutations[1].fields = [FieldWrite(field: "monthlyIncomeFen", value: .int(1))]
        let bytes = try WireCoding.encode(forged)
        envelope.batches[0] = bytes.base64EncodedString()
        envelope.manifest.batches[0].size = bytes.count
        envelope.manifest.batches[0].sha256 = BundleFormat.sha256Hex(bytes)
        // Keeping the old signature fails ...
        expectInvalid("signature does not match") { try fixture.open(try fixture.sealEnvelope(envelope)) }
        // ... and so does signing with the attacker's own key.
        envelope.signature = try fixture.sign(envelope.manifest, with: Curve25519.Signing.PrivateKey())
        expectInvalid("signature does not match") { try fixture.open(try fixture.sealEnvelope(envelope)) }
        // Only the device key makes it open (the check is the signature, not something else).
        envelope.signature = try fixture.sign(envelope.manifest)
        #expect(try fixture.open(try fixture.sealEnvelope(envelope)).batches[0] == forged)
    }

    @Test func batchBytesThatDoNotMatchTheSignedManifest_areRefused() throws {
        let original = try fixture.envelope(of: try fixture.seal())
        var envelope = original
        var changed = try #require(Data(base64Encoded: envelope.batches[1]))
        changed[changed.startIndex + 5] ^= 0x01
        envelope.batches[1] = changed.base64EncodedString()
        expectInvalid("hash mismatch: the SHA-256 of batch 2") { try fixture.open(try fixture.sealEnvelope(envelope)) }
        envelope = original
        envelope.batches[2] = (try #require(Data(base64Encoded: envelope.batches[2])) + Data(" ".utf8)).base64EncodedString()
        expectInvalid("size mismatch: batch 3") { try fixture.open(try fixture.sealEnvelope(envelope)) }
        envelope = original
        envelope.batches[0] = "not base64!"
        expectInvalid("batch 1 is not valid base64") { try fixture.open(try fixture.sealEnvelope(envelope)) }
        envelope = original
        envelope.signature = "%%%"
        expectInvalid("signature does not match") { try fixture.open(try fixture.sealEnvelope(envelope)) }
        expectInvalid("not a bundle envelope") { try fixture.open(try BundleWriter.encrypt(Data("[1, 2]".utf8), to: fixture.serverKey.publicKey)) }
    }

    /// Envelopes whose manifest the device did sign, but which disagree with their batches.
    @Test func manifestAndBatchesThatDisagree_areRefused() throws {
        let original = try fixture.envelope(of: try fixture.seal())
        func resigned(_ change: (inout BundleEnvelope) throws -> Void) throws -> Data {
            var envelope = original
            try change(&envelope)
            envelope.signature = try fixture.sign(envelope.manifest)
            return try fixture.sealEnvelope(envelope)
        }
        expectInvalid("the manifest lists 2 batches, the bundle carries 3") {
            try fixture.open(try resigned { $0.manifest.batches.removeLast() })
        }
        expectInvalid("holds seqs 4–5, the manifest says 4–6") {
            try fixture.open(try resigned { $0.manifest.batches[1].lastSeq = 6 })
        }
        expectInvalid("batches are not consecutive") {
            try fixture.open(
                try resigned { envelope in
                    envelope.batches.swapAt(1, 2)
                    envelope.manifest.batches.swapAt(1, 2)
                })
        }
        expectInvalid("at least one batch") {
            try fixture.open(
                try resigned { envelope in
                    envelope.batches = []
                    envelope.manifest.batches = []
                })
        }
        let stranger = BundleFixture(device: "laptop-0009")
        expectInvalid("batch 2 names device laptop-0009") {
            try fixture.open(
                try resigned { envelope in
                    let bytes = try WireCoding.encode(stranger.batches[1])
                    envelope.batches[1] = bytes.base64EncodedString()
                    envelope.manifest.batches[1] = .init(firstSeq: 4, lastSeq: 5, size: bytes.count, sha256: BundleFormat.sha256Hex(bytes))
                })
        }
        expectInvalid("manifest's format") { try fixture.open(try resigned { $0.manifest.format = "zip" }) }
        expectInvalid("unsupported manifest version 7") { try fixture.open(try resigned { $0.manifest.version = 7 }) }
        expectInvalid("unsupported protocol version 99") { try fixture.open(try resigned { $0.manifest.protocolVersion = 99 }) }
    }

    @Test func theWriterRefusesWhatTheReaderWouldRefuse() throws {
        let gap = [fixture.batches[0], fixture.batches[2]]
        expectInvalid("not consecutive") { try fixture.seal(batches: gap) }
        expectInvalid("at least one batch") { try fixture.seal(batches: []) }
        expectInvalid("carries no mutations") { try fixture.seal(batches: [PushBatch(device: fixture.device, mutations: [])]) }
        let stranger = BundleFixture(device: "laptop-0009")
        expectInvalid("names device laptop-0009") { try fixture.seal(batches: stranger.batches) }
        let many = (1...1001).map { seq in
            PushBatch(
                device: fixture.device,
                mutations: [
                    Mutation(
                        device: fixture.device, seq: Int64(seq), hlc: HLC(wallMillis: 1, logical: 0), op: .update, kind: .household,
                        entity: EntityID.random(), household: EntityID.random(), fields: []
                    )
                ])
        }
        expectInvalid("at most 1000 batches") { try fixture.seal(batches: many) }
        #expect(try fixture.open(try fixture.seal(batches: Array(many.prefix(1000)))).batches.count == 1000)
    }

    @Test func aFileLargerThanTheLimit_isRefusedBeforeDecrypting() throws {
        let header = Array(try fixture.seal().prefix(43))
        var data = Data(header)
        data.append(Data(count: BundleFormat.maxPlaintextBytes + BundleFormat.tagLength + 1))
        expectInvalid("larger than the limit") { try fixture.open(data) }
    }
}
