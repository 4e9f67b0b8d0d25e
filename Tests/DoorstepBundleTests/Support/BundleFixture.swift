import Crypto
import DoorstepCore
import Foundation
import Testing

@testable import DoorstepBundle

/// A device, a server key and a few batches, with fixed keys so failures replay.
struct BundleFixture {
    let device: DeviceID
    let deviceKeyData: Data
    let serverKeyData: Data
    let serverKeyID: String
    let batches: [PushBatch]

    var deviceKey: Curve25519.Signing.PrivateKey { (try? .init(rawRepresentation: deviceKeyData)) ?? .init() }
    var serverKey: Curve25519.KeyAgreement.PrivateKey { (try? .init(rawRepresentation: serverKeyData)) ?? .init() }

    init(device: String = "laptop-0001", seed: UInt8 = 1, batchSizes: [Int] = [3, 2, 4], firstSeq: Int64 = 1) {
        self.device = (try? DeviceID(device)) ?? DeviceID.random()
        deviceKeyData = Data((0..<32).map { UInt8(truncatingIfNeeded: Int($0) * 7 + Int(seed)) })
        serverKeyData = Data((0..<32).map { UInt8(truncatingIfNeeded: Int($0) * 13 + 101 + Int(seed)) })
        serverKeyID =
            BundleFormat.sha256Hex((try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: serverKeyData))?.publicKey.rawRepresentation ?? Data()).prefix(
                16
            ).description
        var generator = SeededGenerator(seed: UInt64(seed))
        var seq = firstSeq
        var batches: [PushBatch] = []
        let household = EntityID.random(using: &generator)
        for size in batchSizes {
            var mutations: [Mutation] = []
            for _ in 0..<size {
                let first = seq == 1
                mutations.append(
                    Mutation(
                        device: self.device, seq: seq, hlc: HLC(wallMillis: 1_588_291_200_000 + seq * 1000, logical: 0),
                        op: first ? .create : .update, kind: .household, entity: household, household: household,
                        fields: first
                            ? [FieldWrite(field: "headName", value: .string("王某某")), FieldWrite(field: "district", value: .string("150602"))]
                            : [FieldWrite(field: "monthlyIncomeFen", value: .int(100_000 + seq))]
                    ))
                seq += 1
            }
            batches.append(PushBatch(device: self.device, mutations: mutations))
        }
        self.batches = batches
    }

    func seal(
        batches: [PushBatch]? = nil, signedBy key: Curve25519.Signing.PrivateKey? = nil,
        to server: Curve25519.KeyAgreement.PublicKey? = nil, keyID: String? = nil
    ) throws -> Data {
        try BundleWriter.seal(
            batches: batches ?? self.batches, device: device, signingKey: key ?? deviceKey,
            serverPublicKey: server ?? serverKey.publicKey, serverKeyID: keyID ?? serverKeyID,
            createdAt: "2020-04-20T18:20:00+08:00")
    }

    /// Opens with this fixture's server key; the only enrolled device is this fixture's.
    func open(_ data: Data, enrolled: [DeviceID: Curve25519.Signing.PublicKey]? = nil) throws -> OpenedBundle {
        let keys = enrolled ?? [device: deviceKey.publicKey]
        return try BundleReader.open(data, serverPrivateKey: serverKey, serverKeyID: serverKeyID) { keys[$0] }
    }

    /// Encrypts an envelope as the writer would, with a manifest signed by `key` (or not re-signed).
    func sealEnvelope(_ envelope: BundleEnvelope) throws -> Data {
        try BundleWriter.encrypt(try WireCoding.encode(envelope), to: serverKey.publicKey)
    }

    /// Decrypts a bundle into its envelope (as a test holding the server key can).
    func envelope(of data: Data) throws -> BundleEnvelope {
        try BundleReader.decrypt(data, serverPrivateKey: serverKey, serverKeyID: serverKeyID).envelope
    }

    func sign(_ manifest: BundleManifest, with key: Curve25519.Signing.PrivateKey? = nil) throws -> String {
        try (key ?? deviceKey).signature(for: try BundleFormat.canonicalManifest(manifest)).base64EncodedString()
    }
}

/// Expects `body` to throw `bundleInvalid` (and nothing else); returns the message.
@discardableResult
func expectInvalid(
    _ containing: String? = nil, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Any
) -> String? {
    do {
        _ = try body()
        Issue.record("expected bundleInvalid, but it opened. \(comment?.description ?? "")", sourceLocation: sourceLocation)
        return nil
    } catch let error as DoorstepError {
        #expect(error.code == .bundleInvalid, "\(error) \(comment?.description ?? "")", sourceLocation: sourceLocation)
        if let containing {
            #expect(error.message.contains(containing), "\"\(error.message)\" should say \"\(containing)\"", sourceLocation: sourceLocation)
        }
        return error.message
    } catch {
        Issue.record("expected bundleInvalid, got \(error) \(comment?.description ?? "")", sourceLocation: sourceLocation)
        return nil
    }
}
