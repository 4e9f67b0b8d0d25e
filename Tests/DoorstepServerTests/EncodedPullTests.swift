import DoorstepCore
import Foundation
import GRDB
import Testing

@testable import DoorstepServer

/// The pull page written from stored entity texts against the page built and encoded whole.
struct EncodedPullTests {
    @Test func encodedPage_equalsTheEncodedBuiltPage_withLinksConflictsAndDeletions() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-encoded-pull-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try SQLiteStorage(path: directory.appendingPathComponent("doorstep.sqlite").path)
        try await storage.migrate()
        let engine = MergeEngine()
        let clock: @Sendable () -> Int64 = { 1_586_000_000_000 }
        var devices: [Principal] = []
        for index in 0..<2 {
            try await storage.insertEnrollmentCode(EnrollmentCodeRecord(codeHash: "code-\(index)", district: "150602", role: .visitor, createdBy: "test",
                                                                        createdAt: "2020-01-01T00:00:00Z", expiresAt: "2099-01-01T00:00:00Z"))
            devices.append(try await storage.redeemEnrollmentCode(hash: "code-\(index)", now: "2020-01-02T00:00:00Z", device: NewDevice(
                id: DeviceID.random(), name: "d\(index)", tokenHash: "token-\(index)", signingKey: nil)).principal)
        }
        let body = "150602" + "19850701" + "123"
        let nationalID = body + String(NationalID.checkCharacter(for: Array(body)))
        func household(_ id: EntityID) -> [FieldWrite] {
            [FieldWrite(field: "headName", value: "王某某"), FieldWrite(field: "nationalId", value: .string(nationalID)),
             FieldWrite(field: "address", value: "东胜区 \"建设街\" 12/3"), FieldWrite(field: "district", value: "150602"),
             FieldWrite(field: "fileLevel", value: "national"), FieldWrite(field: "primaryCause", value: "illness"),
             FieldWrite(field: "difficulty", value: "general"), FieldWrite(field: "skillLevel", value: "none"),
             FieldWrite(field: "monthlyIncomeFen", value: 100_000), FieldWrite(field: "epidemicAffected", value: false),
             FieldWrite(field: "status", value: "candidate")]
        }
        let first = EntityID.random(), second = EntityID.random(), member = EntityID.random()
        var seq: [Int64] = [0, 0]
        func push(_ index: Int, _ build: (Int64, HLC) -> Mutation) async throws {
            seq[index] += 1
            let mutation = build(seq[index], HLC(wallMillis: 1_586_000_000_000 + seq[index] * 10 + Int64(index), logical: 0))
            _ = try await storage.push(PushBatch(device: devices[index].device, mutations: [mutation]), from: devices[index], engine: engine,
                                       actor: nil, now: "2020-04-01T00:00:00Z", physicalMillis: clock)
        }
        let a = devices[0].device, b = devices[1].device
        try await push(0) { Mutation(device: a, seq: $0, hlc: $1, op: .create, kind: .household, entity: first, household: first, fields: household(first)) }
        try await push(0) { Mutation(device: a, seq: $0, hlc: $1, op: .create, kind: .member, entity: member, household: first, fields: [
            FieldWrite(field: "name", value: "李某"), FieldWrite(field: "relation", value: "spouse"),
            FieldWrite(field: "health", value: "healthy"), FieldWrite(field: "employment", value: "unemployed")]) }
        let created = WriteID(hlc: HLC(wallMillis: 1_586_000_000_020, logical: 0), device: a)
        for n in 0..<3 {
            try await push(0) { Mutation(device: a, seq: $0, hlc: $1, op: .create, kind: .visit, entity: EntityID.random(), household: first, fields: [
                FieldWrite(field: "visitedAt", value: .string("2020-04-0\(n + 1)T10:30:00+08:00")), FieldWrite(field: "visitor", value: "走访员甲"),
                FieldWrite(field: "mode", value: "atHome"), FieldWrite(field: "conclusion", value: "eligible"), FieldWrite(field: "verified", value: [])]) }
        }
        // The other device files the same person again (a link) and edits the member concurrently (a conflict).
        try await push(1) { Mutation(device: b, seq: $0, hlc: $1, op: .create, kind: .household, entity: second, household: second, fields: household(second)) }
        try await push(1) { Mutation(device: b, seq: $0, hlc: $1, op: .update, kind: .member, entity: member, household: first, fields: [
            FieldWrite(field: "health", value: "disabled", base: [created])]) }
        try await push(0) { Mutation(device: a, seq: $0, hlc: $1, op: .update, kind: .member, entity: member, household: first, fields: [
            FieldWrite(field: "health", value: "chronicIllness", base: [created])]) }
        // Visits after the conflict: each refreshes the household's conflicts from the conflicted-entities index.
        for n in 3..<5 {
            try await push(1) { Mutation(device: b, seq: $0, hlc: $1, op: .create, kind: .visit, entity: EntityID.random(), household: first, fields: [
                FieldWrite(field: "visitedAt", value: .string("2020-04-0\(n + 1)T10:30:00+08:00")), FieldWrite(field: "visitor", value: "走访员乙"),
                FieldWrite(field: "mode", value: "atHome"), FieldWrite(field: "conclusion", value: "eligible"), FieldWrite(field: "verified", value: [])]) }
        }

        let city = Principal(device: a, role: .city, district: nil)
        func compare(_ note: Comment) async throws {
            var built = try await storage.pull(for: city, after: 0, limit: 100, engine: engine, now: "2020-04-02T00:00:00Z", physicalMillis: clock)
            let encoded = try await storage.pullEncoded(for: city, after: 0, limit: 100, engine: engine, now: "2020-04-02T00:00:00Z", physicalMillis: clock)
            let decoded = try JSONDecoder().decode(PullPage.self, from: encoded)
            built.serverClock = decoded.serverClock  // each pull ticks the server's clock
            // Registers compare with their server-side superseded ids, which stay off the wire: compare what is sent.
            #expect(encoded == (try WireCoding.encoder().encode(built)), note)
            #expect(!built.households.isEmpty && built.conflicts.count >= 1, "a conflict and a link are in the page")
            #expect(built.households.contains { !$0.aliases.isEmpty })
        }
        try await compare("with stored wire texts")
        try await storage.pool.write { db in try db.execute(sql: "UPDATE entities SET wire = NULL") }
        try await compare("entities saved before the wire column")
    }

    @Test func refreshingConflicts_readsTheConflictedEntitiesIndex_notEveryVisit() async throws {
        try await TestDatabase.withSQLiteStorage("conflict-index") { storage in
            for households in [1, 2] {
                let plan = try await storage.pool.read { db in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteMergeStore.conflictedEntitiesSQL(households: households),
                                     arguments: StatementArguments((0..<households).map { _ in EntityID.random().description }))
                        .map { $0["detail"] as String? ?? "" }
                }
                #expect(plan.contains { $0.contains("USING INDEX entities_conflicted") }, "\(households) household(s): \(plan)")
            }
        }
    }
}
