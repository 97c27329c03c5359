import AftersalesDomain
import AftersalesPlanning
import Crypto
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
private let closeFile = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let closeFile = Darwin.close
#endif

/// What a `run` or `send` did.
public struct RunSummary: Sendable, Encodable, Hashable {
    public var planned = 0
    /// Mail a cancellation had cancelled, planned again (a reinstated order's).
    public var revived = 0
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
    /// Mail left in `sending` by a dead process that no connection had begun (its journal), back to planned.
    public var returnedUnstarted = 0
    /// Mail left in `sending` by a dead process whose answer was in its journal, now recorded.
    public var recordedFromJournal = 0
    /// In-doubt mail planned again by its stream's `resend` policy (same Message-ID, once).
    public var resentByPolicy = 0
    /// What the run did by stream (`transactional`, `marketing`, `internal`), for `run --metrics`.
    public var streams: [String: StreamCounts] = [:]

    /// One stream's counts of a run.
    public struct StreamCounts: Sendable, Encodable, Hashable {
        public var planned = 0, sent = 0, retried = 0, failed = 0, inDoubt = 0
    }
    /// Mail in `retry` after the run (any run's).
    public var waitingForRetry = 0
    /// Set when the run stopped at once (connection refused, TLS or AUTH failure, 421 at greeting).
    public var stoppedBy: String?
    /// Set when another run held the lock and this one left.
    public var leftBecause: String?
    /// With `--dry-run`: what would go.
    public var wouldSend: [MailView] = []
    public var dryRun = false
    /// Why the mail carries no signed links (`links.*` not set); nil when it does.
    public var linksOff: String?
    /// The reply mailbox's fetch that came first (when `imap.url` is set).
    public var fetch: FetchSummary?

    public init() {}

    /// Counts the statuses that recorded outcomes led to.
    mutating func count(_ recorded: [OutboxStatus], streams: [MailStream]) {
        for (status, stream) in zip(recorded, streams) {
            var counts = self.streams[stream.rawValue] ?? StreamCounts()
            switch status {
            case .sent: sent += 1; counts.sent += 1
            case .retry: retried += 1; counts.retried += 1
            case .failed: failed += 1; counts.failed += 1
            case .inDoubt: inDoubt += 1; counts.inDoubt += 1
            default: break
            }
            self.streams[stream.rawValue] = counts
        }
    }

    /// The process status for cron: 0 when all is done, 75 (EX_TEMPFAIL) when mail waits for a retry,
    /// 1 when the run stopped on a failure of the whole run.
    public var exitStatus: Int32 {
        if stoppedBy != nil || fetch?.failure != nil { return 1 }
        if waitingForRetry > 0 { return 75 }
        return 0
    }
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

    /// Nil when another process holds the lock after `waitSeconds`; throws when the lock file
    /// cannot be opened (then no run could know whether another is in progress).
    init?(path: String, waitSeconds: Double) throws(AftersalesError) {
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .failure("cannot open the run lock \"\(path)\": \(reason); runs need to create it beside the database (check the directory exists and is writable)")
        }
        // Real elapsed time, not the injected clock: this is how long a process waits.
        let deadline = ContinuousClock.now + .milliseconds(Int(waitSeconds * 1000))
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if ContinuousClock.now >= deadline {
                _ = closeFile(fd)
                return nil
            }
            usleep(100_000)
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        _ = closeFile(fd)
    }
}

extension Workspace {
    /// The transport named by `--transport` or `transport.kind`.
    public func transport(kind: String? = nil) throws(AftersalesError) -> any MailTransport {
        try Self.transport(kind: kind, configuration: configuration)
    }

    /// The transport named by `kind` or `transport.kind` of `configuration` (no database needed: `doctor` probes it).
    public static func transport(kind: String?, configuration: Configuration) throws(AftersalesError) -> any MailTransport {
        let chosen = kind ?? configuration.transport.kind.rawValue
        switch chosen {
        case "file":
            return FileTransport(directory: configuration.transport.dir)
        case "smtp":
            let security = configuration.smtp.tls
            var url = configuration.smtp.url
            if security == .tls, url.hasPrefix("smtp://") { url = "smtps://" + url.dropFirst("smtp://".count) }
            let user = configuration.smtp.user
            var token: String?
            let tokenFile = configuration.smtp.oauthTokenFile
            if !tokenFile.isEmpty {
                guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw .configuration("smtp.oauth_token_file \"\(tokenFile)\": cannot be read")
                }
                token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let ca = configuration.smtp.caFile
            return CurlSMTPTransport(url: url, security: security, user: user.isEmpty ? nil : user, password: configuration.smtpPassword,
                                     bearerToken: token, caFile: ca.isEmpty ? nil : ca,
                                     connectTimeout: configuration.smtp.connectTimeout, timeout: configuration.smtp.timeout)
        default:
            throw .invalid(InvalidInput(field: "transport", value: chosen, problem: "expected smtp or file"))
        }
    }

