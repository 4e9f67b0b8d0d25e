import DoorstepTestSupport
import Foundation

/// The operations of `protocol/openapi.yaml` (`METHOD /path`), read from the document itself so a
/// new endpoint cannot escape the tests that iterate over them.
enum OpenAPIOperations {
    struct Operation: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String
        /// Whether the operation needs no token (`security: []`).
        var isPublic: Bool

        var key: String { "\(method) \(path)" }
        var description: String { key }
        static func < (a: Operation, b: Operation) -> Bool { a.key < b.key }
    }

    static func all() throws -> [Operation] {
        let url = Executables.packageRoot.appendingPathComponent("protocol/openapi.yaml")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var operations: [Operation] = []
        var inPaths = false
        var path: String?
        for line in lines {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.isEmpty, !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(method) {
                    operations.append(Operation(method: method, path: path, isPublic: false))
                }
            } else if line.trimmingCharacters(in: .whitespaces) == "security: []", let last = operations.indices.last {
                operations[last].isPublic = true
            }
        }
        return operations.sorted()
    }
}
