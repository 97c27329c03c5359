import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// A mail in the outbox: what was planned, its state and (once sent) the evidence.
public struct OutboxEntry: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outbox"

    public var key: String
    public var rule: String
    public var stream: MailStream
    public var audience: Audience
    public var customerID: String
    public var orderID: String?
    public var subject: String
    public var occurrence: String
    public var triggeredAt: Date
    public var nominalDue: Date
    public var due: Date
    public var deadline: Date?
    public var staleAt: Date?
    public var toAddresses: [String]
    public var ccAddresses: [String]
    public var locale: String
    public var timeZone: String
    public var template: String
    public var needsApproval: Bool
    public var status: OutboxStatus
    public var reason: String?
    public var reasons: [String]
    public var flags: [String]
    public var context: [String: String]
    public var createdAt: Date
    public var updatedAt: Date
    /// Delivery: attempts made, the next retry, and the evidence once sent.
    public var attempts: Int = 0
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    public var messageID: String?
    public var serverReply: String?
    public var sha256: String?

    public enum Columns {
        public static let key = Column("key")
        public static let customerID = Column("customerID")
        public static let orderID = Column("orderID")
        public static let status = Column("status")
        public static let due = Column("due")
    }

    init(_ mail: PlannedMail, status: OutboxStatus, now: Date) {
        key = mail.key
        rule = mail.rule
        stream = mail.stream
        audience = mail.audience
        customerID = mail.customerID
        orderID = mail.orderID
        subject = mail.subject
        occurrence = mail.occurrence
        triggeredAt = mail.triggeredAt
        nominalDue = mail.nominalDue
        due = mail.due
        deadline = mail.deadline
        staleAt = mail.staleAt
        toAddresses = mail.to
        ccAddresses = mail.cc
        locale = mail.locale
        timeZone = mail.timeZone
        template = mail.template
        needsApproval = mail.needsApproval
        self.status = status
        if case .cancel(let why) = mail.disposition { reason = why } else { reason = nil }
        reasons = mail.reasons
        flags = mail.flags
        context = mail.context
        createdAt = now
        updatedAt = now
    }

    private enum CodingKeys: String, CodingKey {
        case key, rule, stream, audience, customerID, orderID, subject, occurrence, triggeredAt, nominalDue, due, deadline, staleAt,
             toAddresses, ccAddresses, locale, timeZone, template, needsApproval, status, reason, reasons, flags, context, createdAt, updatedAt,
             attempts, nextAttemptAt, sentAt, messageID, serverReply, sha256
    }
}

extension MailStream: TextColumn {}
extension Audience: TextColumn {}
extension OutboxStatus: TextColumn {}

/// What one planning pass changed in the outbox.
public struct PlanChanges: Sendable, Hashable, Codable {
    public var customers = 0
    public var planned = 0
    public var held = 0
    public var moved = 0
    public var cancelled = 0
    public var unchanged = 0
    public init() {}
}

