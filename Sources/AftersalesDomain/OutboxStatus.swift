/// The states of a mail in the outbox.
public enum OutboxStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for its due time.
    case planned
    /// Waiting for a person's approval.
    case held
    /// Claimed by a run that is sending it.
    case sending
    case sent
    /// A transient failure; tried again later.
    case retry
    /// A permanent failure.
    case failed
    /// Not to be sent; the reason says why.
    case cancelled
    /// The server may or may not have accepted it; a person settles it.
    case inDoubt = "in-doubt"
    /// Accepted, then bounced back by the recipient's server (a delivery status notification).
    case bounced

    /// Still to be sent, so planning may move or cancel it.
    public var isPending: Bool { self == .planned || self == .held || self == .retry }

    public init(parsing raw: String) throws(InvalidInput) {
        guard let status = OutboxStatus(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "status", value: raw, problem: "expected one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = status
    }
}
