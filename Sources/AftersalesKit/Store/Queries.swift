import AftersalesDomain
import Foundation
import GRDB

/// What is stored, counted.
public struct StoreStatus: Sendable, Codable, Equatable {
    public var customers: Int
    public var products: Int
    public var orders: Int
    public var openOrders: Int
    public var shipments: Int
    public var shipmentsInTransit: Int
    public var shipmentsDelivered: Int
    public var complaints: Int
    public var openComplaints: Int
    public var surveys: Int
    public var reviews: Int
    public var events: Int
}

/// An order with everything recorded about it.
public struct OrderDetail: Sendable, Codable, Equatable {
    public var order: Order
    public var shipments: [ShipmentDetail]
    public var complaints: [Complaint]
    public var survey: SurveyAnswer?
    public var reviews: [Review]
}

/// A shipment with its tracking events, oldest first.
public struct ShipmentDetail: Sendable, Codable, Equatable {
    public var shipment: Shipment
    public var events: [ShipmentEvent]
    /// The latest event's kind (`dispatched` when none).
    public var state: String { events.last?.kind.rawValue ?? "dispatched" }
}

extension AftersalesStore {
    public func customer(id: String) throws(AftersalesError) -> Customer {
        try read { db in try Self.customer(db, id) }
    }

    public func customers() throws(AftersalesError) -> [Customer] {
        try read { db in try Customer.order(Customer.Columns.id).fetchAll(db) }
    }

    public func product(sku: String) throws(AftersalesError) -> Product {
        try read { db in try Self.product(db, sku) }
    }

    public func products() throws(AftersalesError) -> [Product] {
        try read { db in try Product.order(Product.Columns.sku).fetchAll(db) }
    }

    public func orders(customerID: String? = nil) throws(AftersalesError) -> [Order] {
        try read { db in
            if let customerID {
                _ = try Self.customer(db, customerID)
                return try Order.withLines.filter(Order.Columns.customerID == customerID).order(Order.Columns.placedAt, Order.Columns.id).fetchAll(db)
            }
            return try Order.fetchAll(db, Order.order(Order.Columns.placedAt, Order.Columns.id),
                                      lines: OrderLineRecord.order(OrderLineRecord.Columns.orderID, OrderLineRecord.Columns.position))
        }
    }

    public func orderDetail(id: String) throws(AftersalesError) -> OrderDetail {
        try read { db in try Self.orderDetail(db, id) }
    }

    static func orderDetail(_ db: Database, _ id: String) throws -> OrderDetail {
        let order = try Self.order(db, id)
        let shipments = try Shipment.filter(Shipment.Columns.orderID == id).order(Shipment.Columns.dispatchedAt, Shipment.Columns.id).fetchAll(db)
        let details = try shipments.map { shipment in
            ShipmentDetail(shipment: shipment,
                           events: try ShipmentEvent.filter(ShipmentEvent.Columns.shipmentID == shipment.id)
                               .order(ShipmentEvent.Columns.at, ShipmentEvent.Columns.rowID).fetchAll(db))
        }
        return OrderDetail(order: order, shipments: details,
                           complaints: try Complaint.filter(Complaint.Columns.orderID == id).order(Complaint.Columns.openedAt).fetchAll(db),
                           survey: try SurveyAnswer.fetchOne(db, key: id),
                           reviews: try Review.filter(Review.Columns.orderID == id).order(Review.Columns.reviewedAt, Review.Columns.rowID).fetchAll(db))
    }

    public func shipment(id: String) throws(AftersalesError) -> ShipmentDetail {
        try read { db in
            guard let shipment = try Shipment.fetchOne(db, key: id) else { throw AftersalesError.notFound(entity: "shipment", id: id) }
            return ShipmentDetail(shipment: shipment,
                                  events: try ShipmentEvent.filter(ShipmentEvent.Columns.shipmentID == id)
                                      .order(ShipmentEvent.Columns.at, ShipmentEvent.Columns.rowID).fetchAll(db))
        }
    }

    public func complaint(id: String) throws(AftersalesError) -> Complaint {
        try read { db in
            guard let complaint = try Complaint.fetchOne(db, key: id) else { throw AftersalesError.notFound(entity: "complaint", id: id) }
            return complaint
        }
    }

    public func complaints() throws(AftersalesError) -> [Complaint] {
        try read { db in try Complaint.order(Complaint.Columns.openedAt, Complaint.Columns.id).fetchAll(db) }
    }

    /// Events after `seq` (exclusive), oldest first, at most `limit`.
    public func events(after seq: Int64 = 0, limit: Int = 1000) throws(AftersalesError) -> [Event] {
        try read { db in try Event.filter(Event.Columns.seq > seq).order(Event.Columns.seq).limit(limit).fetchAll(db) }
    }

    /// Shipments not yet delivered, oldest first (for the benchmark's normal day).
    public func openShipmentIDs(limit: Int) throws(AftersalesError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT s.id FROM shipments s JOIN orders o ON o.id = s.orderID
                WHERE o.cancelledAt IS NULL AND s.id NOT IN (SELECT shipmentID FROM shipment_events WHERE kind = 'delivered')
                ORDER BY s.dispatchedAt, s.id LIMIT ?
                """, arguments: [limit])
        }
    }

    public func status() throws(AftersalesError) -> StoreStatus {
        try read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            let delivered = "SELECT DISTINCT shipmentID FROM shipment_events WHERE kind = 'delivered'"
            return StoreStatus(
                customers: try count("SELECT COUNT(*) FROM customers"),
                products: try count("SELECT COUNT(*) FROM products"),
                orders: try count("SELECT COUNT(*) FROM orders"),
                openOrders: try count("SELECT COUNT(*) FROM orders WHERE completedAt IS NULL AND cancelledAt IS NULL"),
                shipments: try count("SELECT COUNT(*) FROM shipments"),
                shipmentsInTransit: try count("SELECT COUNT(*) FROM shipments WHERE id NOT IN (\(delivered))"),
                shipmentsDelivered: try count("SELECT COUNT(*) FROM shipments WHERE id IN (\(delivered))"),
                complaints: try count("SELECT COUNT(*) FROM complaints"),
                openComplaints: try count("SELECT COUNT(*) FROM complaints WHERE resolvedAt IS NULL"),
                surveys: try count("SELECT COUNT(*) FROM surveys"),
                reviews: try count("SELECT COUNT(*) FROM reviews"),
                events: try count("SELECT COUNT(*) FROM events"))
        }
    }
}
