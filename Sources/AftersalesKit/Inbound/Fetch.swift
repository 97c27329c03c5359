import AftersalesDomain
import Foundation

/// What one `fetch` did.
public struct FetchSummary: Sendable, Encodable, Hashable {
    public var mailbox = ""
    public var fetched = 0
    public var bounces = 0
    /// Spam complaints (ARF reports).
    public var spamReports = 0
    public var replies = 0
    /// Complaints opened from replies with a complaint keyword.
    public var complaintsOpened = 0
    /// Complaint-keyword replies that joined their order's open complaint (counted in `replies` too).
    public var complaintReplies = 0
    public var autoReplies = 0
    /// Left in the mailbox for ops: unmatched, unreadable, or over `imap.max_bytes`.
    public var unmatched = 0
    /// Copies of messages processed before (same Message-ID).
    public var duplicates = 0
    /// Every message read, with what was done.
    public var messages: [InboundOutcome] = []
    /// Set when the server could not be reached or refused the login (exit 1).
    public var failure: String?

    public init() {}

    /// 0 when the mailbox was read (unmatched mail included), 1 when it could not be.
    public var exitStatus: Int32 { failure == nil ? 0 : 1 }

    mutating func count(_ outcome: InboundOutcome) {
        fetched += 1
        messages.append(outcome)
        switch outcome.disposition {
        case .unmatched, .refused: unmatched += 1; return
        case .duplicate: duplicates += 1; return
        case .processed: break
        }
        switch outcome.kind {
        case .bounce: bounces += 1
        case .spamReport: spamReports += 1
        case .autoReply: autoReplies += 1
        case .reply: replies += 1
        case .unrecognised, nil: break
        }
        if outcome.complaintJoined { complaintReplies += 1 } else if outcome.complaintID != nil { complaintsOpened += 1 }
    }
}

extension CurlIMAPTransport {
    /// The mailbox of `imap.*`, or nil when `imap.url` is not set.
    public init?(configuration: Configuration) {
        let imap = configuration.imap
        guard !imap.url.isEmpty else { return nil }
        self.init(url: imap.url, security: imap.tls, user: imap.user.isEmpty ? nil : imap.user, password: configuration.imapPassword,
                  caFile: imap.caFile.isEmpty ? nil : imap.caFile, timeout: imap.timeout)
    }
}

extension Workspace {
    /// The classifier of this configuration (our Message-ID domain, the complaint keywords).
    public var inboundClassifier: InboundClassifier {
        let words = configuration.imap.complaintKeywords
        return InboundClassifier(domain: configuration.messageDomain, complaintKeywords: words.isEmpty ? InboundClassifier.defaultComplaintKeywords : words)
    }

    /// The mailbox of `imap.*`, or nil when `imap.url` is not set.
    public var imapTransport: CurlIMAPTransport? { CurlIMAPTransport(configuration: configuration) }

    /// `aftersales fetch`: reads what is new in the reply mailbox, under the run lock.
    public func fetch() throws(AftersalesError) -> FetchSummary {
        guard let transport = imapTransport else {
            throw .configuration("imap.url is not set; set it (imap://host:port/INBOX) to fetch the reply mailbox")
        }
        guard let lock = try RunLock(path: lockPath, waitSeconds: 60) else {
            throw .failure("another run has held the lock \(lockPath) for over a minute; try again when it has finished")
        }
        defer { withExtendedLifetime(lock) {} }
        let session = transport.openSession()
        defer { session.close() }
        return try fetch(session: session)
    }

