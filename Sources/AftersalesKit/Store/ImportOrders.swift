import AftersalesDomain
import Foundation
import GRDB

/// Importing orders in bulk (issue 17, second round): a chunk of a file's orders is diffed against the
/// stored orders read in two queries, every order is checked whole before anything of it is written (so
/// no savepoint per row), and only the changes are written, through GRDB records.
/// The checks of a new order, its completion and its cancellation are those of ``addOrder(id:customerID:lines:currency:at:now:)``,
/// ``completeOrder(id:at:now:)`` and ``cancelOrder(id:at:now:)`` (``placing(id:customerID:lines:currency:at:now:checkingCurrency:)``,
/// ``completing(_:at:)``, ``cancelling(_:at:)``); the event log's rows are those of ``addOrder(id:customerID:lines:currency:at:now:)``.
extension AftersalesStore {
    /// What importing one order does, worked out in memory before any of it is written.
    private struct OrderChange {
        var order: Order
        var outcome: ImportOutcome
        /// The order's row is new (inserted), changed (updated) or left.
        var insert = false
        var update = false
        /// Its lines are rewritten (a new order's are inserted).
        var lines = false
        /// The event log's entries, in order: kind, when, the order as the fact left it.
        var events: [(EventKind, Date, Order)] = []
    }

    /// Upserts the orders of a chunk of a file (each id at most once), in the import's transaction: each
    /// result is the order's outcome, or the error that refused it (nothing of that order is written).
    /// A new order is placed (then completed or cancelled when the file says so); a stored one gets the
    /// file's customer, lines, currency and placing time (`order.updated`) and its completion; the file's
    /// `cancelled` cancels it (`order.cancelled`) or, for a cancelled order, reinstates it (`order.reinstated`).
    func upsertOrders(_ imported: [ImportedOrder], now: Date) throws(AftersalesError) -> [Result<ImportOutcome, AftersalesError>] {
        guard !imported.isEmpty else { return [] }
        return try write { db in
            // The chunk's keys go to four cached statements as one JSON array each: GRDB's query interface
            // built the SQL of `IN (?, ?, …)` anew for every chunk (6% of a re-import, perf, release).
            let ids = try OutboxJSON.string(imported.map(\.id))
            let stored = Dictionary(
                try Order.fetchAll(db, SQLRequest<Order>(sql: Self.chunkOrders, arguments: [ids], cached: true),
                                   lines: SQLRequest<OrderLineRecord>(sql: Self.chunkLines, arguments: [ids], cached: true)).map { ($0.id, $0) },
                uniquingKeysWith: { first, _ in first })
            let customerIDs = try OutboxJSON.string(Array(Set(imported.map(\.customerID))))
            let customers = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM customers WHERE id \(OutboxJSON.chosen)"), arguments: [customerIDs]))
            let skus = try OutboxJSON.string(Array(Set(imported.flatMap { $0.lines.map(\.sku) })))
            let products = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT sku FROM products WHERE sku \(OutboxJSON.chosen)"), arguments: [skus]))
            var currencies: [String: String] = [:]
            var results: [Result<ImportOutcome, AftersalesError>] = []
            results.reserveCapacity(imported.count)
            for order in imported {
                let change: OrderChange
                do throws(AftersalesError) {
                    change = try Self.change(order, stored: stored[order.id], customers: customers, products: products, currencies: &currencies, now: now)
                } catch {
                    results.append(.failure(error))
                    continue
                }
                // A database error here is not the row's fault: it rolls the chunk back, and the import fails.
                try Self.write(change, db, now: now)
                results.append(.success(change.outcome))
            }
            return results
        }
    }

    /// The stored orders and lines of a chunk's ids (a JSON array), in the columns their `init(row:)` reads by position.
    private static let chunkOrders = "SELECT " + Order.selected.map { "\"\($0.name)\"" }.joined(separator: ", ")
        + " FROM orders WHERE id " + OutboxJSON.chosen
    private static let chunkLines = "SELECT " + OrderLineRecord.selected.map { "\"\($0.name)\"" }.joined(separator: ", ")
        + " FROM order_lines WHERE orderID " + OutboxJSON.chosen + " ORDER BY orderID, position"

