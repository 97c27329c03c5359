import Foundation

/// Batches produced on one thread ahead of the thread that uses them, at most `capacity` ahead.
/// The producer stops when cancelled; the consumer takes what is ready, or waits for it.
final class Ahead<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var batches: [Result<Value, AftersalesError>] = []
    private var cancelled = false
    private var finished = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits until a batch may be added; false once cancelled.
    func waitForRoom() -> Bool {
        condition.withLock {
            while !cancelled, batches.count >= capacity { condition.wait() }
            return !cancelled
        }
    }

    func put(_ batch: Result<Value, AftersalesError>) { condition.withLock { batches.append(batch); condition.broadcast() } }

    /// The producer has put its last batch.
    func finish() { condition.withLock { finished = true; condition.broadcast() } }

    /// The next batch, if one is ready.
    func take() -> Result<Value, AftersalesError>? {
        condition.withLock {
            guard !batches.isEmpty else { return nil }
            condition.broadcast()
            return batches.removeFirst()
        }
    }

    /// The next batch, waiting for it; nil once the producer has finished and all is taken.
    func next() -> Result<Value, AftersalesError>? {
        condition.withLock {
            while batches.isEmpty, !finished, !cancelled { condition.wait() }
            guard !batches.isEmpty else { return nil }
            condition.broadcast()
            return batches.removeFirst()
        }
    }

    func cancel() { condition.withLock { cancelled = true; condition.broadcast() } }
}

/// A value made on a thread of its own, for the one who needs it later: ``value()`` waits for it.
final class Eventually<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, AftersalesError>?

    init(_ make: @escaping @Sendable () throws(AftersalesError) -> Value) {
        Thread { [self] in
            let made: Result<Value, AftersalesError>
            do throws(AftersalesError) { made = .success(try make()) } catch { made = .failure(error) }
            condition.withLock { result = made; condition.broadcast() }
        }.start()
    }

    func value() throws(AftersalesError) -> Value {
        let made = condition.withLock {
            while result == nil { condition.wait() }
            return result!
        }
        return try made.get()
    }
}
