import DoorstepCore
import DoorstepTestSupport
import Foundation
import Synchronization
import Testing

@testable import DoorstepClient

/// Photos on a USB stick (protocol 1.4, §14 version 2): a laptop whose photos could not go over
/// the link exports them in bundles with its unsynced changes; an office uploads them from
/// another machine, once or twice, and the server holds each file whole before the changes
/// that name it are applied.
@Suite struct AttachmentBundleTests {
    @Test func photosThatCouldNotGo_travelInABundle_uploadedTwiceChangesNothing() async throws {
        try await LiveServer.run { server in
            let link = AttachmentClientTests.FileLink()
            let visitor = try await server.enrolledClient(transport: { link.transport($0) })
            let household = try await visitor.fileHousehold(Facts.household(40))
            let (first, firstBytes) = try AttachmentClientTests.photo(200_000, seed: 61, name: "收入证明.jpg")
            let synced = try await visitor.attach(fileAt: first, to: household, caption: "收入证明")
            // The changes reach the server; the photo does not (the hotspot drops large requests).
            link.state.withLock { $0.refuseFiles = true }
            #expect(try await visitor.sync().filesWaiting == 1)
            // A second photo and a visit are made offline after it.
            let (second, secondBytes) = try AttachmentClientTests.photo(150_000, seed: 62, name: "残疾证.jpg")
            let offline = try await visitor.attach(fileAt: second, to: household)
            try await visitor.recordVisit(to: household, Facts.visit)

            let path = ClientBundleTests.temporaryFile("day.dsbundle")
            let export = try #require(try await visitor.exportBundles(to: path))
            #expect(export.paths == [path] && export.mutations == 2 && export.attachments == 2, "\(export)")
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(data[data.startIndex + 8] == 3, "for a server that reads 1.5, a bundle is compressed (version 3), files and all")
            #expect(data.count > firstBytes.count + secondBytes.count, "the files travel inside it")

            let office = try OfficeClient(server: server.url, token: server.adminToken)
            let uploaded = try await office.upload(bundle: data)
            #expect(uploaded.files == 2 && uploaded.receipts.flatMap(\.results).map(\.outcome) == [.applied, .applied])
            let again = try await office.upload(bundle: data)
            #expect(again.files == 2 && again.receipts.flatMap(\.results).map(\.outcome) == [.alreadyApplied, .alreadyApplied])

            // A colleague fetches both photos from the server, byte for byte.
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            #expect(try Data(contentsOf: try await colleague.attachmentFile(synced, in: household)) == firstBytes)
            #expect(try Data(contentsOf: try await colleague.attachmentFile(offline, in: household)) == secondBytes)

            // The visitor's next sync, link mended, finds both files there: no byte sent again.
            link.state.withLock { $0.refuseFiles = false }
            let after = try await visitor.sync()
            #expect(after.alreadyApplied == 2 && (after.filesWaiting ?? 0) == 0, "\(after)")
            #expect(link.state.withLock { $0.patchBytes } == 0, "the bundle carried the bytes; none went twice")
            #expect(try await visitor.attachments(of: household).allSatisfy(\.onServer))
            #expect(try await visitor.exportBundles(to: ClientBundleTests.temporaryFile("none.dsbundle"), allowEmpty: false) == nil)
        }
    }

