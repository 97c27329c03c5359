import AftersalesDomain
import Foundation

// The send pipeline's thread machinery, all of it: the clock it keeps time by, the line between the
// committing thread and the connections (queue and rate limiter), the commit timer, the batches made
// ahead, and the dedicated threads. libcurl's SMTP calls block, so each connection has a thread of its
// own (not a task of a cooperative pool, which blocking calls would starve). What is sent, claimed and
// recorded is decided in Dispatcher.swift.

/// The time the send pipeline keeps: the rate limiter's spacing and the commit timer.
/// Injected, so that their tests run on a clock that only moves when told (``sleep(for:)`` moves it).
protocol SendClock: Sendable {
    /// Now, on a monotonic clock.
    var now: ContinuousClock.Instant { get }
    /// Blocks the calling thread for `duration`.
    func sleep(for duration: Duration)
}

/// The real clock: monotonic time, and the thread really sleeps.
struct SystemSendClock: SendClock {
    var now: ContinuousClock.Instant { ContinuousClock.now }

    func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }
}

/// The line between the thread that prepares, claims and records (one transaction per batch)
/// and the threads that hold the SMTP connections: claimed mail goes one way, outcomes the other.
/// It also spaces the mails it hands out by `send.per_minute`.
final class SendLine: @unchecked Sendable {
    private let condition = NSCondition()
    /// Claimed mail in order; a connection takes each out (nil), so that the line never holds mail
    /// that has been taken (dropping a thousand of them at once would stall the connection).
    private var queue: [ClaimedMail?] = []
    private var head = 0
    private var outcomes: [(DeliveryOutcome, ClaimedMail)] = []
    private var releases: [ClaimedMail] = []
    private var closed = false
    private var running: Int
    private(set) var stoppedBy: String?
    private let clock: any SendClock
    private var nextStart: ContinuousClock.Instant
    /// Counts every change the committing thread may wait for, so that no wake-up is lost.
    private(set) var version = 0
    let interval: Duration?
    /// The committing thread is woken when fewer mails than this wait (time to claim the next batch)
    /// or this many outcomes are in (time to record them), not for every mail: a wake-up per mail
    /// costs the connections the core they need.
    let wakeAt: Int

    init(connections: Int, perMinute: Int, wakeAt: Int = 1, clock: any SendClock = SystemSendClock()) {
        running = connections
        interval = perMinute > 0 ? .milliseconds(60_000 / perMinute) : nil
        self.wakeAt = max(1, wakeAt)
        self.clock = clock
        nextStart = clock.now
    }

    /// Mails claimed and not yet taken by a connection.
    var waiting: Int { condition.withLock { queue.count - head } }

    func enqueue(_ mails: [ClaimedMail]) {
        condition.withLock {
            if stoppedBy != nil { releases += mails } else { queue += mails.map(Optional.some) }
            condition.broadcast()
        }
    }

    /// No more mail will be enqueued.
    func close() { condition.withLock { closed = true; condition.broadcast() } }

    /// Stops the run: connections take nothing more; what is queued will be put back.
    func stop(_ reason: String) {
        condition.withLock {
            if stoppedBy == nil { stoppedBy = reason }
            releases += queue[head...].compactMap { $0 }
            queue = []
            head = 0
            version += 1
            condition.broadcast()
        }
    }

    /// The next mail for a connection, waiting for the rate limit; nil when the run is over.
    func next() -> ClaimedMail? {
        condition.lock()
        while stoppedBy == nil, head == queue.count, !closed { condition.wait() }
        // Every slot from `head` on holds a mail: only taken ones are nil.
        guard stoppedBy == nil, head < queue.count, let mail = queue[head] else { condition.unlock(); return nil }
        queue[head] = nil
        head += 1
        if head > 1024 { queue.removeFirst(head); head = 0 }
        var wait: Duration = .zero
        if let interval {
            let now = clock.now
            let start = max(now, nextStart)
            nextStart = start + interval
            wait = start - now
        }
        if queue.count - head < wakeAt {
            version += 1
            condition.broadcast()
        }
        condition.unlock()
        if wait > .zero { clock.sleep(for: wait) }
        return mail
    }

