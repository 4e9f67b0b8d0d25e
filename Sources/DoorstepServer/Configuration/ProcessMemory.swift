import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How the server process asks its allocator to hand large blocks back to the system.
public enum ProcessMemory {
    /// The size from which glibc serves an allocation with a mapping of its own, returned to the
    /// system when the block is freed.
    public static let mmapThreshold: Int32 = 64 * 1024

    /// Fixes glibc's mmap threshold at ``mmapThreshold`` for this process.
    ///
    /// By default glibc raises the threshold to the size of each large block freed (up to 32 MiB),
    /// so pull pages and push bodies, hundreds of KB each, soon come from the heap, whose pages stay
    /// resident once the heap is fragmented: the peak resident memory then grows from one day-end
    /// burst to the next although the live heap does not (see docs/GUARANTEES.md, Memory). An
    /// explicit `MALLOC_MMAP_THRESHOLD_` in the environment is left to win. Does nothing off glibc.
    /// Returns whether glibc took the setting.
    @discardableResult
    public static func returnLargeBlocksToTheSystem() -> Bool {
        #if canImport(Glibc)
        guard ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil else { return false }
        // `mallopt` is in <malloc.h>, which the Glibc module does not bring in: looked up by name.
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mmapThresholdParameter: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>
        return mallopt(mmapThresholdParameter, mmapThreshold) == 1
        #else
        return false
        #endif
    }
}
