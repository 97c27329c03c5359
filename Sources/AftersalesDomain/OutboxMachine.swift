import Foundation

/// What happened to one delivery attempt, as a transport reports it.
public enum DeliveryOutcome: Sendable, Hashable, Codable {
    /// The server accepted the message for every recipient (or for the To while some Cc were refused).
    case accepted(reply: String, refused: [String: String])
    /// A transient failure before the server took responsibility (4xx, connection lost before the end of DATA).
    case transient(reply: String)
    /// A permanent failure (5xx) for the message, or every recipient refused.
    case permanent(reply: String, refused: [String: String])
    /// The message may or may not have been accepted (no answer after the final dot).
    case unknown(reason: String)
}

/// What happens to a stream's in-doubt mail (`send.in_doubt.<stream>`).
public enum InDoubtPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// It waits for a person (`aftersales outbox resolve`).
    case hold
    /// It is sent again once, with the same Message-ID, `send.in_doubt_after` after it was claimed.
    case resend
}

/// The outbox state machine: every change of a mail's status, worked out without the database.
///
/// ``transition(_:from:now:)`` takes a mail's ``State`` and an ``Event`` and returns the
/// ``Transition`` to write (the new status, the fields to set, the history reason), or refuses the
/// event with a ``Refusal`` (the message the user sees). The store applies every transition the
/// same way: an update guarded by the status and attempts the transition was worked out from, and
/// a history row. Pure: no I/O and the clock is a parameter, like the planner.
public enum OutboxMachine {
    /// Retry schedule: 5 minutes after the first failure, then growing (×3), capped at 6 hours.
    public static func retryDelay(attempt: Int) -> TimeInterval {
        min(300 * pow(3, Double(max(attempt - 1, 0))), 6 * 3600)
    }

    /// How the history of a resend by the in-doubt policy begins (a mail is resent so at most once).
    public static let policyResendPrefix = "in-doubt policy"

    /// The status a new mail is stored with: held when a person must approve it first.
    public static func firstStatus(needsApproval: Bool) -> OutboxStatus {
        needsApproval ? .held : .planned
    }

    /// What the machine needs to know of a stored mail.
    public struct State: Sendable, Hashable {
        public var key: String
        public var status: OutboxStatus
        /// Delivery attempts made so far.
        public var attempts: Int
        public var due: Date
        /// When retrying stops being worth it.
        public var staleAt: Date?
        public var sentAt: Date?
        /// Cancelled by planning (the rules, or mail they no longer plan), not by ops, the sender or an
        /// erasure: planning revives it (``Event/revive(reason:due:needsApproval:)``) when it wants the mail again.
        public var cancelledByPlanner: Bool

        public init(key: String, status: OutboxStatus, attempts: Int = 0, due: Date, staleAt: Date? = nil, sentAt: Date? = nil,
                    cancelledByPlanner: Bool = false) {
            self.key = key
            self.status = status
            self.attempts = attempts
            self.due = due
            self.staleAt = staleAt
            self.sentAt = sentAt
            self.cancelledByPlanner = cancelledByPlanner
        }
    }

    /// Manual actions ops staff take on a mail.
    public enum Action: String, Sendable, CaseIterable {
        case approve, cancel, retry, resolveSent = "resolve --sent", resendInDoubt = "resolve --resend"
    }

    /// Something that happens to a mail.
    public enum Event: Sendable, Hashable {
        /// A run claims the rendered mail for sending, with the evidence of what it will send.
        case claim(runID: String, sha256: String, messageID: String)
        /// The outcome of the delivery attempt of a claimed mail.
        case outcome(DeliveryOutcome)
        /// A claimed mail goes back untried (the run stopped first), to the status it was claimed from.
        case release(to: OutboxStatus)
        /// The process that claimed the mail stopped before recording the outcome; `policy` says what
        /// the stream's in-doubt policy will do with it (for the history).
        case abandoned(policy: String?)
        /// The process that claimed the mail stopped, and its journal shows that no SMTP transaction
        /// of the mail began: it goes back untried, to the status it was claimed from.
        case unstarted(to: OutboxStatus)
        /// The process that claimed the mail stopped after its journal recorded the server's answer:
        /// the outcome is recorded as if the run had committed it.
        case journaled(DeliveryOutcome)
        /// The in-doubt policy of the mail's stream (`send.in_doubt.<stream>: resend`) sends it again,
        /// once, with the same Message-ID; `setting` names the policy for the history.
        case resendByPolicy(setting: String)
        /// Planning (`byPlanner`), the sender (stale mail) or an erasure cancels a pending mail, with why.
        /// Only what planning cancelled can be revived by it.
        case cancel(reason: String, byPlanner: Bool = false)
        /// Planning wants again a mail it cancelled (the order was reinstated, the facts that cancelled it
        /// changed back): it goes back to planned, or to held when its rule needs approval, as a fresh
        /// plan would store it, due at the plan's `due`. Mail cancelled by ops, the sender or an erasure
        /// stays cancelled.
        case revive(reason: String, due: Date, needsApproval: Bool)
        /// Planning finds that a pending mail's rule now needs approval (`needed`: held from planned or
        /// retry) or no longer does (planned again from held): the rules changed since it was stored.
        case approvalChanged(needed: Bool)
        /// An ops action.
        case ops(Action)
        /// A delivery status notification says the mail did not reach `address` for good (status 5.x.x).
        case bounced(address: String, status: String, diagnostic: String?)

