import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// A rendered mail ready to be claimed: the exact bytes, their SHA-256 and the Message-ID.
public struct PreparedMail: Sendable {
    /// The entry as read when the mail was rendered.
    public var entry: OutboxEntry
    public var key: String { entry.mail.key }
    public var bytes: Data
    public var sha256: String
    public var messageID: String
}

/// What one send step writes (see ``AftersalesStore/sendStep(_:runID:now:)``).
public struct SendStep: Sendable {
    public var outcomes: [(DeliveryOutcome, ClaimedMail)] = []
    public var releases: [ClaimedMail] = []
    public var cancellations: [(key: String, reason: String)] = []
    public var claims: [PreparedMail] = []

    public var isEmpty: Bool { outcomes.isEmpty && releases.isEmpty && cancellations.isEmpty && claims.isEmpty }
}

/// A claimed mail: its entry and the exact bytes archived for it.
public struct ClaimedMail: Sendable {
    public var entry: OutboxEntry
    public var bytes: Data
    public var messageID: String
}

/// A mail to send: its key, the customer it goes to and its template (made by the store).
public struct MailRef: Sendable, Hashable {
    public var key: String
    public var customerID: String
    public var template: String
}

extension AftersalesStore {
    /// Mail due now, oldest first: planned and due, or waiting for a retry whose time has come.
    /// Held mail (waiting for approval) is never due.
    public func dueMail(now: Date, customerID: String? = nil, limit: Int? = nil) throws(AftersalesError) -> [MailRef] {
        try read { db in
            var sql = """
                SELECT key, customerID, template FROM outbox WHERE ((status = 'planned' AND due <= ?1) OR (status = 'retry' AND nextAttemptAt <= ?1))
                """
            var arguments: StatementArguments = [now]
            if let customerID {
                sql += " AND customerID = ?2"
                arguments += [customerID]
            }
            sql += " ORDER BY due, key"
            if let limit { sql += " LIMIT \(limit)" }
            // Read from the statement row by row: copying thousands of rows first took as long as the query.
            var due: [MailRef] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { due.append(MailRef(key: row[0], customerID: row[1], template: row[2])) }
            return due
        }
    }

