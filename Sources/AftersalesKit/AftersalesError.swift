import AftersalesDomain

/// Every failure the library reports. Each case's description is one line that says
/// what is wrong and what to do; `isUsageError` tells bad input from other failures.
public enum AftersalesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A value the user gave is invalid.
    case invalid(InvalidInput)
    /// A referenced entity does not exist.
    case notFound(entity: String, id: String)
    /// An entity with this id already exists.
    case duplicate(entity: String, id: String)
    /// The request contradicts what is recorded (e.g. completing a cancelled order).
    case conflict(String)
    /// The database cannot be used (missing, not SQLite, newer than this program, I/O).
    case database(String)
    /// The configuration file or environment is invalid.
    case configuration(String)
    /// Anything else that went wrong while doing the work.
    case failure(String)

    public var description: String {
        switch self {
        case .invalid(let input): return input.description
        case .notFound(let entity, let id): return "\(entity) \"\(id)\" does not exist; check the id (list them with `aftersales \(entity) list`)"
        case .duplicate(let entity, let id): return "\(entity) \"\(id)\" already exists; use another id (or `aftersales \(entity) update` to change it)"
        case .conflict(let text), .database(let text), .configuration(let text), .failure(let text): return text
        }
    }

    /// Bad usage or invalid input (exit 64) as opposed to a failure to do the work (exit 1).
    public var isUsageError: Bool {
        switch self {
        case .invalid, .notFound, .duplicate, .conflict, .configuration: return true
        case .database, .failure: return false
        }
    }
}

extension AftersalesError {
    /// Runs `body`, turning domain validation errors into `AftersalesError.invalid`.
    public static func checked<T>(_ body: () throws(InvalidInput) -> T) throws(AftersalesError) -> T {
        do { return try body() } catch { throw .invalid(error) }
    }
}
