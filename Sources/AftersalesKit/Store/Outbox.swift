import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

// The outbox as a GRDB record: an entry is its planned mail (`mail`) and the outbox's own columns.
// The columns are those of the `outbox` table, unchanged; the JSON columns are written as GRDB's
// Codable support writes them (sorted keys).
extension OutboxEntry: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outbox"

    public enum Columns {
        public static let key = Column("key")
        public static let customerID = Column("customerID")
        public static let orderID = Column("orderID")
        public static let status = Column("status")
        public static let due = Column("due")
    }

    /// Every column an entry is read from and written to, in the order of ``databaseValues`` and
    /// ``init(row:)``. (The table's `claimedBy` is the sender's alone: written by the claim, never read.)
    static let columns = [
        "key", "rule", "stream", "audience", "customerID", "orderID", "subject", "occurrence", "triggeredAt", "nominalDue", "due", "deadline",
        "staleAt", "toAddresses", "ccAddresses", "locale", "timeZone", "template", "needsApproval", "status", "reason", "reasons", "flags",
        "context", "createdAt", "updatedAt", "attempts", "nextAttemptAt", "sentAt", "messageID", "serverReply", "sha256",
        "cancelledByPlanner",
    ]

    /// The rows are read by position: GRDB's fast path for the planner (every customer's entries)
    /// and the sender (every batch), which read them by the thousand.
    public static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }

    /// `SELECT` of ``columns`` (as ``databaseSelection``), for the cached statements.
    static let selection = "SELECT " + columns.map { "\"\($0)\"" }.joined(separator: ", ") + " FROM outbox"

    /// An entry from a row of ``databaseSelection``'s columns, read by position.
    public init(row: Row) throws {
        var index = -1
        func next<Value: DatabaseValueConvertible & StatementColumnConvertible>() throws -> Value { index += 1; return try row.decode(atIndex: index) }
        func next<Value: DatabaseValueConvertible>() throws -> Value { index += 1; return try row.decode(atIndex: index) }
        func next() throws -> Date { index += 1; return try row.date(atIndex: index) }
        func next() throws -> Date? { index += 1; return try row.optionalDate(atIndex: index) }
        func json<Value: Decodable>() throws -> Value { try OutboxJSON.decoder.decode(Value.self, from: Data((next() as String).utf8)) }
        let key: String = try next(), rule: String = try next(), stream: MailStream = try next(), audience: Audience = try next()
        let customerID: String = try next(), orderID: String? = try next(), subject: String = try next(), occurrence: String = try next()
        let triggeredAt: Date = try next(), nominalDue: Date = try next(), due: Date = try next(), deadline: Date? = try next()
        let staleAt: Date? = try next(), to: [String] = try json(), cc: [String] = try json(), locale: String = try next()
        let timeZone: String = try next(), template: String = try next(), needsApproval: Bool = try next()
        let status: OutboxStatus = try next(), reason: String? = try next()
        let reasons: [String] = try json(), flags: [String] = try json(), context: [String: String] = try json()
        self.init(mail: PlannedMail(key: key, rule: rule, stream: stream, audience: audience, customerID: customerID, orderID: orderID,
                                    subject: subject, occurrence: occurrence, triggeredAt: triggeredAt, nominalDue: nominalDue, due: due,
                                    deadline: deadline, staleAt: staleAt, to: to, cc: cc, locale: locale, timeZone: timeZone, template: template,
                                    needsApproval: needsApproval, disposition: .send, reasons: reasons, flags: flags, context: context),
                  status: status, reason: reason, createdAt: try next(), updatedAt: try next(), attempts: try next(), nextAttemptAt: try next(),
                  sentAt: try next(), messageID: try next(), serverReply: try next(), sha256: try next(), cancelledByPlanner: try next())
    }

    /// The values of ``columns``, in order (worked out on the planner's workers for its inserts), as GRDB's
    /// `StatementArguments` takes them: a list of `DatabaseValue` went through its key-path map, 6.6% of a
    /// full plan's instructions (callgrind, bench row 3 at 4.1x sqlite3 against a target of 3x).
    var databaseValues: [(any DatabaseValueConvertible)?] {
        get throws {
            func json<Value: Encodable & Collection>(_ value: Value) throws -> String { try OutboxJSON.string(value) }
            // A mail's times are often the same instant (trigger, nominal and due; created and updated): written once.
            var last: (date: Date, value: DatabaseValue)?
            func date(_ value: Date?) -> DatabaseValue {
                guard let value else { return .null }
                if let last, last.date == value { return last.value }
                let text = value.storedValue
                last = (value, text)
                return text
            }
            return [
                mail.key, mail.rule, mail.stream, mail.audience, mail.customerID, mail.orderID, mail.subject, mail.occurrence,
                date(mail.triggeredAt), date(mail.nominalDue), date(mail.due), date(mail.deadline), date(mail.staleAt), try json(mail.to),
                try json(mail.cc), mail.locale, mail.timeZone, mail.template, mail.needsApproval, status, reason, try json(mail.reasons),
                try json(mail.flags), try json(mail.context), date(createdAt), date(updatedAt), attempts, date(nextAttemptAt), date(sentAt),
                messageID, serverReply, sha256, cancelledByPlanner,
            ]
        }
    }

    public func encode(to container: inout PersistenceContainer) throws {
        for (column, value) in zip(Self.columns, try databaseValues) { container[column] = value }
    }

    /// `INSERT OR IGNORE` of ``databaseValues``: a concurrent planner that got there first wins.
    static let insertOrIgnore = "INSERT OR IGNORE INTO outbox (" + columns.map { "\"\($0)\"" }.joined(separator: ", ") + ") VALUES ("
        + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
}

