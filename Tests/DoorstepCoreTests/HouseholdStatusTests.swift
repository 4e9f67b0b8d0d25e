import Foundation
import Testing

@testable import DoorstepCore

@Suite struct HouseholdStatusTests {
    /// The status table of `docs/DOMAIN.md`, written out independently of the source.
    static let table: [HouseholdStatus: Set<HouseholdStatus>] = [
        .candidate: [.filed, .closed],
        .filed: [.outOfHardship, .safetyNet, .closed],
        .safetyNet: [.outOfHardship, .filed, .closed],
        .outOfHardship: [.filed, .closed],
        .closed: [.candidate],
    ]

    static let allPairs: [(HouseholdStatus, HouseholdStatus)] = HouseholdStatus.allCases.flatMap { from in
        HouseholdStatus.allCases.map { to in (from, to) }
    }

    @Test func table_coversEveryStatus() {
        #expect(Set(Self.table.keys) == Set(HouseholdStatus.allCases))
        #expect(HouseholdStatus.wireNames == ["candidate", "filed", "outOfHardship", "safetyNet", "closed"])
        #expect(Self.allPairs.count == 25)
    }

    @Test(arguments: allPairs)
    func transition_everyPair_allowedExactlyWhenInTable(_ from: HouseholdStatus, _ to: HouseholdStatus) {
        let allowed = Self.table[from]!.contains(to)
        #expect(from.canChange(to: to) == allowed)
        #expect(from.allowedNext.contains(to) == allowed)
        if allowed {
            #expect(throws: Never.self) { try from.checkTransition(to: to) }
        } else {
            let error = expectError(.illegalTransition) { try from.checkTransition(to: to) }
            #expect(error?.message.contains("from \(from.rawValue) to \(to.rawValue)") == true)
            // The message lists every allowed next status…
            for next in Self.table[from]! {
                #expect(error?.message.contains(next.rawValue) == true, "\(next) missing from: \(error?.message ?? "")")
            }
            // …and, after "may change to:", nothing else.
            let listed =
                error?.message.components(separatedBy: "may change to: ").last?
                .components(separatedBy: ", ") ?? []
            #expect(Set(listed) == Set(Self.table[from]!.map(\.rawValue)))
        }
    }

    @Test(arguments: HouseholdStatus.allCases)
    func transition_toItself_illegal(_ status: HouseholdStatus) {
        #expect(!status.canChange(to: status))
        expectError(.illegalTransition) { try status.checkTransition(to: status) }
    }

    @Test(arguments: HouseholdStatus.allCases)
    func allowedNext_noDuplicates(_ status: HouseholdStatus) {
        #expect(Set(status.allowedNext).count == status.allowedNext.count)
        #expect(Set(status.allowedNext) == Self.table[status]!)
    }

    @Test func transition_namedCases_fromDomain() {
        // Fell back into hardship; reopened; a candidate cannot skip filing.
        #expect(HouseholdStatus.outOfHardship.canChange(to: .filed))
        #expect(HouseholdStatus.closed.canChange(to: .candidate))
        #expect(!HouseholdStatus.candidate.canChange(to: .outOfHardship))
        #expect(!HouseholdStatus.candidate.canChange(to: .safetyNet))
        #expect(!HouseholdStatus.closed.canChange(to: .filed))
        #expect(!HouseholdStatus.outOfHardship.canChange(to: .safetyNet))
    }

    @Test func labels_bothLanguages() {
        #expect(HouseholdStatus.filed.label(.chinese) == "在档")
        #expect(HouseholdStatus.outOfHardship.label(.english) == "out of hardship")
        #expect(HouseholdStatus(rawValue: "safetyNet") == .safetyNet)
        #expect(HouseholdStatus(rawValue: "SafetyNet") == nil)
    }
}
