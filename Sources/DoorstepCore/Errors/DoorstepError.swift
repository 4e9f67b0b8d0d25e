/// An error with a stable machine-readable code and a human message.
///
/// Codes are part of the protocol (`protocol/README.md` lists them) and never change
/// meaning; messages are for people and may be reworded. Messages never contain
/// national ID numbers, names or tokens, so an error can be logged as it is.
public struct DoorstepError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable code, e.g. `invalidNationalId`.
    public let code: Code
    /// A human-readable explanation in English.
    public let message: String
    /// The same explanation in Simplified Chinese, where the error is one people meet while typing
    /// or deciding (a value, a national ID, a revoked device); `nil` where only English was written.
    public let chineseMessage: String?
    /// The facts a reader explains the error by in its own language (the field, the limit, the rule).
    public let details: ErrorDetails

    /// Makes an error from a code and a message (English, and Chinese where written), with its details.
    public init(_ code: Code, _ message: String, zh chineseMessage: String? = nil, details: ErrorDetails = ErrorDetails()) {
        self.code = code
        self.message = message
        self.chineseMessage = chineseMessage
        self.details = details
    }

    /// The message in the given language: the Chinese one where it was written, else the English one.
    public func message(_ language: Language) -> String {
        language == .chinese ? (chineseMessage ?? message) : message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// A stable error code. New codes may be added; existing ones never change meaning.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }
}

extension DoorstepError.Code {
    // Input and validation
    /// A request or file could not be decoded.
    public static let malformedInput = Self("malformedInput")
    /// A required field is missing or empty.
    public static let missingField = Self("missingField")
    /// A field has a value of the wrong type or outside its allowed set.
    public static let invalidValue = Self("invalidValue")
    /// A field name that the entity kind does not have.
    public static let unknownField = Self("unknownField")
    /// The national ID number is malformed, has a wrong check digit or an impossible birth date.
    public static let invalidNationalId = Self("invalidNationalId")
    /// The phone number is not a mainland mobile or landline number.
    public static let invalidPhone = Self("invalidPhone")
    /// A money amount is negative.
    public static let negativeAmount = Self("negativeAmount")
    /// A district code that the loaded city data does not know.
    public static let unknownDistrict = Self("unknownDistrict")
    /// A status change that the status table does not allow.
    public static let illegalTransition = Self("illegalTransition")
    /// City data (districts, campaigns) is inconsistent.
    public static let invalidCityData = Self("invalidCityData")

    // Roles and scope
    /// The writer's role may not make this change.
    public static let forbiddenForRole = Self("forbiddenForRole")
    /// The entity lies outside the writer's district.
    public static let outOfScope = Self("outOfScope")

    // Merge and sync
    /// The operation does not apply to this kind of entity (e.g. editing a visit).
    public static let invalidOperation = Self("invalidOperation")
    /// Home visits are immutable; a correction is a new visit.
    public static let visitImmutable = Self("visitImmutable")
    /// The mutation names an entity the server does not know.
    public static let unknownEntity = Self("unknownEntity")
    /// The mutation depends on an earlier mutation that was rejected.
    public static let dependsOnRejected = Self("dependsOnRejected")
    /// An entity id is already used by an entity of another kind or household.
    public static let entityIdTaken = Self("entityIdTaken")
    /// A batch starts after a gap in the device's sequence numbers.
    public static let missingPredecessor = Self("missingPredecessor")
    /// A `(deviceId, seq)` key was sent again with different content.
    public static let seqReuse = Self("seqReuse")
    /// A batch is malformed as a whole (wrong device, seqs not consecutive, too large).
    public static let invalidBatch = Self("invalidBatch")
    /// The mutation's schema version is not served.
    public static let unsupportedSchema = Self("unsupportedSchema")
    /// The protocol version of the request is not served.
    public static let unsupportedProtocolVersion = Self("unsupportedProtocolVersion")
    /// The pull cursor is not one this server issued.
    public static let invalidCursor = Self("invalidCursor")

    // Access
    /// No credentials, or credentials the server does not know.
    public static let unauthorized = Self("unauthorized")
    /// The device's access has been revoked: export unsynced work, then wipe.
    public static let deviceRevoked = Self("deviceRevoked")
    /// Too many failed attempts; retry later.
    public static let rateLimited = Self("rateLimited")
    /// The enrollment code is unknown, used or expired.
    public static let invalidEnrollmentCode = Self("invalidEnrollmentCode")
    /// Something not found (or not visible to the caller).
    public static let notFound = Self("notFound")
    /// The request body is larger than the server accepts.
    public static let payloadTooLarge = Self("payloadTooLarge")

    // Bundles
    /// A bundle's signature, hash or encryption does not check out.
    public static let bundleInvalid = Self("bundleInvalid")

    // District relays (protocol 1.8, §19)
    /// A push's device signature is missing (to a relay) or does not verify against the device's
    /// enrolled key (a batch a relay forwards): nothing of it was applied.
    public static let invalidSignature = Self("invalidSignature")
    /// The city revoked this relay: it forwards and takes nothing more.
    public static let relayRevoked = Self("relayRevoked")
    /// A relay cannot reach the city for something only the city can do (an enrollment): try again
    /// when the district's line is up.
    public static let upstreamUnreachable = Self("upstreamUnreachable")

    // Attachments' files (protocol 1.4)
    /// A file's first bytes are not of an accepted type (JPEG, PNG, HEIC, PDF).
    public static let unsupportedMediaType = Self("unsupportedMediaType")
    /// An upload's offset or length is not what the server holds: send from `details.resumeFrom`.
    public static let uploadOffsetMismatch = Self("uploadOffsetMismatch")
    /// A whole upload's bytes do not have the SHA-256 they were sent under; none were kept.
    public static let hashMismatch = Self("hashMismatch")

    // Import and roster files
    /// The same national ID number appears on more than one row of an import or roster file.
    public static let duplicateInFile = Self("duplicateInFile")

    // Client side only: never sent by a server
    /// The server could not be reached (network down, server failing); nothing was lost.
    public static let serverUnreachable = Self("serverUnreachable")
    /// The device has not enrolled with a server yet.
    public static let notEnrolled = Self("notEnrolled")
    /// The client refuses plain HTTP to a server that is not on this machine.
    public static let insecureTransport = Self("insecureTransport")
    /// A household on this device already holds the national ID being filed (it would become a
    /// duplicate once synced); the caller may file it anyway for a genuinely separate household.
    public static let nationalIdOnFile = Self("nationalIdOnFile")
    /// The address answers as another server than the one this device enrolled with (another
    /// bundle key id): the device sends it nothing, its token least of all.
    public static let serverMismatch = Self("serverMismatch")

    /// An unexpected failure inside the server or client; details are in its log.
    public static let internalError = Self("internalError")
}
