import Crypto
import DoorstepCore
import DoorstepTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// Attachments (protocol 1.4, §17): their metadata syncs as entities, shown only to clients that
/// read 1.4; their bytes are uploaded resumably, checked by type and hash, held once, and
/// downloaded only in the household's scope, by ranges. On both backends (the PostgreSQL suite
/// runs them again when `DOORSTEP_TEST_POSTGRES_URL` names a server).
@Suite(.serialized) struct AttachmentTests {
    static let districtA = "150602"
    static let districtB = "150603"
    static let offset = HTTPField.Name("Upload-Offset")!
    static let length = HTTPField.Name("Upload-Length")!
    static let fileState = HTTPField.Name("Doorstep-File")!
    static let revision: HTTPFields = [HTTPField.Name("Doorstep-Revision")!: "1.4"]

    /// A JPEG-looking file of `count` bytes, seeded.
    static func photo(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var generator = SeededBytes(seed)
        return [0xFF, 0xD8, 0xFF, 0xE0] + (4..<max(4, count)).map { _ in generator.next() }
    }

    static func sha(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    /// What the server holds of a file, as `HEAD` says it (on either backend's store).
    static func held(_ session: Session, _ token: String, _ sha: String) async throws -> FileState {
        let answer = try await session.call(.head, "/v1/files/\(sha)", token: token)
        let offset = Int64(answer.headers[Self.offset] ?? "") ?? -1
        switch answer.headers[Self.fileState] {
        case "whole": return .whole(length: offset, mediaType: .jpeg)
        case "partial": return .partial(held: offset, length: Int64(answer.headers[Self.length] ?? "") ?? -1)
        default: return .absent
        }
    }

    static func patch(_ session: Session, _ token: String, _ sha: String, from: Int64, total: Int, _ bytes: ArraySlice<UInt8>) async throws -> TestResponse {
        try await session.call(
            .patch, "/v1/files/\(sha)", token: token, body: Data(bytes),
            headers: [offset: String(from), length: String(total), .contentType: "application/offset+octet-stream"])
    }

    static func attachment(
        _ factory: MutationFactory, household: EntityID, of owner: EntityID, bytes: [UInt8], name: String = "收入证明.jpg"
    ) -> (EntityID, Mutation) {
        let id = EntityID.random()
        return (
            id,
            factory.make(
                .create, .attachment, entity: id, household: household,
                fields: [
                    FieldWrite(field: "of", value: .string(owner.description)), FieldWrite(field: "sha256", value: .string(sha(bytes))),
                    FieldWrite(field: "mediaType", value: "image/jpeg"), FieldWrite(field: "size", value: .int(Int64(bytes.count))),
                    FieldWrite(field: "fileName", value: .string(name)), FieldWrite(field: "caption", value: "收入证明"),
                ])
        )
    }

    @Test func anUpload_resumesFromWhatTheServerHolds_andCountsOnlyWhenWhole() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let file = Self.photo(300_000)
            let sha = Self.sha(file)
            let absent = try await session.call(.head, "/v1/files/\(sha)", token: visitor.token)
            #expect(absent.status == .ok && absent.headers[Self.offset] == "0" && absent.headers[Self.fileState] == "absent")
            #expect(absent.headers[Self.length] == nil)

            // A first part, then a part sent from the wrong offset: refused with where to go on.
            let first = try await Self.patch(session, visitor.token, sha, from: 0, total: file.count, file[0..<100_000])
            #expect(first.status == .noContent && first.headers[Self.offset] == "100000" && first.headers[Self.fileState] == "partial", "\(first.text)")
            let skipped = try await Self.patch(session, visitor.token, sha, from: 150_000, total: file.count, file[150_000...])
            #expect(skipped.status == .conflict && skipped.errorCode == "uploadOffsetMismatch" && skipped.headers[Self.offset] == "100000")
            #expect(try skipped.json(ErrorBody.self).error.details?.resumeFrom == 100_000)
            // Another length is another upload: it starts from 0 and holds this one back in nothing.
            let otherLength = try await Self.patch(session, visitor.token, sha, from: 100_000, total: file.count + 1, file[100_000...])
            #expect(otherLength.status == .conflict && otherLength.headers[Self.offset] == "0")
            let wrong = try await Self.patch(session, visitor.token, sha, from: 0, total: file.count + 1, file[0..<20])
            #expect(wrong.status == .noContent && wrong.headers[Self.offset] == "20")
            let held = try await session.call(.head, "/v1/files/\(sha)", token: visitor.token)
            #expect(held.headers[Self.offset] == "100000" && held.headers[Self.length] == "\(file.count)" && held.headers[Self.fileState] == "partial")
            let during = try await session.call(.get, "/metrics", token: nil).text
            #expect(during.contains("doorstep_file_uploads_unfinished 2") && during.contains("doorstep_files_stored 0"), "\(during)")

            // The rest, from where the server said: whole, and the same bytes.
            let rest = try await Self.patch(session, visitor.token, sha, from: 100_000, total: file.count, file[100_000...])
            #expect(rest.status == .noContent && rest.headers[Self.offset] == "\(file.count)" && rest.headers[Self.fileState] == "whole", "\(rest.text)")
            #expect(try await Self.held(session, visitor.token, sha) == .whole(length: Int64(file.count), mediaType: .jpeg))

            // Another device uploading the same bytes: nothing to send, nothing changes.
            let colleague = try await session.enroll(district: Self.districtB, role: .visitor)
            let again = try await Self.patch(session, colleague.token, sha, from: 0, total: file.count, file[0...])
            #expect(again.status == .noContent && again.headers[Self.fileState] == "whole" && again.headers[Self.offset] == "\(file.count)")
            let whole = try await session.call(.head, "/v1/files/\(sha.uppercased())", token: colleague.token)
            #expect(whole.headers[Self.fileState] == "whole" && whole.headers[Self.offset] == "\(file.count)")
            let after = try await session.call(.get, "/metrics", token: nil).text
            #expect(after.contains("doorstep_files_stored 1") && after.contains("doorstep_files_stored_bytes \(file.count)"), "\(after)")
            #expect(after.contains("doorstep_file_uploads_unfinished 1") && after.contains("doorstep_file_uploads_receiving 0"))
            #expect(after.contains("doorstep_file_uploads_resumed_total 1"), "the rest went on from 100000: \(after)")
        }
    }

    @Test func badFiles_areRefused_andLeaveNothing() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            // A text file named like a photo: refused by its first bytes, nothing kept.
            let text = Array("这不是照片，是一段文字，改了扩展名而已。".utf8)
            let notAPhoto = try await Self.patch(session, visitor.token, Self.sha(text), from: 0, total: text.count, text[0...])
            #expect(notAPhoto.status == .unsupportedMediaType && notAPhoto.errorCode == "unsupportedMediaType", "\(notAPhoto.text)")
            #expect(try await Self.held(session, visitor.token, Self.sha(text)) == .absent)
            // Bytes whose hash is not their name: refused once whole, nothing kept.
            let file = Self.photo(5_000)
            let liar = String(repeating: "0", count: 64)
            let mismatch = try await Self.patch(session, visitor.token, liar, from: 0, total: file.count, file[0...])
            #expect(mismatch.status == .unprocessableContent && mismatch.errorCode == "hashMismatch", "\(mismatch.text)")
            #expect(try await Self.held(session, visitor.token, liar) == .absent)
            // Too large a file, before any byte is kept; a path that is no SHA-256; bad headers.
            let large = try await Self.patch(session, visitor.token, Self.sha(file), from: 0, total: 20 * 1024 * 1024 + 1, file[0...])
            #expect(large.status == .contentTooLarge && large.errorCode == "payloadTooLarge")
            #expect(try await Self.held(session, visitor.token, Self.sha(file)) == .absent)
            let notSHA = try await Self.patch(session, visitor.token, "abc", from: 0, total: file.count, file[0...])
            #expect(notSHA.status == .unprocessableContent && notSHA.errorCode == "invalidValue")
            for (from, total) in [("-1", "\(file.count)"), ("0", "0"), ("x", "5"), ("0", "")] {
                let bad = try await session.call(
                    .patch, "/v1/files/\(Self.sha(file))", token: visitor.token, body: Data(file), headers: [Self.offset: from, Self.length: total])
                #expect(bad.status == .badRequest && bad.errorCode == "malformedInput", "\(from) \(total): \(bad.text)")
            }
            // More bytes than the length leaves: refused, and the part held before stays as it was.
            _ = try await Self.patch(session, visitor.token, Self.sha(file), from: 0, total: file.count, file[0..<1_000])
            let overflow = try await session.call(
                .patch, "/v1/files/\(Self.sha(file))", token: visitor.token, body: Data(file + [1, 2, 3]),
                headers: [Self.offset: "1000", Self.length: "\(file.count)"])
            #expect(overflow.status == .badRequest)
            #expect(try await Self.held(session, visitor.token, Self.sha(file)) == .partial(held: 1_000, length: Int64(file.count)))
            // The admin token uploads nothing.
            let admin = try await session.call(.head, "/v1/files/\(Self.sha(file))", token: session.adminToken)
            #expect(admin.status == .forbidden)
        }
    }

    @Test func aDownload_isScopedAsItsHousehold_andAnsweredByRanges() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let office = try await session.enroll(district: Self.districtA, role: .office)
            let stranger = try await session.enroll(district: Self.districtB, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            let file = Self.photo(70_000)
            let filed = factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(3)))
            let (photo, create) = Self.attachment(factory, household: household, of: household, bytes: file, name: "王某某 收入证明.jpg")
            let receipt = try await session.pushOK(visitor, [filed, create])
            #expect(receipt.results.allSatisfy { $0.outcome == .applied }, "\(receipt.results)")

            // Before the bytes arrive: the attachment is known, its file awaited.
            let awaited = try await session.call(.get, "/v1/attachments/\(photo)/file", token: office.token)
            #expect(awaited.status == .notFound && (try? awaited.json(ErrorBody.self).error.details?.rule) == "fileAwaited", "\(awaited.text)")
            _ = try await Self.patch(session, visitor.token, Self.sha(file), from: 0, total: file.count, file[0...])

            let whole = try await session.call(.get, "/v1/attachments/\(photo)/file", token: office.token)
            #expect(whole.status == .ok && Array(buffer: whole.body) == file)
            #expect(whole.headers[.contentType] == "image/jpeg" && whole.headers[.eTag] == "\"\(Self.sha(file))\"")
            #expect(whole.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let disposition = whole.headers[.contentDisposition] ?? ""
            #expect(disposition.hasPrefix("attachment;") && disposition.contains("filename*=UTF-8''%E7%8E%8B"), "\(disposition)")
            let part = try await session.call(.get, "/v1/attachments/\(photo)/file", token: visitor.token, headers: [.range: "bytes=100-199"])
            #expect(part.status == .partialContent && Array(buffer: part.body) == Array(file[100...199]))
            #expect(part.headers[.contentRange] == "bytes 100-199/\(file.count)")
            let tail = try await session.call(.get, "/v1/attachments/\(photo)/file", token: visitor.token, headers: [.range: "bytes=-10"])
            #expect(Array(buffer: tail.body) == Array(file.suffix(10)))
            let beyond = try await session.call(.get, "/v1/attachments/\(photo)/file", token: visitor.token, headers: [.range: "bytes=70000-"])
            #expect(beyond.status == .rangeNotSatisfiable && beyond.headers[.contentRange] == "bytes */\(file.count)")

            // Another district's device, an unknown id, a bad id: not found or refused, the same way.
            let outside = try await session.call(.get, "/v1/attachments/\(photo)/file", token: stranger.token)
            #expect(outside.status == .notFound && outside.errorCode == "notFound")
            let unknown = try await session.call(.get, "/v1/attachments/\(EntityID.random())/file", token: visitor.token)
            #expect(unknown.status == .notFound && unknown.text == outside.text)
            #expect(try await session.call(.get, "/v1/attachments/photo/file", token: visitor.token).status == .unprocessableContent)
            // The city sees it; once deleted, no one.
            #expect(try await session.call(.get, "/v1/attachments/\(photo)/file", token: session.adminToken).status == .ok)
            _ = try await session.pushOK(
                visitor, [factory.make(.delete, .attachment, entity: photo, household: household, fields: [FieldWrite(field: "_deleted", value: true)])])
            #expect(try await session.call(.get, "/v1/attachments/\(photo)/file", token: office.token).status == .notFound)
        }
    }

    @Test func aClientBefore14_isSentNoAttachment_whileA14ClientIs() async throws {
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let office = try await session.enroll(district: Self.districtA, role: .office)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            let visit = EntityID.random()
            let filed = factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(4)))
            let visited = factory.make(.create, .visit, entity: visit, household: household, fields: Sample.visit())
            let (photo, create) = Self.attachment(factory, household: household, of: visit, bytes: Self.photo(1_000))
            _ = try await session.pushOK(
                visitor,
                [
                    filed, visited, create,
                    factory.make(
                        .update, .attachment, entity: photo, household: household,
                        fields: [FieldWrite(field: "sha256", value: .string(String(repeating: "a", count: 64)))]),
                ])
            func kinds(_ headers: HTTPFields) async throws -> (pull: [EntityKind], household: [EntityKind], history: Set<EntityKind>, rejections: [EntityKind])
            {
                let page = try await session.call(.get, "/v1/pull", token: visitor.token, headers: headers).json(PullPage.self)
                let aggregate = try await session.call(.get, "/v1/households/\(household)", token: visitor.token, headers: headers).json(
                    HouseholdAggregate.self)
                let history =
                    try await session.call(.get, "/v1/households/\(household)/history", token: visitor.token, headers: headers)
                    .json([String: [AuditEntry]].self)["history"] ?? []
                let queue = try await session.call(.get, "/v1/review", token: office.token, headers: headers).json(ReviewQueue.self)
                return (
                    page.households.flatMap { $0.entities.map(\.kind) }.sorted { $0.rawValue < $1.rawValue },
                    aggregate.entities.map(\.kind).sorted { $0.rawValue < $1.rawValue },
                    Set(history.map(\.kind)), queue.rejections.map(\.kind)
                )
            }
            let old = try await kinds([:])
            #expect(old.pull == [.visit] && old.household == [.visit] && !old.history.contains(.attachment) && old.rejections.isEmpty, "\(old)")
            let older = try await kinds([HTTPField.Name("Doorstep-Revision")!: "1.3"])
            #expect(older.pull == [.visit] && older.rejections.isEmpty)
            let new = try await kinds(Self.revision)
            #expect(new.pull == [.attachment, .visit] && new.household == [.attachment, .visit] && new.history.contains(.attachment), "\(new)")
            #expect(new.rejections == [.attachment], "the fixed field's refusal reaches the office that reads 1.4")
        }
    }
}

