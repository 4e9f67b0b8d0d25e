import Foundation
import Testing

@testable import DoorstepCore

/// The protocol's golden files and merge vectors, so the written protocol cannot drift from the code.
struct ProtocolExamplesTests {
    static var examples: URL { packageRoot().appendingPathComponent("protocol/examples") }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: examples.appendingPathComponent(name))
    }

    static func roundTrip<T: Codable>(_ type: T.Type, _ name: String) throws {
        let original = try data(name)
        let value = try JSONDecoder().decode(type, from: original)
        let encoded = try WireCoding.encode(value, pretty: true)
        #expect(String(decoding: encoded, as: UTF8.self) == String(decoding: original, as: UTF8.self), "\(name) does not re-encode byte for byte")
    }

    @Test func goldenFiles_decodeAndReencodeByteForByte() throws {
        try Self.roundTrip(PushBatch.self, "push-batch.json")
        try Self.roundTrip(PushBatch.self, "push-batch-lost.json")
        try Self.roundTrip(PushReceipt.self, "push-receipt.json")
        try Self.roundTrip(PushReceipt.self, "relay-push-receipt.json")
        try Self.roundTrip(PullPage.self, "pull-page.json")
        try Self.roundTrip(PullPage.self, "pull-page-estimate.json")
        try Self.roundTrip(BundleManifest.self, "bundle-manifest.json")
        try Self.roundTrip(BundleManifest.self, "bundle-manifest-files.json")
        try Self.roundTrip(ErrorBody.self, "error-body.json")
        try Self.roundTrip(EntityState.self, "entity-state.json")
        try Self.roundTrip(ConflictRecord.self, "conflict-record.json")
        try Self.roundTrip(ReviewQueue.Rejection.self, "held-change.json")
        try Self.roundTrip(ServerInfo.self, "server-info.json")
        try Self.roundTrip(ClosedRejection.self, "closed-rejection.json")
        try Self.roundTrip(PushBatch.self, "attachment-batch.json")
    }

    /// Revision 1.4's attachment: every field as its rule stores it, the fixed ones on the
    /// creation only, and the SHA-256 one of 64 lower-case hexadecimal digits.
    @Test func theAttachmentExample_holdsWhatTheRulesStore() throws {
        let batch = try JSONDecoder().decode(PushBatch.self, from: try Self.data("attachment-batch.json"))
        let create = try #require(batch.mutations.first)
        #expect(create.kind == .attachment && create.op == .create)
        let validated = try MutationValidator.validate(.create, kind: .attachment, fields: create.fields, city: .ordos)
        #expect(validated == create.fields, "the example's values are already normalised")
        #expect(Set(create.fields.map(\.field)) == Set(EntityKind.attachment.fields.map(\.name)))
        let update = try #require(batch.mutations.last)
        #expect(update.op == .update && update.fields.map(\.field) == ["caption"] && update.fields[0].base == [create.writeID])
    }

    /// Revision 1.3's `remaining`: read the same by the Codable and the fast reader the client
    /// pulls with, and absent (not 0) on a page that was not asked for it.
    @Test func anEstimatedPage_isReadTheSameByBothReaders() throws {
        let estimated = try Self.data("pull-page-estimate.json")
        let page = try JSONDecoder().decode(PullPage.self, from: estimated)
        #expect(page.remaining == 1_873)
        #expect(try FastJSON.decodePulledPage(estimated).page == page)
        let plain = try FastJSON.decodePulledPage(try Self.data("pull-page.json")).page
        #expect(plain.remaining == nil)
        let negative = String(decoding: estimated, as: UTF8.self).replacingOccurrences(of: "1873", with: "-1")
        #expect(throws: DoorstepError.self) { try FastJSON.decodePulledPage(Data(negative.utf8)) }
    }

    /// The canonical JSON vectors of §14 (written by hand, from the rules, by another
    /// implementation): both of the package's writers give each value's canonical text exactly.
    @Test func canonicalJSONVectors_matchBothWriters() throws {
        struct Vector: Decodable {
            var name: String
            var value: JSONValue
            var canonical: String
        }
        let vectors = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: Self.examples.appendingPathComponent("canonical-json.json")))
        #expect(vectors.count >= 10)
        for vector in vectors {
            #expect(String(decoding: try WireCoding.encode(vector.value), as: UTF8.self) == vector.canonical, "\(vector.name)")
            #expect(String(decoding: try WireCoding.encoder().encode(vector.value), as: UTF8.self) == vector.canonical, "\(vector.name)")
        }
    }

    @Test func everyGoldenFile_isCoveredByATest() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(
            files == [
                "attachment-batch.json", "bundle-manifest-files.json", "bundle-manifest.json", "canonical-json.json", "closed-rejection.json",
                "conflict-record.json", "entity-state.json",
                "error-body.json",
                "held-change.json", "pull-page-estimate.json", "pull-page.json", "push-batch-lost.json", "push-batch.json", "push-receipt.json",
                "push-signature.json", "relay-push-receipt.json", "server-info.json",
            ])
    }

    struct MergeVector: Codable {
        struct PrincipalSpec: Codable { var role: Role; var district: String? }
        struct Refusal: Codable, Equatable { var batch: Int; var code: DoorstepError.Code }
        struct ExpectedHousehold: Codable { var id: EntityID; var aliases: [EntityID]; var fields: [String: [Head]] }
        struct ExpectedEntity: Codable { var id: EntityID; var kind: EntityKind; var household: EntityID; var fields: [String: [Head]] }
        struct ExpectedConflict: Codable, Equatable { var entity: EntityID; var field: String; var reason: ConflictRecord.Reason }
        struct Expect: Codable {
            var results: [[MutationResult]]
            var refusals: [Refusal]?
            var clockSkew: [Bool]?
            var households: [ExpectedHousehold]
            var entities: [ExpectedEntity]?
            var conflicts: [ExpectedConflict]
        }
        var name: String
        var description: String
        var serverMillis: Int64
        var principals: [String: PrincipalSpec]
        var batches: [PushBatch]
        var expect: Expect
    }

    static var vectorNames: [String] {
        let directory = examples.appendingPathComponent("merge").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    @Test func thereAreMergeVectors() {
        #expect(Self.vectorNames.count >= 8)
    }

    @Test(arguments: vectorNames)
    func mergeVector(_ name: String) throws {
        let original = try Self.data("merge/\(name)")
        let vector = try JSONDecoder().decode(MergeVector.self, from: original)
        #expect(
            String(decoding: try WireCoding.encode(vector, pretty: true), as: UTF8.self) == String(decoding: original, as: UTF8.self),
            "\(name) does not re-encode byte for byte")
        let store = MemoryMergeStore()
        let engine = MergeEngine()
        var clock = HybridLogicalClock(last: .zero, physicalMillis: { vector.serverMillis })
        var results: [[MutationResult]] = []
        var skews: [Bool] = []
        var refusals: [MergeVector.Refusal] = []
        for (index, batch) in vector.batches.enumerated() {
            let spec = try #require(vector.principals[batch.device.rawValue], "\(name): no principal for \(batch.device)")
            let principal = Principal(device: batch.device, role: spec.role, district: spec.district)
            do {
                let receipt = try engine.apply(batch, from: principal, store: store, clock: &clock)
                results.append(
                    receipt.results.map {
                        var result = $0; result.reason = nil; return result
                    })
                skews.append(receipt.clockSkew)
            } catch let error as DoorstepError {
                results.append([])
                skews.append(false)
                refusals.append(.init(batch: index, code: error.code))
            }
        }
        #expect(results == vector.expect.results, "\(name): results differ")
        #expect(refusals == (vector.expect.refusals ?? []), "\(name): refusals differ")
        if let expected = vector.expect.clockSkew { #expect(skews == expected, "\(name): clock skew flags differ") }
        var conflicts: [MergeVector.ExpectedConflict] = []
        for expected in vector.expect.households {
            let aggregate = try #require(try store.aggregate(expected.id, engine: engine), "\(name): household \(expected.id) missing")
            #expect(aggregate.household.id == expected.id, "\(name): survivor differs")
            #expect(aggregate.aliases.sorted() == expected.aliases.sorted(), "\(name): aliases differ")
            for (field, heads) in expected.fields {
                #expect(aggregate.household.heads(field) == heads, "\(name): heads of \(field) differ")
            }
        }
        for expected in vector.expect.entities ?? [] {
            let state = try #require(store.entity(expected.id), "\(name): entity \(expected.id) missing")
            #expect(state.kind == expected.kind && state.household == expected.household, "\(name): entity \(expected.id) differs")
            for (field, heads) in expected.fields {
                #expect(state.heads(field) == heads, "\(name): heads of \(expected.id).\(field) differ")
            }
        }
        for survivor in store.canonicalByHousehold.filter({ $0.key == $0.value }).map(\.key) {
            if let aggregate = try store.aggregate(survivor, engine: engine) {
                conflicts += aggregate.conflicts.map { .init(entity: $0.entity, field: $0.field, reason: $0.reason) }
            }
        }
        conflicts.sort { ($0.entity, $0.field) < ($1.entity, $1.field) }
        #expect(conflicts == vector.expect.conflicts, "\(name): open conflicts differ")
    }
}