    var lockPath: String { settings.databasePath + ".lock" }
    /// The send journal (``SendJournal``) beside the database.
    var journalPath: String { settings.databasePath + ".inflight" }

    /// Settles what a stopped process left claimed, by its journal (holding the run lock).
    func recover(into summary: inout RunSummary) throws(AftersalesError) {
        let recovery = try store.recoverAbandonedClaims(journal: SendJournal.read(path: journalPath), policies: configuration.send.inDoubt,
                                                        after: configuration.send.inDoubtAfter, now: now)
        summary.recovered += recovery.inDoubt
        summary.returnedUnstarted += recovery.returned
        summary.recordedFromJournal += recovery.recorded
    }

    /// What cron calls: plans, then sends everything due. Overlapping runs are safe: the second leaves.
    public func run(transport: any MailTransport, generators: MessageGenerators = .standard) throws(AftersalesError) -> RunSummary {
        guard let lock = try RunLock(path: lockPath, waitSeconds: 0) else {
            var summary = RunSummary()
            summary.leftBecause = "another run is in progress (lock \(lockPath)); this one leaves"
            return summary
        }
        defer { withExtendedLifetime(lock) {} }
        var summary = RunSummary()
        // Issue 17: the files waiting in `import.dir` come in first, so that this run plans for them.
        if !configuration.importing.dir.isEmpty {
            for result in try Importer(store: store, configuration: configuration, now: now).importFolder(configuration.importing.dir)
            where result.outcome == .failed {
                logger.warning("import \(configuration.importing.dir)/\(result.file) failed (see failed/\(result.file).errors.txt): \(result.errors.first ?? "")")
            }
        }
        summary.linksOff = configuration.links.offReason
        try recover(into: &summary)
        // The reply mailbox first, when `imap.url` is set: bounces suppress and complaints open before planning.
        if let imap = imapTransport {
            let session = imap.openSession()
            defer { session.close() }
            summary.fetch = try fetch(session: session)
        }
        summary.resentByPolicy = try store.resendInDoubt(policies: configuration.send.inDoubt, after: configuration.send.inDoubtAfter, now: now).count
        let changes = try plan().changes
        summary.planned = changes.planned
        summary.revived = changes.revived
        for (stream, planned) in changes.plannedByStream { summary.streams[stream, default: RunSummary.StreamCounts()].planned = planned }
        let perRun = configuration.send.perRun
        let due = try store.dueMail(now: now, limit: perRun > 0 ? perRun : nil)
        return try deliver(due, summary: summary, transport: transport, generators: generators, notDue: false)
    }

    /// Ops staff send now: what is due, or particular mails (also ones not yet due).
    public func send(_ selection: SendSelection, transport: any MailTransport, generators: MessageGenerators = .standard) throws(AftersalesError) -> RunSummary {
        var mails: [MailRef] = []
        for key in selection.keys {
            let entry = try store.outboxEntry(key: key)
            guard entry.status == .planned || entry.status == .retry else {
                throw .conflict("mail \"\(key)\" is \(entry.status.rawValue); only planned or retry mail can be sent" +
                                (entry.status == .held ? " (approve it first: aftersales outbox approve \(key))" : ""))
            }
            mails.append(MailRef(key: key, customerID: entry.customerID, template: entry.template))
        }
        if mails.isEmpty { mails = try store.dueMail(now: now, customerID: selection.customerID) }
        if selection.dryRun {
            var summary = RunSummary()
            summary.dryRun = true
            summary.wouldSend = try outboxList(keys: mails.map(\.key))
            return summary
        }
        guard let lock = try RunLock(path: lockPath, waitSeconds: 60) else {
            throw .failure("another run has held the lock \(lockPath) for over a minute; try again when it has finished")
        }
        defer { withExtendedLifetime(lock) {} }
        var summary = RunSummary()
        try recover(into: &summary)
        return try deliver(mails, summary: summary, transport: transport, generators: generators, notDue: !selection.keys.isEmpty)
    }

