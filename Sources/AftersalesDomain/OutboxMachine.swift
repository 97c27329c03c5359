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

/// The outbox state machine: given a state and an event, the next state and what to record.
/// Pure: no I/O and the clock is a parameter, like the planner.
public enum OutboxMachine {
    /// Retry schedule: 5 minutes after the first failure, then growing (×3), capped at 6 hours.
    public static func retryDelay(attempt: Int) -> TimeInterval {
        min(300 * pow(3, Double(max(attempt - 1, 0))), 6 * 3600)
    }

    /// The state after a delivery attempt, with the next attempt time for retries.
    /// `giveUpAt` is when retrying stops being worth it (the mail's stale time).
    public static func after(_ outcome: DeliveryOutcome, attempt: Int, now: Date, giveUpAt: Date?) -> (OutboxStatus, nextAttempt: Date?, reason: String) {
        switch outcome {
        case .accepted(let reply, let refused):
            return (.sent, nil, refused.isEmpty ? reply : reply + "; refused: " + refused.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        case .permanent(let reply, _):
            return (.failed, nil, "permanent failure: " + reply)
        case .unknown(let reason):
            return (.inDoubt, nil, "in doubt: " + reason + "; settle with `aftersales outbox resolve KEY --sent` or `--resend`")
        case .transient(let reply):
            let next = now.addingTimeInterval(retryDelay(attempt: attempt))
            if let giveUpAt, next > giveUpAt {
                return (.failed, nil, "gave up after \(attempt) attempt(s), last: \(reply)")
            }
            return (.retry, next, "attempt \(attempt) failed: \(reply); next at \(Timestamp.utc(next))")
        }
    }

    /// Manual actions ops staff take on a mail, and from which states they are allowed.
    public enum Action: String, Sendable, CaseIterable {
        case approve, cancel, retry, resolveSent = "resolve --sent", resendInDoubt = "resolve --resend"

        public var allowedFrom: Set<OutboxStatus> {
            switch self {
            case .approve: return [.held]
            case .cancel: return [.planned, .held, .retry, .failed]
            case .retry: return [.failed, .retry]
            case .resolveSent, .resendInDoubt: return [.inDoubt]
            }
        }

        public var target: OutboxStatus {
            switch self {
            case .approve, .retry, .resendInDoubt: return .planned
            case .cancel: return .cancelled
            case .resolveSent: return .sent
            }
        }
    }
}
