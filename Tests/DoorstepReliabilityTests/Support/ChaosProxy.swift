import DoorstepCore
import Foundation

#if canImport(Glibc)
import Glibc
import DoorstepTestSupport
#endif

/// A small HTTP-aware TCP proxy on loopback between a client and a server that misbehaves on a
/// seeded schedule: it drops connections before or after the server saw the request, cuts
/// answers short, delays requests and answers, and sends a request to the server twice (at once).
///
/// Plain POSIX sockets and one thread per connection: it reads one request (headers and a
/// `Content-Length` body), forwards it on a fresh upstream connection with `Connection: close`,
/// reads the whole answer, and then decides what the client gets.
final class ChaosProxy: @unchecked Sendable {
    enum Fault: String, CaseIterable, Sendable {
        case pass, dropBeforeServer, dropAfterServer, cutAnswer, delay, duplicate
        /// An answer cut after its status line, inside its header fields. URLSession on Linux
        /// (swift-corelibs-foundation) stops the whole process on it ("Transfer completed, but
        /// there's no response"); the client's Linux transport (`HTTPClientTransport`) takes it
        /// as a network error. See `ClientCrashTests`.
        case cutHead
        /// The request cut inside its body: the server gets the head and part of the body, then
        /// the connection ends both ways (a link that drops while a file is being sent). A
        /// request without a body passes.
        case cutRequest
    }

    struct Schedule: Sendable {
        /// Percent chance of each fault per request (the rest pass untouched).
        var dropBeforeServer = 10
        var dropAfterServer = 12
        var cutAnswer = 12
        var delay = 12
        var duplicate = 12
        var cutHead = 8
        var cutRequest = 6
        /// The longest delay, in milliseconds.
        var maxDelayMillis = 250
    }

    private var upstream: UInt16
    private var down = false
    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let lock = NSLock()
    private var generator: SeededGenerator
    private var counts: [Fault: Int] = [:]
    private var enabled = true
    private var patchBodyBytes = 0
    var schedule: Schedule

