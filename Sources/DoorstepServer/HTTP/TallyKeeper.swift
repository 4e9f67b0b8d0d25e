import Synchronization

/// Counts changed households into the office tally in the background after devices' pushes, a
/// chunk at a time, so that an office opening its report after a day end finds the counting
/// done (a report still counts whatever is left before it answers: it is always exact).
final class TallyKeeper: Sendable {
    private struct State {
        var running = false
        var again = false
    }

    private let state = Mutex(State())
    /// How long a poke waits before counting, so that a burst of pushes is counted together.
    let delay: Duration

    init(delay: Duration = .milliseconds(500)) {
        self.delay = delay
    }

    /// Asks for a count soon. `step` counts one chunk and answers whether the tally is current;
    /// a step that throws ends the round (the next report counts what is left).
    func poke(_ step: @escaping @Sendable () async throws -> Bool) {
        let start = state.withLock { state -> Bool in
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
                try? await Task.sleep(for: delay)
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
}
