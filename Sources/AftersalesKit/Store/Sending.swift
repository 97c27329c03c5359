import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// A rendered mail ready to be claimed: the exact bytes, their SHA-256 and the Message-ID.
public struct PreparedMail: Sendable {
    /// The entry as read when the mail was rendered.
    public var entry: OutboxEntry
    public var key: String { entry.key }
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
            var arguments: StatementArguments = [now.stored]
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
            for claimed in step.releases { try Self.release(db, claimed, now: now) }
            for (key, reason) in step.cancellations {
                guard var entry = try OutboxEntry.fetchOne(db, key: key), entry.status.isPending else { continue }
                try Self.cancel(db, &entry, reason: reason, now: now)
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
        guard before.status == .planned || before.status == .retry else { return nil }
        try db.run(cached: """
            UPDATE outbox SET status = 'sending', claimedBy = ?, updatedAt = ?, sha256 = ?, messageID = ?
            WHERE key = ? AND status = ? AND attempts = ?
            """, [runID.databaseValue, now.stored.databaseValue, mail.sha256.databaseValue, mail.messageID.databaseValue,
                  mail.key.databaseValue, before.status.rawValue.databaseValue, before.attempts.databaseValue])
        guard db.changesCount == 1 else { return nil }
        // A resend replaces what an earlier attempt archived.
        try db.run(cached: "INSERT OR REPLACE INTO outbox_archive (key, eml) VALUES (?, ?)", [mail.key.databaseValue, mail.bytes.databaseValue])
        try history(db, key: mail.key, from: before.status, to: .sending, reason: "claimed by \(runID)", at: now)
        // The entry as it was before the claim, so that a release can put it back.
        return ClaimedMail(entry: before, bytes: mail.bytes, messageID: mail.messageID)
    }

    /// Puts a claimed mail back as it was, using up no attempt (the run stopped before it was tried).
    static func release(_ db: Database, _ claimed: ClaimedMail, now: Date) throws {
        try db.execute(sql: "UPDATE outbox SET status = ?, claimedBy = NULL, updatedAt = ? WHERE key = ? AND status = 'sending'",
                       arguments: [claimed.entry.status.rawValue, now.stored, claimed.entry.key])
        try history(db, key: claimed.entry.key, from: .sending, to: claimed.entry.status, reason: "released: the run stopped before trying it", at: now)
    }

    /// Records the outcome of a delivery attempt; hard bounces at RCPT (550, 551, 553) suppress the address.
    static func record(_ db: Database, _ outcome: DeliveryOutcome, for claimed: ClaimedMail, now: Date) throws -> OutboxStatus {
        let attempt = claimed.entry.attempts + 1
        let (status, next, reason) = OutboxMachine.after(outcome, attempt: attempt, now: now, giveUpAt: claimed.entry.staleAt)
        var reply: String?
        var refused: [String: String] = [:]
        switch outcome {
        case .accepted(let r, let f): (reply, refused) = (r, f)
        case .permanent(let r, let f): (reply, refused) = (r, f)
        case .transient(let r): reply = r
        case .unknown(let r): reply = r
        }
        try db.run(cached: """
            UPDATE outbox SET status = ?, attempts = ?, nextAttemptAt = ?, sentAt = ?, serverReply = ?, reason = ?, claimedBy = NULL, updatedAt = ?
            WHERE key = ?
            """, [status.rawValue.databaseValue, attempt.databaseValue, (next?.stored).databaseValue, (status == .sent ? now.stored : nil).databaseValue,
                  reply.databaseValue, (status == .sent ? nil : reason).databaseValue, now.stored.databaseValue, claimed.entry.key.databaseValue])
        try history(db, key: claimed.entry.key, from: .sending, to: status, reason: reason, at: now)
        for (address, why) in refused where ["550", "551", "553"].contains(String(why.prefix(3))) {
            try db.execute(sql: "INSERT OR REPLACE INTO suppressions (address, reason, at) VALUES (?, ?, ?)",
                           arguments: [address.lowercased(), "\(why) (mail \(claimed.entry.key))", now.stored])
        }
        return status
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
            try LocaleTag.fetchAll(db, sql: "SELECT DISTINCT locale FROM customers WHERE id \(FactsSQL.chosen)",
                                   arguments: [FlatJSON.encode(customerIDs.sorted())])
        }
    }

    /// Mail left in `sending` by a process that died: the server may have it, so it is in doubt.
    /// Called by a run that holds the run lock, so no live process owns these claims.
    public func recoverAbandonedClaims(now: Date) throws(AftersalesError) -> Int {
        try write { db in
            let keys = try String.fetchAll(db, sql: "SELECT key FROM outbox WHERE status = 'sending'")
            for key in keys {
                let reason = "in doubt: the sending process stopped before recording the outcome; settle with `aftersales outbox resolve \(key) --sent` or `--resend`"
                try db.execute(sql: "UPDATE outbox SET status = 'in-doubt', reason = ?, claimedBy = NULL, updatedAt = ? WHERE key = ?", arguments: [reason, now, key])
                try Self.history(db, key: key, from: .sending, to: .inDoubt, reason: reason, at: now)
            }
            return keys.count
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

    /// Applies an ops action (approve, cancel, retry, resolve) if the mail's state allows it.
    public func apply(_ action: OutboxMachine.Action, key: String, now: Date) throws(AftersalesError) -> OutboxEntry {
        try write { db in
            guard var entry = try OutboxEntry.fetchOne(db, key: key) else { throw AftersalesError.notFound(entity: "outbox", id: key) }
            guard action.allowedFrom.contains(entry.status) else {
                throw AftersalesError.conflict("mail \"\(key)\" is \(entry.status.rawValue); `\(action.rawValue)` applies only to \(action.allowedFrom.map(\.rawValue).sorted().joined(separator: " or ")) mail")
            }
            let from = entry.status
            entry.status = action.target
            entry.updatedAt = now
            switch action {
            case .approve: entry.reason = nil
            case .cancel: entry.reason = "cancelled by ops"
            case .retry: (entry.reason, entry.nextAttemptAt, entry.due) = (nil, nil, min(entry.due, now))
            case .resolveSent: (entry.reason, entry.sentAt) = ("confirmed sent by ops", entry.sentAt ?? now)
            case .resendInDoubt: (entry.reason, entry.due) = ("resend requested by ops (same Message-ID)", min(entry.due, now))
            }
            try entry.update(db)
            try Self.history(db, key: key, from: from, to: entry.status, reason: "ops: \(action.rawValue)", at: now)
            return entry
        }
    }
}
