import Foundation

/// How a shipment travels.
public enum ShipmentMode: String, Sendable, Hashable, Codable, CaseIterable {
    case sea, air, express, rail, road

    public init(parsing raw: String) throws(InvalidInput) {
        guard let mode = ShipmentMode(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "mode", value: raw, problem: "expected one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = mode
    }
}

/// Goods of an order on their way; an order may have several shipments.
public struct Shipment: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var orderID: String
    public var carrier: String
    public var trackingNumber: String
    public var trackingURL: String?
    public var mode: ShipmentMode
    public var dispatchedAt: Date
    /// The estimated arrival, updated by delay events.
    public var eta: Date
    /// The estimated arrival given at dispatch, which delays leave as it was: the ETA the first delay corrects.
    public var dispatchETA: Date
    public var destinationCountry: CountryCode?
    public var destinationPort: String?
    /// The customs documents that go with it (commercial invoice, certificate of origin, ...).
    public var documents: [String]

    /// A shipment; `dispatchETA` defaults to `eta` (a shipment being dispatched).
    public init(id: String, orderID: String, carrier: String, trackingNumber: String, trackingURL: String? = nil,
                mode: ShipmentMode = .sea, dispatchedAt: Date, eta: Date, dispatchETA: Date? = nil, destinationCountry: CountryCode? = nil,
                destinationPort: String? = nil, documents: [String] = []) {
        self.id = id
        self.orderID = orderID
        self.carrier = carrier
        self.trackingNumber = trackingNumber
        self.trackingURL = trackingURL
        self.mode = mode
        self.dispatchedAt = dispatchedAt
        self.eta = eta
        self.dispatchETA = dispatchETA ?? eta
        self.destinationCountry = destinationCountry
        self.destinationPort = destinationPort
        self.documents = documents
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case id, orderID, carrier, trackingNumber, trackingURL, mode, dispatchedAt, eta, destinationCountry, destinationPort, documents, dispatchETA
    }

    /// The documents named in SEQUENCES.md for `tracking`, used when none are given.
    public static let defaultDocuments = ["commercial invoice", "certificate of origin", "packing list", "bill of lading"]
}

/// What happened to a shipment.
public enum ShipmentEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    case inTransit = "in-transit"
    case delayed
    case atCustoms = "at-customs"
    case held
    case cleared
    case delivered

    public init(parsing raw: String) throws(InvalidInput) {
        guard let kind = ShipmentEventKind(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "event", value: raw, problem: "expected one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = kind
    }
}

/// One tracking event of a shipment, with the time it happened.
public struct ShipmentEvent: Sendable, Hashable, Codable {
    public var shipmentID: String
    public var kind: ShipmentEventKind
    public var at: Date
    public var location: String?
    public var note: String?
    /// For `delayed`: the new ETA, the cause and the remedy.
    public var newETA: Date?
    public var cause: String?
    public var remedy: String?
    /// For `held`: why customs holds it.
    public var reason: String?
    /// For `delivered`: who signed.
    public var signedBy: String?

    public init(shipmentID: String, kind: ShipmentEventKind, at: Date, location: String? = nil, note: String? = nil,
                newETA: Date? = nil, cause: String? = nil, remedy: String? = nil, reason: String? = nil, signedBy: String? = nil) {
        self.shipmentID = shipmentID
        self.kind = kind
        self.at = at
        self.location = location
        self.note = note
        self.newETA = newETA
        self.cause = cause
        self.remedy = remedy
        self.reason = reason
        self.signedBy = signedBy
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case shipmentID, kind, at, location, note, newETA, cause, remedy, reason, signedBy
    }

    /// Checks this event against the shipment and its earlier events: a delay needs a new ETA
    /// and a cause, nothing happens before dispatch, nothing but nothing follows delivery.
    public func validate(for shipment: Shipment, after earlier: [ShipmentEvent], orderCancelled: Bool) throws(InvalidInput) {
        let when = Timestamp.utc(at)
        if orderCancelled {
            throw InvalidInput(field: "shipment", value: shipment.id, problem: "its order \(shipment.orderID) is cancelled; no further events can be recorded")
        }
        if at < shipment.dispatchedAt {
            throw InvalidInput(field: "at", value: when, problem: "is before the shipment was dispatched (\(Timestamp.utc(shipment.dispatchedAt)))")
        }
        if let delivered = earlier.first(where: { $0.kind == .delivered }) {
            throw InvalidInput(field: "event", value: kind.rawValue, problem: "shipment \(shipment.id) was already delivered at \(Timestamp.utc(delivered.at))")
        }
        switch kind {
        case .delayed:
            guard let newETA else { throw InvalidInput(field: "eta", value: "", problem: "a delay needs the new ETA (--eta)") }
            guard cause != nil else { throw InvalidInput(field: "cause", value: "", problem: "a delay needs its cause (--cause)") }
            if newETA < at {
                throw InvalidInput(field: "eta", value: Timestamp.utc(newETA), problem: "the new ETA is before the delay was recorded (\(when))")
            }
        default: break
        }
    }
}
