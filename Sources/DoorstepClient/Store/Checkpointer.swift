import Foundation
import GRDB

/// Keeps SQLite's WAL checkpoints off the write path. SQLite would copy the WAL back into the
/// database file (and `fsync` it) inside whichever commit crosses its threshold, so that one
/// visit would wait for the work of the hundreds before it. The client's connections turn
/// automatic checkpoints off; after a write, when the WAL has grown past ``threshold`` bytes,
/// a passive checkpoint runs in the background on a connection of its own (passive: it never
/// blocks writers or readers, and the next writer reuses the WAL from its start once it is done).
final class Checkpointer: @unchecked Sendable {
    /// WAL size that starts a checkpoint: about SQLite's default of 1,000 pages.
    static let threshold = 4 * 1024 * 1024

    private let path: String
    private let lock = NSLock()
    private var running = false
    private var queue: DatabaseQueue?

    init(path: String) { self.path = path }

    /// Called after a commit: starts a background checkpoint when the WAL is large.
    func noteWrite() {
        var info = stat()
        guard stat(path + "-wal", &info) == 0, Int(info.st_size) >= Self.threshold else { return }
        let start: Bool = lock.withLock {
            guard !running else { return false }
            running = true
            return true
        }
        guard start else { return }
        Task.detached(priority: .utility) { [self] in
            defer { lock.withLock { running = false } }
            try? await checkpoint()
        }
    }

    /// A passive checkpoint now, on the checkpoint connection.
    func checkpoint() async throws {
        let queue: DatabaseQueue = try lock.withLock {
            if let queue = self.queue { return queue }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.label = "doorstep.checkpoint"
            let opened = try DatabaseQueue(path: path, configuration: configuration)
            self.queue = opened
            return opened
        }
        try await queue.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }
}