    /// The suppressed addresses (hard bounces).
    public func suppressions() throws(AftersalesError) -> [String: String] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT address, reason FROM suppressions").map { ($0["address"] as String, $0["reason"] as String) })
        }
    }

    /// One durable step of sending, in one transaction (one fsync): the outcomes of finished
    /// attempts are recorded, claimed mail that was never tried is put back, stale mail is
    /// cancelled, and the next prepared mails are claimed. Returns the status each outcome led
    /// to and the mails this step claimed (nil where someone else got it first).
    public func sendStep(_ step: SendStep, runID: String, now: Date) throws(AftersalesError) -> (recorded: [OutboxStatus], claimed: [ClaimedMail?]) {
        try write { db in
            let recorded = try step.outcomes.map { outcome, claimed in try Self.record(db, outcome, for: claimed, now: now) }
            for claimed in step.releases {
                _ = try Self.apply(db, claimed.sending, .release(to: claimed.entry.status), now: now)
            }
            for (key, reason) in step.cancellations {
                // Only mail still pending (read again here: it may have changed since it was read).
                guard let entry = try OutboxEntry.fetchOne(db, key: key),
                      let cancel = try? OutboxMachine.transition(.cancel(reason: reason), from: entry.state, now: now) else { continue }
                _ = try Self.apply(db, cancel, key: key, now: now)
            }
            let claimed = try step.claims.map { try Self.claim(db, $0, runID: runID, now: now) }
            return (recorded, claimed)
        }
    }

    /// Claims a mail for sending: only one process can move it from planned or retry to `sending`, and only if it is still as it was
    /// read when rendered (same status, same attempts). The bytes are archived with their hash and Message-ID in the same
    /// transaction. Returns nil when someone else got it first or it changed.
    static func claim(_ db: Database, _ mail: PreparedMail, runID: String, now: Date) throws -> ClaimedMail? {
        let before = mail.entry
        guard let claim = try? OutboxMachine.transition(.claim(runID: runID, sha256: mail.sha256, messageID: mail.messageID), from: before.state, now: now),
              try apply(db, claim, key: mail.key, now: now) else { return nil }
        // A resend replaces what an earlier attempt archived.
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO outbox_archive (key, eml) VALUES (?, ?)").execute(arguments: [mail.key, mail.bytes])
        // The entry as it was before the claim, so that a release can put it back.
        return ClaimedMail(entry: before, bytes: mail.bytes, messageID: mail.messageID)
    }

    /// Applies `event` to a claimed mail (in `sending` since its claim); nil when the machine refuses it.
    static func apply(_ db: Database, _ state: OutboxMachine.State, _ event: OutboxMachine.Event, now: Date) throws -> OutboxMachine.Transition? {
        guard let transition = try? OutboxMachine.transition(event, from: state, now: now),
              try apply(db, transition, key: state.key, now: now) else { return nil }
        return transition
    }

    /// Records the outcome of a delivery attempt (hard bounces at RCPT suppress the address); returns the status it led to.
    static func record(_ db: Database, _ outcome: DeliveryOutcome, for claimed: ClaimedMail, now: Date) throws -> OutboxStatus {
        guard let transition = try apply(db, claimed.sending, .outcome(outcome), now: now) else {
            // Settled by someone else since the claim (it cannot be: a claim is the run's until recorded).
            return try OutboxEntry.fetchOne(db, key: claimed.entry.mail.key)?.status ?? .sending
        }
        return transition.to
    }

    /// The outbox entries with these keys and their customers' facts, in one read. The facts hold only
    /// the shipments the mails name: what rendering uses (a buyer with thousands of shipments costs a
    /// batch no more than one with a few).
    public func sendingFacts(keys: [String]) throws(AftersalesError) -> (entries: [String: OutboxEntry], facts: [String: CustomerFacts]) {
        try read { db in
            let entries = try Self.outboxEntries(db, keys: keys)
            let customers = Array(Set(entries.values.map(\.customerID))).sorted()
            let shipments = Array(Set(entries.values.compactMap { $0.context["shipment"] })).sorted()
            var products = ProductMemo()
            let facts = try Self.customerFacts(db, customers, products: &products, shipments: shipments)
            return (entries, Dictionary(facts.map { ($0.customer.id, $0) }) { first, _ in first })
        }
    }

    /// The locales of these customers, as the customers are now.
    public func customerLocales(customerIDs: Set<String>) throws(AftersalesError) -> [LocaleTag] {
        try read { db in
            try LocaleTag.fetchAll(db, sql: "SELECT DISTINCT locale FROM customers WHERE id \(OutboxJSON.chosen)",
                                   arguments: [OutboxJSON.array(customerIDs.sorted())])
        }
    }

    /// Mail left in `sending` by a process that died. With the journal of the run that claimed it
    /// (``ClaimJournal``, trusted only from this boot): a mail no connection began goes back to the
    /// status it was claimed from, an answer the journal holds is recorded; the rest (and every claim
    /// without a journal) may have reached the server, so it is in doubt.
    /// Called by a run that holds the run lock, so no live process owns these claims.
    /// `policies` and `after` (`send.in_doubt.*`) are named in the history of the mail left in doubt.
    public func recoverAbandonedClaims(journal: ClaimJournal? = nil, policies: [MailStream: InDoubtPolicy] = [:], after: Int = 0,
                                       now: Date) throws(AftersalesError) -> Recovery {
        try write { db in
            var recovery = Recovery()
            let claimers = Dictionary(try Row.fetchAll(db, sql: "SELECT key, claimedBy FROM outbox WHERE status = 'sending'")
                .map { ($0["key"] as String, $0["claimedBy"] as String?) }) { first, _ in first }
            for entry in try OutboxEntry.filter(OutboxEntry.Columns.status == OutboxStatus.sending).fetchAll(db) {
                var state = entry.state
                state.status = .sending
                let event: OutboxMachine.Event
                if let journal, let run = claimers[entry.key] ?? nil, run == journal.runID {
                    if let outcome = journal.outcomes[entry.key] {
                        event = .journaled(outcome)
                    } else if journal.started.contains(entry.key), !journal.returned.contains(entry.key) {
                        event = .abandoned(policy: Self.policyNote(entry.mail.stream, policies, after: after))
                    } else {
                        // Claimed from retry (its next attempt time stays) or from planned.
                        event = .unstarted(to: entry.nextAttemptAt == nil ? .planned : .retry)
                    }
                } else {
                    event = .abandoned(policy: Self.policyNote(entry.mail.stream, policies, after: after))
                }
                guard let transition = try Self.apply(db, state, event, now: now) else { continue }
                switch event {
                case .journaled: recovery.recorded += 1; if transition.to == .inDoubt { recovery.inDoubt += 1 }
                case .unstarted: recovery.returned += 1
                default: recovery.inDoubt += 1
                }
            }
            return recovery
        }
    }

    /// What the stream's in-doubt policy will do, for the history of a mail left in doubt (nil: none configured).
    static func policyNote(_ stream: MailStream, _ policies: [MailStream: InDoubtPolicy], after: Int) -> String? {
        switch policies[stream] {
        case .resend?: return "send.in_doubt.\(stream.rawValue) = resend: sent again once, \(DurationText.format(after)) after its claim"
        case .hold?: return "send.in_doubt.\(stream.rawValue) = hold: it waits for a person"
        case nil: return nil
        }
    }

    /// Applies the in-doubt policy: in-doubt mail of a stream whose policy is `resend`, claimed at
    /// least `after` seconds ago and never resent by the policy before, is planned again now (same
    /// Message-ID, once). Returns the keys resent.
    public func resendInDoubt(policies: [MailStream: InDoubtPolicy], after: Int, now: Date) throws(AftersalesError) -> [String] {
        let streams = MailStream.allCases.filter { policies[$0] == .resend }.map(\.rawValue)
        guard !streams.isEmpty else { return [] }
        return try write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.key, o.stream,
                       (SELECT MAX(h.at) FROM outbox_history h WHERE h.key = o.key AND h.toStatus = 'sending') AS claimedAt,
                       EXISTS (SELECT 1 FROM outbox_history h WHERE h.key = o.key AND h.reason LIKE ?) AS resent
                FROM outbox o WHERE o.status = 'in-doubt' AND o.stream \(OutboxJSON.chosen) ORDER BY o.due, o.key
                """, arguments: [OutboxMachine.policyResendPrefix + " %", OutboxJSON.array(streams)])
            let cutoff = now.addingTimeInterval(-Double(after))
            var resent: [String] = []
            for row in rows {
                let key: String = row["key"], stream: String = row["stream"], resentBefore: Bool = row["resent"]
                let claimedAt: Date? = row["claimedAt"]
                guard !resentBefore, let claimedAt, claimedAt <= cutoff else { continue }
                let setting = "send.in_doubt.\(stream) = resend (claimed \(Timestamp.utc(claimedAt)), in doubt \(DurationText.format(after)) later)"
                guard let entry = try OutboxEntry.fetchOne(db, key: key),
                      let transition = try? OutboxMachine.transition(.resendByPolicy(setting: setting), from: entry.state, now: now),
                      try Self.apply(db, transition, key: key, now: now) else { continue }
                resent.append(key)
            }
            return resent
        }
    }

    /// Settles in-doubt mail in bulk (`outbox resolve --all-in-doubt`): every in-doubt mail, or only
    /// one customer's, or only what went in doubt before `before`; `action` is resolve --sent or --resend.
    public func resolveInDoubt(_ action: OutboxMachine.Action, customerID: String?, before: Date?, now: Date) throws(AftersalesError) -> [OutboxEntry] {
        try write { db in
            var request = OutboxEntry.filter(OutboxEntry.Columns.status == OutboxStatus.inDoubt)
            if let customerID { request = request.filter(OutboxEntry.Columns.customerID == customerID) }
            if let before { request = request.filter(Column("updatedAt") < before) }
            var settled: [OutboxEntry] = []
            for entry in try request.order(OutboxEntry.Columns.due, OutboxEntry.Columns.key).fetchAll(db) {
                settled.append(try Self.apply(db, .ops(action), key: entry.key, now: now))
            }
            return settled
        }
    }

    /// The archived bytes of a mail that was claimed or sent.
    public func archivedMessage(key: String) throws(AftersalesError) -> Data {
        try read { db in
            guard try OutboxEntry.fetchOne(db, key: key) != nil else { throw AftersalesError.notFound(entity: "outbox", id: key) }
            guard let data = try Data.fetchOne(db, sql: "SELECT eml FROM outbox_archive WHERE key = ?", arguments: [key]) else {
                throw AftersalesError.conflict("mail \"\(key)\" has not been sent yet, so nothing is archived; see it with `aftersales render \(key)`")
            }
            return data
        }
    }

    /// Applies an ops action (approve, cancel, retry, resolve) if the mail's state allows it; returns the entry after it.
    public func apply(_ action: OutboxMachine.Action, key: String, now: Date) throws(AftersalesError) -> OutboxEntry {
        try write { db in try Self.apply(db, .ops(action), key: key, now: now) }
    }
}

/// What recovery did with the mail a stopped process left claimed.
public struct Recovery: Sendable, Hashable, Encodable {
    /// Now in doubt: a connection had begun them (or no journal tells).
    public var inDoubt = 0
    /// Back to planned or retry: no connection had begun them.
    public var returned = 0
    /// Their answer was in the journal and is now recorded.
    public var recorded = 0
    public init() {}
}

extension ClaimedMail {
    /// The claimed mail's state: in `sending`, with the attempts it was claimed with.
    var sending: OutboxMachine.State {
        var state = entry.state
        state.status = .sending
        return state
    }
}
