/// A value the user gave that the domain refuses, with the field it came from.
///
/// Its description is one line that names the field and the offending value and
/// says what is expected, e.g. `email "bob@": expected an address like name@example.com`.
public struct InvalidInput: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field (usually the command-line option without dashes) that held the value.
    public var field: String
    /// The offending value, as given.
    public var value: String
    /// What is wrong and what is expected instead.
    public var problem: String

    public init(field: String, value: String, problem: String) {
        self.field = field
        self.value = value
        self.problem = problem
    }

    public var description: String {
        "\(field) \"\(Self.shorten(value))\": \(problem)"
    }

    /// Keeps error lines to one readable line: control characters are shown escaped
    /// and very long values are cut.
    static func shorten(_ value: String) -> String {
        var shown = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\r": shown += "\\r"
            case "\n": shown += "\\n"
            case "\t": shown += "\\t"
            default: shown.unicodeScalars.append(scalar)
            }
        }
        if shown.count > 80 { shown = String(shown.prefix(77)) + "..." }
        return shown
    }
}
