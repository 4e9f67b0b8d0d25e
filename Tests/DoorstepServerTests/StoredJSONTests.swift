import DoorstepCore
import Foundation
import Testing

@testable import DoorstepServer
@testable import DoorstepStorage

/// Entity states as the server stores them, written and read by FastJSON: the same bytes as Foundation's encoder.
struct StoredJSONTests {
    @Test func storedEntities_sameBytesAsFoundation_andReadBackEqual() throws {
        let device = try DeviceID("d-stored")
        func write(_ n: Int64) -> WriteID { WriteID(hlc: HLC(wallMillis: 1_700_000_000_000 + n, logical: UInt16(n % 7)), device: device) }
        let household = try EntityID("7f1c1d9e-2a53-4c86-9d0b-0a1f1e6c5a01")
        var states: [EntityState] = []
        for n in 0..<50 {
            var state = EntityState(
                kind: n % 2 == 0 ? .household : .visit, id: n % 2 == 0 ? household : EntityID.random(), household: household, created: write(Int64(n)))
            for field in 0..<(n % 5) {
                let name = ["headName", "_deleted", "notes", "verified", "monthlyIncomeFen"][field]
                let value: JSONValue = [.string("王某 \"\(n)\" \\ /\n"), .bool(true), .string("x"), .array([.string("income")]), .int(Int64(n) * -1000)][field]
                state.fields[name, default: Register()].apply(
                    write(Int64(100 + n)), value: value, base: [write(Int64(n))], covers: field == 1 ? [write(3)] : [])
                if n % 3 == 0 { state.fields[name, default: Register()].apply(write(Int64(200 + n)), value: .string("concurrent"), base: []) }
            }
            states.append(state)
        }
        for state in states {
            let stored = StoredEntity(state)
            let foundation = try WireCoding.encoder().encode(stored)
            #expect(FastJSON.data(stored) == foundation)
            let text = String(decoding: foundation, as: UTF8.self)
            #expect(try StoredJSON.decode(StoredEntity.self, text).state == state)
            #expect(try JSONDecoder().decode(StoredEntity.self, from: foundation).state == (try StoredJSON.decode(StoredEntity.self, text)).state)
        }
        #expect(throws: DoorstepError.self) { try StoredJSON.decode(StoredEntity.self, #"{"kind":"visit"}"#) }

        // As stored since SQLite v11 / PostgreSQL v10: the wire text and the superseded ids alone
        // give the state back, the former state column gives the same row, and no id is lost.
        var withSuperseded = 0
        for state in states {
            let row = try StoredEntityRow(state)
            #expect(row.wire == FastJSON.text(state))
            #expect(try row.state == state)
            let former = try StoredEntityRow(formerState: try StoredJSON.encode(StoredEntity(state)))
            #expect(former.wire == row.wire && former.superseded == row.superseded)
            if row.superseded != nil { withSuperseded += 1 }
            #expect((row.superseded == nil) == state.fields.values.allSatisfy { $0.superseded.isEmpty })
        }
        #expect(withSuperseded > 0 && withSuperseded < states.count)
        #expect(throws: DoorstepError.self) { try StoredEntityRow(wire: #"{"kind":"visit"}"#, superseded: nil).state }
    }
}