extension AttachmentTests {
    /// An upload that holds every byte but was never checked (the check failed for want of disk,
    /// say) is checked at the next request, whatever it sends: it never stays stuck as partial.
    @Test func anUploadHeldWhole_butNotChecked_isCheckedAtTheNextRequest() async throws {
        let folder = Scratch.root.appendingPathComponent("doorstep-files-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try FolderFileStore(root: folder, clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        let file = Self.photo(5_000)
        let sha = Self.sha(file)
        try Data(file).write(to: folder.appendingPathComponent("partial/\(sha)-\(file.count)"))
        #expect(try await store.state(of: sha) == .partial(held: Int64(file.count), length: Int64(file.count)))
        let nothing = AsyncStream<[UInt8]> { $0.finish() }
        #expect(
            try await store.append(to: sha, offset: Int64(file.count - 1), length: Int64(file.count), bytes: nothing) == .whole(length: 5_000, mediaType: .jpeg)
        )
        #expect(try await store.state(of: sha) == .whole(length: 5_000, mediaType: .jpeg))
    }

    /// The office's household page lists the household's documents: a file the server holds opens
    /// in the browser (inline, its own type, not sniffed, sandboxed) or downloads; a file not yet
    /// uploaded says so; another district's office finds neither page nor file.
    @Test func theOfficesHouseholdPage_showsTheDocuments_inlineOrAsADownload() async throws {
        DashboardSettings.passwordCost = 4
        let server = TestServer()
        try await server.test { session in
            let visitor = try await session.enroll(district: Self.districtA, role: .visitor)
            let factory = MutationFactory(device: visitor.id, clock: server.clock)
            let household = EntityID.random()
            let filed = factory.make(.create, .household, entity: household, fields: Sample.household(nationalID: Sample.nationalID(5)))
            let photo = Self.photo(20_000)
            let (held, create) = Self.attachment(factory, household: household, of: household, bytes: photo, name: "收入证明.jpg")
            let (awaited, later) = Self.attachment(factory, household: household, of: household, bytes: Self.photo(500, seed: 9), name: "残疾证.jpg")
            _ = try await session.pushOK(visitor, [filed, create, later])
            _ = try await Self.patch(session, visitor.token, Self.sha(photo), from: 0, total: photo.count, photo[0...])
            try await DashboardTests.account(session, "wang")
            try await DashboardTests.account(session, "li", district: Self.districtB)
            let office = Browser(session)
            _ = try await office.signIn("wang", DashboardTests.password)
            let page = try await office.get("/dashboard/households/\(household)").text
            let link = "/dashboard/households/\(household)/attachments/\(held)"
            #expect(page.contains("证明材料") && page.contains("收入证明.jpg") && page.contains(link) && page.contains(link + "?download=1"), "\(page)")
            #expect(page.contains("残疾证.jpg") && page.contains("文件尚未上传") && !page.contains("/attachments/\(awaited)"))
            let inline = try await office.get(link)
            #expect(inline.status == .ok && Array(buffer: inline.body) == photo && inline.headers[.contentType] == "image/jpeg")
            #expect(inline.headers[.contentDisposition]?.hasPrefix("inline;") == true && inline.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(inline.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
            #expect(try await office.get(link + "?download=1").headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(try await office.get("/dashboard/households/\(household)/attachments/\(awaited)").status == .notFound)
            let stranger = Browser(session)
            _ = try await stranger.signIn("li", DashboardTests.password)
            #expect(try await stranger.get(link).status == .notFound)
        }
    }
}

/// Bytes from a seed (xorshift), for files whose content is known and varied.
struct SeededBytes {
    var state: UInt64
    init(_ seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt8 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 32)
    }
}