    /// Sends `mails` over `smtp.connections` connections. A preparing thread reads and renders batches
    /// of `send.batch` (at most two ahead); this thread claims each batch in one transaction, archiving
    /// the bytes before any of them is sent, and records the connections' outcomes in the next one
    /// (group commit); the connection threads only talk SMTP.
    func deliver(_ mails: [MailRef], summary: RunSummary, transport: any MailTransport, generators: MessageGenerators, notDue: Bool) throws(AftersalesError) -> RunSummary {
        if mails.isEmpty {
            var result = summary
            result.waitingForRetry = try store.outboxCount(status: .retry)
            return result
        }
        // The templates load on a thread of their own while the first batch's facts are read: only
        // these mails' templates in the locales they can be written in (a cron run with a few mails
        // reads a few files).
        let keys = mails.map(\.key)
        let locales = MailRenderer.locales(for: try store.customerLocales(customerIDs: Set(mails.map(\.customerID))))
        let workspace = self
        let templates = Set(mails.map(\.template))
        let renderer = Eventually { () throws(AftersalesError) in
            try workspace.renderer(generators: generators, locales: locales, templates: templates)
        }
        let suppressed = try store.suppressions()
        let batchSize = max(1, configuration.send.batch)
        let runID = "run-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let connections = max(1, min(configuration.smtp.connections, keys.count))
        let line = SendLine(connections: connections, perMinute: configuration.send.perMinute, wakeAt: batchSize, clock: sendClock)
        // Before the first claim: which claimed mails a connection begins, and the answers it gets.
        let journal = SendJournal(path: journalPath, runID: runID)
        // The first batch is read and rendered while the connections and the checkpointer are set up.
        let preparer = Ahead<PreparedBatch>(capacity: 2)
        let workers = Self.renderWorkers(cores: ProcessInfo.processInfo.activeProcessorCount, connections: connections)
        let preparing = startPreparing(keys, batchSize: batchSize, workers: workers, preparer: preparer, line: line, renderer: renderer, notDue: notDue)
        let from = configuration.company.email.value
        line.startConnections(connections, transport: transport, journal: journal) { mail, session in Self.attempt(mail, session: session, from: from, suppressed: suppressed) }
        // The archived messages make the write-ahead log grow by megabytes. It is copied into the
        // database by a connection of its own after every claim, while the connections talk SMTP,
        // instead of by a claim whenever the log reaches SQLite's default size (a stall mid-batch).
        // Without such a connection (an in-memory database), SQLite's automatic checkpoints stay.
        var checkpointer: BackgroundCheckpointer?
        defer {
            // The rest of the log, after the last commit.
            if let checkpointer { store.endCheckpointing(checkpointer) }
            try? store.syncEveryCommit(false)
        }
        do throws(AftersalesError) {
            // Each claim is on disk before any of its mails leaves (a power cut must not forget a
            // claim the server has seen). The fsyncs fall on this thread, not the connections'.
            try store.syncEveryCommit(true)
            checkpointer = try store.startCheckpointing()
        } catch {
            // Nothing was claimed: the threads end, and every mail stays as it was.
            line.stop(error.description)
            line.close()
            preparer.cancel()
            preparing.wait()
            throw error
        }
        var result = summary
        var failure: AftersalesError?
        var pending = SendStep()
        var timer = CommitTimer(clock: sendClock)
        while true {
            let seen = line.seen
            var closeAfterCommit = false
            if failure == nil, line.stoppedBy == nil, line.waiting < batchSize, let next = preparer.take() {
                switch next {
                case .success(let batch):
                    pending.claims = batch.mails
                    pending.cancellations = batch.stale
                    result.skipped += batch.skipped
                    closeAfterCommit = batch.last
                case .failure(let error):
                    failure = error
                    line.stop(error.description)
                    line.close()
                }
            }
            let reported = line.collect()
            pending.outcomes += reported.outcomes
            pending.releases += reported.releases
            let finished = reported.finished
            // Outcomes wait for the next claim (group commit) unless there are many, the run is
            // ending, or a quarter of a second has passed: a crash leaves unrecorded mail in doubt, never resent.
            if pending.isEmpty || !timer.isDue(pending, finished: finished, batchSize: batchSize) {
                if finished { break }
                if closeAfterCommit { line.close() }
                line.waitForChange(since: seen, timeout: 0.05)
                continue
            }
            do throws(AftersalesError) {
                let (recorded, claimed) = try store.sendStep(pending, runID: runID, now: now)
                timer.committed()
                result.count(recorded, streams: pending.outcomes.map(\.1.entry.mail.stream))
                result.cancelled += pending.cancellations.count
                result.skipped += claimed.filter { $0 == nil }.count
                line.enqueue(claimed.compactMap { $0 })
                if !pending.claims.isEmpty { checkpointer?.request() }
            } catch {
                // What this step would have recorded stays `sending`: the next run settles it as in doubt.
                failure = failure ?? error
                line.stop(error.description)
                line.close()
            }
            pending = SendStep()
            if closeAfterCommit { line.close() }
            if line.stoppedBy != nil { preparer.cancel() }
        }
        preparer.cancel()
        preparing.wait()
        // Every claim is recorded or released (a failed step leaves `sending`, settled by the journal next run).
        if failure == nil { journal?.remove() }
        if let failure { throw failure }
        result.stoppedBy = result.stoppedBy ?? line.stoppedBy
        result.waitingForRetry = try store.outboxCount(status: .retry)
        logger.info("run finished", metadata: ["sent": "\(result.sent)", "retried": "\(result.retried)", "failed": "\(result.failed)",
                                               "inDoubt": "\(result.inDoubt)", "transport": "\(transport.name)"])
        return result
    }

