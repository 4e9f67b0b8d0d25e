import DoorstepCore

// The devices of the vectors (lower-case UUIDs).
let visitorA = "3f2a8c1e-5b7d-4e9a-8c21-6d0f4b9e7a13"  // visitor, Dongsheng
let visitorB = "8b1d4f60-2c3e-4a7b-9e15-0f6a2d8c4b97"  // visitor, Dongsheng
let visitorC = "5d9e3b72-a8f1-4c6d-b0e4-91c7f2a6d835"  // visitor, Dongsheng
let visitorK = "a7c3e915-4b2d-4f8a-9c6e-2d1b0f7e5a49"  // visitor, Kangbashi
let officeD = "c4e7a2b9-1d3f-4c8e-a6b5-7e9d0f2a1c38"  // district office, Dongsheng (CLI)
let officeD2 = "d2b8f6a4-9e1c-4a3d-8f7b-5c0e6a9d2b14"  // district office, Dongsheng (second CLI)

let dongsheng = "150602"
let kangbashi = "150603"
let dayEnd = "2020-04-20T18:00:00+08:00"

func t(_ time: String, day: String = "2020-04-20", _ logical: UInt16 = 0) -> HLC { at("\(day)T\(time)+08:00", logical) }

/// Concurrent edits of one field, then (optionally) the office's resolution and a late offline edit.
func phoneConflictWorld(seed: UInt64, bValue: JSONValue, aValue: JSONValue) -> (World, EntityID, Device, WriteID, WriteID, WriteID) {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), b = Device(visitorB, .visitor, dongsheng)
    world.register(a, b)
    var ids = IDs(seed: seed)
    let h = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    world.push(a.batch(create))
    let editB = b.update(.household, h, in: h, at: t("10:00:00"), [w("phone", bValue, [create.writeID])])
    world.push(b.batch(editB))
    let editA = a.update(.household, h, in: h, at: t("10:05:00"), [w("phone", aValue, [create.writeID])])
    world.push(a.batch(editA))
    return (world, h, a, create.writeID, editB.writeID, editA.writeID)
}

func v01() -> MergeVector {
    let (world, h, _, _, _, _) = phoneConflictWorld(seed: 1, bValue: "13904775678", aValue: "15847701234")
    return world.vector(
        name: "concurrent-edits-conflict",
        description:
            "Visitor A creates a household; visitors B and A then change its phone concurrently, each naming the creation as the base. Neither write names the other, so both stay heads: a conflict on phone, shown as A's value (the later write id), kept with both heads.",
        households: [(h, ["phone"])]
    )
}

func v02() -> MergeVector {
    let (world, h, _, _, _, _) = phoneConflictWorld(seed: 2, bValue: "13904775678", aValue: "13904775678")
    return world.vector(
        name: "equal-concurrent-values",
        description:
            "As concurrent-edits-conflict, but both visitors type the same new phone. The register keeps both heads, yet heads with equal values are one: no conflict, both mutations answered applied.",
        households: [(h, ["phone"])]
    )
}

func v03() -> MergeVector {
    let (world, h, _, _, wB, wA) = phoneConflictWorld(seed: 3, bValue: "13904775678", aValue: "15847701234")
    let office = Device(officeD, .office, dongsheng)
    world.register(office)
    world.push(office.batch(office.update(.household, h, in: h, at: t("17:00:00"), [w("phone", "15847701234", [wB, wA])])))
    return world.vector(
        name: "resolution-names-all-heads",
        description:
            "After the phone conflict of concurrent-edits-conflict, the district office confirms A's value with a write whose base names both heads. That write replaces them both: one head, no conflict.",
        households: [(h, ["phone"])]
    )
}