    init(upstreamPort: UInt16, seed: UInt64, schedule: Schedule = Schedule()) throws {
        self.upstream = upstreamPort
        self.generator = SeededGenerator(seed: seed)
        self.schedule = schedule
        (listener, port) = try Self.listen()
        let thread = Thread { [weak self] in self?.acceptLoop() }
        thread.start()
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// How often each fault was dealt.
    var dealt: [Fault: Int] { lock.withLock { counts } }

    /// The body bytes of `PATCH` requests the server was sent (a cut request counts what it got).
    var forwardedPatchBodyBytes: Int { lock.withLock { patchBodyBytes } }

    /// Turns the faults off (every request passes) or on again.
    func setEnabled(_ value: Bool) { lock.withLock { enabled = value } }

    /// Cuts the link (every connection is closed unanswered, the server sees nothing) or restores it.
    func setDown(_ value: Bool) { lock.withLock { down = value } }

    /// The server's port (a server started again listens on another).
    var upstreamPort: UInt16 {
        get { lock.withLock { upstream } }
        set { lock.withLock { upstream = newValue } }
    }

    func shutdown() {
        shutdown_(listener)
        close(listener)
    }

    private func shutdown_(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in
                handle(client)
                close(client)
            }
            thread.start()
        }
    }

    private func roll() -> (Fault, Int) {
        lock.withLock {
            let value = Int.random(in: 0..<100, using: &generator)
            let extra = Int.random(in: 0...1_000_000, using: &generator)
            var fault = Fault.pass
            if enabled {
                var bound = 0
                for (candidate, chance) in [
                    (Fault.dropBeforeServer, schedule.dropBeforeServer), (.dropAfterServer, schedule.dropAfterServer),
                    (.cutAnswer, schedule.cutAnswer), (.delay, schedule.delay), (.duplicate, schedule.duplicate),
                    (.cutHead, schedule.cutHead), (.cutRequest, schedule.cutRequest),
                ] {
                    bound += chance
                    if value < bound { fault = candidate; break }
                }
            }
            counts[fault, default: 0] += 1
            return (fault, extra)
        }
    }

    private func handle(_ client: Int32) {
        Self.setTimeout(client, seconds: 30)
        guard let request = Self.readRequest(client) else { return }
        if lock.withLock({ down }) { return }
        let (fault, extra) = roll()
        switch fault {
        case .dropBeforeServer:
            return
        case .delay:
            usleep(UInt32(extra % max(1, schedule.maxDelayMillis)) * 1000)
        case .cutRequest:
            let headEnd = (Self.find([13, 10, 13, 10], in: request) ?? request.count) + 4
            if request.count > headEnd {
                // Somewhere inside the body, never all of it.
                let cut = headEnd + extra % (request.count - headEnd)
                countPatch(request, bodyBytes: cut - headEnd)
                _ = forward(Array(request.prefix(cut)), expectAnswer: false)
                return
            }
        default:
            break
        }
        let answer: [UInt8]?
        if fault == .duplicate {
            // The same bytes twice, concurrently, as a retrying middlebox might: the client gets one answer.
            let other = Locked<[UInt8]?>(nil)
            let group = DispatchGroup()
            group.enter()
            Thread { [self] in
                other.update { $0 = forward(request) }; group.leave()
            }.start()
            let mine = forward(request)
            group.wait()
            answer = extra % 2 == 0 ? mine : (other.read() ?? mine)
        } else {
            answer = forward(request)
        }
        if let headEnd = Self.find([13, 10, 13, 10], in: request) { countPatch(request, bodyBytes: request.count - headEnd - 4) }
        guard let answer else { return }
        switch fault {
        case .dropAfterServer:
            return
        case .cutAnswer:
            // Inside the status line, or anywhere in the body (none of it included).
            let statusEnd = (Self.find([13, 10], in: answer) ?? 0) + 2
            let headEnd = (Self.find([13, 10, 13, 10], in: answer) ?? answer.count) + 4
            let cut = extra % 3 == 0 ? 1 + extra % max(1, statusEnd - 2) : headEnd + extra % max(1, answer.count - headEnd)
            Self.writeAll(client, Array(answer.prefix(min(cut, answer.count - 1))))
        case .cutHead:
            let statusEnd = (Self.find([13, 10], in: answer) ?? 0) + 2
            let headEnd = (Self.find([13, 10, 13, 10], in: answer) ?? answer.count) + 2
            Self.writeAll(client, Array(answer.prefix(statusEnd + extra % max(1, headEnd - statusEnd))))
        case .delay:
            usleep(UInt32(extra / 7 % max(1, schedule.maxDelayMillis)) * 1000)
            Self.writeAll(client, answer)
        default:
            Self.writeAll(client, answer)
        }
        shutdown_(client)
    }

    private func countPatch(_ request: [UInt8], bodyBytes: Int) {
        guard request.starts(with: Array("PATCH ".utf8)) else { return }
        lock.withLock { patchBodyBytes += bodyBytes }
    }

    /// Sends a request to the server on a new connection and reads the whole answer; a request
    /// cut short (`expectAnswer` false) is sent, then the connection is closed at once.
    private func forward(_ request: [UInt8], expectAnswer: Bool = true) -> [UInt8]? {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return nil }
        defer { close(upstream) }
        Self.setTimeout(upstream, seconds: 60)
        var address = Self.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, Self.writeAll(upstream, request) else { return nil }
        guard expectAnswer else {
            // Give the server a moment to read what arrived, then drop the link.
            usleep(20_000)
            shutdown_(upstream)
            return nil
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(upstream, &buffer, buffer.count)
            if count <= 0 { break }
            answer.append(contentsOf: buffer[0..<count])
        }
        return answer.isEmpty ? nil : answer
    }

    /// Reads one HTTP/1.1 request and rewrites it to close its connection after the answer.
    static func readRequest(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var headerEnd: Int?
        var bodyLength = 0
        while true {
            if let end = headerEnd, data.count >= end + bodyLength { break }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return nil }
            data.append(contentsOf: buffer[0..<count])
            if headerEnd == nil, let end = find([13, 10, 13, 10], in: data) {
                headerEnd = end + 4
                let head = String(decoding: data[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        bodyLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
        }
        guard let end = headerEnd else { return nil }
        let head = String(decoding: data[0..<(end - 4)], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.lowercased().hasPrefix("connection:") || $0.lowercased().hasPrefix("expect:") }
        lines.append("Connection: close")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + Array(data[end..<(end + bodyLength)])
    }

    static func find(_ needle: [UInt8], in data: [UInt8]) -> Int? {
        guard data.count >= needle.count else { return nil }
        for index in 0...(data.count - needle.count) where data[index] == needle[0] && Array(data[index..<(index + needle.count)]) == needle {
            return index
        }
        return nil
    }

    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    static func setTimeout(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A socket listening on a free loopback port: its descriptor and the port.
    static func listen() throws -> (Int32, UInt16) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EMFILE) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(listener, 128) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        return (listener, UInt16(bigEndian: address.sin_port))
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