extension Schema {
    static func registerOutbox(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-outbox") { db in
            try db.create(table: "outbox") { t in
                t.primaryKey("key", .text)
                t.column("rule", .text).notNull()
                t.column("stream", .text).notNull()
                t.column("audience", .text).notNull()
                t.column("customerID", .text).notNull().indexed()
                t.column("orderID", .text).indexed()
                t.column("subject", .text).notNull()
                t.column("occurrence", .text).notNull()
                t.column("triggeredAt", .datetime).notNull()
                t.column("nominalDue", .datetime).notNull()
                t.column("due", .datetime).notNull()
                t.column("deadline", .datetime)
                t.column("staleAt", .datetime)
                t.column("toAddresses", .jsonText).notNull()
                t.column("ccAddresses", .jsonText).notNull()
                t.column("locale", .text).notNull()
                t.column("timeZone", .text).notNull()
                t.column("template", .text).notNull()
                t.column("needsApproval", .boolean).notNull()
                t.column("status", .text).notNull()
                t.column("reason", .text)
                t.column("reasons", .jsonText).notNull()
                t.column("flags", .jsonText).notNull()
                t.column("context", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(index: "outbox_status_due", on: "outbox", columns: ["status", "due"])
            try db.create(table: "outbox_history") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull().indexed()
                t.column("at", .datetime).notNull()
                t.column("fromStatus", .text)
                t.column("toStatus", .text).notNull()
                t.column("reason", .text)
            }
            try db.create(table: "planner_state") { t in
                t.primaryKey("name", .text)
                t.column("value", .integer).notNull()
            }
            try db.create(table: "planner_wake") { t in
                t.primaryKey("customerID", .text)
                t.column("wakeAt", .datetime).notNull().indexed()
            }
        }
        migrator.registerMigration("v3-sending") { db in
            try db.alter(table: "outbox") { t in
                t.add(column: "attempts", .integer).notNull().defaults(to: 0)
                t.add(column: "nextAttemptAt", .datetime)
                t.add(column: "claimedBy", .text)
                t.add(column: "sentAt", .datetime)
                t.add(column: "messageID", .text)
                t.add(column: "serverReply", .text)
                t.add(column: "sha256", .text)
                t.add(column: "eml", .blob)
            }
            try db.create(table: "suppressions") { t in
                t.primaryKey("address", .text)
                t.column("reason", .text).notNull()
                t.column("at", .datetime).notNull()
            }
        }
        // The archived bytes move to a table of their own. In the outbox row they made every row a
        // page of its own, so that each change of status (claimed, sent) copied the whole message
        // into the write-ahead log again; now only the claim writes it, once.
        migrator.registerMigration("v4-archive") { db in
            try db.create(table: "outbox_archive") { t in
                t.primaryKey("key", .text).references("outbox", onDelete: .cascade)
                t.column("eml", .blob).notNull()
            }
            try db.execute(sql: "INSERT INTO outbox_archive (key, eml) SELECT key, eml FROM outbox WHERE eml IS NOT NULL")
            try db.alter(table: "outbox") { t in t.drop(column: "eml") }
        }
    }
}

extension AftersalesStore {
    static func outboxEntries(_ db: Database, customerID: String) throws -> [OutboxEntry] {
        // A cached statement: the planner asks once per customer, and compiling the query each time
        // cost more than reading the rows.
        try OutboxEntry.fetchAll(fields: db.cachedStatement(sql: FactsSQL.outbox), arguments: [customerID])
    }
}

extension AftersalesStore.FactsSQL {
    static let outbox = "SELECT \(OutboxEntry.Field.selection("x")) FROM outbox x WHERE x.customerID = ?"
    static let outboxByKeys = "SELECT \(OutboxEntry.Field.selection("x")) FROM outbox x WHERE x.key \(chosen)"
}

extension AftersalesStore {
    static func existing(_ entries: [OutboxEntry]) -> [ExistingMail] {
        entries.map { ExistingMail(key: $0.key, rule: $0.rule, stream: $0.stream, pending: $0.status.isPending,
                                   sentAt: $0.status == .sent ? $0.updatedAt : nil) }
    }

    /// The customers whose plan may have changed: those named by events after the planner's
    /// cursor (owners of a changed product too) and those whose wake-up time has come.
    static func dirtyCustomers(_ db: Database, now: Date) throws -> (customers: [String], cursor: Int64) {
        let cursor = try Int64.fetchOne(db, sql: "SELECT value FROM planner_state WHERE name = 'cursor'") ?? 0
        let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0
        var ids = Set(try String.fetchAll(db, sql: "SELECT DISTINCT customerID FROM events WHERE seq > ? AND customerID IS NOT NULL", arguments: [cursor]))
        let skus = try String.fetchAll(db, sql: "SELECT DISTINCT subject FROM events WHERE seq > ? AND kind IN ('product.updated', 'product.succeeded')", arguments: [cursor])
        for sku in skus {
            ids.formUnion(try String.fetchAll(db, sql: """
                SELECT DISTINCT o.customerID FROM orders o JOIN order_lines l ON l.orderID = o.id WHERE l.sku = ?
                """, arguments: [sku]))
        }
        ids.formUnion(try String.fetchAll(db, sql: "SELECT customerID FROM planner_wake WHERE wakeAt <= ?", arguments: [now.stored]))
        return (ids.sorted(), last)
    }

