import Foundation

/// Results filled in by index from several threads.
final class Results<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, AftersalesError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, AftersalesError>) { lock.withLock { slots[index] = result } }

    var values: [Result<Value, AftersalesError>?] { lock.withLock { slots } }
}
