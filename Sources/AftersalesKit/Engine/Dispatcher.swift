import AftersalesDomain
import AftersalesPlanning
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a `run` or `send` did.
public struct RunSummary: Sendable, Codable, Hashable {
    public var planned = 0
    public var sent = 0
    /// Attempts that failed transiently and wait for a retry.
    public var retried = 0
    public var failed = 0
    public var inDoubt = 0
    /// Due mail cancelled at send time because it was stale.
    public var cancelled = 0
    /// Mail another process claimed first.
    public var skipped = 0
    /// Mail left in `sending` by a dead process, now in doubt.
    public var recovered = 0
    /// Mail in `retry` after the run (any run's).
    public var waitingForRetry = 0
    /// Set when the run stopped at once (connection refused, TLS or AUTH failure, 421 at greeting).
    public var stoppedBy: String?
    /// Set when another run held the lock and this one left.
    public var leftBecause: String?
    /// With `--dry-run`: what would go.
    public var wouldSend: [MailView] = []
    public var dryRun = false

    public init() {}
}

/// What `aftersales send` is asked to send.
public struct SendSelection: Sendable {
    public var keys: [String]
    public var customerID: String?
    public var dryRun: Bool

    public init(keys: [String] = [], customerID: String? = nil, dryRun: Bool = false) {
        self.keys = keys
        self.customerID = customerID
        self.dryRun = dryRun
    }
}

/// An exclusive lock on `<database>.lock`, so that overlapping runs never send side by side.
final class RunLock {
    let fd: Int32

    init?(path: String, waitSeconds: Double) {
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { return nil }
        // Real elapsed time, not the injected clock: this is how long a process waits.
        let deadline = ContinuousClock.now + .milliseconds(Int(waitSeconds * 1000))
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if ContinuousClock.now >= deadline {
                Glibc.close(fd)
                return nil
            }
            usleep(100_000)
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        Glibc.close(fd)
    }
}

/// A queue of keys and the summary, shared by the sending workers.
final class SendWork: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String]
    private(set) var summary: RunSummary
    private var stopped = false
    private var nextStart = ContinuousClock.now
    let interval: Duration?

    init(keys: [String], summary: RunSummary, perMinute: Int) {
        self.keys = keys.reversed()
        self.summary = summary
        interval = perMinute > 0 ? .milliseconds(60_000 / perMinute) : nil
    }

    /// The next key, waiting for the rate limit; nil when done or stopped.
    func next() -> String? {
        lock.lock()
        guard !stopped, let key = keys.popLast() else { lock.unlock(); return nil }
        var wait: Duration = .zero
        if let interval {
            let now = ContinuousClock.now
            let start = max(now, nextStart)
            nextStart = start + interval
            wait = start - now
        }
        lock.unlock()
        if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) }
        return key
    }

    func update(_ body: (inout RunSummary) -> Void) {
        lock.lock()
        body(&summary)
        lock.unlock()
    }

    func stop(_ reason: String) {
        lock.lock()
        stopped = true
        if summary.stoppedBy == nil { summary.stoppedBy = reason }
        lock.unlock()
    }
}

extension Workspace {
    /// The transport named by `--transport` or `transport.kind`.
    public func transport(kind: String? = nil) throws(AftersalesError) -> any MailTransport {
        let chosen = kind ?? configuration["transport.kind"]
        switch chosen {
        case "file":
            return FileTransport(directory: configuration["transport.dir"])
        case "smtp":
            let security = CurlSMTPTransport.Security(rawValue: configuration["smtp.tls"]) ?? .starttls
            var url = configuration["smtp.url"]
            if security == .tls, url.hasPrefix("smtp://") { url = "smtps://" + url.dropFirst("smtp://".count) }
            let user = configuration["smtp.user"]
            var token: String?
            let tokenFile = configuration["smtp.oauth_token_file"]
            if !tokenFile.isEmpty {
                guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw .configuration("smtp.oauth_token_file \"\(tokenFile)\": cannot be read")
                }
                token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let ca = configuration["smtp.ca_file"]
            return CurlSMTPTransport(url: url, security: security, user: user.isEmpty ? nil : user, password: configuration.smtpPassword,
                                     bearerToken: token, caFile: ca.isEmpty ? nil : ca,
                                     connectTimeout: configuration.integer("smtp.connect_timeout"), timeout: configuration.integer("smtp.timeout"))
        default:
            throw .invalid(InvalidInput(field: "transport", value: chosen, problem: "expected smtp or file"))
        }
    }

