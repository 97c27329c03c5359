import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import Testing

/// A clock that moves only when told, or when someone sleeps on it (then by exactly that long).
final class ManualClock: SendClock, @unchecked Sendable {
    private let lock = NSLock()
    private let origin = ContinuousClock.now
    private var elapsed: Duration = .zero
    private var sleeps: [Duration] = []

    var now: ContinuousClock.Instant { lock.withLock { origin + elapsed } }
    /// Every sleep asked for, in order.
    var slept: [Duration] { lock.withLock { sleeps } }

    func sleep(for duration: Duration) { lock.withLock { sleeps.append(duration); elapsed += duration } }
    func advance(by duration: Duration) { lock.withLock { elapsed += duration } }
}

@Suite("Send pipeline")
struct SendPipelineTests {
    func claimed(_ count: Int) -> [ClaimedMail] {
        Samples.mails().prefix(count).map { ClaimedMail(entry: OutboxEntry(new: $0, now: Samples.now), bytes: Data("x".utf8), messageID: "<m>") }
    }

    @Test("send.per_minute spaces the mails handed to the connections, on the injected clock")
    func perMinute() {
        let clock = ManualClock()
        let line = SendLine(connections: 1, perMinute: 1200, clock: clock) // one every 50 ms
        line.enqueue(claimed(5))
        line.close()
        let start = clock.now
        var taken = 0
        while line.next() != nil { taken += 1 }
        #expect(taken == 5)
        #expect(clock.slept == Array(repeating: .milliseconds(50), count: 4), "the first goes at once, each next one 50 ms later")
        #expect(clock.now - start == .milliseconds(200))
    }

    @Test("time that passed between mails counts against the rate limit; without send.per_minute nothing waits")
    func perMinuteCredit() {
        let clock = ManualClock()
        let line = SendLine(connections: 1, perMinute: 600, clock: clock) // one every 100 ms
        line.enqueue(claimed(3))
        #expect(line.next() != nil)
        clock.advance(by: .milliseconds(70))
        #expect(line.next() != nil)
        clock.advance(by: .milliseconds(250))
        #expect(line.next() != nil)
        #expect(clock.slept == [.milliseconds(30)], "70 ms had passed of the 100; the third was late already")
        let free = SendLine(connections: 1, perMinute: 0, clock: clock)
        free.enqueue(claimed(3))
        free.close()
        while free.next() != nil {}
        #expect(clock.slept.count == 1)
    }

    @Test("outcomes alone are committed after a quarter of a second, a batch of them, or at the end; claims at once")
    func commitTimer() {
        let clock = ManualClock()
        var timer = CommitTimer(clock: clock)
        let mail = claimed(1)[0]
        var step = SendStep()
        step.outcomes = [(.accepted(reply: "250", refused: [:]), mail)]
        #expect(!timer.isDue(step, finished: false, batchSize: 3), "one outcome waits for the next claim")
        clock.advance(by: .milliseconds(250))
        #expect(!timer.isDue(step, finished: false, batchSize: 3))
        clock.advance(by: .milliseconds(1))
        #expect(timer.isDue(step, finished: false, batchSize: 3), "over 250 ms since the last commit")
        timer.committed()
        #expect(!timer.isDue(step, finished: false, batchSize: 3), "the timer starts again at each commit")
        #expect(timer.isDue(step, finished: true, batchSize: 3), "the run is ending")
        step.outcomes += Array(repeating: (.accepted(reply: "250", refused: [:]), mail), count: 2)
        #expect(timer.isDue(step, finished: false, batchSize: 3), "a batch of outcomes")
        var claim = SendStep()
        claim.releases = [mail]
        #expect(timer.isDue(claim, finished: false, batchSize: 3), "a release goes at once")
    }

    @Test("the committing thread is woken when the queue runs low or a batch of outcomes is in, not for every mail")
    func wakesPerBatch() {
        let line = SendLine(connections: 1, perMinute: 0, wakeAt: 3)
        line.enqueue(claimed(5))
        let start = line.seen
        _ = line.next()
        #expect(line.seen == start, "4 still waiting: no wake-up")
        _ = line.next(); _ = line.next()
        #expect(line.seen > start, "2 left, fewer than 3: time to claim the next batch")
        let before = line.seen
        let mail = claimed(1)[0]
        line.done(.accepted(reply: "250", refused: [:]), mail)
        line.done(.accepted(reply: "250", refused: [:]), mail)
        #expect(line.seen == before, "2 outcomes: no wake-up")
        line.done(.accepted(reply: "250", refused: [:]), mail)
        #expect(line.seen > before, "3 outcomes: time to record them")
        #expect(line.collect().outcomes.count == 3)
    }

    @Test("collecting says whether the connections had ended, with everything they reported before")
    func collectFinished() {
        let line = SendLine(connections: 1, perMinute: 0)
        let mail = claimed(1)[0]
        let first = line.collect()
        #expect(first.outcomes.isEmpty && !first.finished)
        // A connection's last outcome, then its end, both before the committing thread looks.
        line.done(.accepted(reply: "250", refused: [:]), mail)
        line.leave()
        let last = line.collect()
        #expect(last.finished && last.outcomes.count == 1, "the last outcome comes with the news that the connections ended")
    }

    @Test("rendering takes the cores the connections leave and one more: at least one, at most four")
    func renderWorkers() {
        #expect(Workspace.renderWorkers(cores: 2, connections: 1) == 2, "the bench machine: both cores render, one also sends")
        #expect(Workspace.renderWorkers(cores: 2, connections: 4) == 1)
        #expect(Workspace.renderWorkers(cores: 1, connections: 1) == 1)
        #expect(Workspace.renderWorkers(cores: 6, connections: 4) == 3)
        #expect(Workspace.renderWorkers(cores: 8, connections: 1) == 4)
        #expect(Workspace.renderWorkers(cores: 64, connections: 8) == 4)
    }

    @Test("stopping puts the queued mails back, and nothing more is handed out")
    func stop() {
        let line = SendLine(connections: 1, perMinute: 0)
        line.enqueue(claimed(3))
        #expect(line.next() != nil)
        line.stop("connection refused")
        #expect(line.next() == nil)
        #expect(line.collect().releases.count == 2)
        line.enqueue(claimed(1))
        #expect(line.collect().releases.count == 1, "mail claimed after the stop goes straight back")
        #expect(line.stoppedBy == "connection refused")
    }

    @Test("the archived message's hash is SHA-256 in lowercase hex (FIPS 180-4 vectors)")
    func evidenceHash() {
        #expect(Workspace.evidenceHash(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Workspace.evidenceHash(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Workspace.evidenceHash(Data("xxabc".utf8).dropFirst(2)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "a slice that does not start at 0")
    }

    @Test("a producer ahead stops when cancelled, and its thread ends")
    func aheadCancels() throws {
        let ahead = Ahead<Int>(capacity: 1)
        let producing = ahead.startProducing { ahead in
            var n = 0
            while ahead.waitForRoom() { ahead.put(.success(n)); n += 1 }
        }
        #expect(try ahead.next()?.get() == 0)
        ahead.cancel()
        producing.wait()
        while ahead.take() != nil {}
        #expect(ahead.next() == nil, "finished and empty")
    }
}