func v04() -> MergeVector {
    let (world, h, _, w1, wB, wA) = phoneConflictWorld(seed: 4, bValue: "13904775678", aValue: "15847701234")
    let office = Device(officeD, .office, dongsheng), c = Device(visitorC, .visitor, dongsheng)
    world.register(office, c)
    world.push(office.batch(office.update(.household, h, in: h, at: t("17:00:00"), [w("phone", "15847701234", [wB, wA])])))
    world.push(c.batch(c.update(.household, h, in: h, at: t("11:00:00"), [w("phone", "13604779876", [w1])])))
    return world.vector(
        name: "late-offline-edit-reopens",
        description:
            "After the office resolved the phone conflict (resolution-names-all-heads), visitor C, offline since the morning, syncs an edit made at 11:00 whose base is the creation, an old head. Nothing names C's write, so it is a head beside the office's: the conflict reopens. The shown value stays the office's, whose write id is later, although C's arrived last.",
        households: [(h, ["phone"])]
    )
}

func v05() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), k = Device(visitorK, .visitor, kangbashi)
    world.register(a, k)
    var ids = IDs(seed: 5)
    let h = ids.next(), h2 = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    world.push(a.batch(create))
    world.push(
        a.batch(
            a.update(.household, h, in: h, at: t("09:40:00"), [w("status", "filed", [create.writeID])]),
            a.update(.household, h, in: h, at: t("09:41:00"), [w("district", "150603", [create.writeID])]),
            a.update(.household, h, in: h, at: t("09:42:00"), [w("address", "东胜区天骄街道天骄社区3号楼2单元502室", [create.writeID])]),
            a.create(
                .household, h2, in: h2, at: t("10:30:00"),
                householdFields([
                    "headName": "李四", "nationalId": "150602198307250026", "phone": "15847702345",
                    "address": "东胜区林荫街道宝日陶亥社区12号楼1单元301室", "status": "filed", "primaryCause": "unemployment",
                    "otherCauses": .null, "epidemicAffected": false, "monthlyIncomeFen": 150000,
                ]))
        ))
    world.push(k.batch(k.update(.household, h, in: h, at: t("11:00:00"), [w("phone", "13904775678", [create.writeID])])))
    return world.vector(
        name: "visitor-role-and-scope-limits",
        description:
            "A visitor may edit facts but not decide: changing the status of a household is rejected forbiddenForRole, moving it to another district (the city's decision) too, while an address edit in the same batch is applied; a new household filed by a visitor straight as filed is rejected forbiddenForRole (visitors file candidates). A visitor of Kangbashi editing a Dongsheng household is rejected outOfScope. Rejected writes never become heads.",
        households: [(h, ["address", "district", "phone", "status"])]
    )
}

func v06() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), office = Device(officeD, .office, dongsheng)
    world.register(a, office)
    var ids = IDs(seed: 6)
    let h = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    world.push(a.batch(create))
    world.push(
        office.batch(
            office.update(.household, h, in: h, at: t("16:00:00"), [w("status", "outOfHardship", [create.writeID])]),
            office.update(.household, h, in: h, at: t("16:01:00"), [w("status", "closed", [])]),
            office.update(.household, h, in: h, at: t("16:02:00"), [w("status", "filed", [create.writeID])])
        ))
    return world.vector(
        name: "office-illegal-transition",
        description:
            "The district office decides status, but only along the status table, checked against the writer's base: candidate to outOfHardship is rejected illegalTransition; a status change with an empty base (it names no status it changes) is rejected illegalTransition; candidate to filed is applied.",
        households: [(h, ["status"])]
    )
}

func duplicateWorld(seed: UInt64, withMember: Bool) -> (World, EntityID, EntityID, EntityID?) {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), b = Device(visitorB, .visitor, dongsheng)
    world.register(a, b)
    var ids = IDs(seed: seed)
    let h1 = ids.next(), h2 = ids.next(), m = ids.next()
    let person: [String: JSONValue] = [
        "headName": "孙七", "nationalId": "15062119751230004X", "primaryCause": "disability", "otherCauses": .null,
        "difficulty": "deep", "skillLevel": "none", "monthlyIncomeFen": 98000, "epidemicAffected": false,
        "employer": "鄂尔多斯市东胜区某物业服务有限公司", "employerUnion": "鄂尔多斯市东胜区某物业服务有限公司工会",
    ]
    // B files the household in the afternoon and syncs first; A filed it in the morning, offline, and syncs later.
    world.push(
        b.batch(
            b.create(
                .household, h2, in: h2, at: t("14:00:00"),
                householdFields(
                    person.merging([
                        "nationalId": "15062119751230004x", "phone": "13847705566", "address": "东胜区诃额伦街道民生社区8号楼3单元201",
                    ]) { $1 }))))
    world.push(
        a.batch(
            a.create(
                .household, h1, in: h1, at: t("09:00:00"),
                householdFields(
                    person.merging([
                        "phone": "13847705566", "address": "东胜区诃额伦街道民生社区8号楼3单元201室",
                    ]) { $1 }))))
    if withMember {
        world.push(
            b.batch(
                b.create(
                    .member, m, in: h2, at: t("14:10:00"),
                    memberFields(
                        name: "孙小七", relation: "child", nationalId: nil, birthDate: "2012-06-01", health: "healthy", employment: "student"
                    ))))
        return (world, h1, h2, m)
    }
    return (world, h1, h2, nil)
}

