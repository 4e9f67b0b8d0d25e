import Synchronization

/// Counts changed households into the office tally in the background after devices' pushes, a
/// chunk at a time, so that an office opening its report after a day end finds the counting
/// done (a report still counts whatever is left before it answers: it is always exact).
final class TallyKeeper: Sendable {
    private struct State {
        var running = false
        var again = false
        var lastPoke = ContinuousClock.now
    }

    private let state = Mutex(State())
    /// The pause in pokes a count waits for, so that a burst of pushes is counted once, after it.
    let delay: Duration
    /// The longest a count waits for that pause (pushes that never pause are still counted).
    let longest: Duration

    init(delay: Duration = .milliseconds(500), longest: Duration = .seconds(10)) {
        self.delay = delay
        self.longest = longest
    }

    /// Asks for a count soon. `step` counts one chunk and answers whether the tally is current;
    /// a step that throws ends the round (the next report counts what is left).
    func poke(_ step: @escaping @Sendable () async throws -> Bool) {
        let start = state.withLock { state -> Bool in
            state.lastPoke = .now
            if state.running {
                state.again = true
                return false
            }
            state.running = true
            state.again = false
            return true
        }
        guard start else { return }
        Task.detached(priority: .utility) { [self] in
            while true {
                await pause()
                var current = false
                while !current { current = (try? await step()) ?? true }
                let more = state.withLock { state -> Bool in
                    if state.again {
                        state.again = false
                        return true
                    }
                    state.running = false
                    return false
                }
                if !more { return }
            }
        }
    }

    /// Waits until no poke came for `delay`, or for `longest`: during a day-end burst, the pushes
    /// keep the cores and a household visited several times is counted once.
    private func pause() async {
        let began = ContinuousClock.now
        while true {
            try? await Task.sleep(for: delay)
            let quiet = state.withLock { ContinuousClock.now - $0.lastPoke >= delay }
            if quiet || ContinuousClock.now - began >= longest { return }
        }
    }
}