/// The outbox's JSON columns: one encoder and one decoder for every row (GRDB makes a JSONEncoder per
/// column of each row it encodes). The encoder is GRDB's own `databaseJSONEncoder`, made once, so
/// that a row reads the same whoever wrote it.
enum OutboxJSON {
    static let encoder = OutboxEntry.databaseJSONEncoder(for: "outbox")
    static let decoder = JSONDecoder()

    /// `value` as the text of a JSON column.
    static func string<Value: Encodable & Collection>(_ value: Value) throws -> String {
        // Most lists of a mail are empty (cc, flags): their text needs no encoder.
        if value.isEmpty { return value is [String: String] ? "{}" : "[]" }
        // A list of plain text (printable ASCII without `"`, `\` or `/`: addresses, most reasons) is written
        // as JSONEncoder writes it, without it: JSONEncoder was 6% of a full plan, half of it for such lists
        // (perf, bench row 3 at 3.07x sqlite3 against a target of 3x).
        if let list = value as? [String], list.allSatisfy(isPlain) { return "[\"" + list.joined(separator: "\",\"") + "\"]" }
        // So is a mail's context with plain keys (lowercase letters and `-`, which every sort orders alike) and
        // plain values, in the encoder's sorted order: JSONEncoder was 3.3% of a full plan's instructions for it (callgrind, as above).
        if let context = value as? [String: String], context.allSatisfy({ isKey($0.key) && isPlain($0.value) }) {
            return "{" + context.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Text that JSON writes between quotes as it is.
    static func isPlain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }
    }

    /// A key the context's fast path writes: lowercase ASCII letters and `-`.
    static func isKey(_ text: String) -> Bool {
        text.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "-") }
    }

    /// A JSON array of strings, as the one argument of ``chosen``.
    static func array(_ values: [String]) -> String {
        (try? String(decoding: encoder.encode(values), as: UTF8.self)) ?? "[]"
    }

    /// The values of the JSON array in the one argument: one statement for any number of keys.
    static let chosen = "IN (SELECT value FROM json_each(?))"
}

