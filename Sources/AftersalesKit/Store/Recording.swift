import AftersalesDomain
import Foundation
import GRDB

/// Recording facts. Each method validates against what is stored, writes the entity and
/// appends to the event log in one transaction: a refused fact writes nothing.
extension AftersalesStore {
    // MARK: Customers

    public func addCustomer(id: String, _ changes: CustomerChanges, now: Date) throws(AftersalesError) -> Customer {
        let customer = try AftersalesError.checked { () throws(InvalidInput) in try changes.makeCustomer(id: id, at: now) }
        return try write { db in
            guard try Customer.fetchOne(db, key: id) == nil else { throw AftersalesError.duplicate(entity: "customer", id: id) }
            try customer.insert(db)
            try Self.liftErasure(db, customer, now: now)
            try Self.log(db, .customerAdded, subject: id, customerID: id, orderID: nil, at: now, now: now, payload: customer)
            return customer
        }
    }

    public func updateCustomer(id: String, _ changes: CustomerChanges, now: Date) throws(AftersalesError) -> Customer {
        try write { db in
            let existing = try Self.customer(db, id)
            let updated = try AftersalesError.checked { () throws(InvalidInput) in try changes.apply(to: existing, at: now) }
            try updated.update(db)
            try Self.liftErasure(db, updated, now: now)
            try Self.log(db, .customerUpdated, subject: id, customerID: id, orderID: nil, at: now, now: now, payload: updated)
            return updated
        }
    }

    /// Records that the customer wants no more marketing mail.
    public func unsubscribe(customerID: String, at: Date, now: Date) throws(AftersalesError) -> Customer {
        try Self.notFuture(at, now)
        return try write { db in try Self.unsubscribe(db, customerID: customerID, at: at, now: now) }
    }

    /// The unsubscribe fact, in the caller's transaction; `reason` (a spam report) is kept in the event.
    static func unsubscribe(_ db: Database, customerID: String, at: Date, now: Date, reason: String? = nil) throws -> Customer {
        var customer = try Self.customer(db, customerID)
        if customer.unsubscribedAt == nil {
            customer.unsubscribedAt = at
            try customer.update(db)
            var payload = ["unsubscribedAt": Timestamp.utc(at)]
            if let reason { payload["reason"] = reason }
            try Self.log(db, .customerUnsubscribed, subject: customerID, customerID: customerID, orderID: nil, at: at, now: now, payload: payload)
        }
        return customer
    }

    // MARK: Products

    public func addProduct(sku: String, _ changes: ProductChanges, now: Date) throws(AftersalesError) -> Product {
        let product = try AftersalesError.checked { () throws(InvalidInput) in try changes.makeProduct(sku: sku) }
        return try write { db in
            guard try Product.fetchOne(db, key: sku) == nil else { throw AftersalesError.duplicate(entity: "product", id: sku) }
            try product.insert(db)
            try Self.log(db, .productAdded, subject: sku, customerID: nil, orderID: nil, at: now, now: now, payload: product)
            return product
        }
    }

    public func updateProduct(sku: String, _ changes: ProductChanges, now: Date) throws(AftersalesError) -> Product {
        try write { db in
            let existing = try Self.product(db, sku)
            let updated = try AftersalesError.checked { () throws(InvalidInput) in try changes.apply(to: existing) }
            try updated.update(db)
            try Self.log(db, .productUpdated, subject: sku, customerID: nil, orderID: nil, at: now, now: now, payload: updated)
            return updated
        }
    }

    /// Records that `successor` succeeds `sku`, with an optional offer to existing owners.
    public func succeedProduct(sku: String, by successor: String, offer: String?, at: Date, now: Date) throws(AftersalesError) -> Product {
        try Self.notFuture(at, now)
        let offer = try AftersalesError.checked { () throws(InvalidInput) in try Text.optional(offer, field: "offer", limit: 2000) }
        return try write { db in
            var product = try Self.product(db, sku)
            _ = try Self.product(db, successor)
            guard successor != sku else {
                throw AftersalesError.invalid(InvalidInput(field: "by", value: successor, problem: "a product cannot succeed itself"))
            }
            if let existing = product.successorSKU {
                throw AftersalesError.conflict("product \"\(sku)\" already has a successor (\(existing)); its owners were told")
            }
            product.successorSKU = successor
            product.successorOffer = offer
            product.succeededAt = at
            try product.update(db)
            try Self.log(db, .productSucceeded, subject: sku, customerID: nil, orderID: nil, at: at, now: now, payload: product)
            return product
        }
    }

    // MARK: Orders

