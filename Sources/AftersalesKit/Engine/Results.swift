import Foundation

/// Results filled in by index from several threads.
final class Results<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, AftersalesError>?]
    private var claimed = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, AftersalesError>) { lock.withLock { slots[index] = result } }

    /// The next index no worker has taken yet (work shared out as it is done, not in fixed stripes:
    /// one large customer does not leave the other workers idle).
    func claim() -> Int? {
        lock.withLock {
            guard claimed < slots.count else { return nil }
            defer { claimed += 1 }
            return claimed
        }
    }

    var values: [Result<Value, AftersalesError>?] { lock.withLock { slots } }
}