    /// How many threads render a batch: the cores the connections leave, plus one that shares a core
    /// with them (a connection mostly waits for the server's replies); at least one, at most four.
    /// With swift-mustache, a core renders 2,000 to 3,000 mails a second, about what one connection
    /// sends, so rendering bounds a send: on 2 cores and 1 connection, two rendering threads sent
    /// 0.286 and 0.296 of the C sender's rate where one sent 0.241 and 0.259 (bench row 5a, same runs).
    static func renderWorkers(cores: Int, connections: Int) -> Int {
        max(1, min(4, cores - connections + 1))
    }

    /// The preparing thread: reads and renders batches ahead of the committing thread (a small first
    /// batch, so that the connections start at once). Returns the group to wait on for its end.
    private func startPreparing(_ keys: [String], batchSize: Int, workers: Int, preparer: Ahead<PreparedBatch>, line: SendLine, renderer: Eventually<MailRenderer>, notDue: Bool) -> DispatchGroup {
        preparer.startProducing { preparer in
            var remaining = keys[...]
            var size = min(batchSize, 8)
            while !remaining.isEmpty, preparer.waitForRoom() {
                let batch = Array(remaining.prefix(size))
                remaining = remaining.dropFirst(size)
                size = batchSize
                do throws(AftersalesError) {
                    preparer.put(.success(try prepare(batch, workers: workers, renderer: renderer, notDue: notDue, last: remaining.isEmpty)))
                } catch {
                    preparer.put(.failure(error))
                    break
                }
                line.poke()
            }
        }
    }

    /// Reads and renders a batch: the mails to claim, the stale ones to cancel, how many are no longer pending.
    private func prepare(_ keys: [String], workers: Int, renderer loading: Eventually<MailRenderer>, notDue: Bool, last: Bool)
        throws(AftersalesError) -> PreparedBatch {
        let (entries, facts) = try store.sendingFacts(keys: keys)
        let renderer = try loading.value()
        var stale: [(key: String, reason: String)] = []
        var skipped = 0
        var work: [(entry: OutboxEntry, facts: CustomerFacts)] = []
        for key in keys {
            guard let entry = entries[key], entry.status == .planned || entry.status == .retry else { skipped += 1; continue }
            if let staleAt = entry.staleAt, now > staleAt, !notDue {
                stale.append((key, "stale: due \(Timestamp.utc(entry.due)), no longer worth sending after \(Timestamp.utc(staleAt))"))
                continue
            }
            guard let customer = facts[entry.customerID] else { throw .notFound(entity: "customer", id: entry.customerID) }
            work.append((entry, customer))
        }
        // Rendering is the CPU-heavy part; it runs on the cores the connections leave, and one more (renderWorkers).
        let jobs = work
        let results = Results<PreparedMail>(count: jobs.count)
        let now = self.now
        DispatchQueue.concurrentPerform(iterations: jobs.count < 8 ? 1 : workers) { _ in
            while let index = results.claim() {
                let (entry, customer) = jobs[index]
                do throws(AftersalesError) {
                    let rendered = try renderer.render(entry.mail, facts: customer, now: now)
                    results.set(index, .success(PreparedMail(entry: entry, bytes: rendered.bytes, sha256: Self.evidenceHash(rendered.bytes), messageID: rendered.messageID)))
                } catch {
                    results.set(index, .failure(error))
                }
            }
        }
        var mails: [PreparedMail] = []
        for result in results.values {
            switch result {
            case .success(let mail)?: mails.append(mail)
            case .failure(let error)?: throw error
            case nil: break
            }
        }
        return PreparedBatch(mails: mails, stale: stale, skipped: skipped, last: last)
    }