        /// The event's name in a refusal.
        public var name: String {
            switch self {
            case .claim: return "claim"
            case .outcome: return "record an outcome"
            case .release: return "release"
            case .abandoned, .unstarted, .journaled: return "recover"
            case .resendByPolicy: return "resend by policy"
            case .cancel: return "cancel by planning"
            case .revive: return "revive by planning"
            case .approvalChanged: return "change approval by planning"
            case .ops(let action): return action.rawValue
            case .bounced: return "record a bounce"
            }
        }

        /// The states the event applies to.
        public var allowedFrom: Set<OutboxStatus> {
            switch self {
            case .claim: return [.planned, .retry]
            case .outcome, .release, .abandoned, .unstarted, .journaled: return [.sending]
            case .resendByPolicy: return [.inDoubt]
            case .cancel: return Set(OutboxStatus.allCases.filter(\.isPending))
            case .revive: return [.cancelled]
            case .approvalChanged(let needed): return needed ? [.planned, .retry] : [.held]
            case .ops(.approve): return [.held]
            case .ops(.cancel): return [.planned, .held, .retry, .failed]
            case .ops(.retry): return [.failed, .retry]
            case .ops(.resolveSent), .ops(.resendInDoubt): return [.inDoubt]
            // A bounce proves the mail left; one in doubt was accepted after all.
            case .bounced: return [.sent, .inDoubt]
            }
        }
    }

    /// A column of the outbox a transition sets, besides the status and the update time.
    public enum Field: Sendable, Hashable {
        case reason(String?)
        case attempts(Int)
        case nextAttemptAt(Date?)
        case sentAt(Date?)
        case serverReply(String?)
        /// The run that holds the claim (nil: none).
        case claimedBy(String?)
        case sha256(String)
        case messageID(String)
        case due(Date)
        /// Whether planning cancelled it (and so may revive it).
        case cancelledByPlanner(Bool)
    }

    /// One change of a mail's status, as the store writes it.
    public struct Transition: Sendable, Hashable {
        /// The status the mail must still have: the store applies the transition only then.
        public var from: OutboxStatus
        /// The attempts the mail must still have (a claim of a mail that changed since it was read does nothing).
        public var attempts: Int
        public var to: OutboxStatus
        /// The other columns to set, in order.
        public var set: [Field]
        /// Why, for the mail's history.
        public var history: String
        /// Addresses to suppress from now on, with why (hard bounces).
        public var suppress: [String: String] = [:]
    }

    /// An event that does not apply to the mail's state.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var status: OutboxStatus
        public var event: String
        /// The states the event applies to.
        public var allowed: Set<OutboxStatus>
        /// Why the event does not apply although the status is one it applies to (nil: the status).
        public var detail: String? = nil