    /// Upserts one order (see ``upsertOrders(_:now:)``).
    public func upsertOrder(_ imported: ImportedOrder, now: Date) throws(AftersalesError) -> ImportOutcome {
        try upsertOrders([imported], now: now)[0].get()
    }

    /// The change importing `imported` makes to the order `stored` (nil: not stored yet), or the refusal.
    private static func change(_ imported: ImportedOrder, stored: Order?, customers: Set<String>, products: Set<String>,
                               currencies: inout [String: String], now: Date) throws(AftersalesError) -> OrderChange {
        let id = imported.id
        func currency(_ code: String) throws(AftersalesError) -> String {
            if let known = currencies[code] { return known }
            let checked = try checkedCurrency(code)
            if currencies.count < 1000 { currencies[code] = checked }
            return checked
        }
        func references(_ order: Order) throws(AftersalesError) {
            guard customers.contains(order.customerID) else { throw .notFound(entity: "customer", id: order.customerID) }
            for line in order.lines where !products.contains(line.sku) { throw .notFound(entity: "product", id: line.sku) }
        }
        var change: OrderChange
        if let stored {
            let code = try imported.currency.map { (code) throws(AftersalesError) in try currency(code) }
            let wanted = Order(id: id, customerID: imported.customerID, lines: imported.lines, currency: code ?? stored.currency,
                               placedAt: imported.placedAt ?? stored.placedAt, completedAt: stored.completedAt, cancelledAt: stored.cancelledAt)
            change = OrderChange(order: stored, outcome: .unchanged)
            if wanted != stored {
                try notFuture(wanted.placedAt, now)
                try references(wanted)
                change.lines = wanted.lines != stored.lines
                change.update = true
                change.order = wanted
                change.outcome = .updated
                change.events.append((.orderUpdated, now, wanted))
            }
        } else {
            let order = try placing(id: id, customerID: imported.customerID, lines: imported.lines, currency: imported.currency ?? "USD",
                                    at: imported.placedAt ?? now, now: now, checkingCurrency: currency)
            try references(order)
            change = OrderChange(order: order, outcome: .new, insert: true, lines: true, events: [(.orderPlaced, order.placedAt, order)])
        }
        func changed() {
            if !change.insert { change.update = true }
            if change.outcome == .unchanged { change.outcome = .updated }
        }
        // A cancelled order the file says is not cancelled is reinstated first, so that it can then be completed.
        if imported.cancelled == false, change.order.cancelledAt != nil {
            change.order.cancelledAt = nil
            change.events.append((.orderReinstated, now, change.order))
            changed()
        }
        if let completed = imported.completedAt {
            if let done = change.order.completedAt {
                if done != completed {
                    throw .conflict("order \"\(id)\" was completed at \(Timestamp.utc(done)); the file says \(Timestamp.utc(completed))")
                }
            } else {
                do throws(AftersalesError) {
                    try notFuture(completed, now)
                    change.order = try completing(change.order, at: completed)
                } catch {
                    // The refusal is about the completion time, not the placing time.
                    if case .invalid(var input) = error, input.field == "at" { input.field = "completed-at"; throw .invalid(input) }
                    throw error
                }
                change.events.append((.orderCompleted, completed, change.order))
                changed()
            }
        }
        if imported.cancelled == true, change.order.cancelledAt == nil {
            change.order = try cancelling(change.order, at: now)
            change.events.append((.orderCancelled, now, change.order))
            changed()
        }
        return change
    }

    /// Writes a change worked out by ``change(_:stored:customers:products:currencies:now:)``, through the
    /// records and the event log's ``log(_:_:subject:customerID:orderID:at:now:payload:)``, as the single-order commands write.
    private static func write(_ change: OrderChange, _ db: Database, now: Date) throws {
        let order = change.order
        if change.insert {
            try order.insertWithLines(db)
        } else if change.update {
            try order.update(db)
            if change.lines { try order.replaceLines(db) }
        }
        for (kind, at, payload) in change.events {
            try log(db, kind, subject: order.id, customerID: payload.customerID, orderID: order.id, at: at, now: now, payload: payload)
        }
    }
}