    /// A connection finished a mail.
    func done(_ outcome: DeliveryOutcome, _ mail: ClaimedMail) {
        condition.withLock {
            outcomes.append((outcome, mail))
            if outcomes.count >= wakeAt { version += 1; condition.broadcast() }
        }
    }

    /// A connection put a mail back untried.
    func putBack(_ mail: ClaimedMail) {
        condition.withLock { releases.append(mail); version += 1; condition.broadcast() }
    }

    /// A connection has ended.
    func leave() { condition.withLock { running -= 1; version += 1; condition.broadcast() } }

    /// Something else changed (a prepared batch is ready).
    func poke() { condition.withLock { version += 1; condition.broadcast() } }

    /// The current version, to pass to ``waitForChange(since:timeout:)``.
    var seen: Int { condition.withLock { version } }

    /// What the connections reported since the last call, and whether they had all ended then: taken
    /// together, so that a caller that stops once they have ended has everything they reported (read
    /// apart, an outcome reported between the two reads was left behind, its mail `sending`).
    func collect() -> (outcomes: [(DeliveryOutcome, ClaimedMail)], releases: [ClaimedMail], finished: Bool) {
        condition.withLock {
            defer { outcomes = []; releases = [] }
            return (outcomes, releases, running == 0)
        }
    }

    /// Waits until something changed after `since` (or `timeout` passes). The timeout is only how
    /// often the committing thread looks at its commit timer, so it is real time.
    func waitForChange(since: Int, timeout: Double) {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while version == since, condition.wait(until: deadline) {}
        }
    }

    /// Starts one dedicated thread per connection (not concurrentPerform, which stops at the number
    /// of cores: the connections wait on the network, not the CPU). Each opens a session, hands every
    /// mail it takes from the line to `attempt`, and reports what came of it.
    /// The journal (when there is one) hears of each mail before its SMTP transaction begins and of its outcome after.
    func startConnections(_ count: Int, transport: any MailTransport, journal: SendJournal? = nil,
                          attempt: @escaping @Sendable (ClaimedMail, any TransportSession) -> Workspace.Attempt) {
        for _ in 0..<count {
            Thread { [self] in
                defer { leave() }
                let session = transport.openSession()
                defer { session.close() }
                while let mail = next() {
                    let key = mail.entry.key
                    journal?.started(key)
                    switch attempt(mail, session) {
                    case .outcome(let outcome): journal?.finished(key, outcome); done(outcome, mail)
                    case .outcomeThenStop(let outcome, let reason): journal?.finished(key, outcome); done(outcome, mail); stop(reason)
                    case .putBack(let reason): journal?.finished(key, nil); putBack(mail); stop(reason)
                    }
                }
            }.start()
        }
    }
}

/// When the committing thread records outcomes that have no claim to ride with (group commit): when
/// there are a batch of them, when the run ends, or once `interval` has passed since the last commit,
/// so that a crash leaves little unrecorded (in doubt, never resent).
struct CommitTimer {
    let clock: any SendClock
    let interval: Duration
    private(set) var lastCommit: ContinuousClock.Instant

    init(clock: any SendClock, interval: Duration = .milliseconds(250)) {
        self.clock = clock
        self.interval = interval
        lastCommit = clock.now
    }

    /// Whether `step` is to be committed now.
    func isDue(_ step: SendStep, finished: Bool, batchSize: Int) -> Bool {
        !step.claims.isEmpty || !step.cancellations.isEmpty || !step.releases.isEmpty || finished
            || step.outcomes.count >= batchSize || clock.now - lastCommit > interval
    }

    /// A step was committed.
    mutating func committed() { lastCommit = clock.now }
}

/// Batches produced on one thread ahead of the thread that uses them, at most `capacity` ahead.
/// The producer stops when cancelled; the consumer takes what is ready, or waits for it.
final class Ahead<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var batches: [Result<Value, AftersalesError>] = []
    private var cancelled = false
    private var finished = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Runs `produce` on a dedicated thread, then marks the producer finished; wait on the group for its end.
    func startProducing(_ produce: @escaping @Sendable (Ahead<Value>) -> Void) -> DispatchGroup {
        let group = DispatchGroup()
        group.enter()
        Thread { [self] in
            defer { finish(); group.leave() }
            produce(self)
        }.start()
        return group
    }

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
