public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The tests' temporary files: one folder per test process, removed when the process ends.
///
/// Every run of the suite used to leave its databases, bundles and photos behind in the system's
/// temporary folder (tens of thousands of folders, tens of gigabytes, until a build failed for want
/// of disk). Now each process writes under `doorstep-tests-PID`, removes it when it exits, and
/// removes the folders of earlier processes that no longer run (a run that was killed).
public enum Scratch {
    /// The name every process's folder starts with.
    static let prefix = "doorstep-tests-"

    /// This process's folder, made on first use.
    public static let root: URL = {
        let system = FileManager.default.temporaryDirectory
        sweep(system)
        let root = system.appendingPathComponent("\(prefix)\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { Scratch.remove() }
        return root
    }()

    /// A fresh folder, made, named `prefix-UUID`.
    public static func folder(_ prefix: String) -> URL {
        let folder = root.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Removes this process's folder (at exit).
    static func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    /// Removes the folders of test processes that are no longer running.
    static func sweep(_ system: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: system.path)) ?? []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: system.appendingPathComponent(name))
            }
        }
    }
}
