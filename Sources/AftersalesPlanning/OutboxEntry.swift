import AftersalesDomain
import Foundation

/// A mail in the outbox: the planned mail as stored, its state and (once sent) the evidence.
///
/// The mail's own fields are those of ``mail`` (`entry.mail.key`, `entry.mail.to`); they can also be
/// read straight off the entry (`entry.key`, `entry.due`). A stored mail was planned to be sent, so
/// its ``PlannedMail/disposition`` is always `send`: ``status`` says what became of it.
@dynamicMemberLookup
public struct OutboxEntry: Sendable, Hashable {
    /// The mail as planned (and as moved by later plans while it was pending).
    public var mail: PlannedMail
    public var status: OutboxStatus
    /// Why it is in its status (the cancellation, the failure), if anything says.
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Delivery attempts made.
    public var attempts: Int
    /// When the next retry is due.
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    /// The evidence of the (last) attempt: Message-ID, the server's reply and the SHA-256 of the bytes sent.
    public var messageID: String?
    public var serverReply: String?
    public var sha256: String?
    /// Cancelled by planning, which revives it when it wants the mail again (see ``OutboxMachine/State/cancelledByPlanner``).
    public var cancelledByPlanner: Bool

    public init(mail: PlannedMail, status: OutboxStatus, reason: String? = nil, createdAt: Date, updatedAt: Date, attempts: Int = 0,
                nextAttemptAt: Date? = nil, sentAt: Date? = nil, messageID: String? = nil, serverReply: String? = nil, sha256: String? = nil,
                cancelledByPlanner: Bool = false) {
        self.mail = mail
        self.status = status
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.sentAt = sentAt
        self.messageID = messageID
        self.serverReply = serverReply
        self.sha256 = sha256
        self.cancelledByPlanner = cancelledByPlanner
    }

    /// A new entry for a mail planned to be sent, in the status the machine gives it.
    public init(new mail: PlannedMail, now: Date) {
        var mail = mail
        mail.disposition = .send
        self.init(mail: mail, status: OutboxMachine.firstStatus(needsApproval: mail.needsApproval), createdAt: now, updatedAt: now)
    }

    /// The mail's fields, read off the entry.
    public subscript<Value>(dynamicMember field: KeyPath<PlannedMail, Value>) -> Value { mail[keyPath: field] }

    /// The entry as the store leaves it after `transition` at `now`: the status and every column the
    /// transition sets (the one place a transition is applied to a value; the store's guarded UPDATE
    /// writes the same columns).
    public func applying(_ transition: OutboxMachine.Transition, at now: Date) -> OutboxEntry {
        var entry = self
        entry.status = transition.to
        entry.updatedAt = now
        for field in transition.set {
            switch field {
            case .reason(let reason): entry.reason = reason
            case .attempts(let attempts): entry.attempts = attempts
            case .nextAttemptAt(let at): entry.nextAttemptAt = at
            case .sentAt(let at): entry.sentAt = at
            case .serverReply(let reply): entry.serverReply = reply
            case .claimedBy: break  // the claim is the store's, not the entry's
            case .sha256(let digest): entry.sha256 = digest
            case .messageID(let id): entry.messageID = id
            case .due(let due): entry.mail.due = due
            case .cancelledByPlanner(let flag): entry.cancelledByPlanner = flag
            }
        }
        return entry
    }

    /// What the state machine needs to know of it.
    public var state: OutboxMachine.State {
        OutboxMachine.State(key: mail.key, status: status, attempts: attempts, due: mail.due, staleAt: mail.staleAt, sentAt: sentAt,
                           cancelledByPlanner: cancelledByPlanner)
    }
}

extension ExistingMail {
    /// A stored mail, as the planner takes it.
    public init(_ entry: OutboxEntry) {
        self.init(key: entry.mail.key, rule: entry.mail.rule, stream: entry.mail.stream, pending: entry.status.isPending,
                  sentAt: entry.status == .sent ? entry.updatedAt : nil)
    }
}