    var lockPath: String { settings.databasePath + ".lock" }

    /// What cron calls: plans, then sends everything due. Overlapping runs are safe: the second leaves.
    public func run(transport: any MailTransport, generators: MessageGenerators = .standard) throws(AftersalesError) -> RunSummary {
        guard let lock = RunLock(path: lockPath, waitSeconds: 0) else {
            var summary = RunSummary()
            summary.leftBecause = "another run is in progress (lock \(lockPath)); this one leaves"
            return summary
        }
        defer { withExtendedLifetime(lock) {} }
        var summary = RunSummary()
        summary.recovered = try store.recoverAbandonedClaims(now: now)
        summary.planned = try plan().changes.planned
        let perRun = configuration.integer("send.per_run")
        let keys = try store.dueKeys(now: now, limit: perRun > 0 ? perRun : nil)
        return try deliver(keys, summary: summary, transport: transport, generators: generators, notDue: false)
    }

    /// Ops staff send now: what is due, or particular mails (also ones not yet due).
    public func send(_ selection: SendSelection, transport: any MailTransport, generators: MessageGenerators = .standard) throws(AftersalesError) -> RunSummary {
        var keys = selection.keys
        for key in keys {
            let entry = try store.outboxEntry(key: key)
            guard entry.status == .planned || entry.status == .retry else {
                throw .conflict("mail \"\(key)\" is \(entry.status.rawValue); only planned or retry mail can be sent" +
                                (entry.status == .held ? " (approve it first: aftersales outbox approve \(key))" : ""))
            }
        }
        if keys.isEmpty { keys = try store.dueKeys(now: now, customerID: selection.customerID) }
        if selection.dryRun {
            var summary = RunSummary()
            summary.dryRun = true
            let views = try outboxList()
            summary.wouldSend = keys.compactMap { key in views.first { $0.key == key } }
            return summary
        }
        guard let lock = RunLock(path: lockPath, waitSeconds: 60) else {
            throw .failure("another run has held the lock \(lockPath) for over a minute; try again when it has finished")
        }
        defer { withExtendedLifetime(lock) {} }
        return try deliver(keys, summary: RunSummary(), transport: transport, generators: generators, notDue: !selection.keys.isEmpty)
    }