func v07() -> MergeVector {
    let (world, h1, _, m) = duplicateWorld(seed: 7, withMember: true)
    return world.vector(
        name: "duplicate-national-id-linked",
        description:
            "Visitors A and B file the same household twice (same national ID once typed with a lower-case x: normalised, the same). B's file arrives first, A's (created earlier, offline) second: the two are linked and the survivor is A's, the earlier creation, whatever the arrival order. B's id stays an alias; B's later member added under the alias id belongs to the merged household. The merged view is the union of both households' registers: equal national IDs are no conflict, the two addresses are.",
        households: [(h1, ["address", "nationalId", "phone"])],
        entities: [(m!, ["name"])]
    )
}

func deleteWorld(seed: UInt64) -> (World, EntityID, EntityID, WriteID, WriteID, WriteID) {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), b = Device(visitorB, .visitor, dongsheng)
    world.register(a, b)
    var ids = IDs(seed: seed)
    let h = ids.next(), m = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    let member = a.create(
        .member, m, in: h, at: t("09:05:00"),
        memberFields(
            name: "王五", relation: "spouse", nationalId: "150602198011050025", birthDate: "1980-11-05", health: "chronicIllness", employment: "unemployed"
        ))
    world.push(a.batch(create, member))
    let edit = b.update(.member, m, in: h, at: t("10:00:00"), [w("health", "seriousIllness", [member.writeID])])
    world.push(b.batch(edit))
    let delete = a.delete(.member, m, in: h, at: t("10:30:00"), covers: [member.writeID])
    world.push(a.batch(delete))
    return (world, h, m, member.writeID, edit.writeID, delete.writeID)
}

func v08() -> MergeVector {
    let (world, _, m, _, _, _) = deleteWorld(seed: 8)
    return world.vector(
        name: "delete-versus-edit",
        description:
            "Visitor A adds a member, then deletes it naming every head it saw in covers; meanwhile visitor B changed the member's health. B's edit is not covered by the deletion: a deleteVersusEdit conflict on _deleted, and the member stays visible until the office settles it.",
        households: [],
        entities: [(m, ["_deleted", "health", "name"])]
    )
}

func v09() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng)
    world.register(a)
    var ids = IDs(seed: 9)
    let h = ids.next(), m = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    let batch = a.batch(
        create,
        a.update(.household, h, in: h, at: t("09:01:00"), [w("status", "filed", [create.writeID])]),
        a.create(
            .member, m, in: h, at: t("09:05:00"),
            memberFields(
                name: "张六", relation: "child", nationalId: "150602200709180032", birthDate: "2007-09-18", health: "healthy", employment: "student"
            ))
    )
    world.push(batch)
    world.push(batch)
    return world.vector(
        name: "replay-already-applied",
        description:
            "The same batch is pushed twice (the first receipt was lost). The second time every applied mutation is answered alreadyApplied and the rejected one is answered rejected again with its code; nothing changes.",
        households: [(h, ["headName", "status"])],
        entities: [(m, ["name"])]
    )
}

