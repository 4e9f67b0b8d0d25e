import Crypto
import DoorstepCore
import Foundation

// Writes protocol/examples/ (golden files and merge vectors) by running DoorstepCore's merge
// engine over MemoryMergeStore. Usage: make-examples <examples folder> [<field tables .md>]
// (run through protocol/tools/make-examples.sh).

guard CommandLine.arguments.count > 1 else {
    print("usage: make-examples <examples folder> [<field tables .md>]")
    exit(64)
}
let out = CommandLine.arguments[1]

// MARK: - Merge vectors

for (file, make) in allVectors {
    write(make(), to: "\(out)/merge/\(file).json")
}

// MARK: - Golden examples: one small world, so the files agree with each other

do {
    let world = World(serverTime: dayEnd)
    let office = Device(officeD, .office, dongsheng)
    let a = Device(visitorA, .visitor, dongsheng), b = Device(visitorB, .visitor, dongsheng), c = Device(visitorC, .visitor, dongsheng)
    world.register(office, a, b, c)
    var ids = IDs(seed: 2020)
    let h = ids.next(), m1 = ids.next(), m2 = ids.next(), liaison = ids.next(), problem = ids.next(), assistance = ids.next()
    let h3 = ids.next(), h2 = ids.next(), m3 = ids.next(), v1 = ids.next(), v2 = ids.next()

    // 2020-04-10: the office files the household (as a candidate, from the old paper file) with its lists.
    let day1 = "2020-04-10"
    world.push(
        office.batch(
            office.create(.household, h, in: h, at: t("09:30:00", day: day1), householdFields()),
            office.create(
                .member, m1, in: h, at: t("09:31:00", day: day1),
                memberFields(
                    name: "王五", relation: "spouse", nationalId: "150602198011050025", birthDate: "1980-11-05", health: "chronicIllness",
                    employment: "unemployed"
                )),
            office.create(
                .member, m2, in: h, at: t("09:32:00", day: day1),
                memberFields(
                    name: "张七", relation: "other", nationalId: nil, birthDate: nil, health: "healthy", employment: "employed"
                )),
            office.create(
                .liaison, liaison, in: h, at: t("09:33:00", day: day1),
                [
                    w("name", "赵六"), w("level", "districtUnion"), w("organization", "东胜区总工会"), w("phone", "0477-8581234"),
                ]),
            office.create(
                .problem, problem, in: h, at: t("09:34:00", day: day1),
                [
                    w("category", "illness"), w("description", "户主患慢性肾病，每周透析两次，医疗费用负担重。"), w("status", "open"),
                ]),
            office.create(
                .assistance, assistance, in: h, at: t("09:35:00", day: day1),
                [
                    w("category", "illness"), w("measure", "申请医疗救助及工会大病救助"), w("leadDepartment", "civilAffairs"),
                    w("dueDate", "2020-07-31"), w("status", "planned"), w("amountFen", 500000),
                ])
        ))
    // 2020-04-15: visitor C files the same household again: linked, h3 becomes an alias of h.
    world.push(c.batch(c.create(.household, h3, in: h3, at: t("15:20:00", day: "2020-04-15"), householdFields(["notes": "邻居反映户主长期透析。"]))))

    // 2020-04-20: visitor A's day: the push-batch example.
    func heads(_ field: String) -> [WriteID] { world.merged(h).heads(field).map(\.write) }
    let m2Covers = Array(Set(world.store.entities[m2]!.allFieldHeads)).sorted()
    let pushBatch = a.batch(
        a.create(
            .household, h2, in: h2, at: t("09:12:05"),
            householdFields([
                "headName": "李四", "nationalId": "150602198307250026", "phone": "15847702345",
                "address": "东胜区林荫街道宝日陶亥社区12号楼1单元301室", "primaryCause": "unemployment", "otherCauses": ["epidemic"],
                "difficulty": "general", "skillLevel": "intermediate", "monthlyIncomeFen": 150000, "epidemicAffected": true,
                "employer": .null, "employerUnion": .null,
            ])),
        a.update(
            .household, h, in: h, at: t("09:40:00"),
            [
                w("phone", "13904775678", heads("phone")), w("monthlyIncomeFen", 195000, heads("monthlyIncomeFen")),
            ]),
        a.create(
            .member, m3, in: h, at: t("09:45:00"),
            memberFields(
                name: "张六", relation: "child", nationalId: "150602200709180032", birthDate: "2007-09-18", health: "healthy", employment: "student"
            )),
        a.delete(.member, m2, in: h, at: t("09:47:00"), covers: m2Covers),
        a.create(
            .visit, v1, in: h, at: t("10:31:00"),
            visitFields(
                visitedAt: "2020-04-20T10:20:00+08:00", visitor: "刘一", verified: ["cause", "income", "members"], conclusion: "eligible",
                proposedStatus: "filed", observedIncomeFen: 195000, notes: "户主每周透析两次；配偶照顾家庭无法就业；张七为外甥，不在本户居住。"
            ))
    )
    // B visited the same morning, offline, from the heads it had pulled on the 19th.
    let bPhoneBase = heads("phone"), bStatusBase = heads("status"), bHealthBase = world.store.entities[m1]!.heads("health").map(\.write)
    world.push(pushBatch)
    write(pushBatch, to: "\(out)/push-batch.json")
    // Protocol 1.7: a batch of visitor A's after a restore lost its seqs 6 and 7 and the laptop
    // no longer held them (kept work forgotten): declared lost, the next day's visit after them.
    write(
        PushBatch(
            device: a.id,
            mutations: [
                Mutation(
                    device: a.id, seq: 8, hlc: t("09:05:00", day: "2020-05-20"), op: .update, kind: .household, entity: h2, household: h2,
                    fields: [w("phone", "15847702346", [pushBatch.mutations[0].writeID])])
            ],
            lost: SeqRange(from: 6, through: 7)), to: "\(out)/push-batch-lost.json")

    let receipt = world.push(
        b.batch(
            b.update(.household, h, in: h, at: t("11:05:00"), [w("phone", "15847701234", bPhoneBase)]),
            b.update(.household, h, in: h, at: t("11:06:00"), [w("status", "filed", bStatusBase)]),
            b.create(
                .visit, v2, in: h, at: t("11:10:00"),
                visitFields(
                    visitedAt: "2020-04-20T11:00:00+08:00", visitor: "陈二", mode: "online", verified: ["income"], conclusion: "needsFollowUp",
                    proposedStatus: nil, observedIncomeFen: 195000, notes: "电话核实收入，需入户核实家庭成员。"
                )),
            // The laptop's clock was then set a day ahead by mistake.
            b.update(.member, m1, in: h, at: t("08:00:00", day: "2020-04-21"), [w("health", "seriousIllness", bHealthBase)])
        ))!
    write(receipt, to: "\(out)/push-receipt.json")
    // Protocol 1.8: the same laptop behind its district's relay, days later, sending seqs 1–4 again
    // with two new ones: the relay answers 1–4 with the city's results (the line was up meanwhile)
    // and holds 5–6 for the city, `relayed` (§19.3).
    write(
        PushReceipt(
            device: receipt.device, highestContiguousSeq: 6, serverClock: receipt.serverClock,
            results: receipt.results + [MutationResult(seq: 5, outcome: .relayed), MutationResult(seq: 6, outcome: .relayed)], clockSkew: false),
        to: "\(out)/relay-push-receipt.json")
    // Protocol 1.8: visitor A's key (a fixed example key, never a real one) and its signature of
    // push-batch.json's bytes as a push body: `Doorstep-Signature` (§19.2).
    let exampleKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: SHA256.hash(data: Data("doorstep example key of visitor A".utf8)))
    let signedBody = try! Data(contentsOf: URL(fileURLWithPath: "\(out)/push-batch.json"))
    write(
        PushSignatureExample(
            publicSigningKey: exampleKey.publicKey.rawRepresentation.base64EncodedString(), body: String(decoding: signedBody, as: UTF8.self),
            signature: try! exampleKey.signature(for: Data("doorstep-push-1\n".utf8) + signedBody).base64EncodedString()),
        to: "\(out)/push-signature.json")

    // A gap: the error body.
    let gap = Mutation(
        device: a.id, seq: 7, hlc: t("18:30:00"), op: .update, kind: .household, entity: h2, household: h2,
        fields: [w("notes", "复核。")])
    world.push(a.batch(gap))
    write(ErrorBody(world.errors.last!!), to: "\(out)/error-body.json")

    let aggregate = world.aggregate(h)
    let page = PullPage(
        nextCursor: exampleCursor(position: 0xa7, scope: "150602"),
        hasMore: true,
        serverClock: world.clock.tick(),
        households: [aggregate],
        removed: [h3]
    )
    write(page, to: "\(out)/pull-page.json")
    // The first page of a sync that asked for an estimate (1.3): one household, and how many more changed after it.
    let firstPage = PullPage(
        nextCursor: exampleCursor(position: 0x2c, scope: "150602"),
        hasMore: true,
        serverClock: world.clock.tick(),
        households: [world.aggregate(h2)],
        removed: [],
        remaining: 1_873
    )
    write(firstPage, to: "\(out)/pull-page-estimate.json")
    write(aggregate.household, to: "\(out)/entity-state.json")
    let conflicts = aggregate.conflicts
    precondition(conflicts.count == 1, "expected one conflict in the example, got \(conflicts.map(\.field))")
    write(conflicts[0], to: "\(out)/conflict-record.json")

    let compact = try! WireCoding.encode(pushBatch)
    let manifest = BundleManifest(
        device: a.id,
        createdAt: "2020-04-20T18:20:00+08:00",
        serverKeyID: "6b1f0c3e9a2d4e57",
        batches: [
            BundleManifest.Entry(firstSeq: 1, lastSeq: 5, size: compact.count, sha256: SHA256.hash(data: compact).map { String(format: "%02x", $0) }.joined())
        ]
    )
    write(manifest, to: "\(out)/bundle-manifest.json")

    // A's laptop was revoked on the 6th of May; its office uploaded its bundle: a visit it had
    // recorded offline waits in review, in full, until the office accepts or dismisses it.
    let v3 = ids.next()
    let late = a.create(
        .visit, v3, in: h, at: t("10:40:00", day: "2020-04-27"),
        visitFields(
            visitedAt: "2020-04-27T10:30:00+08:00", visitor: "刘一", verified: ["income", "members"], conclusion: "eligible",
            proposedStatus: nil, observedIncomeFen: 260000, notes: "收入证明已核对。"
        ))
    write(
        ReviewQueue.Rejection(
            device: a.id, seq: late.seq, household: h, entity: v3, kind: .visit, district: "150602",
            code: .deviceRevoked, reason: "held for review: the device was revoked", at: "2020-05-06T02:15:00Z",
            mutation: late), to: "\(out)/held-change.json")
    write(
        ClosedRejection(
            device: a.id, seq: late.seq, closedAs: .dismissed, closedBy: "device:\(office.id)",
            closedAt: "2020-05-06T03:00:00Z", reason: "收入已由办公室入户核实。"), to: "\(out)/closed-rejection.json")
    write(
        ServerInfo(serverKeyID: "6b1f0c3e9a2d4e57", serverPublicKey: "Jc8Qy0n1l5kz1o2fT3ZrVbQm8e6WkHq4dX9sYp7uR0A=", protocolVersions: [1]),
        to: "\(out)/server-info.json")

    // Protocol 1.4: on the 27th visitor C photographs 张三's income certificate, for the home visit
    // v1 that verified the income, and corrects the caption an hour later (the bytes travel apart, §17).
    let photo = ids.next()
    let photoBytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array("示例：一张收入证明的照片".utf8)
    let photoSHA = SHA256.hash(data: photoBytes).map { String(format: "%02x", $0) }.joined()
    let attached = c.create(
        .attachment, photo, in: h, at: t("10:35:00", day: "2020-04-27"),
        [
            w("of", .string(v1.description)), w("sha256", .string(photoSHA)), w("mediaType", "image/jpeg"), w("size", .int(Int64(photoBytes.count))),
            w("fileName", "IMG_20200427_103412.jpg"), w("caption", "收入证明"),
        ])
    let attachmentBatch = c.batch(
        attached, c.update(.attachment, photo, in: h, at: t("11:40:00", day: "2020-04-27"), [w("caption", "2020年3月收入证明（东胜区某物业公司）", [attached.writeID])]))
    let attachmentReceipt = world.push(attachmentBatch)!
    precondition(attachmentReceipt.results.allSatisfy { $0.outcome == .applied }, "the attachment example is applied: \(attachmentReceipt.results)")
    write(attachmentBatch, to: "\(out)/attachment-batch.json")

    // C's laptop could not send the photo over the hotspot: it exports the batch and the photo's
    // bytes to a bundle of version 2 (§14), whose manifest lists the file beside the batch.
    let attachmentCompact = try! WireCoding.encode(attachmentBatch)
    let filesManifest = BundleManifest(
        device: c.id,
        createdAt: "2020-04-27T18:05:00+08:00",
        serverKeyID: "6b1f0c3e9a2d4e57",
        batches: [
            BundleManifest.Entry(
                firstSeq: attachmentBatch.mutations.first!.seq, lastSeq: attachmentBatch.mutations.last!.seq, size: attachmentCompact.count,
                sha256: SHA256.hash(data: attachmentCompact).map { String(format: "%02x", $0) }.joined())
        ],
        files: [BundleManifest.FileEntry(sha256: photoSHA, size: Int64(photoBytes.count))]
    )
    write(filesManifest, to: "\(out)/bundle-manifest-files.json")
}

