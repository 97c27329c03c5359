import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// Where a received message came from, with its exact bytes (nil when it was not downloaded: too large).
public struct InboundSource: Sendable {
    public var mailbox: String
    public var uidValidity: Int64
    public var uid: Int64
    public var size: Int
    /// When the server received it (IMAP INTERNALDATE; nil: unknown, the fetch's now is used).
    public var receivedAt: Date?
    public var bytes: Data?

    public init(mailbox: String, uidValidity: Int64, uid: Int64, size: Int, receivedAt: Date?, bytes: Data?) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
        self.size = size
        self.receivedAt = receivedAt
        self.bytes = bytes
    }
}

/// What became of one received message.
public enum InboundDisposition: String, Sendable, Hashable, Codable {
    /// Classified and acted on: moved out of the mailbox (or flagged).
    case processed
    /// Not matched to any mail, order or customer (or not readable as what it looks like): left for ops.
    case unmatched
    /// Not downloaded (over `imap.max_bytes`): left for ops.
    case refused
    /// Its Message-ID was processed before (a copy): nothing done again.
    case duplicate
}

/// One received message as stored, and what was done with it.
public struct InboundOutcome: Sendable, Hashable, Codable {
    public var uid: Int64
    public var kind: InboundKind?
    public var disposition: InboundDisposition
    public var messageID: String?
    public var from: String?
    public var subject: String?
    public var orderID: String?
    public var customerID: String?
    /// The outbox entry it answers or bounces.
    public var outboxKey: String?
    /// The complaint it opened or, with `complaintJoined`, the open complaint it joined.
    public var complaintID: String?
    /// A complaint-keyword reply on an order whose complaint was still open: linked to it, none opened.
    public var complaintJoined = false
    /// What was done: "suppressed a@b (5.1.1)", "marked K bounced", "unsubscribed C", "opened complaint K-…".
    public var effects: [String]
    /// Why it was left for ops, or what was wrong with it.
    public var note: String?
    public var sha256: String?
}

/// A mail of an order's thread: sent by us or received.
public struct ThreadMessage: Sendable, Hashable, Encodable {
    /// `sent` or `received`.
    public var direction: String
    public var at: Date
    /// The outbox key (sent) or `inbound-<id>` (received).
    public var reference: String
    /// For sent mail its outbox status; for received mail its kind.
    public var kind: String
    public var subject: String
    public var from: String?
    public var messageID: String?
    public var sha256: String
    /// The exact bytes (not in JSON output).
    public var bytes: Data

    enum CodingKeys: String, CodingKey { case direction, at, reference, kind, subject, from, messageID, sha256 }
}

extension Schema {
    static func registerInbound(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-19-inbound") { db in
            // The highest UID read per mailbox and UIDVALIDITY: a fetch asks only for what is above it.
            try db.create(table: "imap_watermarks") { t in
                t.column("mailbox", .text).notNull()
                t.column("uidValidity", .integer).notNull()
                t.column("lastUID", .integer).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["mailbox", "uidValidity"])
            }
            // Every message read, with its exact bytes and their SHA-256; a Message-ID is processed once.
            try db.create(table: "inbound_messages") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("mailbox", .text).notNull()
                t.column("uidValidity", .integer).notNull()
                t.column("uid", .integer).notNull()
                t.column("messageID", .text).unique()
                t.column("receivedAt", .datetime).notNull()
                t.column("fetchedAt", .datetime).notNull()
                t.column("kind", .text)
                t.column("disposition", .text).notNull().indexed()
                t.column("fromAddress", .text)
                t.column("subject", .text)
                t.column("orderID", .text).indexed()
                t.column("customerID", .text)
                t.column("outboxKey", .text)
                t.column("complaintID", .text)
                t.column("effects", .jsonText).notNull()
                t.column("note", .text)
                t.column("size", .integer).notNull()
                t.column("sha256", .text)
                t.column("eml", .blob)
                t.uniqueKey(["mailbox", "uidValidity", "uid"])
            }
            // Soft bounces (4.x.x) per address: `bounce.soft_limit` of them within `bounce.soft_days` suppress it.
            try db.create(table: "soft_bounces") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("address", .text).notNull()
                t.column("at", .datetime).notNull()
                t.column("status", .text).notNull()
                t.column("outboxKey", .text)
                t.column("inboundID", .integer)
            }
            try db.create(index: "soft_bounces_address_at", on: "soft_bounces", columns: ["address", "at"])
        }
    }
}

