import GRDB

/// A value of the local database watched over time: the value now, then again after every change
/// that touches it (a write on this device, a sync), as an `AsyncSequence` of the library's own
/// values. Iterate it in a task; cancelling the task ends the observation.
public struct LocalObservation<Element: Sendable>: AsyncSequence, Sendable {
    let base: AsyncValueObservation<Element>

    /// The iterator of an ``LocalObservation``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncValueObservation<Element>.Iterator

        /// The next value, when it changes; throws when the database cannot be read.
        public mutating func next() async throws -> Element? {
            try await base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator())
    }
}
