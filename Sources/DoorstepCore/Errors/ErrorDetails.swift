/// The facts of an error or a refused mutation, for a reader to explain it in its own language
/// without parsing the English `message` (`protocol/README.md` §12, "Details").
///
/// Every key is optional; a reader ignores keys it does not know. `rule` names the check that
/// failed; the table of texts explains it as `error.rule.<rule>`, its placeholders filled from the
/// other keys. Details never hold personal data (no national ID, name or token).
public struct ErrorDetails: Codable, Hashable, Sendable {
    /// The check that failed, e.g. `tooLong`, `checkDigit`, `resumeFrom` (the rules are listed in §12).
    public var rule: String?
    /// The field the error is about (its wire name).
    public var field: String?
    /// The entity kind of `field`, or of the entity the error is about.
    public var kind: String?
    /// The limit that was passed: a length in characters, a count, an amount in fen.
    public var limit: Int64?
    /// The smallest value allowed, where a range is meant (with `limit` as the largest).
    public var minimum: Int64?
    /// The values allowed (wire names), for a field that takes a term.
    public var allowed: [String]?
    /// The form expected, as an example a person can copy (`2020-04-12T10:30:00+08:00`).
    public var expected: String?
    /// For `illegalTransition`: the statuses the writer's base named, and the status written.
    public var from: [String]?
    public var to: String?
    /// For `missingPredecessor`: the first seq to send (the server holds every seq before it).
    public var resumeFrom: Int64?
    /// For `rateLimited`: how long to wait before trying again.
    public var retryAfterSeconds: Int64?

    public init(
        rule: String? = nil, field: String? = nil, kind: String? = nil, limit: Int64? = nil, minimum: Int64? = nil,
        allowed: [String]? = nil, expected: String? = nil, from: [String]? = nil, to: String? = nil,
        resumeFrom: Int64? = nil, retryAfterSeconds: Int64? = nil
    ) {
        self.rule = rule
        self.field = field
        self.kind = kind
        self.limit = limit
        self.minimum = minimum
        self.allowed = allowed
        self.expected = expected
        self.from = from
        self.to = to
        self.resumeFrom = resumeFrom
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Whether no key is set (the details are then left out of a body).
    public var isEmpty: Bool { self == ErrorDetails() }

    /// The details with the field (and its kind) set where they were not.
    public func naming(field: String, kind: EntityKind?) -> ErrorDetails {
        var details = self
        if details.field == nil { details.field = field }
        if details.kind == nil { details.kind = kind?.rawValue }
        return details
    }

    /// The rule's explanation in `language` from the table of texts (`error.rule.<rule>`), or `nil`
    /// when there is no rule or the table does not know it (a newer server's).
    public func explanation(_ language: Language) -> String? {
        guard let rule, let text = Texts.name("error.rule.\(rule)")?.text(language) else { return nil }
        let filled = Texts.fill(text, values(language))
        // A placeholder the details do not fill (a field-less error of a rule that names one) is no explanation.
        return filled.contains("{") ? nil : filled
    }

    /// The placeholders' values in `language`: the field's label, the allowed values' labels, numbers.
    func values(_ language: Language) -> [String: String] {
        var values: [String: String] = [:]
        let entityKind = kind.flatMap(EntityKind.init(rawValue:))
        if let field {
            let label = entityKind.map { $0.label(ofField: field, language) } ?? field
            values["field"] = language == .chinese ? "「\(label)」" : field
        }
        if let entityKind { values["kind"] = entityKind.label(language) }
        if let limit { values["limit"] = String(limit) }
        if let minimum { values["minimum"] = String(minimum) }
        if let expected { values["expected"] = expected }
        if let allowed { values["allowed"] = termList(allowed, entityKind, language) }
        if let from { values["from"] = termList(from, .household, language, field: "status") }
        if let to { values["to"] = termList([to], .household, language, field: "status") }
        if let resumeFrom {
            values["resumeFrom"] = String(resumeFrom)
            values["held"] = String(resumeFrom - 1)
        }
        if let retryAfterSeconds { values["retryAfter"] = String(max(1, (retryAfterSeconds + 59) / 60)) }
        return values
    }

    /// Term values by their labels in `language` (wire names in English), joined as a list.
    private func termList(_ names: [String], _ kind: EntityKind?, _ language: Language, field name: String? = nil) -> String {
        let separator = Texts.text("list.separator", language)
        guard language == .chinese, let kind, let terms = TypedInput.terms(of: name ?? field ?? "", kind: kind) else {
            return names.joined(separator: separator)
        }
        let labels = Dictionary(terms.map { ($0.wire, $0.chinese) }, uniquingKeysWith: { first, _ in first })
        return names.map { labels[$0] ?? $0 }.joined(separator: separator)
    }
}

extension DoorstepError {
    /// An error explained by the table of texts: `error.rule.<rule>` in English is its message and
    /// in Chinese its Chinese message, filled from `details` (which keep the facts for the wire).
    public init(_ code: Code, rule: String, _ details: ErrorDetails = ErrorDetails()) {
        var details = details
        details.rule = rule
        self.init(
            code, Texts.text("error.rule.\(rule)", .english, details.values(.english)),
            zh: Texts.text("error.rule.\(rule)", .chinese, details.values(.chinese)), details: details)
    }

    /// The same error with its details naming `field` of `kind` (where they named no field), and its
    /// messages said again from the table of texts when it has a rule.
    public func naming(field: String, kind: EntityKind?) -> DoorstepError {
        let named = details.naming(field: field, kind: kind)
        guard named != details else { return self }
        if let rule = named.rule, Texts.name("error.rule.\(rule)") != nil { return DoorstepError(code, rule: rule, named) }
        return DoorstepError(code, message, zh: chineseMessage, details: named)
    }

    /// How a reader shows a refusal in `language`, from what the wire carries: the rule's
    /// explanation from the table of texts where the details name one it knows; else, in Chinese,
    /// the sender's Chinese message, or the code's explanation followed by the sender's words;
    /// in English, the sender's message. The one place the CLI, the dashboard and the field app
    /// turn an error or a rejected mutation into a sentence.
    public static func explain(
        code: Code, details: ErrorDetails?, message: String, messageZh: String?, _ language: Language
    ) -> String {
        if let explained = details?.explanation(language) { return explained }
        guard language == .chinese else { return message }
        if let messageZh { return messageZh }
        guard let hint = Texts.name("error.code.\(code.rawValue)")?.zh else { return message }
        guard !message.isEmpty else { return hint }
        return hint + Texts.text("list.semicolon", .chinese) + Texts.text("error.originalMessage", .chinese, ["message": message])
    }

    /// This error as ``explain(code:details:message:messageZh:_:)`` says it.
    public func explained(_ language: Language) -> String {
        Self.explain(code: code, details: details, message: message, messageZh: chineseMessage, language)
    }
}
