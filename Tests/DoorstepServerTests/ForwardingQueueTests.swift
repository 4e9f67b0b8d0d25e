import Testing

@testable import DoorstepServer

/// The order a relay's waiting batches go to the city in (`ForwardingQueue`, protocol §19.4 step 3),
/// on its own: devices by their earliest waiting batch, each device's batches by their seqs.
struct ForwardingQueueTests {
    /// Drains the queue as a round does, every batch taken.
    static func drain(_ queue: ForwardingQueue, stuck: Set<String> = []) -> [Int64] {
        var queue = queue
        var order: [Int64] = []
        while let next = queue.next(excluding: stuck) {
            order.append(next.id)
            queue.went(next.id, of: next.device)
        }
        return order
    }

    @Test func batchesGoInTheOrderTheyCame_eachDevicesByItsSeqs() {
        // A filed a household (3) after other work (1); B visited it (5); A then sent again, after a
        // restore of the city, work it had sent the city directly (9, seqs before both of its others).
        let queue = ForwardingQueue(
            [(1, "A", 11), (3, "A", 16), (5, "B", 1), (9, "A", 6)], awaiting: [])
        #expect(Self.drain(queue) == [9, 1, 3, 5])
        // Arrival order alone when each device sent one run.
        #expect(Self.drain(ForwardingQueue([(2, "B", 1), (1, "A", 1), (3, "A", 2), (4, "B", 2)], awaiting: [])) == [1, 2, 3, 4])
    }

    @Test func theOrderWaitsAtADeviceTheCityHasYetToMake_andGoesOnPastAStuckOne() {
        let batches: [(id: Int64, device: String, firstSeq: Int64)] = [(1, "A", 1), (2, "N", 1), (3, "B", 1)]
        // N enrolled at the relay and not yet made at the city: A goes, then nothing (B may name N's household).
        #expect(Self.drain(ForwardingQueue(batches, awaiting: ["N"])) == [1])
        // A device whose batch the city did not take this round is passed over.
        #expect(Self.drain(ForwardingQueue(batches, awaiting: []), stuck: ["A"]) == [2, 3])
        #expect(Self.drain(ForwardingQueue([], awaiting: ["N"])).isEmpty)
    }
}
