import Foundation
import Testing

@testable import DoorstepCore

/// The rules of attachments both ends apply (protocol 1.4, §2, §13.4, §17).
@Suite struct AttachmentRulesTests {
    let city = CityData.ordos

    @Test func aFilesType_isToldByItsFirstBytes_notItsName() {
        let heic: [UInt8] = [0, 0, 0, 0x18] + Array("ftypheic".utf8)
        #expect(AttachmentFile.mediaType(ofFirstBytes: [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0, count: 8)) == .jpeg)
        #expect(AttachmentFile.mediaType(ofFirstBytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D]) == .png)
        #expect(AttachmentFile.mediaType(ofFirstBytes: Array("%PDF-1.7\n%âãÏÓ".utf8)) == .pdf)
        #expect(AttachmentFile.mediaType(ofFirstBytes: heic) == .heic)
        #expect(AttachmentFile.mediaType(ofFirstBytes: [0, 0, 0, 0x18] + Array("ftypmif1".utf8)) == .heic)
        // An MP4 is an ISO base media file too, of another brand; a text named .jpg is text.
        #expect(AttachmentFile.mediaType(ofFirstBytes: [0, 0, 0, 0x18] + Array("ftypisom".utf8)) == nil)
        #expect(AttachmentFile.mediaType(ofFirstBytes: Array("收入证明.jpg".utf8)) == nil)
        #expect(AttachmentFile.mediaType(ofFirstBytes: [0xFF, 0xD8]) == nil, "two bytes tell nothing")
        #expect(AttachmentFile.mediaType(ofFirstBytes: [UInt8]()) == nil)
    }

    @Test func theFieldsOfAnAttachment_areValidatedAndNormalised() throws {
        let sha = try #require(EntityKind.attachment.field("sha256"))
        let upper = String(repeating: "AB", count: 32)
        #expect(try sha.normalize(.string(upper), city: city) == .string(upper.lowercased()))
        for bad in ["abc", String(repeating: "g", count: 64), String(repeating: "a", count: 65)] {
            let error = expectError(.invalidValue) { _ = try sha.normalize(.string(bad), city: city) }
            #expect(error?.details.rule == "sha256" && error?.details.field == "sha256")
        }
        let of = try #require(EntityKind.attachment.field("of"))
        #expect(try of.normalize(" 0E1D2C16-9D56-4C0C-B362-DB5697D7E41E ", city: city) == "0e1d2c16-9d56-4c0c-b362-db5697d7e41e")
        #expect(expectError(.invalidValue) { _ = try of.normalize("household-1", city: city) }?.details.rule == "entityId")
        let size = try #require(EntityKind.attachment.field("size"))
        #expect(try size.normalize(.int(20 * 1024 * 1024), city: city) == .int(20 * 1024 * 1024))
        for bad: Int64 in [0, 20 * 1024 * 1024 + 1] {
            #expect(expectError(.invalidValue) { _ = try size.normalize(.int(bad), city: city) }?.details.rule == "outOfRange")
        }
        let type = try #require(EntityKind.attachment.field("mediaType"))
        #expect(expectError(.invalidValue) { _ = try type.normalize("image/gif", city: city) }?.details.allowed == AttachmentMediaType.wireNames)
        #expect(EntityKind.attachment.isDeletable && EntityKind.attachment.isMutable && EntityKind.attachment.isChild)
        #expect(EntityKind.attachment.label(.chinese) == "证明材料")
        #expect(AttachmentMediaType.pdf.label(.chinese) == "PDF 文件")
    }

    @Test func whatNamesTheBytes_isFixedAtCreation_forEveryRole() throws {
        for field in ["of", "sha256", "mediaType", "size"] {
            for role in [Role.visitor, .office, .city] {
                let error = expectError(.invalidValue) {
                    try Permissions.check(.update, kind: .attachment, writes: [FieldWrite(field: field, value: "x")], role: role)
                }
                #expect(error?.details.rule == "fixedAtCreation" && error?.details.field == field)
                #expect(error?.chineseMessage?.contains("不能修改") == true)
            }
        }
        try Permissions.check(.update, kind: .attachment, writes: [FieldWrite(field: "caption", value: "收入证明")], role: .visitor)
        try Permissions.check(.update, kind: .attachment, writes: [FieldWrite(field: "fileName", value: "收入证明.jpg")], role: .visitor)
        try Permissions.check(
            .create, kind: .attachment, writes: ["of", "sha256", "mediaType", "size"].map { FieldWrite(field: $0, value: "x") }, role: .visitor)
    }

    @Test func theRevisionHeader_saysWhetherAClientReadsAttachments() {
        #expect(!ProtocolVersion.readsAttachments(nil))
        #expect(!ProtocolVersion.readsAttachments("1.3"))
        #expect(!ProtocolVersion.readsAttachments("1"))
        #expect(!ProtocolVersion.readsAttachments("1.4.1"))
        #expect(!ProtocolVersion.readsAttachments("one.four"))
        #expect(ProtocolVersion.readsAttachments("1.4"))
        #expect(ProtocolVersion.readsAttachments(" 1.10 "))
        #expect(ProtocolVersion.readsAttachments("2.0"))
    }

    @Test func anOlderRevision_isSentNothingAboutAttachments() throws {
        let household = EntityID.random()
        let write = WriteID(hlc: HLC(wallMillis: 1_586_000_000_000, logical: 0), device: try DeviceID("visitor-a"))
        let photo = EntityState(kind: .attachment, id: .random(), household: household, created: write)
        let member = EntityState(kind: .member, id: .random(), household: household, created: write)
        let aggregate = HouseholdAggregate(
            household: EntityState(kind: .household, id: household, household: household, created: write), entities: [member, photo])
        #expect(RevisionView.household(aggregate, readsAttachments: false).entities == [member])
        #expect(RevisionView.household(aggregate, readsAttachments: true) == aggregate)

        func entry(_ kind: EntityKind, _ id: EntityID) throws -> AuditEntry {
            AuditEntry(
                entity: id, kind: kind, field: "caption", old: .null, new: "收入证明", write: write.description, device: try DeviceID("visitor-a"),
                seq: 1, actor: "device:visitor-a", at: "2020-04-20T02:00:00Z")
        }
        let history = [try entry(.member, member.id), try entry(.attachment, photo.id)]
        #expect(RevisionView.history(history, readsAttachments: false).map(\.kind) == [.member])
        #expect(RevisionView.history(history, readsAttachments: true).count == 2)

        let conflict = { (kind: EntityKind, id: EntityID) in
            ReviewQueue.Conflict(
                district: "150602", record: ConflictRecord(entity: id, kind: kind, household: household, field: "caption", reason: .concurrentValues, heads: [])
            )
        }
        let queue = ReviewQueue(
            conflicts: [conflict(.member, member.id), conflict(.attachment, photo.id)], duplicates: [], rejections: [], clockFlaggedDevices: [])
        #expect(RevisionView.review(queue, readsAttachments: false).conflicts.map(\.record.kind) == [.member])
        #expect(RevisionView.review(queue, readsAttachments: true) == queue)
    }
}
