import Foundation

/// Results filled in by index from several threads.
final class Results<Value: Sendable>: @unchecked Sendable {
    private let lock = NSCondition()
    private var slots: [Result<Value, AftersalesError>?]
    private var claimed = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, AftersalesError>) { lock.withLock { slots[index] = result; lock.broadcast() } }

    /// The result at `index`, once a worker has set it (taken out: its slot is emptied). Every index
    /// must be claimed by a worker that runs, or set otherwise, or this waits for ever.
    func wait(_ index: Int) -> Result<Value, AftersalesError> {
        lock.withLock {
            while slots[index] == nil { lock.wait() }
            defer { slots[index] = nil }
            return slots[index]!
        }
    }

    /// No index is claimed from now on.
    func cancel() { lock.withLock { claimed = slots.count } }

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
