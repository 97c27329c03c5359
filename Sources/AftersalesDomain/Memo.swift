import Foundation

/// A thread-safe memo: each key's value is computed once (time zones, holiday tables, labels).
/// With a `capacity`, it starts again empty when full (for keys that are data, not a closed set).
public final class Memo<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Key: Value] = [:]
    private let capacity: Int?
    private var found = 0

    public init(capacity: Int? = nil) { self.capacity = capacity }

    /// The value kept for `key`, or the one `make` computes (kept, unless it throws).
    public func value<Failure: Error>(_ key: Key, make: () throws(Failure) -> Value) throws(Failure) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let value = try make()
        insert(value, key)
        return value
    }

    /// Keeps `value` under `key`, emptying the memo first when it is full (the lock held).
    private func insert(_ value: Value, _ key: Key) {
        if let capacity, values.count >= capacity { values.removeAll(keepingCapacity: true) }
        values[key] = value
    }

    /// The value kept for `key`, if any (``hits`` counts those found).
    public func cached(_ key: Key) -> Value? {
        lock.withLock {
            let value = values[key]
            if value != nil { found += 1 }
            return value
        }
    }

    /// Keeps `value` for `key`: for a value made outside the lock, where making it under the lock would
    /// hold up every other caller (a page rendered for a request).
    public func keep(_ value: Value, for key: Key) {
        lock.withLock { insert(value, key) }
    }

    /// How many ``cached(_:)`` calls found a value (for tests).
    var hits: Int { lock.withLock { found } }

    /// How many values are kept (for tests).
    var count: Int { lock.withLock { values.count } }
}
