import DoorstepCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The running server's hold on its data folder: an exclusive `flock` on `DATA/doorstep.lock`,
/// taken at start and released when the process ends (however it ends, a kill included). A
/// second server on the same folder, or a restore into it, finds it held and stops.
public final class DataFolderLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    static func path(_ folder: String) -> String { (folder as NSString).appendingPathComponent("doorstep.lock") }

    /// Takes the folder (created owner-only if missing); `invalidOperation` when a running server holds it.
    public static func acquire(_ folder: String) throws -> DataFolderLock {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let descriptor = open(path(folder), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DoorstepError(.internalError, "cannot open \(path(folder)) (errno \(errno))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw held(folder)
        }
        return DataFolderLock(descriptor: descriptor)
    }

    /// Whether a running server holds the folder now.
    public static func isHeld(_ folder: String) -> Bool {
        let descriptor = open(path(folder), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }

    static func held(_ folder: String) -> DoorstepError {
        DoorstepError(.invalidOperation, "a doorstep-server is running on the data folder \(folder); stop it first")
    }
}
