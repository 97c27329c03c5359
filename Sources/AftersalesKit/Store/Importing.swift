import AftersalesDomain
import Foundation
import GRDB

/// An order as an import file gives it: the lines of the rows that share its id.
public struct ImportedOrder: Sendable, Equatable {
    public var id: String
    public var customerID: String
    public var lines: [OrderLine]
    /// nil: USD for a new order, unchanged for a stored one.
    public var currency: String?
    /// nil: now for a new order, unchanged for a stored one.
    public var placedAt: Date?
    public var completedAt: Date?
    /// nil: unchanged.
    public var cancelled: Bool?

    public init(id: String, customerID: String, lines: [OrderLine], currency: String? = nil, placedAt: Date? = nil,
                completedAt: Date? = nil, cancelled: Bool? = nil) {
        self.id = id
        self.customerID = customerID
        self.lines = lines
        self.currency = currency
        self.placedAt = placedAt
        self.completedAt = completedAt
        self.cancelled = cancelled
    }
}

/// A shipment as an import file gives it; nil fields are left as stored (or defaulted for a new one).
public struct ImportedShipment: Sendable, Equatable {
    public var id: String
    public var orderID: String
    public var carrier: String?
    public var tracking: String?
    public var trackingURL: String?
    public var eta: Date?
    public var mode: ShipmentMode?
    public var port: String?
    public var dispatchedAt: Date?
    public var documents: [String]?

    public init(id: String, orderID: String, carrier: String? = nil, tracking: String? = nil, trackingURL: String? = nil, eta: Date? = nil,
                mode: ShipmentMode? = nil, port: String? = nil, dispatchedAt: Date? = nil, documents: [String]? = nil) {
        self.id = id
        self.orderID = orderID
        self.carrier = carrier
        self.tracking = tracking
        self.trackingURL = trackingURL
        self.eta = eta
        self.mode = mode
        self.port = port
        self.dispatchedAt = dispatchedAt
        self.documents = documents
    }
}

/// The result of an import's transaction, kept when the transaction is rolled back on purpose.
private final class ImportTransactionBox<T>: @unchecked Sendable {
    var value: T?
    var rolledBack = false
}

/// Importing facts: upserts by external id through the same recording methods (validation, entity,
/// event log) as the commands. An identical row records nothing.
extension AftersalesStore {
    /// The cause recorded when an import moves a shipment's ETA (the delay notice quotes it).
    public static let importedETACause = "the carrier revised the ETA"

    /// Runs `body` in one transaction of its own and commits only when `commit` says so of its result
    /// (a dry run, or a refused file, rolls everything back). A refused row inside rolls back only itself.
    public func importing<T>(commit: @escaping (T) -> Bool, _ body: @escaping (AftersalesStore) throws -> T) throws(AftersalesError) -> T {
        let box = ImportTransactionBox<T>()
        do throws(AftersalesError) {
            return try batch { store in
                let value = try body(store)
                box.value = value
                if !commit(value) {
                    box.rolledBack = true
                    throw AftersalesError.conflict("import rolled back")
                }
                return value
            }
        } catch {
            if box.rolledBack, let value = box.value { return value }
            throw error
        }
    }

    /// Runs `body`, whose store calls all belong to one row, in a savepoint of the import's transaction:
    /// a row refused halfway (an order placed, then its completion refused) leaves nothing behind.
    /// Only inside ``importing(commit:_:)``.
    func row<T>(_ body: @escaping () throws -> T) throws -> T {
        let thrown = ImportTransactionBox<any Error>()
        do {
            return try write { _ in
                do { return try body() } catch {
                    thrown.value = error
                    throw error
                }
            }
        } catch {
            throw thrown.value ?? error
        }
    }

    public func upsertCustomer(id: String, _ changes: CustomerChanges, now: Date) throws(AftersalesError) -> ImportOutcome {
        guard let existing = try read({ db in try Customer.fetchOne(db, key: id) }) else {
            _ = try addCustomer(id: id, changes, now: now)
            return .new
        }
        let updated = try AftersalesError.checked { () throws(InvalidInput) in try changes.apply(to: existing, at: now) }
        if updated == existing { return .unchanged }
        _ = try updateCustomer(id: id, changes, now: now)
        return .updated
    }

