import Foundation
import GRDB

/// Keeps SQLite's WAL checkpoints off the write path. SQLite would copy the WAL back into the
/// database file (and `fsync` it) inside whichever commit crosses its threshold, so that one
/// visit would wait for the work of the hundreds before it. The client's connections turn
/// automatic checkpoints off and call ``noteWrite()`` after each commit instead.
///
/// A checkpoint is due once the WAL file has grown by `threshold` bytes since the last one
/// started. It runs on a connection and a thread of its own, at a low scheduling priority
/// (`nice` 10 on Linux, background quality of service elsewhere), and it waits until writes
/// pause for ``idle`` (a visitor between two doors), so that it does not compete with the next
/// visit for the disk and the laptop's two cores. Writes that do not pause (a first sync, a
/// bundle) get it anyway once the WAL passes 8 × `threshold`. It is passive (it never blocks
/// writers or readers); once it has copied every frame the next writer starts the WAL again
/// from its beginning and cuts its file back to a quarter of the threshold (`journal_size_limit`).
///
/// Writes that never pause append frames while each passive checkpoint runs, so the WAL would
/// never start again and its file would grow without end: past 16 × `threshold` the checkpoint is
/// a `RESTART` one, which waits for the writer in hand, copies the rest, and lets the next writer
/// start the WAL from its beginning.
final class Checkpointer: @unchecked Sendable {
    /// WAL growth that makes a checkpoint due, by default: about SQLite's default of 1,000 pages.
    static let threshold = 4 * 1024 * 1024
    /// How long writes must pause before a due checkpoint starts.
    static let idle = Duration.milliseconds(200)

    /// WAL growth that makes a checkpoint due.
    let threshold: Int
    /// WAL file size at which a due checkpoint starts without waiting for a pause.
    let busySize: Int
    /// WAL file size past which a checkpoint waits for the writer so that the WAL starts again.
    let restartSize: Int

    private let path: String
    /// Guards the state below; the waiting thread sleeps on it until writes pause or the WAL is large.
    private let lock = NSCondition()
    private var running = false
    /// The WAL file's size after the latest write.
    private var latestSize = 0
    /// The WAL file's size when the last checkpoint started (the file only shrinks when cut back).
    private var sizeAtLastStart = 0
    private var lastWrite = ContinuousClock.now
    private var queue: DatabaseQueue?
    private var finished: (passive: Int, restart: Int) = (0, 0)
    /// Checkpoints run by the background thread (passive, restart), for tests.
    var completed: (passive: Int, restart: Int) { lock.withLock { finished } }

    init(path: String, threshold: Int = Checkpointer.threshold) {
        self.path = path
        self.threshold = threshold
        busySize = 8 * threshold
        restartSize = 16 * threshold
    }

    /// Called after a commit: notes the time, and starts the background thread when a
    /// checkpoint is due and none is waiting or running.
    func noteWrite() {
        let size = walSize()
        let start: Bool = lock.withLock {
            lastWrite = .now
            latestSize = size
            if running {
                if size >= busySize { lock.signal() }
                return false
            }
            guard size >= threshold, size < sizeAtLastStart || size - sizeAtLastStart >= threshold else { return false }
            running = true
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in
            Self.lowerThisThreadsPriority()
            runWhenIdle()
        }
        thread.name = "doorstep.checkpoint"
        thread.qualityOfService = .background
        thread.start()
    }

    /// On the background thread: waits for a pause in writes (or a WAL past `busySize`), then checkpoints.
    private func runWhenIdle() {
        lock.withLock {
            while true {
                let quiet = ContinuousClock.now - lastWrite
                if quiet >= Self.idle || latestSize >= busySize { break }
                let wait = Self.idle - quiet
                _ = lock.wait(until: Date(timeIntervalSinceNow: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18))
            }
        }
        let size = walSize()
        let mode: Database.CheckpointMode = size >= restartSize ? .restart : .passive
        lock.withLock { sizeAtLastStart = size }
        let done = (try? connection().writeWithoutTransaction { db in _ = try db.checkpoint(mode) }) != nil
        lock.withLock {
            running = false
            if done {
                if mode == .restart { finished.restart += 1 } else { finished.passive += 1 }
            }
        }
    }

    private func walSize() -> Int {
        var info = stat()
        return stat(path + "-wal", &info) == 0 ? Int(info.st_size) : 0
    }

    private func connection() throws -> DatabaseQueue {
        try lock.withLock {
            if let queue = self.queue { return queue }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.label = "doorstep.checkpoint"
            let opened = try DatabaseQueue(path: path, configuration: configuration)
            self.queue = opened
            return opened
        }
    }

    /// Linux gives each thread its own nice value (`who` 0 is the calling thread, not the whole
    /// process: setpriority(2), NOTES); a thread's quality of service is not mapped to it.
    private static func lowerThisThreadsPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }
}
