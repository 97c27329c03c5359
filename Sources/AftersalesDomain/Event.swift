import Foundation

/// The kinds of fact the event log records.
public enum EventKind: String, Sendable, Hashable, Codable, CaseIterable {
    case customerAdded = "customer.added"
    case customerUpdated = "customer.updated"
    case customerUnsubscribed = "customer.unsubscribed"
    case productAdded = "product.added"
    case productUpdated = "product.updated"
    case productSucceeded = "product.succeeded"
    case orderPlaced = "order.placed"
    case orderCompleted = "order.completed"
    case orderCancelled = "order.cancelled"
    /// An import changed an order's customer, lines, currency or placing time.
    case orderUpdated = "order.updated"
    /// An import said a cancelled order is not cancelled: the order is open again.
    case orderReinstated = "order.reinstated"
    case shipmentDispatched = "shipment.dispatched"
    /// An import changed a shipment's carrier, tracking, mode, port or documents.
    case shipmentUpdated = "shipment.updated"
    case shipmentInTransit = "shipment.in-transit"
    case shipmentDelayed = "shipment.delayed"
    case shipmentAtCustoms = "shipment.at-customs"
    case shipmentHeld = "shipment.held"
    case shipmentCleared = "shipment.cleared"
    case shipmentDelivered = "shipment.delivered"
    case complaintOpened = "complaint.opened"
    /// An import changed a complaint's category, text or opening time.
    case complaintUpdated = "complaint.updated"
    /// The buyer wrote again about a complaint still open (an email reply with a complaint keyword).
    case complaintReplied = "complaint.replied"
    case complaintAcknowledged = "complaint.acknowledged"
    case complaintSolutionOffered = "complaint.solution-offered"
    case complaintResolved = "complaint.resolved"
    case complaintRated = "complaint.rated"
    case surveyAnswered = "survey.answered"
    case reviewLeft = "review.left"

    public init(_ shipmentEvent: ShipmentEventKind) {
        switch shipmentEvent {
        case .inTransit: self = .shipmentInTransit
        case .delayed: self = .shipmentDelayed
        case .atCustoms: self = .shipmentAtCustoms
        case .held: self = .shipmentHeld
        case .cleared: self = .shipmentCleared
        case .delivered: self = .shipmentDelivered
        }
    }
}

/// One entry of the append-only event log: a fact, when it happened and when it was recorded.
public struct Event: Sendable, Hashable, Codable {
    /// Position in the log; increases with every recorded fact.
    public var seq: Int64?
    public var kind: EventKind
    /// The entity the fact is about (customer id, SKU, order id, shipment id, complaint id).
    public var subject: String
    public var customerID: String?
    public var orderID: String?
    public var occurredAt: Date
    public var recordedAt: Date
    /// The fact's details as JSON.
    public var payload: String

    public init(seq: Int64? = nil, kind: EventKind, subject: String, customerID: String?, orderID: String?,
                occurredAt: Date, recordedAt: Date, payload: String) {
        self.seq = seq
        self.kind = kind
        self.subject = subject
        self.customerID = customerID
        self.orderID = orderID
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.payload = payload
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case seq, kind, subject, customerID, orderID, occurredAt, recordedAt, payload
    }
}
