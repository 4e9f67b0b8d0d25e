import DoorstepClient
import DoorstepCore
import Foundation

/// Sample facts; the names and ID numbers are fake but valid (GB 11643 check digit).
enum Facts {
    /// A valid national ID number, unique per `n` (up to 366 000 per region).
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        var date = DateComponents()
        date.year = 1950
        date.month = 1
        date.day = 1 + n / 1000
        let calendar = Calendar(identifier: .gregorian)
        let day = calendar.date(from: date).map { calendar.dateComponents(in: TimeZone(identifier: "UTC")!, from: $0) } ?? date
        let text = String(format: "%04d%02d%02d", day.year ?? 1950, day.month ?? 1, day.day ?? 1)
        let body = region + text + String(format: "%03d", n % 1000)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    static func household(_ n: Int, name: String = "王某某", region: String = "150602") -> [String: JSONValue] {
        [
            "headName": .string(name), "nationalId": .string(nationalID(n, region: region)), "address": "东胜区 建设街 12 号",
            "fileLevel": "national", "primaryCause": "illness", "difficulty": "general", "skillLevel": "none",
            "monthlyIncomeFen": 120_000,
        ]
    }

    static func visit(_ note: String) -> [String: JSONValue] {
        ["visitedAt": "2020-04-12T10:30:00+08:00", "visitor": "走访员甲", "mode": "atHome", "conclusion": "eligible", "notes": .string(note)]
    }
}

/// A visitor's laptop doing its rounds: files households, records visits on any household of
/// the district it knows, edits its own households' notes and income, and syncs.
final class Visitor: @unchecked Sendable {
    let client: FieldClient
    let name: String
    private let state = Locked<(own: [EntityID], visits: Set<EntityID>)>(([], []))

    init(client: FieldClient, name: String) {
        self.client = client
        self.name = name
    }

    var visits: Set<EntityID> { state.read().visits }

    func fileHousehold(_ n: Int) async throws {
        let id = try await client.fileHousehold(Facts.household(n))
        state.update { $0.own.append(id) }
    }

    /// One to three local writes (they never need the network).
    func work(_ random: SharedRandom, step: Int) async throws {
        for _ in 0..<random.int(1...3) {
            let own = state.read().own
            let known = try await client.households().map(\.id)
            if random.chance(55), let household = (known.isEmpty ? own : known).randomElement(using: random) {
                let visit = try await client.recordVisit(to: household, Facts.visit("\(name) step \(step)"))
                state.update { _ = $0.visits.insert(visit) }
            } else if let household = own.randomElement(using: random) {
                let fields: [String: JSONValue] =
                    random.chance(50)
                    ? ["notes": .string("\(name) note \(step)-\(random.int(0..<1_000_000))")]
                    : ["monthlyIncomeFen": .int(Int64(100_000 + random.int(0..<50_000)))]
                try await client.editHousehold(household, set: fields)
            }
        }
    }
}

extension Array {
    func randomElement(using random: SharedRandom) -> Element? {
        isEmpty ? nil : self[random.int(0..<count)]
    }
}
