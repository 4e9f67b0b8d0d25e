import Crypto
import DoorstepCore
import DoorstepStorage
import DoorstepWeb
import Foundation

/// Pull cursors as the API issues and checks them (`protocol/README.md` §9, "Cursors"): opaque
/// to clients, checkable by the server. A cursor is `c1.<position>.<tag>`: the position in the
/// change feed as 16 lower-case hex digits, and a tag, the first 16 hex digits of an HMAC-SHA256
/// over `c1.<position>` and the caller's scope (its district, `*` for the city) under a key the
/// server derives from its own secret. So a cursor is refused `invalidCursor` unless this server
/// issued it for this scope; another district's cursor is refused, not merely filtered.
struct PullCursors: Sendable {
    /// The derived key's bytes (`SymmetricKey` is not `Sendable`).
    private let key: Data

    /// Cursors keyed by the server's secret (its bundle private key's bytes; the key is derived,
    /// so the secret itself never signs anything else) and its restore epoch (a restored server's
    /// cursors are not those it issued before the restore; none: as before any restore).
    init(secret: Data, restoreEpoch: String? = nil) {
        let info = Data("doorstep-pull-cursor-v1".utf8)
        let derived =
            if let restoreEpoch {
                HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), salt: Data(restoreEpoch.utf8), info: info, outputByteCount: 32)
            } else {
                HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: info, outputByteCount: 32)
            }
        key = derived.withUnsafeBytes { Data($0) }
    }

    /// The cursor of `position` for `principal`.
    func issue(_ position: Int64, for principal: Principal) -> String {
        let body = "c1." + Self.hex(UInt64(max(0, position)))
        return body + "." + tag(body, scope: Self.scope(of: principal))
    }

    /// The position a cursor stands for, or `invalidCursor`. No cursor (absent or empty) is the
    /// start. A plain decimal number in canonical form (`0`, `1234`: no sign, space or leading
    /// zero) is a cursor issued before protocol 1.1, accepted until protocol 2; `0` is the start.
    func position(of text: String?, for principal: Principal) throws(DoorstepError) -> Int64 {
        guard let text, !text.isEmpty else { return 0 }
        if let legacy = Self.legacy(text) { return legacy }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "c1", parts[1].count == 16, parts[2].count == 16,
            let position = UInt64(parts[1], radix: 16), position <= UInt64(Int64.max),
            parts[1] == Self.hex(position)[...]
        else { throw Self.refusal(text) }
        let body = "c1." + parts[1]
        guard WebSecurity.constantTimeEqual(String(parts[2]), tag(body, scope: Self.scope(of: principal))) else { throw Self.refusal(text) }
        return Int64(position)
    }

    /// A cursor of protocol 1.0's form: a whole number written plainly.
    private static func legacy(_ text: String) -> Int64? {
        let digits = text.utf8
        guard (1...19).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        guard digits.count == 1 || digits.first != 0x30 else { return nil }
        return Int64(text)
    }

    private static func refusal(_ text: String) -> DoorstepError {
        DoorstepError(
            .invalidCursor, "the cursor \"\(text.prefix(40))\" was not issued by this server for this scope; pull from the start",
            zh: "同步位置无效（不是本服务器为本旗区发出的），请从头同步")
    }

    private func tag(_ body: String, scope: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((body + "|" + scope).utf8), using: SymmetricKey(data: key))
        return Data(mac).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    private static func scope(of principal: Principal) -> String {
        principal.role == .city ? "*" : (principal.district ?? "")
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
