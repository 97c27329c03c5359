import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

extension AftersalesStore {
    // MARK: Facts for planning

    /// Everything recorded about one customer, as the planner takes it.
    static func customerFacts(_ db: Database, _ customerID: String) throws -> CustomerFacts? {
        var products = ProductMemo()
        return try customerFacts(db, [customerID], products: &products).first
    }

    /// Everything recorded about one customer (nil when there is no such customer), as rendering takes it.
    public func customerFacts(id: String) throws(AftersalesError) -> CustomerFacts? {
        try read { db in try Self.customerFacts(db, id) }
    }

    /// How many customers' facts are read at a time: few queries, and memory that does not grow with the company.
    static let factsBatch = 250

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
        // Each query is fixed text (compiled once per connection) with one argument: the customers, or
        // the shipments, as a JSON array.
        let customerIDs = try RecordJSON.array(ids)
        func fetch<Record: FetchableRecord>(_ sql: String, _ chosen: String = customerIDs) throws -> [Record] {
            try Record.fetchAll(db.cachedStatement(sql: sql), arguments: [chosen])
        }
        let customers = Dictionary(try (fetch(FactsSQL.customers) as [Customer]).map { ($0.id, $0) }) { first, _ in first }
        let orders = try Order.fetchAll(db, SQLRequest<Order>(sql: FactsSQL.orders, arguments: [customerIDs], cached: true),
                                        lines: SQLRequest<OrderLineRecord>(sql: FactsSQL.orderLines, arguments: [customerIDs], cached: true))
        let shipments: [Shipment], events: [ShipmentEvent]
        if let named {
            let shipmentIDs = try RecordJSON.array(named)
            (shipments, events) = (try fetch(FactsSQL.namedShipments, shipmentIDs), try fetch(FactsSQL.namedEvents, shipmentIDs))
        } else {
            (shipments, events) = (try fetch(FactsSQL.shipments), try fetch(FactsSQL.events))
        }
        let complaints = Dictionary(grouping: try fetch(FactsSQL.complaints) as [Complaint], by: \.orderID)
        let surveys = Dictionary(try (fetch(FactsSQL.surveys) as [SurveyAnswer]).map { ($0.orderID, $0) }) { first, _ in first }
        let reviews = Dictionary(grouping: try fetch(FactsSQL.reviews) as [Review], by: \.orderID)
        // A customer's orders in the order they were placed, an order's shipments in the order they left, a
        // shipment's events in the order they happened (and were recorded): sorted here, a few at a time, where
        // SQLite's ORDER BY sorted the whole batch (its sorter was 3% of a full plan's instructions, callgrind,
        // bench row 3 at 4.1x sqlite3 against a target of 3x). The stable sort keeps the events of one time in
        // the order of the index on shipmentID that the query walks: as recorded.
        let eventsByShipment = Dictionary(grouping: events, by: \.shipmentID).mapValues { $0.sorted { $0.at < $1.at } }
        let shipmentsByOrder = Dictionary(grouping: shipments, by: \.orderID).mapValues { $0.sorted { ($0.dispatchedAt, $0.id) < ($1.dispatchedAt, $1.id) } }
        let ordersByCustomer = Dictionary(grouping: orders, by: \.customerID).mapValues { $0.sorted { ($0.placedAt, $0.id) < ($1.placedAt, $1.id) } }
        return try ids.compactMap { id -> CustomerFacts? in
            guard let customer = customers[id] else { return nil }
            var products: [String: Product] = [:]
            let orders = try (ordersByCustomer[id] ?? []).map { order in
                for line in order.lines where products[line.sku] == nil {
                    if memo[line.sku] == nil {
                        memo[line.sku] = .some(try Product.fetchOne(db.cachedStatement(sql: FactsSQL.product), arguments: [line.sku]))
                    }
                    if case .some(let product?) = memo[line.sku] { products[line.sku] = product }
                }
                return OrderFacts(order: order,
                                  shipments: (shipmentsByOrder[order.id] ?? []).map { TrackedShipment(shipment: $0, events: eventsByShipment[$0.id] ?? []) },
                                  complaints: complaints[order.id] ?? [], survey: surveys[order.id], reviews: reviews[order.id] ?? [])
            }
            return CustomerFacts(customer: customer, orders: orders, products: products)
        }
    }

    /// The queries run for every batch the planner or the sender reads: fixed text, each compiled
    /// once per connection.
    enum FactsSQL {
        /// The values of the JSON array in the one argument (customers, shipments, or outbox keys).
        static let chosen = "IN (SELECT value FROM json_each(?))"
        static let customers = "SELECT \(columns(Customer.selected, of: "c")) FROM customers c WHERE c.id \(chosen)"
        static let orders = "SELECT \(columns(Order.selected, of: "o")) FROM orders o WHERE o.customerID \(chosen)"
        static let orderLines = """
            SELECT \(columns(OrderLineRecord.selected, of: "l")) FROM order_lines l JOIN orders o ON o.id = l.orderID
            WHERE o.customerID \(chosen)
            """
        static let shipments = shipments(of: "o.customerID")
        static let events = events(of: "o.customerID")
        /// Only the shipments named (by id), with their events.
        static let namedShipments = shipments(of: "s.id")
        static let namedEvents = events(of: "e.shipmentID")
        static func shipments(of chooser: String) -> String {
            """
            SELECT \(columns(Shipment.selected, of: "s")) FROM shipments s JOIN orders o ON o.id = s.orderID
            WHERE \(chooser) \(chosen)
            """
        }
        static func events(of chooser: String) -> String {
            """
            SELECT \(columns(ShipmentEvent.selected, of: "e")) FROM shipment_events e JOIN shipments s ON s.id = e.shipmentID
            JOIN orders o ON o.id = s.orderID WHERE \(chooser) \(chosen)
            """
        }
        /// `t.a, t.b`: the columns a record reads by position, of table alias `table`.
        static func columns(_ columns: [Column], of table: String) -> String { columns.map { "\(table).\($0.name)" }.joined(separator: ", ") }
        static let complaints = """
            SELECT k.* FROM complaints k JOIN orders o ON o.id = k.orderID WHERE o.customerID \(chosen) ORDER BY k.openedAt, k.id
            """
        static let surveys = "SELECT \(columns(SurveyAnswer.selected, of: "v")) FROM surveys v JOIN orders o ON o.id = v.orderID WHERE o.customerID \(chosen)"
        static let reviews = """
            SELECT \(columns(Review.selected, of: "r")) FROM reviews r JOIN orders o ON o.id = r.orderID WHERE o.customerID \(chosen)
            ORDER BY r.reviewedAt, r.rowid
            """
        static let product = "SELECT * FROM products WHERE sku = ?"
    }
}
