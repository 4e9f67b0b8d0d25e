import Crypto
import Foundation
public import HTTPTypes
public import Hummingbird

/// What every page of Doorstep's web interfaces (the office dashboard, the field app) shares for
/// its safety: the response headers, form tokens, cookies and comparisons.
public enum WebSecurity {
    /// A `Content-Disposition` value (`attachment` or `inline`) naming a file as RFC 6266 and 5987
    /// write it: `filename*` in UTF-8, and an ASCII fallback; only the name's last component.
    public static func disposition(_ kind: String, fileName: String) -> String {
        let base = fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? fileName
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        let encoded = base.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let fallback = String(base.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        return "\(kind); filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }

    /// A Content-Security-Policy that lets a page load nothing from elsewhere and run no script:
    /// only the style sheet whose text is `css` (by its hash), images of its own or inline
    /// `data:`, forms posted to itself, never framed.
    public static func contentSecurityPolicy(css: String) -> String {
        let hash = Data(SHA256.hash(data: Data(css.utf8))).base64EncodedString()
        return "default-src 'none'; style-src 'sha256-\(hash)'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    /// Adds the headers every page carries: no caching, no framing, no sniffing, no referrer, the CSP.
    public static func secure(_ response: inout Response, policy: String) {
        response.headers[.cacheControl] = "no-store"
        response.headers[.contentSecurityPolicy] = policy
        if let name = HTTPField.Name("X-Content-Type-Options") { response.headers[name] = "nosniff" }
        if let name = HTTPField.Name("X-Frame-Options") { response.headers[name] = "DENY" }
        if let name = HTTPField.Name("Referrer-Policy") { response.headers[name] = "no-referrer" }
    }

    /// An HTML page with the headers of ``secure(_:policy:)``.
    public static func html(_ text: String, status: HTTPResponse.Status = .ok, policy: String) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
        secure(&response, policy: policy)
        return response
    }

    /// A 303 redirect (see other), after a form post or to another page.
    public static func redirect(_ location: String, policy: String) -> Response {
        var response = Response.redirect(to: location, type: .normal)
        secure(&response, policy: policy)
        return response
    }

    /// `count` random bytes from the system's generator.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Bytes as base64url without padding.
    public static func base64url(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A new secret: 32 random bytes (256 bits), base64url.
    public static func newSecret() -> String { base64url(randomBytes(32)) }

    /// A form token derived from a secret by SHA-256 with an application and a purpose, so that
    /// the token never reveals the secret and one purpose's token is no other's.
    public static func formToken(for secret: String, application: String, purpose: String) -> String {
        base64url(Array(SHA256.hash(data: Data("doorstep-\(application)-\(purpose)\n\(secret)".utf8))))
    }

    /// Compares two strings in time that depends only on their lengths; empty strings never match.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count, !left.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// A valid header name literal: the initializer fails only for names with illegal characters.
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")

    /// Whether the request reached us over TLS, directly or through a proxy that says so.
    public static func isSecure(_ request: Request) -> Bool {
        if request.uri.scheme?.rawValue.lowercased() == "https" { return true }
        if let name = forwardedProto, let proto = request.headers[name] {
            return proto.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
        }
        return false
    }

    /// A cookie that scripts cannot read and other sites never send: HttpOnly, SameSite=Strict,
    /// Secure under TLS.
    public static func cookie(_ name: String, _ value: String, maxAge: Int, path: String = "/", request: Request) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: isSecure(request), httpOnly: true, sameSite: .strict)
    }
}