// MARK: - Self-check: every file decodes and re-encodes to the same bytes

func roundTrip<T: Codable>(_ type: T.Type, _ path: String) {
    let data = try! Data(contentsOf: URL(fileURLWithPath: path))
    let value = try! WireCoding.decode(type, from: data)
    let again = try! WireCoding.encode(value, pretty: true)
    precondition(again == data, "\(path) does not round-trip")
}
roundTrip(PushBatch.self, "\(out)/push-batch.json")
roundTrip(PushBatch.self, "\(out)/push-batch-lost.json")
roundTrip(PushReceipt.self, "\(out)/push-receipt.json")
roundTrip(PushReceipt.self, "\(out)/relay-push-receipt.json")
roundTrip(PushSignatureExample.self, "\(out)/push-signature.json")
roundTrip(PullPage.self, "\(out)/pull-page.json")
roundTrip(PullPage.self, "\(out)/pull-page-estimate.json")
roundTrip(BundleManifest.self, "\(out)/bundle-manifest.json")
roundTrip(BundleManifest.self, "\(out)/bundle-manifest-files.json")
roundTrip(ErrorBody.self, "\(out)/error-body.json")
roundTrip(EntityState.self, "\(out)/entity-state.json")
roundTrip(ConflictRecord.self, "\(out)/conflict-record.json")
roundTrip(ReviewQueue.Rejection.self, "\(out)/held-change.json")
roundTrip(ClosedRejection.self, "\(out)/closed-rejection.json")
roundTrip(ServerInfo.self, "\(out)/server-info.json")
roundTrip(PushBatch.self, "\(out)/attachment-batch.json")
for (file, _) in allVectors { roundTrip(MergeVector.self, "\(out)/merge/\(file).json") }