func v10() -> MergeVector {
    let world = World(serverTime: "2020-04-20T18:30:00+08:00")
    let a = Device(visitorA, .visitor, dongsheng)
    world.register(a)
    var ids = IDs(seed: 10)
    let h = ids.next(), m = ids.next(), v = ids.next(), fixed = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields(["nationalId": "150602197803120016"]))
    world.push(
        a.batch(
            create,
            a.create(
                .member, m, in: h, at: t("09:05:00"),
                memberFields(
                    name: "王五", relation: "spouse", nationalId: nil, birthDate: nil, health: "chronicIllness", employment: "unemployed"
                )),
            a.create(
                .visit, v, in: h, at: t("09:30:00"),
                visitFields(
                    visitedAt: "2020-04-20T09:30:00+08:00", visitor: "刘一", verified: ["cause", "income"], conclusion: "eligible",
                    proposedStatus: "filed", observedIncomeFen: 205000, notes: nil
                )),
            a.update(.household, h, in: h, at: t("09:40:00"), [w("phone", "13904775678", [create.writeID])])
        ))
    world.push(a.batch(a.create(.household, fixed, in: fixed, at: t("18:10:00"), householdFields())))
    return world.vector(
        name: "rejected-creation-dependents",
        description:
            "A household is created with a national ID whose GB 11643 check digit is wrong: rejected invalidNationalId. Everything that depends on it (a member, a visit, an edit of the household) is rejected dependsOnRejected; the seqs still count as handled. The fix is a new creation with a new id (and new seqs).",
        households: [(fixed, ["nationalId"])]
    )
}

func v11() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), b = Device(visitorB, .visitor, dongsheng)
    world.register(a, b)
    var ids = IDs(seed: 11)
    let h = ids.next()
    let create = b.create(.household, h, in: h, at: t("17:30:00"), householdFields())
    world.push(b.batch(create))
    // A's laptop clock is a day ahead.
    let first = a.update(.household, h, in: h, at: t("09:00:00", day: "2020-04-21"), [w("address", "东胜区天骄街道天骄社区3号楼2单元501", [create.writeID])])
    let second = a.update(.household, h, in: h, at: t("09:02:00", day: "2020-04-21"), [w("address", "东胜区天骄街道天骄社区3号楼2单元501室", [first.writeID])])
    world.push(a.batch(first, second))
    world.push(b.batch(b.update(.household, h, in: h, at: t("17:55:00"), [w("phone", "13904775678", [create.writeID])])))
    return world.vector(
        name: "clock-skew-clamped",
        description:
            "Visitor A's laptop clock is a day ahead. The server (at 18:00) clamps each stamp more than 5 minutes ahead to server time + 5 minutes, answers the stamp it used in the result (stamp) and sets clockSkew in the receipt. A's second write names A's first write by its original id; the server maps it to the clamped one, so there is one head, no conflict. Stamps of one device never go backwards: the second clamped stamp is bumped past the first.",
        households: [(h, ["address", "phone"])],
        showSkew: true
    )
}

func v12() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let office = Device(officeD, .office, dongsheng), office2 = Device(officeD2, .office, dongsheng)
    world.register(office, office2)
    var ids = IDs(seed: 12)
    let h = ids.next()
    let create = office.create(.household, h, in: h, at: t("09:00:00", day: "2020-04-10"), householdFields(["status": "filed"]))
    world.push(office.batch(create))
    world.push(office.batch(office.update(.household, h, in: h, at: t("15:00:00"), [w("status", "closed", [create.writeID])])))
    world.push(
        office2.batch(
            office2.update(.household, h, in: h, at: t("14:00:00"), [w("status", "candidate", [create.writeID])]),
            office2.update(.household, h, in: h, at: t("14:01:00"), [w("status", "safetyNet", [create.writeID])])
        ))
    return world.vector(
        name: "status-checked-against-writer-base",
        description:
            "Two office devices decide on a filed household without seeing each other's decision. The first closes it. The second, still seeing filed, first tries candidate: rejected illegalTransition (filed to candidate is not allowed), although closed to candidate would be; then moves it to safetyNet, legal from its base filed although safetyNet cannot follow closed: applied, and the two legal concurrent decisions are a conflict on status, not a race.",
        households: [(h, ["status"])]
    )
}