    @Test func photosBeyondOneBundle_fillSeveral_eachTakenAlone() async throws {
        try await LiveServer.run { server in
            let link = AttachmentClientTests.FileLink()
            let visitor = try await server.enrolledClient(transport: { link.transport($0) })
            let household = try await visitor.fileHousehold(Facts.household(41))
            var photos: [Data] = []
            for index in 0..<4 {
                let (url, bytes) = try AttachmentClientTests.photo(18 * 1024 * 1024, seed: UInt64(70 + index), name: "扫描件\(index).jpg")
                try await visitor.attach(fileAt: url, to: household)
                photos.append(bytes)
            }
            let path = ClientBundleTests.temporaryFile("usb.dsbundle")
            let export = try #require(try await visitor.exportBundles(to: path))
            #expect(export.mutations == 5 && export.attachments == 4 && export.paths.count == 2, "\(export)")
            #expect(export.paths.first == path && export.paths.last?.hasSuffix("usb-2.dsbundle") == true)
            let office = try OfficeClient(server: server.url, token: server.adminToken)
            // The second bundle (files only) first: the server holds the files before any change names them.
            let second = try await office.upload(bundle: try Data(contentsOf: URL(fileURLWithPath: export.paths[1])))
            #expect(second.batches == 0 && second.receipts.isEmpty && (second.files ?? 0) >= 1, "\(second)")
            let first = try await office.upload(bundle: try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(first.batches == 1 && first.receipts.flatMap(\.results).allSatisfy { $0.outcome == .applied })
            #expect((first.files ?? 0) + (second.files ?? 0) == 4)
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            let attachments = try await colleague.attachments(of: household)
            #expect(attachments.count == 4)
            for attachment in attachments {
                let bytes = try Data(contentsOf: try await colleague.attachmentFile(attachment.id, in: household))
                #expect(photos.contains(bytes))
            }
        }
    }

    @Test func aRevokedLaptop_carriesItsPhotosOut_andWipesItsCopies() async throws {
        try await LiveServer.run { server in
            let link = AttachmentClientTests.FileLink()
            let visitor = try await server.enrolledClient(transport: { link.transport($0) })
            let household = try await visitor.fileHousehold(Facts.household(42))
            let (url, bytes) = try AttachmentClientTests.photo(90_000, seed: 80)
            let photo = try await visitor.attach(fileAt: url, to: household)
            link.state.withLock { $0.refuseFiles = true }
            _ = try await visitor.sync()
            let device = try #require(try await visitor.status().enrollment?.device)
            let office = try OfficeClient(server: server.url, token: server.adminToken)
            _ = try await office.revoke(device: device)
            await #expect(throws: DoorstepError.self) { try await visitor.sync() }
            let folder = URL(fileURLWithPath: visitor.configuration.databasePath + "-files")
            #expect(!FileManager.default.fileExists(atPath: folder.path), "the laptop's copies of photos are wiped with the district's data")
            let directory = (visitor.configuration.databasePath as NSString).deletingLastPathComponent
            let bundle = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".dsbundle") })
            let result = try await office.upload(bundle: try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(bundle)))
            #expect(result.files == 1 && result.batches == 0)
            // The attachment's metadata reached the server before; its bytes now too.
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            #expect(try Data(contentsOf: try await colleague.attachmentFile(photo, in: household)) == bytes)
        }
    }
}

extension AttachmentBundleTests {
    /// Files are shared among bundles by bytes and by count: never more than 1000 in one.
    @Test func filesAreShared_byBytesAndByCount() {
        let small = (0..<2_500).map { (sha256: String(format: "%064x", $0), size: Int64(2_000)) }
        let byCount = FieldClient.shareFiles(small, batchBytes: 10_000)
        #expect(byCount.map(\.count) == [1_000, 1_000, 500])
        let large = (0..<7).map { (sha256: String(format: "%064x", $0), size: Int64(20 * 1024 * 1024)) }
        let byBytes = FieldClient.shareFiles(large, batchBytes: 0)
        #expect(byBytes.map(\.count) == [3, 3, 1], "three 20 MiB files fill a 64 MiB bundle")
        // Changes that fill most of the first bundle leave it to them alone.
        let crowded = FieldClient.shareFiles(Array(large.prefix(2)), batchBytes: 40 * 1024 * 1024)
        #expect(crowded.map(\.count) == [0, 2])
        #expect(FieldClient.shareFiles([], batchBytes: 1_000).map(\.count) == [0])
    }

    /// A copy damaged on the laptop's disk is not carried (a bundle holds a file only under the
    /// hash that names it); the others are.
    @Test func aDamagedCopy_isLeftOut_andTheOthersGo() async throws {
        try await LiveServer.run { server in
            let link = AttachmentClientTests.FileLink()
            let visitor = try await server.enrolledClient(transport: { link.transport($0) })
            let household = try await visitor.fileHousehold(Facts.household(43))
            let (first, _) = try AttachmentClientTests.photo(50_000, seed: 63)
            let (second, secondBytes) = try AttachmentClientTests.photo(60_000, seed: 64)
            let damaged = try await visitor.attach(fileAt: first, to: household)
            let kept = try await visitor.attach(fileAt: second, to: household)
            link.state.withLock { $0.refuseFiles = true }
            _ = try await visitor.sync()
            let sha = try #require(try await visitor.attachments(of: household).first { $0.id == damaged }?.sha256)
            let copy = URL(fileURLWithPath: visitor.configuration.databasePath + "-files/" + sha)
            var bytes = try Data(contentsOf: copy)
            bytes[1_000] ^= 0xFF
            try bytes.write(to: copy)
            let export = try #require(try await visitor.exportBundles(to: ClientBundleTests.temporaryFile("usb.dsbundle")))
            #expect(export.attachments == 1 && export.mutations == 0, "\(export)")
            let office = try OfficeClient(server: server.url, token: server.adminToken)
            let uploaded = try await office.upload(bundle: try Data(contentsOf: URL(fileURLWithPath: try #require(export.paths.first))))
            #expect(uploaded.files == 1)
            #expect(try await visitor.attachments(of: household).first { $0.id == damaged }?.held == false, "no longer counted as held")
            let colleague = try await server.enrolledClient()
            _ = try await colleague.sync()
            #expect(try Data(contentsOf: try await colleague.attachmentFile(kept, in: household)) == secondBytes)
        }
    }
}
