import DoorstepCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// The file store several server processes share on PostgreSQL (issue 19): large objects named
/// by their hash, uploads resumed through any process, a cut body keeping what arrived, two
/// writers of one upload never both writing, and nothing left of a refused or swept upload.
/// Skipped, saying why, without a PostgreSQL.
@Suite(.enabled(if: TestDatabase.postgresURL != nil, TestDatabase.skipReason))
struct PostgresFileStoreTests {
    /// A store on a fresh database, its pool running for `body`.
    static func withStore<Value: Sendable>(
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        _ body: (PostgresFileStore, PostgresStorage) async throws -> Value
    ) async throws -> Value {
        let url = try #require(try await TestDatabase.fresh())
        let storage = try PostgresStorage(url: url, logger: Logger(label: "test"))
        let pool = Task { await storage.run() }
        defer { pool.cancel() }
        try await storage.migrate()
        return try await body(PostgresFileStore(storage: storage, clock: clock), storage)
    }

    /// The large objects in the database.
    static func largeObjects(_ storage: PostgresStorage) async throws -> Int64 {
        try await storage.read { connection in
            for try await count in try await connection.query("SELECT COUNT(*) FROM pg_largeobject_metadata", logger: Logger(label: "test")).decode(
                Int64.self)
            {
                return count
            }
            return -1
        }
    }