    public func addOrder(id: String, customerID: String, lines: [OrderLine], currency: String, at: Date, now: Date) throws(AftersalesError) -> Order {
        let order = try Self.placing(id: id, customerID: customerID, lines: lines, currency: currency, at: at, now: now)
        return try write { db in
            guard try !Order.exists(db, key: order.id) else { throw AftersalesError.duplicate(entity: "order", id: order.id) }
            _ = try Self.customer(db, customerID)
            for line in lines { _ = try Self.product(db, line.sku) }
            try order.insertWithLines(db)
            try Self.log(db, .orderPlaced, subject: order.id, customerID: customerID, orderID: order.id, at: at, now: now, payload: order)
            return order
        }
    }

    public func completeOrder(id: String, at: Date, now: Date) throws(AftersalesError) -> Order {
        try Self.notFuture(at, now)
        return try write { db in
            let order = try Self.completing(try Self.order(db, id), at: at)
            try order.update(db)
            try Self.log(db, .orderCompleted, subject: id, customerID: order.customerID, orderID: id, at: at, now: now, payload: order)
            return order
        }
    }

    public func cancelOrder(id: String, at: Date, now: Date) throws(AftersalesError) -> Order {
        try Self.notFuture(at, now)
        return try write { db in
            let order = try Self.cancelling(try Self.order(db, id), at: at)
            try order.update(db)
            try Self.log(db, .orderCancelled, subject: id, customerID: order.customerID, orderID: id, at: at, now: now, payload: order)
            return order
        }
    }

    // MARK: Shipments

    /// Records a dispatched shipment. Its `dispatchedAt` is when it happened.
    public func dispatch(_ draft: Shipment, now: Date) throws(AftersalesError) -> Shipment {
        try Self.notFuture(draft.dispatchedAt, now)
        var shipment = draft
        try AftersalesError.checked { () throws(InvalidInput) in
            shipment.id = try Text.identifier(draft.id, field: "id")
            shipment.carrier = try Text.line(draft.carrier, field: "carrier")
            shipment.trackingNumber = try Text.line(draft.trackingNumber, field: "tracking")
            shipment.trackingURL = try Text.url(draft.trackingURL, field: "tracking-url")
            if let port = draft.destinationPort { shipment.destinationPort = try Text.line(port, field: "port") }
            for document in draft.documents { _ = try Text.line(document, field: "document") }
            if draft.eta < draft.dispatchedAt {
                throw InvalidInput(field: "eta", value: Timestamp.utc(draft.eta), problem: "is before the dispatch time \(Timestamp.utc(draft.dispatchedAt))")
            }
        }
        if shipment.documents.isEmpty { shipment.documents = Shipment.defaultDocuments }
        shipment.dispatchETA = shipment.eta
        let result = shipment
        return try write { db in
            guard try Shipment.fetchOne(db, key: result.id) == nil else { throw AftersalesError.duplicate(entity: "shipment", id: result.id) }
            let order = try Self.order(db, result.orderID)
            if order.cancelledAt != nil { throw AftersalesError.conflict("order \"\(order.id)\" is cancelled; nothing can be dispatched for it") }
            try Self.notBefore(result.dispatchedAt, order.placedAt, "the order was placed")
            var stored = result
            if stored.destinationCountry == nil { stored.destinationCountry = try Self.customer(db, order.customerID).country }
            try stored.insert(db)
            try Self.log(db, .shipmentDispatched, subject: stored.id, customerID: order.customerID, orderID: order.id,
                         at: stored.dispatchedAt, now: now, payload: stored)
            return stored
        }
    }

    /// Records a tracking event; a delay moves the shipment's ETA.
    public func recordShipmentEvent(_ event: ShipmentEvent, now: Date) throws(AftersalesError) -> ShipmentEvent {
        try Self.notFuture(event.at, now)
        try AftersalesError.checked { () throws(InvalidInput) in
            for (field, value) in [("location", event.location), ("cause", event.cause), ("signed-by", event.signedBy)] {
                if let value { _ = try Text.line(value, field: field) }
            }
            for (field, value) in [("note", event.note), ("remedy", event.remedy), ("reason", event.reason)] {
                _ = try Text.optional(value, field: field, limit: 5000)
            }
        }
        return try write { db in
            guard var shipment = try Shipment.fetchOne(db, key: event.shipmentID) else {
                throw AftersalesError.notFound(entity: "shipment", id: event.shipmentID)
            }
            let order = try Self.order(db, shipment.orderID)
            let earlier = try ShipmentEvent.filter(ShipmentEvent.Columns.shipmentID == shipment.id).order(ShipmentEvent.Columns.at).fetchAll(db)
            try AftersalesError.checked { () throws(InvalidInput) in
                try event.validate(for: shipment, after: earlier, orderCancelled: order.cancelledAt != nil)
            }
            try event.insert(db)
            if event.kind == .delayed, let eta = event.newETA {
                shipment.eta = eta
                try shipment.update(db)
            }
            try Self.log(db, EventKind(event.kind), subject: shipment.id, customerID: order.customerID, orderID: order.id,
                         at: event.at, now: now, payload: event)
            return event
        }
    }

