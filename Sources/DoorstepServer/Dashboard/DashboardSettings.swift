import Foundation
import Synchronization

/// Settings of the office dashboard that are not part of ``ServerConfiguration``.
public enum DashboardSettings {
    private static let cost = Mutex<UInt8>(12)

    /// The bcrypt cost (log2 of the rounds) new password hashes are made with: 12 by default.
    /// Production keeps 10 or more; tests may lower it (bcrypt's minimum is 4) to run fast.
    /// Existing hashes keep the cost they were made with and still verify.
    public static var passwordCost: UInt8 {
        get { cost.withLock { $0 } }
        set { cost.withLock { $0 = min(max(newValue, 4), 31) } }
    }

    /// How long a session lasts after sign-in, in milliseconds (12 hours: one working day).
    public static let sessionLifetimeMillis: Int64 = 12 * 3600 * 1000

    /// A device with no sync for this long is marked stale on the overview (3 days).
    public static let staleSyncMillis: Int64 = 3 * 86_400_000

    /// The session cookie (path `/`, HttpOnly, SameSite=Strict, Secure under TLS).
    static let sessionCookie = "doorstep_session"
    /// The cookie that carries the sign-in form's token before there is a session.
    static let signInCookie = "doorstep_signin"
    /// The cookie that remembers the language chosen with `?lang=`.
    static let languageCookie = "doorstep_lang"

    /// Shortest password, in characters.
    static let minPasswordLength = 10
    /// Longest password, in UTF-8 bytes: bcrypt reads no more than 72.
    static let maxPasswordBytes = 72
}