// MARK: - Field tables for the README

var tables = ""
func describeType(_ type: FieldType) -> (String, String) {
    switch type {
    case .text(let max): return ("string", "trimmed; at most \(max) characters; no control characters except line feed")
    case .money: return ("integer (fen)", "whole number, 0 to 100000000000; negative → `negativeAmount`")
    case .integer(let range): return ("integer", "\(range.lowerBound) to \(range.upperBound)")
    case .boolean: return ("boolean", "`true` or `false`")
    case .term(let names): return ("string (term)", "one of " + names.map { "`\($0)`" }.joined(separator: ", "))
    case .termSet(let names):
        return ("array of strings (term set)", "any of " + names.map { "`\($0)`" }.joined(separator: ", ") + "; without repeats, in this order")
    case .date: return ("string (date)", "`YYYY-MM-DD`, a real calendar date")
    case .instant: return ("string (instant)", "RFC 3339 with offset, e.g. `2020-04-20T10:20:00+08:00`; at most 40 characters")
    case .nationalID:
        return (
            "string (national ID)",
            "GB 11643: 18 characters, region digit 1–8, real birth date, check digit; normalised trimmed with upper-case `X` → `invalidNationalId`"
        )
    case .phone:
        return (
            "string (phone)",
            "11-digit mobile `1[3-9]…` or landline with area code; normalised `13904771234` / `0477-8581234`; `+86` prefix accepted → `invalidPhone`"
        )
    case .district: return ("string (district)", "a district code of the loaded city data → `unknownDistrict`")
    case .entityReference: return ("string (entity reference)", "an entity id: a UUID, stored in lower case")
    case .sha256: return ("string (SHA-256)", "64 hexadecimal digits, stored in lower case")
    }
}
for kind in EntityKind.allCases {
    tables += "#### `\(kind.rawValue)`\n\n| field | type | required | validation |\n|---|---|---|---|\n"
    for spec in kind.fields {
        let (type, rule) = describeType(spec.type)
        tables += "| `\(spec.name)` | \(type) | \(spec.required ? "yes" : "no") | \(rule) |\n"
    }
    tables += "\n"
}
if CommandLine.arguments.count > 2 { try! tables.write(toFile: CommandLine.arguments[2], atomically: true, encoding: .utf8) }
print("ok")

/// The example server's cursor for a position and scope, made as §9 describes (informative): the
/// position in 16 hex digits and the first 16 hex digits of HMAC-SHA256(`c1.<position>|<scope>`)
/// under the key HKDF-SHA256 derives from the server's secret (info `doorstep-pull-cursor-v1`).
/// The example secret is the 32 bytes 0x01…0x20; a server test checks that the server accepts the
/// golden page's cursor for district 150602 with that secret, and refuses it for another district.
func exampleCursor(position: UInt64, scope: String) -> String {
    let secret = SymmetricKey(data: Data((1...32).map { UInt8($0) }))
    let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, info: Data("doorstep-pull-cursor-v1".utf8), outputByteCount: 32)
    let hex = String(position, radix: 16)
    let body = "c1." + String(repeating: "0", count: 16 - hex.count) + hex
    let mac = HMAC<SHA256>.authenticationCode(for: Data((body + "|" + scope).utf8), using: key)
    return body + "." + Data(mac).prefix(8).map { String(format: "%02x", $0) }.joined()
}
