import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// What the store offers planning (`plan` and `preview`): what to plan, the facts and stored entries
/// to plan from, and the writing of the diffs. The engine never sees a database connection.
extension AftersalesStore {
    /// Where a plan starts.
    public struct PlanningStart: Sendable, Hashable {
        /// The customers whose plan may have changed: those named by events after the planner's
        /// cursor (owners of a changed product too) and those whose wake-up time has come.
        public var customers: [String]
        /// The last event recorded: the cursor moves there once every customer is planned.
        public var lastEvent: Int64
        /// How many events are after the cursor.
        public var newEvents: Int64
        /// Whether the rules and planning settings differ from those of the last plan (then every customer is planned).
        public var rulesChanged = false
    }

    /// The customers a plan at `now` must plan, and the events it consumes. With `rules` (the
    /// fingerprint of the rules and planning settings, see ``recordPlannedRules(_:_:)``), every customer
    /// when it differs from the last plan's: mail already planned then follows the rules as they are now.
    public func dirtyCustomers(now: Date, rules: Int64? = nil) throws(AftersalesError) -> PlanningStart {
        try read { db in
            let planned = try Int64.fetchOne(db, sql: "SELECT value FROM planner_state WHERE name = 'rules'")
            let cursor = try Int64.fetchOne(db, sql: "SELECT value FROM planner_state WHERE name = 'cursor'") ?? 0
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0
            if let rules, planned != rules {
                // Every customer: the events after the cursor need not be read for their customers (on a
                // first plan, that is the whole event log, twice).
                let everyone = try String.fetchAll(db, sql: "SELECT id FROM customers ORDER BY id")
                // A database no plan kept a fingerprint in (new, or planned by an older version) is planned whole, silently.
                return PlanningStart(customers: everyone, lastEvent: last, newEvents: max(last - cursor, 0), rulesChanged: planned != nil)
            }
            return try Self.dirtyCustomers(db, now: now, cursor: cursor, last: last)
        }
    }

    static func dirtyCustomers(_ db: Database, now: Date, cursor: Int64, last: Int64) throws -> PlanningStart {
        var ids = Set(try String.fetchAll(db, sql: "SELECT DISTINCT customerID FROM events WHERE seq > ? AND customerID IS NOT NULL", arguments: [cursor]))
        let skus = try String.fetchAll(db, sql: "SELECT DISTINCT subject FROM events WHERE seq > ? AND kind IN ('product.updated', 'product.succeeded')", arguments: [cursor])
        for sku in skus {
            ids.formUnion(try String.fetchAll(db, sql: Self.ownersOfSKU, arguments: [sku]))
        }
        ids.formUnion(try String.fetchAll(db, sql: "SELECT customerID FROM planner_wake WHERE wakeAt <= ?", arguments: [now]))
        return PlanningStart(customers: ids.sorted(), lastEvent: last, newEvents: max(last - cursor, 0))
    }