    public func upsertProduct(sku: String, _ changes: ProductChanges, now: Date) throws(AftersalesError) -> ImportOutcome {
        guard let existing = try read({ db in try Product.fetchOne(db, key: sku) }) else {
            _ = try addProduct(sku: sku, changes, now: now)
            return .new
        }
        let updated = try AftersalesError.checked { () throws(InvalidInput) in try changes.apply(to: existing) }
        if updated == existing { return .unchanged }
        _ = try updateProduct(sku: sku, changes, now: now)
        return .updated
    }

    /// A new shipment is dispatched; a stored one gets the file's fields (`shipment.updated`), and a
    /// later ETA is recorded as a delay (``importedETACause``) so that the buyer is told; an earlier
    /// one is taken as the file's stale copy and left.
    public func upsertShipment(_ imported: ImportedShipment, now: Date) throws(AftersalesError) -> ImportOutcome {
        let id = imported.id
        guard let (stored, events) = try read({ db -> (Shipment, [ShipmentEvent])? in
            guard let shipment = try Shipment.fetchOne(db, key: id) else { return nil }
            return (shipment, try ShipmentEvent.filter(ShipmentEvent.Columns.shipmentID == id).order(ShipmentEvent.Columns.at).fetchAll(db))
        }) else {
            func need<T>(_ value: T?, _ field: String) throws(AftersalesError) -> T {
                guard let value else { throw .invalid(InvalidInput(field: field, value: "", problem: "is required for a new shipment")) }
                return value
            }
            let draft = Shipment(id: id, orderID: imported.orderID, carrier: try need(imported.carrier, "carrier"),
                                 trackingNumber: try need(imported.tracking, "tracking"), trackingURL: imported.trackingURL,
                                 mode: imported.mode ?? .sea, dispatchedAt: imported.dispatchedAt ?? now, eta: try need(imported.eta, "eta"),
                                 destinationPort: imported.port, documents: imported.documents ?? [])
            _ = try dispatch(draft, now: now)
            return .new
        }
        guard stored.orderID == imported.orderID else {
            throw .conflict("shipment \"\(id)\" belongs to order \(stored.orderID), not \(imported.orderID)")
        }
        var wanted = stored
        if let carrier = imported.carrier { wanted.carrier = carrier }
        if let tracking = imported.tracking { wanted.trackingNumber = tracking }
        if let url = imported.trackingURL { wanted.trackingURL = url }
        if let mode = imported.mode { wanted.mode = mode }
        if let port = imported.port { wanted.destinationPort = port }
        if let documents = imported.documents { wanted.documents = documents }
        if let dispatched = imported.dispatchedAt { wanted.dispatchedAt = dispatched }
        var outcome = ImportOutcome.unchanged
        if wanted != stored {
            try AftersalesError.checked { () throws(InvalidInput) in
                wanted.carrier = try Text.line(wanted.carrier, field: "carrier")
                wanted.trackingNumber = try Text.line(wanted.trackingNumber, field: "tracking")
                wanted.trackingURL = try Text.url(wanted.trackingURL, field: "tracking-url")
                if let port = wanted.destinationPort { wanted.destinationPort = try Text.line(port, field: "port") }
                for document in wanted.documents { _ = try Text.line(document, field: "document") }
                if let first = events.first, wanted.dispatchedAt > first.at {
                    throw InvalidInput(field: "dispatched-at", value: Timestamp.utc(wanted.dispatchedAt), problem: "is after the shipment's first event (\(Timestamp.utc(first.at)))")
                }
            }
            try Self.notFuture(wanted.dispatchedAt, now)
            let result = wanted
            try write { db in
                let order = try Self.order(db, result.orderID)
                try result.update(db)
                try Self.log(db, .shipmentUpdated, subject: id, customerID: order.customerID, orderID: order.id, at: now, now: now, payload: result)
            }
            outcome = .updated
        }
        // Only a later ETA is news: an ERP file keeps the ETA it was dispatched with after the carrier's feed moved it.
        let currentETA = events.last(where: { $0.kind == .delayed })?.newETA ?? stored.eta
        if let eta = imported.eta, eta > currentETA {
            _ = try recordShipmentEvent(ShipmentEvent(shipmentID: id, kind: .delayed, at: now, newETA: eta, cause: Self.importedETACause), now: now)
            outcome = .updated
        }
        return outcome
    }

