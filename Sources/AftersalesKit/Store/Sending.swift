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

    /// Mail left in `sending` by a process that died: the server may have it, so it is in doubt.
    /// Called by a run that holds the run lock, so no live process owns these claims.
    public func recoverAbandonedClaims(now: Date) throws(AftersalesError) -> Int {
        try write { db in
            var recovered = 0
            for entry in try OutboxEntry.filter(OutboxEntry.Columns.status == OutboxStatus.sending).fetchAll(db) {
                if try Self.apply(db, entry.state, .abandoned, now: now) != nil { recovered += 1 }
            }
            return recovered
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

extension ClaimedMail {
    /// The claimed mail's state: in `sending`, with the attempts it was claimed with.
    var sending: OutboxMachine.State {
        var state = entry.state
        state.status = .sending
        return state
    }
}
