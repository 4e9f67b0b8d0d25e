import DoorstepCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A weak link on loopback: a TCP relay between a client and a server that carries bytes at a
/// phone hotspot's pace (a bandwidth shared by every connection, each way), late by half a round
/// trip each way, and cuts the connection it is carrying after a seeded number of bytes down,
/// again and again. It counts every byte it delivered: what the link cost.
///
/// Plain POSIX sockets; per connection one reader and one writer thread each way, so bytes in
/// flight are delayed without stopping the reading (the latency is not a bandwidth limit).
final class ShapedLink: @unchecked Sendable {
    struct Shape: Sendable {
        /// The link's rate each way, in bits per second.
        var bitsPerSecond = 256_000
        /// The round trip the link adds (half each way), in milliseconds.
        var roundTripMillis = 300
        /// Bytes down between two cuts (seeded within the range); `nil`: never cut.
        var cutEvery: ClosedRange<Int>? = nil
        /// At a cut, the link goes silent instead: the connection stays open and carries nothing
        /// more (a hotspot that lost its signal without saying so).
        var stallInsteadOfCut = false
    }

    /// One direction of the link: its time is shared by every connection.
    private final class Lane: @unchecked Sendable {
        let lock = NSLock()
        var freeAt = ContinuousClock.now
        var delivered = 0
        let bytesPerSecond: Double
        init(bitsPerSecond: Int) { bytesPerSecond = Double(bitsPerSecond) / 8 }

        /// When `count` bytes read at `readAt` go out: after the one-way delay and after the bytes before them.
        func slot(_ count: Int, readAt: ContinuousClock.Instant, delay: Duration) -> ContinuousClock.Instant {
            lock.withLock {
                let start = max(readAt + delay, freeAt)
                freeAt = start + .nanoseconds(Int64(Double(count) / bytesPerSecond * 1e9))
                return freeAt
            }
        }
    }

    /// Chunks waiting to be delivered one way on one connection.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var chunks: [(bytes: [UInt8], readAt: ContinuousClock.Instant)] = []
        var ended = false

        func put(_ bytes: [UInt8]) {
            condition.withLock {
                chunks.append((bytes, .now))
                condition.signal()
            }
        }
        func end() {
            condition.withLock {
                ended = true
                condition.signal()
            }
        }
        func take() -> (bytes: [UInt8], readAt: ContinuousClock.Instant)? {
            condition.withLock {
                while chunks.isEmpty && !ended { condition.wait() }
                return chunks.isEmpty ? nil : chunks.removeFirst()
            }
        }
    }

    let upstreamPort: UInt16
    let shape: Shape
    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let down: Lane
    private let up: Lane
    private let lock = NSLock()
    private var generator: SeededGenerator
    private var untilCut: Int?
    private var cutCount = 0

    init(upstreamPort: UInt16, shape: Shape, seed: UInt64) throws {
        self.upstreamPort = upstreamPort
        self.shape = shape
        down = Lane(bitsPerSecond: shape.bitsPerSecond)
        up = Lane(bitsPerSecond: shape.bitsPerSecond)
        generator = SeededGenerator(seed: seed)
        (listener, port) = try ChaosProxy.listen()
        untilCut = nextCut()
        Thread { [self] in acceptLoop() }.start()
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Bytes delivered down (server to client) and up, headers included, and the cuts dealt.
    var bytesDown: Int { down.lock.withLock { down.delivered } }
    var bytesUp: Int { up.lock.withLock { up.delivered } }
    var cuts: Int { lock.withLock { cutCount } }

    func shutdown() {
        _ = Glibc.shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func nextCut() -> Int? {
        guard let range = shape.cutEvery else { return nil }
        return Int.random(in: range, using: &generator)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = ChaosProxy.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard server >= 0, connected == 0 else {
                close(client)
                if server >= 0 { close(server) }
                continue
            }
            let connection = Connection(client: client, server: server)
            pump(from: client, to: server, lane: up, downward: false, connection: connection)
            pump(from: server, to: client, lane: down, downward: true, connection: connection)
        }
    }

    /// Both sockets of one relayed connection, closed once when both ways are done or it is cut.
    private final class Connection: @unchecked Sendable {
        let client: Int32
        let server: Int32
        let lock = NSLock()
        var open = 2
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }
        func cut() {
            _ = Glibc.shutdown(client, Int32(SHUT_RDWR))
            _ = Glibc.shutdown(server, Int32(SHUT_RDWR))
        }
        func finished() {
            let last = lock.withLock {
                open -= 1
                return open == 0
            }
            if last {
                close(client)
                close(server)
            }
        }
    }

    private func pump(from source: Int32, to target: Int32, lane: Lane, downward: Bool, connection: Connection) {
        let queue = Queue()
        let delay = Duration.milliseconds(shape.roundTripMillis / 2)
        Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(source, &buffer, buffer.count)
                if count <= 0 { break }
                queue.put(Array(buffer[0..<count]))
            }
            queue.end()
        }.start()
        Thread { [self] in
            defer { connection.finished() }
            while let (bytes, readAt) = queue.take() {
                var chunk = bytes
                var cutNow = false
                if downward {
                    lock.withLock {
                        guard let left = untilCut else { return }
                        if left <= chunk.count {
                            chunk = Array(chunk.prefix(left))
                            cutNow = true
                            cutCount += 1
                            untilCut = nextCut()
                        } else {
                            untilCut = left - chunk.count
                        }
                    }
                }
                let due = lane.slot(chunk.count, readAt: readAt, delay: delay)
                let wait = due - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) }
                var sent = 0
                while sent < chunk.count {
                    let result = chunk[sent...].withUnsafeBytes { write(target, $0.baseAddress, $0.count) }
                    if result <= 0 { break }
                    sent += result
                }
                lane.lock.withLock { lane.delivered += sent }
                if cutNow && shape.stallInsteadOfCut {
                    // Silent from here: whatever comes is swallowed until the client gives up.
                    while queue.take() != nil {}
                    connection.cut()
                    return
                }
                if cutNow || sent < chunk.count {
                    connection.cut()
                    while queue.take() != nil {}
                    return
                }
            }
            _ = Glibc.shutdown(target, Int32(SHUT_WR))
        }.start()
    }
}