    /// Records a carrier's tracking event unless the shipment already has one of this kind at this time.
    public func importShipmentEvent(_ event: ShipmentEvent, now: Date) throws(AftersalesError) -> ImportOutcome {
        let seen = try read { db in
            try ShipmentEvent.filter(ShipmentEvent.Columns.shipmentID == event.shipmentID && Column("kind") == event.kind.rawValue
                                     && ShipmentEvent.Columns.at == event.at).fetchCount(db) > 0
        }
        if seen { return .unchanged }
        _ = try recordShipmentEvent(event, now: now)
        return .new
    }

    /// Opens a complaint that is not stored yet; a stored one gets the file's category, text and opening
    /// time (`complaint.updated`, so that the planner re-plans its handling), checked as when it was opened.
    /// It stays about the same order.
    public func upsertComplaint(id: String, orderID: String, category: ComplaintCategory, text: String, openedAt: Date?, now: Date) throws(AftersalesError) -> ImportOutcome {
        guard let stored = try read({ db in try Complaint.fetchOne(db, key: id) }) else {
            _ = try openComplaint(id: id, orderID: orderID, category: category, text: text, at: openedAt ?? now, now: now, source: .import)
            return .new
        }
        if stored.orderID != orderID { throw .conflict("complaint \"\(id)\" is about order \(stored.orderID), not \(orderID)") }
        var wanted = stored
        wanted.category = category
        wanted.text = try AftersalesError.checked { () throws(InvalidInput) in try Text.required(text, field: "text") }
        if let openedAt { wanted.openedAt = openedAt }
        if wanted == stored { return .unchanged }
        try Self.notFuture(wanted.openedAt, now)
        if let first = [stored.acknowledgedAt, stored.solutionAt, stored.resolvedAt].compactMap({ $0 }).min(), wanted.openedAt > first {
            throw .invalid(InvalidInput(field: "at", value: Timestamp.utc(wanted.openedAt), problem: "is after the complaint was first handled (\(Timestamp.utc(first)))"))
        }
        let result = wanted
        try write { db in
            let order = try Self.order(db, result.orderID)
            try Self.notBefore(result.openedAt, order.placedAt, "the order was placed")
            try result.update(db)
            try Self.log(db, .complaintUpdated, subject: id, customerID: order.customerID, orderID: order.id, at: now, now: now, payload: result)
        }
        return .updated
    }

    /// The shipment with this tracking number (the latest dispatched when several share it).
    public func shipmentID(tracking: String) throws(AftersalesError) -> String? {
        try read { db in
            try String.fetchOne(db, Shipment.select(Shipment.Columns.id).filter(Column("trackingNumber") == tracking)
                .order(Shipment.Columns.dispatchedAt.desc))
        }
    }

    /// The time zone of the customer, of an order's customer or of a shipment's customer (local times in a file are theirs).
    public func timeZone(customerID: String? = nil, orderID: String? = nil, shipmentID: String? = nil) throws(AftersalesError) -> TimeZone? {
        try read { db in
            let zone: String?
            if let customerID {
                zone = try String.fetchOne(db, sql: "SELECT timeZone FROM customers WHERE id = ?", arguments: [customerID])
            } else if let orderID {
                zone = try String.fetchOne(db, sql: "SELECT c.timeZone FROM orders o JOIN customers c ON c.id = o.customerID WHERE o.id = ?", arguments: [orderID])
            } else if let shipmentID {
                zone = try String.fetchOne(db, sql: """
                    SELECT c.timeZone FROM shipments s JOIN orders o ON o.id = s.orderID JOIN customers c ON c.id = o.customerID WHERE s.id = ?
                    """, arguments: [shipmentID])
            } else {
                zone = nil
            }
            return zone.flatMap(TimeZone.init(identifier:))
        }
    }
}
