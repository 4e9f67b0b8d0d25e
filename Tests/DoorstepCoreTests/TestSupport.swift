import Foundation
import Testing

@testable import DoorstepCore

/// Runs `body`, expects it to throw a `DoorstepError` with `code`, and returns the error.
@discardableResult
func expectError(
    _ code: DoorstepError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> DoorstepError? {
    do {
        try body()
        Issue.record("expected a \(code) error, but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as DoorstepError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a DoorstepError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The root of the package, found from this file's path (`Tests/DoorstepCoreTests/TestSupport.swift`).
func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // TestSupport.swift
        .deletingLastPathComponent()  // DoorstepCoreTests
        .deletingLastPathComponent()  // Tests
}

/// A date that the test knows to be valid.
func date(_ text: String) -> LocalDate {
    do {
        return try LocalDate(text)
    } catch {
        preconditionFailure("test date \(text) is invalid: \(error)")
    }
}

/// A device id that the test knows to be valid.
func device(_ text: String) -> DeviceID {
    do {
        return try DeviceID(text)
    } catch {
        preconditionFailure("test device id \(text) is invalid: \(error)")
    }
}

/// All permutations of a small array (Heap's algorithm).
func permutations<T>(_ items: [T]) -> [[T]] {
    var result: [[T]] = []
    var a = items
    func generate(_ k: Int) {
        if k <= 1 {
            result.append(a)
            return
        }
        for i in 0..<(k - 1) {
            generate(k - 1)
            a.swapAt(k % 2 == 0 ? i : 0, k - 1)
        }
        generate(k - 1)
    }
    generate(a.count)
    return result
}

/// A physical clock for tests: returns the queued readings in order, then repeats the last one.
final class ScriptedClock: @unchecked Sendable {
    private let lock = NSLock()
    private var readings: [Int64]
    private var last: Int64

    init(_ readings: [Int64]) {
        self.readings = readings
        self.last = readings.first ?? 0
    }

    /// Queues more readings.
    func push(_ values: Int64...) {
        lock.lock()
        defer { lock.unlock() }
        readings.append(contentsOf: values)
    }

    func read() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        if !readings.isEmpty { last = readings.removeFirst() }
        return last
    }

    var millis: @Sendable () -> Int64 { { self.read() } }
}