func v13() -> MergeVector {
    let (world, _, m, wM, wB, wDel) = deleteWorld(seed: 13)
    let office = Device(officeD, .office, dongsheng)
    world.register(office)
    let household = world.store.entities[m]!.household
    world.push(office.batch(office.delete(.member, m, in: household, at: t("17:00:00"), base: [wDel], covers: [wM, wB])))
    return world.vector(
        name: "delete-conflict-settled",
        description:
            "After delete-versus-edit, the office confirms the deletion: a new deletion whose base names the earlier one and whose covers name every head, B's edit included. Nothing is left uncovered: no conflict, the member is gone. (Restoring instead is an update of _deleted to false, an office decision.)",
        households: [],
        entities: [(m, ["_deleted", "health"])]
    )
}

func v14() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng)
    world.register(a)
    var ids = IDs(seed: 14)
    let h = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    let bad = a.update(.household, h, in: h, at: t("09:10:00"), [w("phone", "12345", [create.writeID])])
    let fix = a.update(.household, h, in: h, at: t("09:12:00"), [w("phone", "13904775678", [bad.writeID])])
    world.push(a.batch(create, bad, fix))
    return world.vector(
        name: "rejected-write-stands-for-its-base",
        description:
            "Offline, visitor A types a bad phone (rejected invalidPhone), then corrects it; the correction's base names the rejected write, which was the head on A's laptop. A rejected write never becomes a head, and a base naming it stands for that write's own base (the creation): the correction replaces the creation's phone, one head, no conflict.",
        households: [(h, ["phone"])]
    )
}

func v15() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng)
    world.register(a)
    var ids = IDs(seed: 15)
    let h = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    let edit = a.update(.household, h, in: h, at: t("09:10:00"), [w("phone", "13904775678", [create.writeID])])
    world.push(a.batch(create, edit))
    let later = Mutation(
        device: a.id, seq: 4, hlc: t("09:30:00"), op: .update, kind: .household, entity: h, household: h,
        fields: [w("notes", "户主反映医药费负担重。")])
    world.push(a.batch(later))
    let reused = Mutation(
        device: a.id, seq: 2, hlc: t("09:10:00"), op: .update, kind: .household, entity: h, household: h,
        fields: [w("phone", "15847701234", [create.writeID])])
    world.push(a.batch(reused))
    let third = Mutation(
        device: a.id, seq: 3, hlc: t("09:20:00"), op: .update, kind: .household, entity: h, household: h,
        fields: [w("employer", "鄂尔多斯市东胜区某商贸有限公司", [create.writeID])])
    world.push(a.batch(edit, third))
    return world.vector(
        name: "batch-refusals",
        description:
            "Batch-level refusals change nothing. After seqs 1 and 2, a batch starting at seq 4 is refused missingPredecessor (send from 3); seq 2 sent again with different content is refused seqReuse. A batch that repeats seq 2 unchanged and adds seq 3 is answered alreadyApplied, applied.",
        households: [(h, ["employer", "notes", "phone"])]
    )
}

func v16() -> MergeVector {
    let (world, h1, h2, _) = duplicateWorld(seed: 16, withMember: false)
    let office = Device(officeD, .office, dongsheng)
    world.register(office)
    world.push(office.batch(office.link(h1, h2, at: t("17:00:00"), state: "unlinked")))
    return world.vector(
        name: "unlink-separates",
        description:
            "As duplicate-national-id-linked, then the office decides the two files are different households after all (a linkDecision unlinked naming the pair). Each is its own survivor again, with its own registers: the address conflict of the merged view is gone.",
        households: [(h1, ["address", "nationalId"]), (h2, ["address", "nationalId"])]
    )
}