    /// The archived message's evidence hash: SHA-256 as 64 lowercase hex digits.
    static func evidenceHash(_ bytes: Data) -> String { sha256Hex(bytes) }

    /// SHA-256 of `bytes` as 64 lowercase hex digits.
    static func sha256Hex<D: DataProtocol>(_ bytes: D) -> String {
        SHA256.hash(data: bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// What a connection did with a mail.
    enum Attempt {
        case outcome(DeliveryOutcome)
        /// The Cc's connection failed after the To had it: record, then stop the run.
        case outcomeThenStop(DeliveryOutcome, String)
        /// The connection failed before anyone had it: put it back untried and stop the run.
        case putBack(String)
    }

    /// Delivers one claimed mail: the To first; the Cc only once the To has it, each in its own transaction.
    static func attempt(_ mail: ClaimedMail, session: any TransportSession, from: String, suppressed: [String: String]) -> Attempt {
        let entry = mail.entry
        var refused: [String: String] = [:]
        var accepted: String?
        for recipient in entry.mail.to {
            if let why = AftersalesStore.suppression(of: recipient, in: suppressed) {
                refused[recipient] = "suppressed: \(why)"
                continue
            }
            switch session.deliver(from: from, recipient: recipient, message: mail.bytes, key: entry.key) {
            case .accepted(let reply): accepted = accepted ?? reply
            case .permanent(let reply, _): refused[recipient] = reply
            case .transient(let reply):
                if accepted == nil { return .outcome(.transient(reply: reply)) }
                refused[recipient] = reply
            case .unknown(let reason):
                if accepted == nil { return .outcome(.unknown(reason: reason)) }
                refused[recipient] = "in doubt: \(reason)"
            case .connectionFailed(let reason):
                if accepted == nil { return .putBack(reason) }
                refused[recipient] = "not delivered: \(reason)"
            }
        }
        guard let reply = accepted else {
            return .outcome(.permanent(reply: refused.values.sorted().joined(separator: "; "), refused: refused))
        }
        for recipient in entry.mail.cc {
            if let why = AftersalesStore.suppression(of: recipient, in: suppressed) { refused[recipient] = "suppressed: \(why)"; continue }
            switch session.deliver(from: from, recipient: recipient, message: mail.bytes, key: entry.key) {
            case .accepted: break
            case .permanent(let r, _), .transient(let r): refused[recipient] = r
            case .unknown(let r): refused[recipient] = "in doubt: \(r)"
            case .connectionFailed(let r):
                refused[recipient] = "not delivered: \(r)"
                return .outcomeThenStop(.accepted(reply: reply, refused: refused), r)
            }
        }
        return .outcome(.accepted(reply: reply, refused: refused))
    }

    /// Settles in-doubt mail in bulk: all of it, one customer's, or what went in doubt before `before`.
    public func resolveInDoubt(_ action: OutboxMachine.Action, customerID: String?, before: Date?) throws(AftersalesError) -> [OutboxEntry] {
        guard action == .resolveSent || action == .resendInDoubt else {
            throw .invalid(InvalidInput(field: "action", value: action.rawValue, problem: "expected resolve --sent or resolve --resend"))
        }
        if let customerID { _ = try store.customer(id: customerID) }
        return try store.resolveInDoubt(action, customerID: customerID, before: before, now: now)
    }

    /// Applies an ops action to an outbox entry.
    public func outboxAction(_ action: OutboxMachine.Action, key: String) throws(AftersalesError) -> OutboxEntry {
        try store.apply(action, key: key, now: now)
    }
}

/// A batch read and rendered, ready to be claimed.
struct PreparedBatch: Sendable {
    var mails: [PreparedMail]
    var stale: [(key: String, reason: String)]
    /// Mails no longer planned or waiting for a retry.
    var skipped: Int
    /// The last batch of the run.
    var last: Bool
}