extension AftersalesStore {
    /// The highest UID already read in `mailbox` with `uidValidity` (0: none).
    public func imapWatermark(mailbox: String, uidValidity: Int64) throws(AftersalesError) -> Int64 {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT lastUID FROM imap_watermarks WHERE mailbox = ? AND uidValidity = ?", arguments: [mailbox, uidValidity]) ?? 0
        }
    }

    /// The received messages left for ops (unmatched or refused), oldest first.
    public func inboundForOps() throws(AftersalesError) -> [InboundOutcome] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM inbound_messages WHERE disposition IN ('unmatched', 'refused') ORDER BY id").map(Self.outcome)
        }
    }

    static func outcome(_ row: Row) throws -> InboundOutcome {
        let effects = (try? JSONDecoder().decode([String].self, from: Data((row["effects"] as String? ?? "[]").utf8))) ?? []
        return InboundOutcome(uid: row["uid"], kind: (row["kind"] as String?).flatMap(InboundKind.init(rawValue:)),
                              disposition: InboundDisposition(rawValue: row["disposition"]) ?? .unmatched, messageID: row["messageID"],
                              from: row["fromAddress"], subject: row["subject"], orderID: row["orderID"], customerID: row["customerID"],
                              outboxKey: row["outboxKey"], complaintID: row["complaintID"], effects: effects, note: row["note"], sha256: row["sha256"])
    }

    /// Records one received message and its effects in one transaction, and moves the mailbox's
    /// watermark past it: a bounce suppresses (5.x.x, or enough 4.x.x) and marks the mail bounced, a
    /// spam report unsubscribes from marketing, a reply joins its order's thread and a complaint
    /// keyword opens a complaint. Each effect is the same fact the commands record.
    public func recordInbound(_ source: InboundSource, _ classification: InboundClassification?, bounce policy: Configuration.Bounce,
                              now: Date) throws(AftersalesError) -> InboundOutcome {
        let received = min(source.receivedAt ?? now, now)
        let sha = source.bytes.map(Workspace.evidenceHash)
        return try write { db in
            var outcome = InboundOutcome(uid: source.uid, kind: classification?.kind, disposition: .unmatched, messageID: classification?.messageID,
                                         from: classification?.from, subject: classification?.subject, effects: [], sha256: sha)
            if let id = classification?.messageID,
               try Bool.fetchOne(db, sql: "SELECT 1 FROM inbound_messages WHERE messageID = ?", arguments: [id]) == true {
                outcome.disposition = .duplicate
                outcome.note = "Message-ID <\(id)> was processed before"
                try Self.watermark(db, source, now: now)
                return outcome
            }
            if let classification {
                try Self.act(db, classification, received: received, sha: sha ?? "", policy: policy, now: now, outcome: &outcome)
            } else {
                outcome.disposition = .refused
                outcome.note = "\(source.size) bytes, over imap.max_bytes; not downloaded, left in the mailbox"
            }
            try db.execute(sql: """
                INSERT INTO inbound_messages (mailbox, uidValidity, uid, messageID, receivedAt, fetchedAt, kind, disposition, fromAddress, subject,
                  orderID, customerID, outboxKey, complaintID, effects, note, size, sha256, eml)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (mailbox, uidValidity, uid) DO NOTHING
                """, arguments: [source.mailbox, source.uidValidity, source.uid, outcome.disposition == .duplicate ? nil : outcome.messageID,
                                 received, now, outcome.kind?.rawValue, outcome.disposition.rawValue, outcome.from, outcome.subject,
                                 outcome.orderID, outcome.customerID, outcome.outboxKey, outcome.complaintID,
                                 OutboxJSON.array(outcome.effects), outcome.note, source.size, sha, source.bytes])
            try Self.watermark(db, source, now: now)
            return outcome
        }
    }

    static func watermark(_ db: Database, _ source: InboundSource, now: Date) throws {
        try db.execute(sql: """
            INSERT INTO imap_watermarks (mailbox, uidValidity, lastUID, updatedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT (mailbox, uidValidity) DO UPDATE SET lastUID = max(lastUID, excluded.lastUID), updatedAt = excluded.updatedAt
            """, arguments: [source.mailbox, source.uidValidity, source.uid, now])
    }

    /// The first of our mails the message names, and the order it is about.
    static func match(_ db: Database, _ c: InboundClassification) throws -> (entry: OutboxEntry?, orderID: String?) {
        for key in c.ourKeys {
            if let entry = try OutboxEntry.fetchOne(db, key: key) { return (entry, entry.mail.orderID) }
        }
        // A Message-ID we archived under another domain setting, or a mail sent before a domain change.
        for id in c.references {
            if let key = try String.fetchOne(db, sql: "SELECT key FROM outbox WHERE messageID = ?", arguments: ["<\(id)>"]),
               let entry = try OutboxEntry.fetchOne(db, key: key) { return (entry, entry.mail.orderID) }
        }
        for order in c.threadOrders where try Order.exists(db, key: order) { return (nil, order) }
        return (nil, nil)
    }

    static func act(_ db: Database, _ c: InboundClassification, received: Date, sha: String, policy: Configuration.Bounce, now: Date,
                    outcome: inout InboundOutcome) throws {
        let (entry, orderID) = try match(db, c)
        outcome.outboxKey = entry?.mail.key
        outcome.orderID = orderID
        outcome.customerID = entry?.customerID
        if outcome.customerID == nil, let orderID { outcome.customerID = try String.fetchOne(db, sql: "SELECT customerID FROM orders WHERE id = ?", arguments: [orderID]) }
        outcome.note = c.note ?? (c.problems.isEmpty ? nil : c.problems.joined(separator: "; "))
        switch c.kind {
        case .unrecognised:
            outcome.disposition = .unmatched
        case .autoReply:
            outcome.disposition = .processed
            outcome.effects.append("ignored: \(c.autoReplyReason ?? "automatic reply")")
        case .bounce:
            guard let entry else {
                outcome.disposition = .unmatched
                outcome.note = "a bounce for " + c.recipients.map(\.address).joined(separator: ", ") + " that names none of our mails; left for ops"
                return
            }
            let addresses = Set((entry.mail.to + entry.mail.cc).map { $0.lowercased() })
            var matched = false
            var state = entry.state
            for recipient in c.recipients {
                guard addresses.contains(recipient.address) else {
                    outcome.effects.append("\(recipient.address): never mailed by \(entry.mail.key); left for ops")
                    continue
                }
                matched = true
                let effect: Configuration.BounceEffect = recipient.action == "delivered" || recipient.action == "relayed" || recipient.action == "expanded"
                    ? .ignore : policy.effect(of: recipient.status)
                switch effect {
                case .hard:
                    let isTo = entry.mail.to.contains { $0.lowercased() == recipient.address }
                    if isTo, let transition = try? OutboxMachine.transition(.bounced(address: recipient.address, status: recipient.status, diagnostic: recipient.diagnostic),
                                                                          from: state, now: now),
                       try apply(db, transition, key: entry.mail.key, now: now) {
                        state.status = .bounced
                        outcome.effects.append("marked \(entry.mail.key) bounced (\(recipient.status))")
                    } else {
                        try suppress(db, recipient.address, "bounce \(recipient.status)" + (recipient.diagnostic.map { " \($0)" } ?? "") + " (mail \(entry.mail.key))", now: now)
                    }
                    outcome.effects.append("suppressed \(recipient.address) (\(recipient.status))")
                case .soft:
                    try db.execute(sql: "INSERT INTO soft_bounces (address, at, status, outboxKey) VALUES (?, ?, ?, ?)",
                                   arguments: [recipient.address, received, recipient.status, entry.mail.key])
                    let since = received.addingTimeInterval(-Double(policy.softDays) * 86400)
                    let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM soft_bounces WHERE address = ? AND at >= ?", arguments: [recipient.address, since]) ?? 0
                    outcome.effects.append("soft bounce \(count) of \(policy.softLimit) for \(recipient.address) (\(recipient.status))")
                    if count >= policy.softLimit {
                        try suppress(db, recipient.address, "\(count) soft bounces within \(policy.softDays) days, last \(recipient.status) (mail \(entry.mail.key))", now: now)
                        outcome.effects.append("suppressed \(recipient.address) (\(count) soft bounces)")
                    }
                case .ignore:
                    outcome.effects.append("\(recipient.address): \(recipient.action) \(recipient.status), recorded only")
                }
            }
            outcome.disposition = matched ? .processed : .unmatched
        case .spamReport:
            var customerID = entry?.customerID
            if customerID == nil, let address = c.spamReport?.originalRecipient {
                customerID = try String.fetchOne(db, sql: "SELECT id FROM customers WHERE lower(email) = ? ORDER BY id LIMIT 1", arguments: [address])
            }
            guard let customerID else {
                outcome.disposition = .unmatched
                outcome.note = "a spam report that names none of our mails or customers; left for ops"
                return
            }
            outcome.customerID = customerID
            let reason = "spam report (ARF \(c.spamReport?.feedbackType ?? "abuse")): " + (c.spamReport?.report ?? "")
            _ = try unsubscribe(db, customerID: customerID, at: received, now: now, reason: reason)
            outcome.effects.append("unsubscribed \(customerID) from marketing")
            outcome.disposition = .processed
        case .reply:
            var order = orderID
            if order == nil, let from = c.from {
                // A reply without our ids: the sender is a customer's address and the subject names one of their orders.
                let customers = try String.fetchAll(db, sql: "SELECT id FROM customers WHERE lower(email) = ?1 OR EXISTS (SELECT 1 FROM json_each(cc) WHERE lower(value) = ?1)",
                                                    arguments: [from])
                if !customers.isEmpty {
                    let orders = try Row.fetchAll(db, sql: "SELECT id, customerID FROM orders WHERE customerID IN (SELECT value FROM json_each(?)) ORDER BY length(id) DESC",
                                                  arguments: [OutboxJSON.array(customers)])
                    if let hit = orders.first(where: { Self.mentions(c.subject, $0["id"]) }) {
                        order = hit["id"]
                        outcome.customerID = hit["customerID"]
                    }
                }
            }
            guard let order else {
                outcome.disposition = .unmatched
                outcome.note = "a reply that names none of our mails or orders; left for ops"
                return
            }
            outcome.orderID = order
            outcome.disposition = .processed
            outcome.effects.append("added to the thread of order \(order)")
            if let keyword = c.complaintKeyword {
                // The order's complaint still open (not resolved): the reply joins it, with no second complaint or acknowledgement.
                if let open = try String.fetchOne(db, sql: "SELECT id FROM complaints WHERE orderID = ? AND resolvedAt IS NULL ORDER BY openedAt DESC, id DESC LIMIT 1",
                                                  arguments: [order]) {
                    outcome.complaintID = open
                    outcome.complaintJoined = true
                    outcome.effects.append("joined open complaint \(open) (keyword \"\(keyword)\")")
                    // In the complaint's history: the buyer wrote again, and what they wrote.
                    let customer = try String.fetchOne(db, sql: "SELECT customerID FROM orders WHERE id = ?", arguments: [order])
                    try Self.log(db, .complaintReplied, subject: open, customerID: customer, orderID: order, at: received, now: now,
                                 payload: ComplaintReply(complaint: open, keyword: keyword, text: String(c.newText.prefix(2_000)), sha256: sha))
                    return
                }
                let stored = try Order.withLines.filter(key: order).fetchOne(db)
                let at = max(received, stored?.placedAt ?? received)
                let id = "K-MAIL-" + sha.prefix(10)
                let text = String(c.newText.prefix(20_000))
                if try Complaint.fetchOne(db, key: id) == nil, !text.isEmpty {
                    _ = try openComplaint(db, Complaint(id: id, orderID: order, category: .other, text: text, openedAt: at, source: .email), now: now)
                    outcome.complaintID = id
                    outcome.effects.append("opened complaint \(id) (keyword \"\(keyword)\", source email)")
                }
            }
        }
    }

    /// What the event log keeps of a reply that joined an open complaint (`complaint.replied`).
    struct ComplaintReply: Encodable {
        var complaint: String
        var keyword: String
        /// The reply's new text (without the quoted mail), at most 2,000 characters.
        var text: String
        /// SHA-256 of the message as received (its bytes are kept with the inbound message).
        var sha256: String
    }

    /// Whether `subject` names `orderID` as a word of its own.
    static func mentions(_ subject: String, _ orderID: String) -> Bool {
        var rest = Substring(subject)
        while let range = rest.range(of: orderID, options: .caseInsensitive) {
            let before = range.lowerBound == subject.startIndex ? nil : subject[subject.index(before: range.lowerBound)]
            let after = range.upperBound == subject.endIndex ? nil : subject[range.upperBound]
            if !(before?.isLetter ?? false || before?.isNumber ?? false), !(after?.isLetter ?? false || after?.isNumber ?? false) { return true }
            rest = subject[range.upperBound...]
        }
        return false
    }

    static func suppress(_ db: Database, _ address: String, _ reason: String, now: Date) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO suppressions (address, reason, at) VALUES (?, ?, ?)", arguments: [address.lowercased(), reason, now])
    }

    // MARK: The order thread

    /// Every mail sent for the order (with its archived bytes) and every message received about it, in time order.
    public func orderThread(orderID: String) throws(AftersalesError) -> [ThreadMessage] {
        try read { db in
            _ = try Self.order(db, orderID)
            var out: [ThreadMessage] = []
            let sent = try Row.fetchAll(db, sql: """
                SELECT o.key, o.status, o.sentAt, o.updatedAt, o.messageID, o.sha256, a.eml FROM outbox o JOIN outbox_archive a ON a.key = o.key
                WHERE o.orderID = ? AND o.status IN ('sent', 'bounced', 'in-doubt')
                """, arguments: [orderID])
            for row in sent {
                let bytes: Data = row["eml"]
                let headers = ReceivedPart(message: Array(bytes.prefix(16 * 1024)))
                out.append(ThreadMessage(direction: "sent", at: row["sentAt"] ?? row["updatedAt"], reference: row["key"], kind: row["status"],
                                         subject: headers.decodedField("subject") ?? "", from: headers.field("from").flatMap(MIMEText.address),
                                         messageID: row["messageID"], sha256: row["sha256"] ?? "", bytes: bytes))
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM inbound_messages WHERE orderID = ? AND eml IS NOT NULL", arguments: [orderID]) {
                let id: Int64 = row["id"]
                out.append(ThreadMessage(direction: "received", at: row["receivedAt"], reference: "inbound-\(id)", kind: row["kind"] ?? "",
                                         subject: row["subject"] ?? "", from: row["fromAddress"], messageID: (row["messageID"] as String?).map { "<\($0)>" },
                                         sha256: row["sha256"] ?? "", bytes: row["eml"]))
            }
            return out.sorted { ($0.at, $0.reference) < ($1.at, $1.reference) }
        }
    }
}
