import AftersalesDomain
import Foundation

/// A shipment with its tracking events, oldest first.
public struct TrackedShipment: Sendable, Hashable, Codable {
    public var shipment: Shipment
    public var events: [ShipmentEvent]

    public init(shipment: Shipment, events: [ShipmentEvent]) {
        self.shipment = shipment
        self.events = events
    }

    public func first(_ kind: ShipmentEventKind) -> ShipmentEvent? { events.first { $0.kind == kind } }
    public var delivered: ShipmentEvent? { first(.delivered) }
    /// The ETA as of the latest delay.
    public var currentETA: Date { events.last(where: { $0.kind == .delayed })?.newETA ?? shipment.eta }
    /// The latest event's kind, or `dispatched`.
    public var state: String { events.last?.kind.rawValue ?? "dispatched" }
}

/// An order with everything recorded about it.
public struct OrderFacts: Sendable, Hashable, Codable {
    public var order: Order
    public var shipments: [TrackedShipment]
    public var complaints: [Complaint]
    public var survey: SurveyAnswer?
    public var reviews: [Review]

    public init(order: Order, shipments: [TrackedShipment] = [], complaints: [Complaint] = [], survey: SurveyAnswer? = nil, reviews: [Review] = []) {
        self.order = order
        self.shipments = shipments
        self.complaints = complaints
        self.survey = survey
        self.reviews = reviews
    }

    /// The shipment with this id, if it belongs to the order. The store lists an order's shipments
    /// by dispatch time, then id, which is id order whenever ids grow with time: a bisection finds
    /// one in a few steps however many the order has; a miss (any other order) falls back to a scan.
    public func shipment(_ id: String) -> TrackedShipment? {
        var low = 0, high = shipments.count
        while low < high {
            let middle = (low + high) / 2
            if shipments[middle].shipment.id < id { low = middle + 1 } else { high = middle }
        }
        if low < shipments.count, shipments[low].shipment.id == id { return shipments[low] }
        return shipments.first { $0.shipment.id == id }
    }
}

/// Everything the planner needs about one customer: the unit of planning.
public struct CustomerFacts: Sendable, Hashable, Codable {
    public var customer: Customer
    public var orders: [OrderFacts]
    /// The products named in the orders, by SKU.
    public var products: [String: Product]

    public init(customer: Customer, orders: [OrderFacts], products: [String: Product]) {
        self.customer = customer
        self.orders = orders
        self.products = products
    }
}

/// What the outbox already holds for a customer, as the planner needs it.
public struct ExistingMail: Sendable, Hashable, Codable {
    public var key: String
    public var rule: String
    public var stream: MailStream
    /// Pending means it may still change or be cancelled (planned, held, retry).
    public var pending: Bool
    /// When it was sent, for the marketing cap.
    public var sentAt: Date?

    public init(key: String, rule: String, stream: MailStream, pending: Bool, sentAt: Date?) {
        self.key = key
        self.rule = rule
        self.stream = stream
        self.pending = pending
        self.sentAt = sentAt
    }
}

/// The settings of the company that planning depends on.
public struct PlanningSettings: Sendable, Hashable {
    public var calendar: MarketCalendar
    public var supervisorEmail: String
    public var customsDaysBeforeETA: Int
    public var marketingCap: Int
    public var marketingCapDays: Int

    public init(calendar: MarketCalendar = MarketCalendar(), supervisorEmail: String = "supervisor@example.com",
                customsDaysBeforeETA: Int = 3, marketingCap: Int = 2, marketingCapDays: Int = 7) {
        self.calendar = calendar
        self.supervisorEmail = supervisorEmail
        self.customsDaysBeforeETA = customsDaysBeforeETA
        self.marketingCap = marketingCap
        self.marketingCapDays = marketingCapDays
    }
}