    /// Marks the events up to `last` as planned (the cursor never moves back).
    static func advancePlannerCursor(_ db: Database, to last: Int64) throws {
        try db.execute(sql: "INSERT INTO planner_state (name, value) VALUES ('cursor', ?) ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                       arguments: [last])
    }

    /// What applying one customer's plan to its stored entries writes, in order. Worked out without the
    /// database by ``writes(plan:entries:now:)``, next to the plan on the planner's workers (encoding the
    /// new rows included), and written by ``apply(_:_:now:changes:)`` on the one writing connection.
    struct OutboxWrites: Sendable {
        enum Write: Sendable {
            /// New mail: its columns in ``OutboxEntry/written`` order, and the reason its history starts with.
            case insert(key: String, status: OutboxStatus, values: [DatabaseValue], reason: String?)
            /// Pending mail whose time, recipients or reasons changed.
            case move(OutboxEntry)
            /// Pending mail cancelled, with why.
            case cancel(OutboxEntry, reason: String)
        }

        var customerID: String
        var wakeAt: Date
        var writes: [Write] = []
        var unchanged = 0
    }

    /// Applies one customer's plan to the outbox: new mail is inserted (held when it needs approval),
    /// pending mail is moved or cancelled with its reason, and pending mail the rules no longer
    /// want is cancelled. Mail already sent, failed or cancelled is never touched.
    static func writes(plan: CustomerPlan, entries: [OutboxEntry], now: Date) throws -> OutboxWrites {
        var out = OutboxWrites(customerID: plan.customerID, wakeAt: plan.wakeAt)
        let stored = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0) })
        var wanted: Set<String> = []
        for mail in plan.mails {
            wanted.insert(mail.key)
            guard var entry = stored[mail.key] else {
                guard case .send = mail.disposition else { continue }
                let status: OutboxStatus = mail.needsApproval ? .held : .planned
                out.writes.append(.insert(key: mail.key, status: status, values: try OutboxEntry(mail, status: status, now: now).writtenValues,
                                          reason: mail.reasons.first))
                continue
            }
            guard entry.status.isPending else { out.unchanged += 1; continue }
            if case .cancel(let why) = mail.disposition {
                out.writes.append(.cancel(entry, reason: why))
            } else if entry.due != mail.due || entry.staleAt != mail.staleAt || entry.toAddresses != mail.to || entry.ccAddresses != mail.cc
                        || entry.reasons != mail.reasons || entry.flags != mail.flags || entry.locale != mail.locale {
                entry.due = mail.due
                entry.nominalDue = mail.nominalDue
                entry.staleAt = mail.staleAt
                entry.toAddresses = mail.to
                entry.ccAddresses = mail.cc
                entry.locale = mail.locale
                entry.reasons = mail.reasons
                entry.flags = mail.flags
                entry.context = mail.context
                entry.updatedAt = now
                out.writes.append(.move(entry))
            } else {
                out.unchanged += 1
            }
        }
        for entry in entries where entry.status.isPending && !wanted.contains(entry.key) {
            out.writes.append(.cancel(entry, reason: "no longer planned: the facts that triggered it changed"))
        }
        return out
    }

    /// Writes what ``writes(plan:entries:now:)`` worked out, and the customer's wake-up time.
    static func apply(_ db: Database, _ out: OutboxWrites, now: Date, changes: inout PlanChanges) throws {
        for write in out.writes {
            switch write {
            case .insert(let key, let status, let values, let reason):
                // INSERT OR IGNORE: a concurrent planner that got there first wins, nothing is doubled.
                try OutboxEntry.insertOrIgnore(db, values: values)
                if db.changesCount > 0 {
                    try history(db, key: key, from: nil, to: status, reason: reason, at: now)
                    if status == .held { changes.held += 1 } else { changes.planned += 1 }
                }
            case .move(let entry):
                try entry.update(db)
                changes.moved += 1
            case .cancel(var entry, let reason):
                try cancel(db, &entry, reason: reason, now: now)
                changes.cancelled += 1
            }
        }
        changes.unchanged += out.unchanged
        try db.run(cached: "INSERT OR REPLACE INTO planner_wake (customerID, wakeAt) VALUES (?, ?)",
                   [out.customerID.databaseValue, out.wakeAt.stored.databaseValue])
    }

    static func cancel(_ db: Database, _ entry: inout OutboxEntry, reason: String, now: Date) throws {
        let from = entry.status
        entry.status = .cancelled
        entry.reason = reason
        entry.updatedAt = now
        try entry.update(db)
        try history(db, key: entry.key, from: from, to: .cancelled, reason: reason, at: now)
    }

    static func history(_ db: Database, key: String, from: OutboxStatus?, to: OutboxStatus, reason: String?, at: Date) throws {
        try db.run(cached: "INSERT INTO outbox_history (key, at, fromStatus, toStatus, reason) VALUES (?, ?, ?, ?, ?)",
                   [key.databaseValue, at.stored.databaseValue, from?.rawValue.databaseValue ?? .null, to.rawValue.databaseValue, reason.databaseValue])
    }

    // MARK: Queries

    /// The outbox entries with these keys, in the order given (unknown keys are left out).
    public func outbox(keys: [String]) throws(AftersalesError) -> [OutboxEntry] {
        try read { db in
            let found = try Self.outboxEntries(db, keys: keys)
            return keys.compactMap { found[$0] }
        }
    }

    static func outboxEntries(_ db: Database, keys: [String]) throws -> [String: OutboxEntry] {
        // One cached statement for any number of keys (a JSON array), read by position: the sending
        // path asks for every batch it prepares.
        Dictionary(try OutboxEntry.fetchAll(fields: db.cachedStatement(sql: FactsSQL.outboxByKeys), arguments: [FlatJSON.encode(keys)])
            .map { ($0.key, $0) }) { first, _ in first }
    }

    /// Outbox entries, by due time; optionally only one status, customer or order.
    public func outbox(status: OutboxStatus? = nil, customerID: String? = nil, orderID: String? = nil) throws(AftersalesError) -> [OutboxEntry] {
        try read { db in
            var request = OutboxEntry.all()
            if let status { request = request.filter(OutboxEntry.Columns.status == status.rawValue) }
            if let customerID { request = request.filter(OutboxEntry.Columns.customerID == customerID) }
            if let orderID { request = request.filter(OutboxEntry.Columns.orderID == orderID) }
            return try request.order(OutboxEntry.Columns.due, OutboxEntry.Columns.key).fetchAll(db)
        }
    }

    /// How many outbox entries have `status` (counted by SQLite: a run ends by asking how many mails wait for a retry).
    public func outboxCount(status: OutboxStatus) throws(AftersalesError) -> Int {
        try read { db in try OutboxEntry.filter(OutboxEntry.Columns.status == status.rawValue).fetchCount(db) }
    }

    /// One outbox entry by key.
    public func outboxEntry(key: String) throws(AftersalesError) -> OutboxEntry {
        try read { db in
            guard let entry = try OutboxEntry.fetchOne(db, key: key) else { throw AftersalesError.notFound(entity: "outbox", id: key) }
            return entry
        }
    }

    /// The history of one outbox entry, oldest first.
    public func outboxHistory(key: String) throws(AftersalesError) -> [OutboxTransition] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT at, fromStatus, toStatus, reason FROM outbox_history WHERE key = ? ORDER BY id", arguments: [key]).map {
                OutboxTransition(at: $0["at"], from: ($0["fromStatus"] as String?).flatMap(OutboxStatus.init(rawValue:)),
                                 to: OutboxStatus(rawValue: $0["toStatus"]) ?? .planned, reason: $0["reason"])
            }
        }
    }
}

/// One recorded change of an outbox entry's state.
public struct OutboxTransition: Sendable, Hashable, Codable {
    public var at: Date
    public var from: OutboxStatus?
    public var to: OutboxStatus
    public var reason: String?
}