        /// What the user reads, e.g. "mail "k" is sent; `cancel` applies only to failed or held or planned or retry mail".
        public var description: String {
            if let detail { return "mail \"\(key)\" is \(status.rawValue); `\(event)` does not apply: \(detail)" }
            return "mail \"\(key)\" is \(status.rawValue); `\(event)` applies only to \(allowed.map(\.rawValue).sorted().joined(separator: " or ")) mail"
        }
    }

    /// The transition `event` makes from `state`, or its refusal.
    public static func transition(_ event: Event, from state: State, now: Date) throws(Refusal) -> Transition {
        guard event.allowedFrom.contains(state.status) else {
            throw Refusal(key: state.key, status: state.status, event: event.name, allowed: event.allowedFrom)
        }
        func to(_ status: OutboxStatus, _ set: [Field], _ history: String) -> Transition {
            Transition(from: state.status, attempts: state.attempts, to: status, set: set, history: history)
        }
        switch event {
        case .claim(let runID, let sha256, let messageID):
            return to(.sending, [.claimedBy(runID), .sha256(sha256), .messageID(messageID)], "claimed by \(runID)")
        case .outcome(let outcome):
            return recorded(outcome, state: state, now: now)
        case .release(let back):
            let allowed: Set<OutboxStatus> = Event.claim(runID: "", sha256: "", messageID: "").allowedFrom
            guard allowed.contains(back) else { throw Refusal(key: state.key, status: back, event: "release to", allowed: allowed) }
            return to(back, [.claimedBy(nil)], "released: the run stopped before trying it")
        case .abandoned(let policy):
            let reason = "in doubt: the sending process stopped before recording the outcome; " + (policy.map { $0 + "; or " } ?? "")
                + "settle with `aftersales outbox resolve \(state.key) --sent` or `--resend`"
            return to(.inDoubt, [.reason(reason), .claimedBy(nil)], reason)
        case .unstarted(let back):
            let allowed: Set<OutboxStatus> = Event.claim(runID: "", sha256: "", messageID: "").allowedFrom
            guard allowed.contains(back) else { throw Refusal(key: state.key, status: back, event: "recover to", allowed: allowed) }
            return to(back, [.claimedBy(nil)], "recovered: the run stopped before this mail's SMTP transaction began (its journal); back to \(back.rawValue)")
        case .journaled(let outcome):
            var transition = recorded(outcome, state: state, now: now)
            transition.history = "recovered from the stopped run's journal: " + transition.history
            return transition
        case .resendByPolicy(let setting):
            let reason = "\(Self.policyResendPrefix) \(setting): sent again once, with the same Message-ID"
            return to(.planned, [.reason(reason), .nextAttemptAt(nil), .due(min(state.due, now))], reason)
        case .cancel(let reason, let byPlanner):
            return to(.cancelled, byPlanner ? [.reason(reason), .cancelledByPlanner(true)] : [.reason(reason)], reason)
        case .revive(let reason, let due, let needsApproval):
            guard state.cancelledByPlanner else {
                throw Refusal(key: state.key, status: state.status, event: event.name, allowed: event.allowedFrom,
                              detail: "it was not cancelled by planning (ops, the sender or an erasure did), so it stays cancelled")
            }
            return to(firstStatus(needsApproval: needsApproval), [.reason(nil), .nextAttemptAt(nil), .due(due), .cancelledByPlanner(false)],
                      "revived: " + reason)
        case .approvalChanged(let needed):
            return needed ? to(.held, [.reason(nil), .nextAttemptAt(nil)], "its rule now needs approval: held for `aftersales outbox approve \(state.key)`")
                : to(.planned, [.reason(nil)], "its rule no longer needs approval: planned")
        case .bounced(let address, let status, let diagnostic):
            let reason = "bounced: \(status) for \(address)" + (diagnostic.map { " (\($0))" } ?? "")
            var transition = to(.bounced, [.reason(reason), .sentAt(state.sentAt ?? now)], reason)
            transition.suppress[address.lowercased()] = "bounce \(status)" + (diagnostic.map { " \($0)" } ?? "") + " (mail \(state.key))"
            return transition
        case .ops(let action):
            let fields: [Field]
            let target: OutboxStatus
            switch action {
            case .approve: (target, fields) = (.planned, [.reason(nil)])
            case .cancel: (target, fields) = (.cancelled, [.reason("cancelled by ops")])
            case .retry: (target, fields) = (.planned, [.reason(nil), .nextAttemptAt(nil), .due(min(state.due, now))])
            case .resolveSent: (target, fields) = (.sent, [.reason("confirmed sent by ops"), .sentAt(state.sentAt ?? now)])
            case .resendInDoubt: (target, fields) = (.planned, [.reason("resend requested by ops (same Message-ID)"), .due(min(state.due, now))])
            }
            return to(target, fields, "ops: \(action.rawValue)")
        }
    }

    /// The state after a delivery attempt: sent, failed, in doubt, or a retry at the next time of the
    /// schedule (failed when that is after the mail's stale time). Hard bounces of a recipient (550,
    /// 551, 553) suppress the address.
    static func recorded(_ outcome: DeliveryOutcome, state: State, now: Date) -> Transition {
        let attempt = state.attempts + 1
        let status: OutboxStatus, reply: String, reason: String
        var next: Date?
        var refused: [String: String] = [:]
        switch outcome {
        case .accepted(let r, let f):
            (status, reply, refused) = (.sent, r, f)
            reason = f.isEmpty ? r : r + "; refused: " + f.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
        case .permanent(let r, let f):
            (status, reply, refused, reason) = (.failed, r, f, "permanent failure: " + r)
        case .unknown(let r):
            (status, reply, reason) = (.inDoubt, r, "in doubt: " + r + "; settle with `aftersales outbox resolve KEY --sent` or `--resend`")
        case .transient(let r):
            reply = r
            let retryAt = now.addingTimeInterval(retryDelay(attempt: attempt))
            if let giveUpAt = state.staleAt, retryAt > giveUpAt {
                (status, reason) = (.failed, "gave up after \(attempt) attempt(s), last: \(r)")
            } else {
                (status, reason, next) = (.retry, "attempt \(attempt) failed: \(r); next at \(Timestamp.utc(retryAt))", retryAt)
            }
        }
        var transition = Transition(
            from: state.status, attempts: state.attempts, to: status,
            set: [.attempts(attempt), .nextAttemptAt(next), .sentAt(status == .sent ? now : nil), .serverReply(reply),
                  .reason(status == .sent ? nil : reason), .claimedBy(nil)],
            history: reason)
        for (address, why) in refused where ["550", "551", "553"].contains(String(why.prefix(3))) {
            transition.suppress[address.lowercased()] = "\(why) (mail \(state.key))"
        }
        return transition
    }
}
