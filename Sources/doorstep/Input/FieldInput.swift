import DoorstepCore
import Foundation

/// What a person typed on the command line that is not a field's value itself; values go through
/// DoorstepCore's `TypedInput`, the one parser of every entry point.
enum FieldInput {
    /// `field=value` pairs as typed after `--set`.
    static func assignment(_ text: String) throws(DoorstepError) -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw DoorstepError(
                .invalidValue, Texts.text("cli.error.invalidValue.setTakesAssignment", .english),
                zh: Texts.text("cli.error.invalidValue.setTakesAssignment", .chinese))
        }
        return (String(text[..<equals]).trimmingCharacters(in: .whitespaces), String(text[text.index(after: equals)...]))
    }
}