extension MailStream: DatabaseValueConvertible, StatementColumnConvertible {}
extension Audience: DatabaseValueConvertible, StatementColumnConvertible {}
extension OutboxStatus: DatabaseValueConvertible, StatementColumnConvertible {}

/// What one planning pass changed in the outbox.
public struct PlanChanges: Sendable, Hashable, Codable {
    public var customers = 0
    public var planned = 0
    public var held = 0
    public var moved = 0
    public var cancelled = 0
    /// Mail planning had cancelled and wants again (a reinstated order's), back to planned or held.
    public var revived = 0
    public var unchanged = 0
    /// Planned (or held) mails by stream.
    public var plannedByStream: [String: Int] = [:]
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
    // MARK: Applying the state machine

    /// Applies a transition of the state machine to the entry `key`, as every change of status is
    /// applied: only if the entry still has the status and attempts the transition was worked out
    /// from, with a history row and the suppressions it names. Returns whether it applied.
    static func apply(_ db: Database, _ transition: OutboxMachine.Transition, key: String, now: Date) throws -> Bool {
        let at = now.databaseValue
        var assignments = "status = ?, updatedAt = ?"
        var values: [DatabaseValue] = [transition.to.databaseValue, at]
        for field in transition.set {
            let (column, value): (String, DatabaseValue)
            switch field {
            case .reason(let reason): (column, value) = ("reason", reason.databaseValue)
            case .attempts(let attempts): (column, value) = ("attempts", attempts.databaseValue)
            case .nextAttemptAt(let date): (column, value) = ("nextAttemptAt", date.databaseValue)
            case .sentAt(let date): (column, value) = ("sentAt", date.databaseValue)
            case .serverReply(let reply): (column, value) = ("serverReply", reply.databaseValue)
            case .claimedBy(let run): (column, value) = ("claimedBy", run.databaseValue)
            case .sha256(let hash): (column, value) = ("sha256", hash.databaseValue)
            case .messageID(let id): (column, value) = ("messageID", id.databaseValue)
            case .due(let date): (column, value) = ("due", date.databaseValue)
            case .cancelledByPlanner(let flag): (column, value) = ("cancelledByPlanner", flag.databaseValue)
            }
            assignments += ", \(column) = ?"
            values.append(value)
        }
        values += [key.databaseValue, transition.from.databaseValue, transition.attempts.databaseValue]
        // A few shapes of statement in all, each compiled once per connection.
        try db.cachedStatement(sql: "UPDATE outbox SET \(assignments) WHERE key = ? AND status = ? AND attempts = ?")
            .execute(arguments: StatementArguments(values))
        guard db.changesCount == 1 else { return false }
        try history(db, key: key, from: transition.from, to: transition.to, reason: transition.history, at: at)
        for (address, why) in transition.suppress.sorted(by: { $0.key < $1.key }) {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO suppressions (address, reason, at) VALUES (?, ?, ?)")
                .execute(arguments: [address, why, now])
        }
        return true
    }

    /// The event applied to the entry `key` as it is now; a refusal is a conflict the user reads.
    static func apply(_ db: Database, _ event: OutboxMachine.Event, key: String, now: Date) throws -> OutboxEntry {
        guard let entry = try OutboxEntry.fetchOne(db, key: key) else { throw AftersalesError.notFound(entity: "outbox", id: key) }
        let transition: OutboxMachine.Transition
        do {
            transition = try OutboxMachine.transition(event, from: entry.state, now: now)
        } catch {
            throw AftersalesError.conflict(error.description)
        }
        _ = try apply(db, transition, key: key, now: now)
        guard let after = try OutboxEntry.fetchOne(db, key: key) else { throw AftersalesError.notFound(entity: "outbox", id: key) }
        return after
    }