    /// Reads the messages above the mailbox's watermark: each is classified, recorded with its effects
    /// in one transaction (which moves the watermark), then moved to `imap.processed_folder` (or
    /// flagged) when it was processed; unmatched mail stays for ops. A server that cannot be reached
    /// or refuses the login leaves everything as it was.
    public func fetch(session: any MailboxSession) throws(AftersalesError) -> FetchSummary {
        var summary = FetchSummary()
        let imap = configuration.imap
        let status: MailboxStatus
        do { status = try session.status() } catch {
            summary.failure = error.description
            return summary
        }
        summary.mailbox = status.mailbox
        let watermark = try store.imapWatermark(mailbox: status.mailbox, uidValidity: status.uidValidity)
        // Nothing new: one STATUS was enough.
        guard status.uidNext - 1 > watermark else { return summary }
        let list: [MailboxMessage]
        do { list = try session.messages(after: watermark) } catch {
            summary.failure = error.description
            return summary
        }
        let classifier = inboundClassifier
        for message in list {
            var source = InboundSource(mailbox: status.mailbox, uidValidity: status.uidValidity, uid: message.uid, size: message.size,
                                       receivedAt: message.receivedAt, bytes: nil)
            var classification: InboundClassification?
            var readProblem: String?
            if message.size <= imap.maxBytes {
                do {
                    let bytes = try session.fetch(uid: message.uid, maxBytes: imap.maxBytes)
                    source.bytes = bytes
                    source.size = bytes.count
                    classification = classifier.classify(Array(bytes))
                } catch {
                    if case .connection = error {
                        summary.failure = error.description
                        return summary
                    }
                    readProblem = error.description
                }
            }
            var outcome = try store.recordInbound(source, classification, bounce: configuration.bounce, now: now)
            if let readProblem { outcome.note = "could not be read: \(readProblem); left in the mailbox" }
            if outcome.disposition == .processed || outcome.disposition == .duplicate {
                do { outcome.effects.append(try session.markProcessed(uid: message.uid, folder: imap.processedFolder)) } catch {
                    outcome.effects.append("not moved: \(error.description)")
                }
            }
            summary.count(outcome)
        }
        return summary
    }

    /// The order's thread; with `emlDirectory`, every message written there as an `.eml` file too.
    public func orderThread(orderID: String, emlDirectory: String? = nil) throws(AftersalesError) -> [ThreadMessage] {
        let thread = try store.orderThread(orderID: orderID)
        guard let emlDirectory else { return thread }
        do {
            try FileManager.default.createDirectory(atPath: emlDirectory, withIntermediateDirectories: true)
            for (index, message) in thread.enumerated() {
                let safe = message.reference.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? String($0) : "_" }.joined()
                let name = String(format: "%03d-%@-%@.eml", index + 1, message.direction, safe)
                try message.bytes.write(to: URL(fileURLWithPath: emlDirectory).appendingPathComponent(name), options: .atomic)
            }
        } catch {
            throw .failure("cannot write the thread to \(emlDirectory): \(error.localizedDescription)")
        }
        return thread
    }
}

extension TextReport {
    /// The fetch summary: one line of counts, then every message left for ops.
    public static func fetch(_ s: FetchSummary) -> String {
        if let failure = s.failure { return "fetch failed: \(failure); nothing was marked processed" }
        var lines = ["fetched \(s.fetched), bounces \(s.bounces), complaints (spam reports) \(s.spamReports), replies \(s.replies), "
                     + "opened complaints \(s.complaintsOpened), replies to open complaints \(s.complaintReplies), auto-replies ignored \(s.autoReplies), unmatched \(s.unmatched)"
                     + (s.duplicates > 0 ? ", duplicates \(s.duplicates)" : "")]
        for m in s.messages where m.disposition == .unmatched || m.disposition == .refused {
            lines.append("  left for ops: UID \(m.uid) \(m.kind?.rawValue ?? "not read") from \(m.from ?? "?") \"\(m.subject ?? "")\": \(m.note ?? m.disposition.rawValue)")
        }
        return lines.joined(separator: "\n")
    }

    /// The order's thread, oldest first, each with its SHA-256.
    public static func thread(_ messages: [ThreadMessage]) -> String {
        if messages.isEmpty { return "thread    (no mail sent or received yet)" }
        return "thread\n" + TextTable(header: ["at", "dir", "kind", "ref", "subject", "sha256"], rows: messages.map {
            [Timestamp.utc($0.at), $0.direction, $0.kind, $0.reference, $0.subject, $0.sha256]
        }).text
    }
}