func v17() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng), office = Device(officeD, .office, dongsheng)
    world.register(a, office)
    var ids = IDs(seed: 17)
    let h = ids.next(), v = ids.next()
    world.push(
        a.batch(
            a.create(.household, h, in: h, at: t("09:00:00"), householdFields()),
            a.create(
                .visit, v, in: h, at: t("10:00:00"),
                visitFields(
                    visitedAt: "2020-04-20T09:50:00+08:00", visitor: "刘一", verified: ["income"], conclusion: "notEligible",
                    proposedStatus: nil, observedIncomeFen: nil, notes: "录入时选错了户。"
                ))
        ))
    world.push(
        a.batch(
            a.update(.visit, v, in: h, at: t("10:05:00"), [w(voidedFieldName, "选错了户")]),
            a.update(.visit, v, in: h, at: t("10:06:00"), [w("conclusion", "eligible")])
        ))
    world.push(
        office.batch(
            office.update(.visit, v, in: h, at: t("16:00:00"), [w(voidedFieldName, "录到了别的户，已在正确的户重新记录")]),
            office.update(.visit, v, in: h, at: t("16:01:00"), [w(voidedFieldName, "")])
        ))
    return world.vector(
        name: "visit-voided-by-office",
        description:
            "Visits are immutable: a visitor's edit of one is rejected visitImmutable, and voiding one is the office's decision (a visitor's void is rejected forbiddenForRole). The office voids the mistaken visit by writing its reason to the _voided pseudo-field; the visit keeps every fact and stays in lists and the history, and reports ignore it. A void without a reason is rejected invalidValue (null restores).",
        households: [(h, ["status"])],
        entities: [(v, [voidedFieldName, "conclusion"])]
    )
}

func v18() -> MergeVector {
    let world = World(serverTime: dayEnd)
    let a = Device(visitorA, .visitor, dongsheng)
    world.register(a)
    var ids = IDs(seed: 18)
    let h = ids.next()
    let create = a.create(.household, h, in: h, at: t("09:00:00"), householdFields())
    world.push(a.batch(create, a.update(.household, h, in: h, at: t("09:10:00"), [w("phone", "13904775678", [create.writeID])])))
    func seq(_ n: Int64, _ time: String, _ field: String, _ value: JSONValue) -> Mutation {
        Mutation(device: a.id, seq: n, hlc: t(time), op: .update, kind: .household, entity: h, household: h, fields: [w(field, value)])
    }
    let fifth = seq(5, "10:30:00", "notes", "户主反映医药费负担重。")
    // Lost from seq 4 while the server holds only seq 2: refused, the device sends from 3 first.
    world.push(PushBatch(device: a.id, mutations: [fifth], lost: SeqRange(from: 4, through: 4)))
    // Seqs 3 and 4 declared lost: recorded as a gap, seq 5 applied after it.
    world.push(PushBatch(device: a.id, mutations: [fifth], lost: SeqRange(from: 3, through: 4)))
    // The same batch again: nothing changes (the gap is held, seq 5 already applied).
    world.push(PushBatch(device: a.id, mutations: [fifth], lost: SeqRange(from: 3, through: 4)))
    // A lost seq is never applied later.
    world.push(a.batch(seq(4, "10:20:00", "employer", "鄂尔多斯市东胜区某商贸有限公司")))
    return world.vector(
        name: "lost-work-declared",
        description:
            "Protocol 1.7: a device declares lost seqs the server once acknowledged and lost (a restore) that it no longer holds. With seqs 1 and 2 held, a batch declaring seq 4 lost is refused missingPredecessor (send from 3); declaring 3 to 4 lost records the gap and applies seq 5 after it; the same batch again changes nothing (alreadyApplied); seq 4 sent later is refused seqReuse.",
        households: [(h, ["employer", "notes", "phone"])]
    )
}

let allVectors: [(String, () -> MergeVector)] = [
    ("01-concurrent-edits-conflict", v01),
    ("02-equal-concurrent-values", v02),
    ("03-resolution-names-all-heads", v03),
    ("04-late-offline-edit-reopens", v04),
    ("05-visitor-role-and-scope-limits", v05),
    ("06-office-illegal-transition", v06),
    ("07-duplicate-national-id-linked", v07),
    ("08-delete-versus-edit", v08),
    ("09-replay-already-applied", v09),
    ("10-rejected-creation-dependents", v10),
    ("11-clock-skew-clamped", v11),
    ("12-status-checked-against-writer-base", v12),
    ("13-delete-conflict-settled", v13),
    ("14-rejected-write-stands-for-its-base", v14),
    ("15-batch-refusals", v15),
    ("16-unlink-separates", v16),
    ("17-visit-voided-by-office", v17),
    ("18-lost-work-declared", v18),
]
