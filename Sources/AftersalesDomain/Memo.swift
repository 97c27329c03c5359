import Foundation

/// A thread-safe memo: each key's value is computed once (time zones, holiday tables, labels).
public final class Memo<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Value] = [:]

    public init() {}

    public func value(_ key: String, make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let value = make()
        values[key] = value
        return value
    }
}