    /// A row of the entry's history; `at` as written (a planner writes one time for all its rows).
    static func history(_ db: Database, key: String, from: OutboxStatus?, to: OutboxStatus, reason: String?, at: DatabaseValue) throws {
        try db.cachedStatement(sql: historySQL).execute(arguments: [key, at, from, to, reason])
    }

    /// The insert of one row of an entry's history: key, time, from and to status, reason.
    static let historySQL = "INSERT INTO outbox_history (key, at, fromStatus, toStatus, reason) VALUES (?, ?, ?, ?, ?)"

    // MARK: Queries

    /// The entries of each of these customers (each customer's in the order they were written), in one query:
    /// a query per customer was 2% of a full plan's instructions, on the writer's thread (callgrind, bench row 3).
    static func outboxEntries(_ db: Database, customerIDs: [String]) throws -> [[OutboxEntry]] {
        let statement = try db.cachedStatement(sql: OutboxEntry.selection + " WHERE customerID " + OutboxJSON.chosen)
        let found = Dictionary(grouping: try OutboxEntry.fetchAll(statement, arguments: [OutboxJSON.array(customerIDs)]), by: \.mail.customerID)
        return customerIDs.map { found[$0] ?? [] }
    }

    /// The entries with these keys, by key (the sender's read, once per batch: a cached statement for any number of keys).
    static func outboxEntries(_ db: Database, keys: [String]) throws -> [String: OutboxEntry] {
        let statement = try db.cachedStatement(sql: OutboxEntry.selection + " WHERE key " + OutboxJSON.chosen)
        return Dictionary(try OutboxEntry.fetchAll(statement, arguments: [OutboxJSON.array(keys)]).map { ($0.mail.key, $0) }) { first, _ in first }
    }

    /// The outbox entries with these keys, in the order given (unknown keys are left out).
    public func outbox(keys: [String]) throws(AftersalesError) -> [OutboxEntry] {
        try read { db in
            let found = try Self.outboxEntries(db, keys: keys)
            return keys.compactMap { found[$0] }
        }
    }

    /// The stored entries of one customer, as planning compares them with a fresh plan.
    public func outboxEntries(customerID: String) throws(AftersalesError) -> [OutboxEntry] {
        try read { db in try Self.outboxEntries(db, customerIDs: [customerID])[0] }
    }

    /// Outbox entries, by due time; optionally only one status, customer or order.
    public func outbox(status: OutboxStatus? = nil, customerID: String? = nil, orderID: String? = nil) throws(AftersalesError) -> [OutboxEntry] {
        try read { db in
            var request = OutboxEntry.all()
            if let status { request = request.filter(OutboxEntry.Columns.status == status) }
            if let customerID { request = request.filter(OutboxEntry.Columns.customerID == customerID) }
            if let orderID { request = request.filter(OutboxEntry.Columns.orderID == orderID) }
            return try request.order(OutboxEntry.Columns.due, OutboxEntry.Columns.key).fetchAll(db)
        }
    }

    /// How many outbox entries have `status` (counted by SQLite: a run ends by asking how many mails wait for a retry).
    public func outboxCount(status: OutboxStatus) throws(AftersalesError) -> Int {
        try read { db in try OutboxEntry.filter(OutboxEntry.Columns.status == status).fetchCount(db) }
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
            try OutboxTransition.filter(Column("key") == key).order(Column("id")).fetchAll(db)
        }
    }
}

/// One recorded change of an outbox entry's state (a row of `outbox_history`).
public struct OutboxTransition: Sendable, Hashable, Codable, FetchableRecord, TableRecord {
    public static let databaseTableName = "outbox_history"
    public static var databaseSelection: [any SQLSelectable] { [Column("at"), Column("fromStatus"), Column("toStatus"), Column("reason")] }

    public var at: Date
    public var from: OutboxStatus?
    public var to: OutboxStatus
    public var reason: String?

    private enum CodingKeys: String, CodingKey {
        case at, from = "fromStatus", to = "toStatus", reason
    }
}