    /// Keeps the fingerprint of the rules and settings a completed plan used (with the cursor it moved).
    static func recordPlannedRules(_ db: Database, _ rules: Int64) throws {
        try db.execute(sql: "INSERT INTO planner_state (name, value) VALUES ('rules', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                       arguments: [rules])
    }

    /// The customers who ordered the SKU in the one argument.
    static let ownersOfSKU = "SELECT DISTINCT o.customerID FROM orders o JOIN order_lines l ON l.orderID = o.id WHERE l.sku = ?"

    /// Marks the events up to `last` as planned (the cursor never moves back), and the plan as made
    /// with the `rules` fingerprint when given.
    public func advancePlannerCursor(to last: Int64, rules: Int64? = nil) throws(AftersalesError) {
        try write { db in
            try Self.advancePlannerCursor(db, to: last)
            if let rules { try Self.recordPlannedRules(db, rules) }
        }
    }

    static func advancePlannerCursor(_ db: Database, to last: Int64) throws {
        try db.execute(sql: "INSERT INTO planner_state (name, value) VALUES ('cursor', ?) ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                       arguments: [last])
    }

    /// The facts of these customers (those that exist, in the order given), in one read: what a
    /// planner plans a batch from. `products` keeps the products read across batches.
    func planningFacts(_ customers: [String], products: inout ProductMemo) throws(AftersalesError) -> [CustomerFacts] {
        var memo = products
        defer { products = memo }
        return try read { db in
            let facts = try Self.customerFacts(db, customers, products: &memo)
            return facts
        }
    }

    /// The customers a preview covers: the order's customer, the customer, or everyone (by id).
    /// An unknown order or customer is not found.
    public func previewCustomers(customerID: String?, orderID: String?) throws(AftersalesError) -> [String] {
        try read { db in
            if let orderID { return [try Self.order(db, orderID).customerID] }
            if let customerID { return [try Self.customer(db, customerID).id] }
            return try String.fetchAll(db, sql: "SELECT id FROM customers ORDER BY id")
        }
    }

    /// The facts of these customers with their stored outbox entries, in one read (`preview`'s input).
    func planningInputs(_ customers: [String], products: inout ProductMemo) throws(AftersalesError) -> [(facts: CustomerFacts, entries: [OutboxEntry])] {
        var memo = products
        defer { products = memo }
        return try read { db in
            let facts = try Self.customerFacts(db, customers, products: &memo)
            return zip(facts, try Self.outboxEntries(db, customerIDs: facts.map(\.customer.id))).map { ($0, $1) }
        }
    }

    /// One customer's diff ready to be written, made by ``prepare(_:)`` where the planner's workers work.
    public struct PreparedDiff: Sendable {
        var diff: OutboxDiff
        /// The row of each insert, in the order of the diff's inserts (made where the workers work: it is a third of encoding it).
        var rows: [StatementArguments]
    }

    /// Encodes what `diff` inserts: the part of writing a plan that needs no connection, done in parallel.
    public static func prepare(_ diff: OutboxDiff) throws(AftersalesError) -> PreparedDiff {
        var rows: [StatementArguments] = []
        for case .insert(let entry) in diff.changes {
            do { rows.append(StatementArguments(try entry.databaseValues)) } catch { throw .failure("cannot encode outbox entry \(entry.mail.key): \(error)") }
        }
        return PreparedDiff(diff: diff, rows: rows)
    }

    /// Plans a batch of customers into the outbox in one write transaction: their stored entries are
    /// read, `diffs` works out (on as many threads as it likes) what each customer's plan changes in
    /// them and hands each to `write`, on this thread, which writes it with the customer's wake-up time.
    /// With `cursor`, the planner's cursor moves there in the same transaction. Adds what was written to `changes`.
    public func planningBatch(_ customers: [String], cursor: Int64?, rules: Int64? = nil, now: Date, changes: inout PlanChanges,
                              diffs: @escaping (_ stored: [[OutboxEntry]], _ write: (PreparedDiff) throws -> Void) throws -> Void) throws(AftersalesError) {
        let before = changes
        changes = try write { db in
            var changes = before
            let stored = try Self.outboxEntries(db, customerIDs: customers)
            let at = now.storedValue
            try diffs(stored) { diff in
                try Self.apply(db, diff, now: now, at: at, changes: &changes)
                changes.customers += 1
            }
            if let cursor { try Self.advancePlannerCursor(db, to: cursor) }
            if let rules { try Self.recordPlannedRules(db, rules) }
            return changes
        }
    }

    /// Writes one customer's diff: inserts (`INSERT OR IGNORE`: a concurrent planner that got there
    /// first wins, nothing is doubled) with the first row of their history, moves, and cancellations
    /// through the state machine's transitions; then the customer's wake-up time.
    /// `at` is `now` as written, once for the batch.
    static func apply(_ db: Database, _ prepared: PreparedDiff, now: Date, at: DatabaseValue, changes: inout PlanChanges) throws {
        var rows = prepared.rows.makeIterator()
        // Looked up once per customer, not per row: the cache is keyed by the text of the query.
        let insert = try db.cachedStatement(sql: OutboxEntry.insertOrIgnore), history = try db.cachedStatement(sql: historySQL)
        for change in prepared.diff.changes {
            switch change {
            case .insert(let entry):
                guard let row = rows.next() else { continue }
                try insert.execute(arguments: row)
                if db.changesCount > 0 {
                    try history.execute(arguments: [entry.mail.key, at, nil, entry.status, entry.mail.reasons.first])
                    if entry.status == .held { changes.held += 1 } else { changes.planned += 1 }
                    changes.plannedByStream[entry.mail.stream.rawValue, default: 0] += 1
                }
            case .move(let entry, let transition):
                // The machine's transition first (its guard is the stored state), then the mail in the status it led to.
                if let transition { guard try apply(db, transition, key: entry.mail.key, now: now) else { continue } }
                if try replan(db, entry) { changes.moved += 1 }
            case .cancel(let entry, let transition):
                if try apply(db, transition, key: entry.mail.key, now: now) { changes.cancelled += 1 }
            case .revive(let entry, let transition):
                // The machine's transition, guarded as every other; then the plan's mail, in the status it led to.
                guard try apply(db, transition, key: entry.mail.key, now: now) else { continue }
                try replan(db, entry)
                changes.revived += 1
            }
        }
        changes.unchanged += prepared.diff.unchanged
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO planner_wake (customerID, wakeAt) VALUES (?, ?)")
            .execute(arguments: [prepared.diff.customerID, prepared.diff.wakeAt])
    }

    /// The columns of the planned mail: all but the key and what the outbox's own life writes.
    static let plannedColumns: Set<String> = [
        "rule", "stream", "audience", "customerID", "orderID", "subject", "occurrence", "triggeredAt", "nominalDue", "due", "deadline", "staleAt",
        "toAddresses", "ccAddresses", "locale", "timeZone", "template", "needsApproval", "reasons", "flags", "context", "updatedAt",
    ]
    static let replanSQL = "UPDATE outbox SET " + OutboxEntry.columns.filter(plannedColumns.contains).map { "\"\($0)\" = ?" }.joined(separator: ", ")
        + " WHERE key = ? AND status = ? AND attempts = ?"

    /// Writes the whole planned mail of a moved or revived `entry` (its template, approval and deadline
    /// too, as an insert writes them) if it still has the entry's status and attempts; returns whether it did.
    @discardableResult
    static func replan(_ db: Database, _ entry: OutboxEntry) throws -> Bool {
        let values = zip(OutboxEntry.columns, try entry.databaseValues).filter { plannedColumns.contains($0.0) }.map(\.1)
        try db.cachedStatement(sql: replanSQL).execute(arguments: StatementArguments(values + [entry.mail.key, entry.status, entry.attempts]))
        return db.changesCount > 0
    }
}
