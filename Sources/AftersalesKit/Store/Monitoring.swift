import AftersalesDomain
import Foundation
import GRDB

/// The outbox as monitoring sees it after a run.
public struct OutboxGauges: Sendable {
    /// Mails by status and stream.
    public var counts: [(status: String, stream: String, count: Int)] = []
    /// The due time of the oldest mail that is due and not yet sent (planned and due, or a retry whose time has come).
    public var oldestDueUnsent: Date?
}

extension AftersalesStore {
    /// The outbox's counts by status and stream, and the oldest due mail not yet sent, as of `now`.
    public func outboxGauges(now: Date) throws(AftersalesError) -> OutboxGauges {
        try read { db in
            var gauges = OutboxGauges()
            gauges.counts = try Row.fetchAll(db, sql: "SELECT status, stream, COUNT(*) AS n FROM outbox GROUP BY status, stream ORDER BY status, stream")
                .map { (status: $0["status"], stream: $0["stream"], count: $0["n"]) }
            gauges.oldestDueUnsent = try Date.fetchOne(db, sql: """
                SELECT MIN(due) FROM outbox WHERE (status = 'planned' AND due <= ?1) OR (status = 'retry' AND nextAttemptAt <= ?1)
                """, arguments: [now])
            return gauges
        }
    }
}