    /// Chunks of bytes, then (if `failing`) a cut link.
    static func body(_ parts: [ArraySlice<UInt8>], failing: Bool = false) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            for part in parts { continuation.yield(Array(part)) }
            continuation.finish(throwing: failing ? URLError(.networkConnectionLost) : nil)
        }
    }

    @Test func anUploadCutMidBody_keepsWhatArrived_andResumesToTheExactBytes() async throws {
        try await Self.withStore { store, storage in
            let file = AttachmentTests.photo(900_000, seed: 31)
            let sha = AttachmentTests.sha(file)
            #expect(try await store.state(of: sha) == .absent)
            await #expect(throws: (any Error).self) {
                try await store.append(
                    to: sha, offset: 0, length: Int64(file.count), bytes: Self.body([file[0..<300_000], file[300_000..<420_000]], failing: true))
            }
            #expect(try await store.state(of: sha) == .partial(held: 420_000, length: Int64(file.count)), "every byte that arrived is kept")
            // From anywhere else: told where to go on from.
            await #expect(throws: DoorstepError.self) {
                try await store.append(to: sha, offset: 0, length: Int64(file.count), bytes: Self.body([file[0..<10]]))
            }
            let whole = try await store.append(to: sha, offset: 420_000, length: Int64(file.count), bytes: Self.body([file[420_000...]]))
            #expect(whole == .whole(length: Int64(file.count), mediaType: .jpeg))
            var read: [UInt8] = []
            for try await chunk in try #require(try await store.read(sha, range: 0...Int64(file.count - 1))) { read += chunk }
            #expect(read == file)
            var middle: [UInt8] = []
            for try await chunk in try #require(try await store.read(sha, range: 1_000...1_999)) { middle += chunk }
            #expect(middle == Array(file[1_000...1_999]))
            // The same bytes again: a no-op.
            #expect(try await store.append(to: sha, offset: 0, length: Int64(file.count), bytes: Self.body([file[0...]])) == whole)
            #expect(try await Self.largeObjects(storage) == 1)
            let statistics = try await store.statistics()
            #expect(statistics == FileStoreStatistics(files: 1, bytes: Int64(file.count), unfinishedUploads: 0, receiving: 0))
            #expect(try await store.wholeFiles().map(\.sha256) == [sha])
        }
    }

    @Test func refusedUploads_leaveNoLargeObject() async throws {
        try await Self.withStore { store, storage in
            let file = AttachmentTests.photo(300_000, seed: 32)
            let liar = String(repeating: "a", count: 64)
            await #expect(throws: DoorstepError.self) {
                try await store.append(to: liar, offset: 0, length: Int64(file.count), bytes: Self.body([file[0...]]))
            }
            let text = Array("不是照片".utf8) + Array(repeating: 0x20, count: 20)
            await #expect(throws: DoorstepError.self) {
                try await store.append(to: AttachmentTests.sha(text), offset: 0, length: Int64(text.count), bytes: Self.body([text[0...]]))
            }
            // More bytes than the length leaves: the upload stays as it was before the request.
            let sha = AttachmentTests.sha(file)
            _ = try await store.append(to: sha, offset: 0, length: Int64(file.count), bytes: Self.body([file[0..<1_000]]))
            await #expect(throws: DoorstepError.self) {
                try await store.append(to: sha, offset: 1_000, length: Int64(file.count), bytes: Self.body([file[1_000...], [1, 2, 3]]))
            }
            #expect(try await store.state(of: liar) == .absent)
            #expect(try await store.state(of: AttachmentTests.sha(text)) == .absent)
            #expect(try await store.state(of: sha) == .partial(held: 1_000, length: Int64(file.count)))
            #expect(try await Self.largeObjects(storage) == 1, "only the upload still under way holds one")
            // Swept once older than its lifetime: its large object goes with it.
            #expect(try await store.removeUnfinished(before: Int64(Date().timeIntervalSince1970 * 1000) + 1) == 1)
            #expect(try await store.state(of: sha) == .absent)
            #expect(try await Self.largeObjects(storage) == 0)
        }
    }

    @Test func twoWritersOfOneUpload_neverBothWrite() async throws {
        try await Self.withStore { store, _ in
            let file = AttachmentTests.photo(2_000_000, seed: 33)
            let sha = AttachmentTests.sha(file)
            let length = Int64(file.count)
            // Two requests from 0 at once, each in parts: one goes on, the other is told where to.
            async let first: Result<FileState, any Error> = {
                do {
                    return .success(
                        try await store.append(
                            to: sha, offset: 0, length: length,
                            bytes: Self.body(stride(from: 0, to: file.count, by: 100_000).map { file[$0..<min($0 + 100_000, file.count)] })))
                } catch { return .failure(error) }
            }()
            async let second: Result<FileState, any Error> = {
                do {
                    return .success(
                        try await store.append(
                            to: sha, offset: 0, length: length,
                            bytes: Self.body(stride(from: 0, to: file.count, by: 100_000).map { file[$0..<min($0 + 100_000, file.count)] })))
                } catch { return .failure(error) }
            }()
            let results = [await first, await second]
            // Each went on, or was told where to go on from: nothing else (no database error).
            for result in results {
                if case .failure(let error) = result {
                    #expect((error as? DoorstepError)?.code == .uploadOffsetMismatch, "\(error)")
                }
            }
            // Whatever happened, the file can be finished and is exactly its bytes.
            var state = try await store.state(of: sha)
            if case .partial(let held, _) = state {
                state = try await store.append(to: sha, offset: held, length: length, bytes: Self.body([file[Int(held)...]]))
            }
            #expect(state == .whole(length: length, mediaType: .jpeg))
            var read: [UInt8] = []
            for try await chunk in try #require(try await store.read(sha, range: 0...(length - 1))) { read += chunk }
            #expect(read == file)
        }
    }

    /// A request from 0 is judged by its own first bytes: a photo's head left by a request that
    /// was given back (too many bytes) lets no other file through under its type.
    @Test func aRequestGivenBack_leavesNoHeadForTheNextToHideBehind() async throws {
        try await Self.withStore { store, _ async throws in
            // Longer than one committed part (256 KiB), so the given-back request had stored its head.
            let page = Array("<html><body>not a photo, but as long as one</body></html>".utf8) + Array(repeating: 0x20, count: 300_000)
            let sha = AttachmentTests.sha(page)
            let length = Int64(page.count)
            let photoHead = AttachmentTests.photo(page.count + 10, seed: 35)
            await #expect(throws: DoorstepError.self) {
                try await store.append(to: sha, offset: 0, length: length, bytes: Self.body([photoHead[0...]]))
            }
            await #expect(throws: DoorstepError.self) {
                try await store.append(to: sha, offset: 0, length: length, bytes: Self.body([page[0...]]))
            }
            #expect(try await store.state(of: sha) == .absent, "the page is refused by its own first bytes")
        }
    }

    /// Two server processes on one database: a photo begun through one is finished through the
    /// other and downloaded from either; the metrics of both count it.
    @Test func aPhotoBegunThroughOneServer_isFinishedAndReadThroughAnother() async throws {
        let url = try #require(try await TestDatabase.fresh())
        let first = TestServer { $0.databaseURL = url }
        let second = TestServer { $0.databaseURL = url }
        try await first.test(.live) { one in
            try await second.test(.live) { two in
                let visitor = try await one.enroll(district: AttachmentTests.districtA, role: .visitor)
                let file = AttachmentTests.photo(600_000, seed: 34)
                let sha = AttachmentTests.sha(file)
                let begun = try await AttachmentTests.patch(one, visitor.token, sha, from: 0, total: file.count, file[0..<250_000])
                #expect(begun.status == .noContent && begun.headers[AttachmentTests.offset] == "250000")
                #expect(try await AttachmentTests.held(two, visitor.token, sha) == .partial(held: 250_000, length: Int64(file.count)))
                let rest = try await AttachmentTests.patch(two, visitor.token, sha, from: 250_000, total: file.count, file[250_000...])
                #expect(rest.headers[AttachmentTests.fileState] == "whole", "\(rest.text)")
                #expect(try await AttachmentTests.held(one, visitor.token, sha) == .whole(length: Int64(file.count), mediaType: .jpeg))
                let metrics = try await one.call(.get, "/metrics", token: nil).text
                #expect(metrics.contains("doorstep_files_stored 1") && metrics.contains("doorstep_files_stored_bytes 600000"), "\(metrics)")
            }
        }
    }
}
