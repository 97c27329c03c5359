import Foundation

/// A thread-safe memo: each key's value is computed once (time zones, holiday tables, labels).
/// With a `capacity`, it starts again empty when full (for keys that are data, not a closed set).
public final class Memo<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Key: Value] = [:]
    private let capacity: Int?

    public init(capacity: Int? = nil) { self.capacity = capacity }

    /// The value kept for `key`, or the one `make` computes (kept, unless it throws).
    public func value<Failure: Error>(_ key: Key, make: () throws(Failure) -> Value) throws(Failure) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let value = try make()
        if let capacity, values.count >= capacity { values.removeAll(keepingCapacity: true) }
        values[key] = value
        return value
    }

    /// How many values are kept (for tests).
    var count: Int { lock.withLock { values.count } }
}
