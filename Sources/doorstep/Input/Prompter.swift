import DoorstepCore
import Foundation

/// Interactive questions, one field at a time: each answer is checked with the field's
/// `FieldSpec.normalize` as soon as it is entered, and asked again (with the error, in the
/// chosen language) until it passes. Questions go to stderr, answers come from stdin.
struct Prompter {
    let console: Console
    let format: Format

    struct Question {
        var field: String
        var kind: EntityKind
        /// The value kept when the answer is empty (editing, or a sensible default).
        var current: JSONValue? = nil
        /// Money is asked in yuan: people think in yuan, the data keeps fen.
        var money: TypedInput.MoneyUnit = .yuan
        /// Turns the typed text into the field's form first (e.g. a date into an instant).
        var prepare: (@Sendable (String) -> String)? = nil
        /// Shown after the label, e.g. the expected format.
        var hint: String? = nil
    }

    /// Asks a question until its answer passes; returns the value (the current one when kept).
    func ask(_ question: Question) throws -> JSONValue {
        let spec = question.kind.field(question.field)
        let terms = Strings.terms(of: question.field, kind: question.kind)
        if let terms {
            let list = terms.enumerated().map { item in
                let label = item.element.label(console.language)
                return "\(item.offset + 1)) \(label)" + (label == item.element.wire ? "" : " [\(item.element.wire)]")
            }
            console.note("  " + list.joined(separator: "  "))
        }
        while true {
            Console.write(label(question, spec: spec, isSet: terms != nil && spec.map(Self.isSet) == true), to: .standardError)
            let line = readLine(strippingNewline: true)
            // A terminal echoes the answer and its newline; piped answers are not shown, so end the question's line.
            if !Console.stdinIsTerminal { Console.write("\n", to: .standardError) }
            guard let line else {
                throw DoorstepError(.init("inputEnded"), "the input ended before every question was answered")
            }
            let answer = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if answer.isEmpty, let current = question.current { return current }
            do {
                let text = question.prepare.map { $0(answer) } ?? answer
                return try TypedInput.value(text, field: question.field, of: question.kind, city: format.city, moneyUnit: question.money)
            } catch {
                console.note("  " + console.errorLine(error))
            }
        }
    }

    /// Asks a yes/no question (`是`/`否`, yes/no …) until it is answered; an empty answer is no.
    func confirm(_ question: String) throws -> Bool {
        while true {
            Console.write(question + " ", to: .standardError)
            let line = readLine(strippingNewline: true)
            if !Console.stdinIsTerminal { Console.write("\n", to: .standardError) }
            guard let line else {
                throw DoorstepError(
                    .init("inputEnded"), Texts.text("cli.error.inputEnded", .english), zh: Texts.text("cli.error.inputEnded", .chinese))
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { return false }
            do {
                return try TypedInput.boolean(line, field: "answer")
            } catch {
                console.note("  " + console.t("cli.prompter.answerYesOrNo"))
            }
        }
    }

    private func label(_ question: Question, spec: FieldSpec?, isSet: Bool) -> String {
        var text = Strings.field(question.field, of: question.kind, console.language)
        if spec?.type == .money { text += question.money == .yuan ? console.t("cli.prompter.yuan") : console.t("cli.prompter.fen") }
        if let hint = question.hint { text += " (\(hint))" }
        if isSet { text += console.t("cli.prompter.severalCommaSeparated") }
        if let current = question.current, !current.isNull {
            text += " [\(shown(current, question))]"
        } else if spec?.required == true {
            text += " *"
        }
        return text + ": "
    }

    private func shown(_ value: JSONValue, _ question: Question) -> String {
        if question.kind.field(question.field)?.type == .money, question.money == .yuan, let fen = value.intValue {
            return "\(fen / 100).\(String(format: "%02d", Int(fen % 100)))"
        }
        return format.value(value, field: question.field, kind: question.kind, reveal: true)
    }

    private static func isSet(_ spec: FieldSpec) -> Bool {
        if case .termSet = spec.type { return true }
        return false
    }
}

extension Console {
    /// The error line for any error: a `DoorstepError`'s code and its explanation in the console's
    /// language (``DoorstepError/explained(_:)``: from its details where it has them; where only an
    /// English message was written, the code's Chinese explanation and then the English words).
    func errorLine(_ error: any Error) -> String {
        let failure = error as? DoorstepError ?? DoorstepError(.init("failed"), String(describing: error))
        return errorLine(code: failure.code.rawValue, message: failure.explained(language))
    }

    /// An error of the CLI itself, with the text of `key` in both languages (shown in the
    /// console's), its `{name}` placeholders filled from `values`.
    func failure(_ code: String, _ key: String, _ values: [String: String] = [:]) -> DoorstepError {
        DoorstepError(.init(code), Texts.text(key, .english, values), zh: Texts.text(key, .chinese, values))
    }
}
