/// Slows guessing without refusing anyone's valid credential (`protocol/README.md` §11): once a
/// key (a client address and kind, an account) has failed too often in the failure window, each
/// further check under it waits its turn, one an `interval`, so guesses from there go at most that
/// fast however many are sent at once; beyond `maxWaiting` waiting checks the next is refused at
/// once (`rateLimited`) without being checked.
actor GuessThrottle {
    /// The time between two checks under one key over its limit.
    let interval: Duration
    /// Checks that may wait under one key; the next is refused without being checked.
    let maxWaiting: Int
    private var nextTurn: [String: ContinuousClock.Instant] = [:]
    private var waiting: [String: Int] = [:]

    init(interval: Duration, maxWaiting: Int = 8) {
        self.interval = interval
        self.maxWaiting = maxWaiting
    }

    /// Waits for the key's turn; `false` (at once) when too many checks wait under it already.
    func turn(_ key: String) async -> Bool {
        let now = ContinuousClock.now
        guard waiting[key, default: 0] < maxWaiting else { return false }
        let slot = max(now, nextTurn[key] ?? now)
        nextTurn[key] = slot + interval
        if nextTurn.count > 10_000 { nextTurn = nextTurn.filter { $0.value > now } }
        waiting[key, default: 0] += 1
        try? await Task.sleep(until: slot, clock: .continuous)
        waiting[key, default: 1] -= 1
        if waiting[key] == 0 { waiting[key] = nil }
        return true
    }
}
