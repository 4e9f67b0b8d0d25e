import DoorstepCore
import DoorstepStorage
import Foundation
import Testing

@testable import DoorstepImport

/// The roster comparison fed a page of households at a time (as the server reads them) answers
/// exactly as over the whole list, a household read twice at a page's edge counting once.
struct RosterPagingTests {
    @Test func comparingPageByPage_equalsComparingTheWholeList() throws {
        var random = SeededGenerator(seed: 20_261_206)
        let statuses: [HouseholdStatus?] = [.filed, .safetyNet, .candidate, .outOfHardship, .closed, nil]
        var households: [ShownHousehold] = []
        for n in 0..<500 {
            let district = n % 3 == 0 ? "150603" : "150602"
            let id = try EntityID(EntityID.random(using: &random).description)
            let nationalId: String? = n % 17 == 0 ? nil : "15060219700101\(String(format: "%04d", n))"
            households.append(
                ShownHousehold(
                    id: id, district: district, nationalId: nationalId, headName: n % 11 == 0 ? nil : "户主\(n)",
                    status: statuses[Int.random(in: 0..<statuses.count, using: &random)]))
        }
        households.sort { ($0.district, $0.headName ?? "", $0.id.description) < ($1.district, $1.headName ?? "", $1.id.description) }
        var roster = RosterComparison.Roster()
        for n in stride(from: 0, to: 700, by: 2) {
            let district: String? = n % 5 == 0 ? "150603" : (n % 7 == 0 ? nil : "150602")
            _ = roster.append(
                RosterRow(
                    line: n + 2, nationalId: "15060219700101\(String(format: "%04d", n))", name: n % 4 == 0 ? "户主\(n)" : "别名\(n)",
                    allowanceFen: n % 3 == 0 ? 80_000 : nil, district: district))
        }
        roster.count = roster.rows.count + 3
        roster.invalid = [RosterInvalidRow(line: 900, message: "bad national ID")]

        for district in [nil, "150602", "150603"] {
            let whole = RosterComparison.compare(roster, households: households, district: district)
            #expect(!whole.disagreements.isEmpty && !whole.onFileNotInRoster.isEmpty && !whole.inRosterNotOnFile.isEmpty)
            for size in [1, 7, 64, 499, 2_000] {
                var comparer = RosterComparison.Comparer(roster, district: district)
                var start = 0
                while start < households.count {
                    let end = min(start + size, households.count)
                    // The page's first household again, as a page read after a change may repeat it.
                    comparer.add(households[max(0, start - 1)..<end])
                    start = end
                }
                #expect(comparer.report() == whole, "district \(district ?? "all"), pages of \(size)")
            }
        }
    }
}
