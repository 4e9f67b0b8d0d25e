import DoorstepClient
import DoorstepCore
import Foundation

/// A district relay (issue 23): the laptops of a district office take in their district and sync a
/// day of visits at once, over the office's network with its relay (which forwards their work to
/// the city), against the same with the city directly, in the same run. Loopback both ways: what
/// is measured is what the relay's second hop costs in time and memory, not a slow line (the
/// relay's weak line is `RelayTests`' business).
enum RelayCase {
    static func run(_ options: Options) async throws -> RelayResult {
        let sizes = options.sizes
        let data = Workspace.shared.path("relay-city")
        let local = try await LocalStorage(backend: .sqlite, data: data)
        let seeder = try await Seeder.enroll(local.storage)
        Log.note("relay: seeding \(sizes.relayHouseholds) households of district \(Facts.district)")
        try await seeder.grow(to: sizes.relayHouseholds, visits: 2)
        local.close()
        let city = try await ServerProcess.start(data: data, database: nil, name: "relay-city")
        defer { city.stop() }
        let token = try await city.office().createRelay(name: "doorstep-bench", district: Facts.district).token
        let relay = try await ServerProcess.start(
            data: Workspace.shared.path("relay-relay"), database: nil, name: "relay-relay",
            extra: ["--relay-for", Facts.district, "--upstream", city.url.absoluteString, "--relay-token", token])
        defer { relay.stop() }
        var result = RelayResult(households: sizes.relayHouseholds, laptops: sizes.relayLaptops, visitsPerLaptop: sizes.relayVisits)

        for viaRelay in [false, true] {
            let tag = viaRelay ? "relay" : "direct"
            let server = viaRelay ? relay.url : city.url
            var laptops: [FieldClient] = []
            for n in 0..<sizes.relayLaptops {
                let client = try FieldClient(configuration: ClientConfiguration(databasePath: Workspace.shared.path("relay-\(tag)-\(n).sqlite")))
                try await client.enroll(server: server, code: try await city.enrollmentCode(), deviceName: "doorstep-bench \(tag) \(n)")
                laptops.append(client)
            }
            // The morning: each laptop takes in the district (a relay serves it from its copy).
            let firstSync = try await timed {
                try await all(laptops) { laptop in
                    let summary = try await laptop.sync()
                    guard summary.pulledHouseholds == sizes.relayHouseholds else {
                        throw BenchError("a laptop took in \(summary.pulledHouseholds) households, expected \(sizes.relayHouseholds)")
                    }
                }
            }
            // The day at the doors, offline.
            for (n, laptop) in laptops.enumerated() {
                let households = try await laptop.households(matching: HouseholdQuery(limit: sizes.relayVisits))
                for visit in 0..<sizes.relayVisits {
                    _ = try await laptop.recordVisit(to: households[visit % households.count].id, Facts.visit(20_000_000 + n * 100_000 + visit))
                }
            }
            // The day end: every laptop syncs at once; then, via the relay, until the city holds it all.
            let office = try city.office()
            let expected = sizes.relayLaptops * sizes.relayVisits
            let started = ContinuousClock.now
            try await all(laptops) { laptop in _ = try await laptop.sync() }
            let dayEnd = (ContinuousClock.now - started).seconds
            var atCity = 0
            while atCity < expected {
                let names = Set((0..<sizes.relayLaptops).map { "doorstep-bench \(tag) \($0)" })
                atCity = try await office.deviceList().devices.filter { names.contains($0.name) }.reduce(0) { $0 + Int($1.highestSeq) }
                if atCity < expected {
                    guard (ContinuousClock.now - started).seconds < 600 else {
                        throw BenchError("the city holds \(atCity) of \(expected) visits after 10 minutes")
                    }
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
            }
            let allAtCity = (ContinuousClock.now - started).seconds
            // Via the relay: the next sync brings each laptop the city's outcomes.
            let outcomes = try await timed {
                try await all(laptops) { laptop in
                    var left = 50
                    while try await laptop.sync().relayed ?? 0 > 0 {
                        left -= 1
                        guard left > 0 else { throw BenchError("a laptop behind the relay still waits for the city's outcomes") }
                    }
                }
            }
            for laptop in laptops where try await laptop.status().pending > 0 {
                throw BenchError("a laptop still holds unsent work after its day end (\(tag))")
            }
            Log.note(
                "  \(tag): first sync \(Table.number(firstSync, digits: 2)) s; day end \(Table.number(dayEnd, digits: 2)) s; all at the city \(Table.number(allAtCity, digits: 2)) s"
                    + (viaRelay ? "; outcomes back \(Table.number(outcomes, digits: 2)) s" : ""))
            if viaRelay {
                result.relayFirstSyncSeconds = firstSync
                result.relayDayEndSeconds = dayEnd
                result.relayAtCitySeconds = allAtCity
                result.relayOutcomesSeconds = outcomes
            } else {
                result.directFirstSyncSeconds = firstSync
                result.directDayEndSeconds = dayEnd
            }
        }
        result.relayPeakKib = relay.peakKiB
        result.cityPeakKib = city.peakKiB
        result.dayEndRatio = result.relayDayEndSeconds / max(1e-9, result.directDayEndSeconds)
        result.atCityRatio = result.relayAtCitySeconds / max(1e-9, result.directDayEndSeconds)
        return result
    }

    /// Seconds `body` took.
    static func timed(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).seconds
    }

    /// Runs `body` for every laptop at once.
    static func all(_ laptops: [FieldClient], _ body: @escaping @Sendable (FieldClient) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for laptop in laptops { group.addTask { try await body(laptop) } }
            try await group.waitForAll()
        }
    }
}