    // MARK: Complaints

    public func openComplaint(id: String, orderID: String, category: ComplaintCategory, text: String, at: Date, now: Date,
                              source: ComplaintSource = .command) throws(AftersalesError) -> Complaint {
        try Self.notFuture(at, now)
        let complaint = try AftersalesError.checked { () throws(InvalidInput) in
            Complaint(id: try Text.identifier(id, field: "id"), orderID: orderID, category: category,
                      text: try Text.required(text, field: "text"), openedAt: at, source: source)
        }
        return try write { db in try Self.openComplaint(db, complaint, now: now) }
    }

    /// The complaint-opened fact, in the caller's transaction.
    static func openComplaint(_ db: Database, _ complaint: Complaint, now: Date) throws -> Complaint {
        guard try Complaint.fetchOne(db, key: complaint.id) == nil else { throw AftersalesError.duplicate(entity: "complaint", id: complaint.id) }
        let order = try Self.order(db, complaint.orderID)
        try Self.notBefore(complaint.openedAt, order.placedAt, "the order was placed")
        try complaint.insert(db)
        try Self.log(db, .complaintOpened, subject: complaint.id, customerID: order.customerID, orderID: complaint.orderID, at: complaint.openedAt,
                     now: now, payload: complaint)
        return complaint
    }

    /// The steps of a complaint after it was opened.
    public enum ComplaintStep: Sendable, Equatable {
        case acknowledge
        case offerSolution(String)
        case resolve(String)
        case rate(Int)
    }

    public func advanceComplaint(id: String, _ step: ComplaintStep, at: Date, now: Date) throws(AftersalesError) -> Complaint {
        try Self.notFuture(at, now)
        return try write { db in
            guard var complaint = try Complaint.fetchOne(db, key: id) else { throw AftersalesError.notFound(entity: "complaint", id: id) }
            let order = try Self.order(db, complaint.orderID)
            try Self.notBefore(at, complaint.openedAt, "the complaint was opened")
            let kind: EventKind
            switch step {
            case .acknowledge:
                if complaint.acknowledgedAt != nil { throw AftersalesError.conflict("complaint \"\(id)\" was already acknowledged") }
                complaint.acknowledgedAt = at
                kind = .complaintAcknowledged
            case .offerSolution(let solution):
                if complaint.resolvedAt != nil { throw AftersalesError.conflict("complaint \"\(id)\" is already resolved") }
                complaint.solution = try AftersalesError.checked { () throws(InvalidInput) in try Text.required(solution, field: "solution", limit: 5000) }
                complaint.solutionAt = at
                if complaint.acknowledgedAt == nil { complaint.acknowledgedAt = at }
                kind = .complaintSolutionOffered
            case .resolve(let resolution):
                if complaint.resolvedAt != nil { throw AftersalesError.conflict("complaint \"\(id)\" is already resolved") }
                complaint.resolution = try AftersalesError.checked { () throws(InvalidInput) in try Text.required(resolution, field: "resolution", limit: 5000) }
                complaint.resolvedAt = at
                if complaint.solution == nil {
                    complaint.solution = complaint.resolution
                    complaint.solutionAt = at
                }
                if complaint.acknowledgedAt == nil { complaint.acknowledgedAt = at }
                kind = .complaintResolved
            case .rate(let score):
                complaint.rating = try AftersalesError.checked { () throws(InvalidInput) in try Complaint.rating(score) }
                guard complaint.resolvedAt != nil else {
                    throw AftersalesError.conflict("complaint \"\(id)\" is not resolved yet; record `complaint resolve` before the rating")
                }
                if complaint.ratedAt != nil { throw AftersalesError.conflict("complaint \"\(id)\" was already rated") }
                complaint.ratedAt = at
                kind = .complaintRated
            }
            try complaint.update(db)
            try Self.log(db, kind, subject: id, customerID: order.customerID, orderID: order.id, at: at, now: now, payload: complaint)
            return complaint
        }
    }

    // MARK: Feedback

    public func recordSurvey(_ answer: SurveyAnswer, now: Date) throws(AftersalesError) -> SurveyAnswer {
        try Self.check(answer, now: now)
        return try write { db in
            let order = try Self.order(db, answer.orderID)
            if try SurveyAnswer.fetchOne(db, key: answer.orderID) != nil {
                throw AftersalesError.conflict("order \"\(answer.orderID)\" already has a survey answer")
            }
            try Self.notBefore(answer.answeredAt, order.placedAt, "the order was placed")
            try answer.insert(db)
            try Self.log(db, .surveyAnswered, subject: order.id, customerID: order.customerID, orderID: order.id, at: answer.answeredAt, now: now, payload: answer)
            return answer
        }
    }