    func deliver(_ keys: [String], summary: RunSummary, transport: any MailTransport, generators: MessageGenerators, notDue: Bool) throws(AftersalesError) -> RunSummary {
        if keys.isEmpty {
            var result = summary
            result.waitingForRetry = try store.outbox(status: .retry).count
            return result
        }
        let renderer = try renderer(generators: generators)
        let suppressed = try store.suppressions()
        let work = SendWork(keys: keys, summary: summary, perMinute: configuration.integer("send.per_minute"))
        let connections = max(1, min(configuration.integer("smtp.connections"), keys.count))
        let runID = "run-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let failure = SendFailure()
        // One thread per connection (not concurrentPerform, which stops at the number of cores:
        // the connections wait on the network, not the CPU).
        let group = DispatchGroup()
        for _ in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let session = transport.openSession()
                defer { session.close() }
                while let key = work.next() {
                    do throws(AftersalesError) {
                        try deliverOne(key, session: session, renderer: renderer, suppressed: suppressed, work: work, runID: runID, notDue: notDue)
                    } catch {
                        failure.set(error)
                        work.stop(error.description)
                    }
                }
            }
            thread.start()
        }
        group.wait()
        if let error = failure.error { throw error }
        var result = work.summary
        result.waitingForRetry = try store.outbox(status: .retry).count
        logger.info("run finished", metadata: ["sent": "\(result.sent)", "retried": "\(result.retried)", "failed": "\(result.failed)",
                                               "inDoubt": "\(result.inDoubt)", "transport": "\(transport.name)"])
        return result
    }

    private func deliverOne(_ key: String, session: any TransportSession, renderer: MailRenderer, suppressed: [String: String],
                            work: SendWork, runID: String, notDue: Bool) throws(AftersalesError) {
        let entry = try store.outboxEntry(key: key)
        guard entry.status == .planned || entry.status == .retry else { work.update { $0.skipped += 1 }; return }
        if let staleAt = entry.staleAt, now > staleAt, !notDue {
            try store.cancelStale(key: key, reason: "stale: due \(Timestamp.utc(entry.due)), no longer worth sending after \(Timestamp.utc(staleAt))", now: now)
            work.update { $0.cancelled += 1 }
            return
        }
        guard let facts = try store.read({ db in try AftersalesStore.customerFacts(db, entry.customerID) }) else {
            throw .notFound(entity: "customer", id: entry.customerID)
        }
        let rendered = try renderer.render(MailRequest(entry), facts: facts, now: now)
        guard let claimed = try store.claim(key: key, bytes: rendered.bytes, messageID: rendered.messageID, runID: runID, now: now) else {
            work.update { $0.skipped += 1 }
            return
        }
        let from = configuration["company.email"]
        var refused: [String: String] = [:]
        var accepted: String?
        // The To first; the Cc only once the To has it, each in its own transaction.
        for recipient in entry.toAddresses {
            if let why = suppressed[recipient.lowercased()] {
                refused[recipient] = "suppressed: \(why)"
                continue
            }
            switch session.deliver(from: from, recipient: recipient, message: claimed.bytes, key: key) {
            case .accepted(let reply): accepted = accepted ?? reply
            case .permanent(let reply, _): refused[recipient] = reply
            case .transient(let reply):
                if accepted == nil { try finish(.transient(reply: reply), claimed, work); return }
                refused[recipient] = reply
            case .unknown(let reason):
                if accepted == nil { try finish(.unknown(reason: reason), claimed, work); return }
                refused[recipient] = "in doubt: \(reason)"
            case .connectionFailed(let reason):
                if accepted == nil {
                    try store.release(claimed, now: now)
                    work.stop(reason)
                    return
                }
                refused[recipient] = "not delivered: \(reason)"
            }
        }
        guard let reply = accepted else {
            try finish(.permanent(reply: refused.values.sorted().joined(separator: "; "), refused: refused), claimed, work)
            return
        }
        for recipient in entry.ccAddresses {
            if let why = suppressed[recipient.lowercased()] { refused[recipient] = "suppressed: \(why)"; continue }
            switch session.deliver(from: from, recipient: recipient, message: claimed.bytes, key: key) {
            case .accepted: break
            case .permanent(let r, _), .transient(let r): refused[recipient] = r
            case .unknown(let r): refused[recipient] = "in doubt: \(r)"
            case .connectionFailed(let r):
                refused[recipient] = "not delivered: \(r)"
                try finish(.accepted(reply: reply, refused: refused), claimed, work)
                work.stop(r)
                return
            }
        }
        try finish(.accepted(reply: reply, refused: refused), claimed, work)
    }

    private func finish(_ outcome: DeliveryOutcome, _ claimed: ClaimedMail, _ work: SendWork) throws(AftersalesError) {
        let status = try store.record(outcome, for: claimed, now: now)
        work.update { s in
            switch status {
            case .sent: s.sent += 1
            case .retry: s.retried += 1
            case .failed: s.failed += 1
            case .inDoubt: s.inDoubt += 1
            default: break
            }
        }
    }

    /// Applies an ops action to an outbox entry.
    public func outboxAction(_ action: OutboxMachine.Action, key: String) throws(AftersalesError) -> OutboxEntry {
        try store.apply(action, key: key, now: now)
    }
}

/// The first error a sending worker hit.
final class SendFailure: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: AftersalesError?
    func set(_ error: AftersalesError) {
        lock.lock()
        if self.error == nil { self.error = error }
        lock.unlock()
    }
}
