import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

extension AftersalesStore {
    // MARK: Facts for planning

    /// Everything recorded about one customer, as the planner takes it.
    /// Fixed SQL per table, so that each statement is compiled once per connection (this runs for every customer planned).
    static func customerFacts(_ db: Database, _ customerID: String) throws -> CustomerFacts? {
        var products = ProductMemo()
        return try customerFacts(db, [customerID], products: &products).first
    }

    /// How many customers' facts are read at a time: few queries, and memory that does not grow with the company.
    static let factsBatch = 100

    /// Products by SKU, each read once however many customers bought it (nil: no such product).
    /// A planner may keep one across its read transactions: a product changed since is recorded as an
    /// event, which makes every owner due for the next plan.
    typealias ProductMemo = [String: Product?]

    /// The facts of several customers (those that exist, in the order given), read with one query per
    /// table for all of them: a query per customer and table cost more in starting queries than in rows.
    /// With `shipments`, the orders hold only those shipments (the sender's: a mail is about at most
    /// one shipment, and a buyer may have thousands).
    static func customerFacts(_ db: Database, _ ids: [String], products memo: inout ProductMemo, shipments named: [String]? = nil) throws -> [CustomerFacts] {
        guard !ids.isEmpty else { return [] }
        func statement(_ sql: String) throws -> Statement { try db.cachedStatement(sql: sql) }
        // The customers, as one JSON array (`json_each`): one statement for any number of them.
        let arguments: StatementArguments = [FlatJSON.encode(ids)]
        let customers = Dictionary(try Customer.fetchAll(fields: statement(FactsSQL.customers), arguments: arguments).map { ($0.id, $0) }) { first, _ in first }
        let orders = Dictionary(grouping: try Order.fetchAll(fields: statement(FactsSQL.orders), arguments: arguments), by: \.customerID)
        let shipments: [String: [Shipment]], events: [String: [ShipmentEvent]]
        if let named {
            let chosen: StatementArguments = [FlatJSON.encode(named)]
            shipments = try Shipment.fetchByOwner(statement(FactsSQL.namedShipments), arguments: chosen)
            events = try ShipmentEvent.fetchByOwner(statement(FactsSQL.namedEvents), arguments: chosen)
        } else {
            shipments = try Shipment.fetchByOwner(statement(FactsSQL.shipments), arguments: arguments)
            events = try ShipmentEvent.fetchByOwner(statement(FactsSQL.events), arguments: arguments)
        }
        let complaints = try Complaint.fetchByOwner(statement(FactsSQL.complaints), arguments: arguments)
        let surveys = try SurveyAnswer.fetchByOwner(statement(FactsSQL.surveys), arguments: arguments)
        let reviews = try Review.fetchByOwner(statement(FactsSQL.reviews), arguments: arguments)
        return try ids.compactMap { id -> CustomerFacts? in
            guard let customer = customers[id] else { return nil }
            let orders = orders[id] ?? [], complaints = complaints[id] ?? [], surveys = surveys[id] ?? [], reviews = reviews[id] ?? []
            var products: [String: Product] = [:]
            for order in orders {
                for line in order.lines where products[line.sku] == nil {
                    if memo[line.sku] == nil {
                        memo[line.sku] = .some(try Product.fetchOne(fields: statement(FactsSQL.product), arguments: [line.sku]))
                    }
                    if case .some(let product?) = memo[line.sku] { products[line.sku] = product }
                }
            }
            let eventsByShipment = Dictionary(grouping: events[id] ?? [], by: \.shipmentID)
            let shipmentsByOrder = Dictionary(grouping: shipments[id] ?? [], by: \.orderID)
            return CustomerFacts(
                customer: customer,
                orders: orders.map { order in
                    OrderFacts(order: order,
                               shipments: (shipmentsByOrder[order.id] ?? []).map { TrackedShipment(shipment: $0, events: eventsByShipment[$0.id] ?? []) },
                               complaints: complaints.filter { $0.orderID == order.id },
                               survey: surveys.first { $0.orderID == order.id },
                               reviews: reviews.filter { $0.orderID == order.id })
                },
                products: products)
        }
    }

    /// The queries run for every batch the planner or the sender reads: fixed text, each compiled
    /// once per connection, each naming its columns so that the rows are read by position (see ``FieldList``).
    enum FactsSQL {
        /// The values of the JSON array in the one argument (customers, or outbox keys).
        static let chosen = "IN (SELECT value FROM json_each(?))"
        static let customers = "SELECT \(Customer.Field.selection("c")) FROM customers c WHERE c.id \(chosen)"
        static let orders = "SELECT \(Order.Field.selection("o")) FROM orders o WHERE o.customerID \(chosen) ORDER BY o.customerID, o.placedAt, o.id"
        // The rest name the customer they belong to last (`owner`, see `fetchByOwner`).
        static let shipments = shipments(of: "o.customerID")
        static let events = events(of: "o.customerID")
        /// Only the shipments named (by id), with their events.
        static let namedShipments = shipments(of: "s.id")
        static let namedEvents = events(of: "e.shipmentID")
        static func shipments(of chooser: String) -> String {
            """
            SELECT \(Shipment.Field.selection("s")), o.customerID AS owner FROM shipments s JOIN orders o ON o.id = s.orderID
            WHERE \(chooser) \(chosen) ORDER BY o.customerID, s.dispatchedAt, s.id
            """
        }
        static func events(of chooser: String) -> String {
            """
            SELECT \(ShipmentEvent.Field.selection("e")), o.customerID AS owner FROM shipment_events e JOIN shipments s ON s.id = e.shipmentID
            JOIN orders o ON o.id = s.orderID WHERE \(chooser) \(chosen) ORDER BY o.customerID, e.at, e.rowid
            """
        }
        static let complaints = """
            SELECT \(Complaint.Field.selection("k")), o.customerID AS owner FROM complaints k JOIN orders o ON o.id = k.orderID
            WHERE o.customerID \(chosen) ORDER BY o.customerID, k.openedAt, k.id
            """
        static let surveys = """
            SELECT \(SurveyAnswer.Field.selection("v")), o.customerID AS owner FROM surveys v JOIN orders o ON o.id = v.orderID
            WHERE o.customerID \(chosen) ORDER BY o.customerID
            """
        static let reviews = """
            SELECT \(Review.Field.selection("r")), o.customerID AS owner FROM reviews r JOIN orders o ON o.id = r.orderID
            WHERE o.customerID \(chosen) ORDER BY o.customerID, r.reviewedAt
            """
        static let product = "SELECT \(Product.Field.selection("p")) FROM products p WHERE p.sku = ?"
    }
}