    public func recordReview(_ review: Review, now: Date) throws(AftersalesError) -> Review {
        try Self.notFuture(review.reviewedAt, now)
        try AftersalesError.checked { () throws(InvalidInput) in _ = try Text.optional(review.text, field: "text", limit: 20_000) }
        return try write { db in
            let order = try Self.order(db, review.orderID)
            try Self.notBefore(review.reviewedAt, order.placedAt, "the order was placed")
            try review.insert(db)
            try Self.log(db, .reviewLeft, subject: order.id, customerID: order.customerID, orderID: order.id, at: review.reviewedAt, now: now, payload: review)
            return review
        }
    }

    // MARK: Helpers

    static func customer(_ db: Database, _ id: String) throws -> Customer {
        guard let customer = try Customer.fetchOne(db, key: id) else { throw AftersalesError.notFound(entity: "customer", id: id) }
        return customer
    }

    static func product(_ db: Database, _ sku: String) throws -> Product {
        guard let product = try Product.fetchOne(db, key: sku) else { throw AftersalesError.notFound(entity: "product", id: sku) }
        return product
    }

    static func order(_ db: Database, _ id: String) throws -> Order {
        guard let order = try Order.withLines.filter(key: id).fetchOne(db) else { throw AftersalesError.notFound(entity: "order", id: id) }
        return order
    }

    static func notFuture(_ at: Date, _ now: Date) throws(AftersalesError) {
        if at > now {
            throw .invalid(InvalidInput(field: "at", value: Timestamp.utc(at), problem: "is in the future (now is \(Timestamp.utc(now))); facts are recorded when they have happened"))
        }
    }

    /// A new order placed at `at` (by `order add` and by import), or why it cannot be: placed by `now`, its id
    /// an identifier, its currency an ISO 4217 code (through `checkingCurrency`: import's remembers the codes it
    /// checked), at least one line. Whether its id is new, its customer and its products exist is the caller's to check.
    static func placing(id: String, customerID: String, lines: [OrderLine], currency: String, at: Date, now: Date,
                        checkingCurrency: (String) throws(AftersalesError) -> String = checkedCurrency) throws(AftersalesError) -> Order {
        try notFuture(at, now)
        let orderID = try AftersalesError.checked { () throws(InvalidInput) in try Text.identifier(id, field: "id") }
        let code = try checkingCurrency(currency)
        guard !lines.isEmpty else {
            throw .invalid(InvalidInput(field: "line", value: "", problem: "an order needs at least one --line SKU:QTY[:PRICE]"))
        }
        return Order(id: orderID, customerID: customerID, lines: lines, currency: code, placedAt: at)
    }

    /// `code` as an ISO 4217 currency code in upper case, or why it is not one.
    static func checkedCurrency(_ code: String) throws(AftersalesError) -> String {
        try AftersalesError.checked { () throws(InvalidInput) in try Order.currency(code) }
    }

    /// `order` completed at `at` (by `order complete` and by import), or why it cannot be.
    static func completing(_ order: Order, at: Date) throws(AftersalesError) -> Order {
        if order.cancelledAt != nil { throw .conflict("order \"\(order.id)\" is cancelled; it cannot be completed") }
        if let done = order.completedAt { throw .conflict("order \"\(order.id)\" was already completed at \(Timestamp.utc(done))") }
        try notBefore(at, order.placedAt, "the order was placed")
        var order = order
        order.completedAt = at
        return order
    }

    /// `order` cancelled at `at` (by `order cancel` and by import), or why it cannot be.
    static func cancelling(_ order: Order, at: Date) throws(AftersalesError) -> Order {
        if order.cancelledAt != nil { throw .conflict("order \"\(order.id)\" is already cancelled") }
        if order.completedAt != nil { throw .conflict("order \"\(order.id)\" is completed; a completed order cannot be cancelled (open a complaint instead)") }
        try notBefore(at, order.placedAt, "the order was placed")
        var order = order
        order.cancelledAt = at
        return order
    }

    static func notBefore(_ at: Date, _ earliest: Date, _ what: String) throws(AftersalesError) {
        if at < earliest {
            throw AftersalesError.invalid(InvalidInput(field: "at", value: Timestamp.utc(at), problem: "is before \(what) (\(Timestamp.utc(earliest)))"))
        }
    }

    /// Appends a fact to the event log.
    static func log(_ db: Database, _ kind: EventKind, subject: String, customerID: String?, orderID: String?,
                    at: Date, now: Date, payload: some Encodable) throws {
        let data = try JSONOutput.encoder(pretty: false).encode(payload)
        var event = Event(kind: kind, subject: subject, customerID: customerID, orderID: orderID, occurredAt: at, recordedAt: now,
                          payload: String(decoding: data, as: UTF8.self))
        try event.insert(db)
    }
}
