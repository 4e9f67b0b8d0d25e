import DoorstepCore
import DoorstepTestSupport
import Foundation

/// A seeded generator shared by concurrent tasks.
final class SharedRandom: @unchecked Sendable {
    private let lock = NSLock()
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    func int(_ range: Range<Int>) -> Int { lock.withLock { Int.random(in: range, using: &generator) } }
    func int(_ range: ClosedRange<Int>) -> Int { lock.withLock { Int.random(in: range, using: &generator) } }
    func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func read() -> Value { lock.withLock { value } }

    @discardableResult
    func update<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}
