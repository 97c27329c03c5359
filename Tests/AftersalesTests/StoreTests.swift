import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

@Suite("Store")
struct StoreTests {
    let now = t("2026-11-23T10:00:00Z")

    @Test("recorded facts are stored and appended to the event log with both times")
    func eventLog() throws {
        let store = try seededStore()
        _ = try store.dispatch(Shipment(id: "S1", orderID: "O1", carrier: "Maersk", trackingNumber: "M1",
                                        dispatchedAt: t("2026-11-05T00:00:00Z"), eta: t("2026-12-10T00:00:00Z")), now: now)
        _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-10T00:00:00Z"),
                                                        newETA: t("2026-12-15T00:00:00Z"), cause: "port congestion"), now: now)
        let events = try store.events()
        #expect(events.map(\.kind) == [.customerAdded, .productAdded, .productAdded, .orderPlaced, .shipmentDispatched, .shipmentDelayed])
        #expect(events.map(\.seq) == [1, 2, 3, 4, 5, 6])
        let delay = try #require(events.last)
        #expect(delay.occurredAt == t("2026-11-10T00:00:00Z"))
        #expect(delay.recordedAt == now)
        #expect(delay.orderID == "O1" && delay.customerID == "C1" && delay.subject == "S1")
        #expect(delay.payload.contains("port congestion"))
        let shipment = try store.shipment(id: "S1")
        #expect(shipment.shipment.eta == t("2026-12-15T00:00:00Z"), "a delay moves the ETA")
        #expect(shipment.shipment.documents == Shipment.defaultDocuments)
        #expect(shipment.shipment.destinationCountry?.value == "MX", "destination defaults to the customer's country")
        #expect(shipment.state == "delayed")
    }

    @Test("text with CR/LF, Chinese, Arabic, emoji and 10,000 characters is stored exactly")
    func exactText() throws {
        let store = try seededStore()
        let text = "两台泵外壳破裂\r\nوصلت البضاعة تالفة 🙁\n" + String(repeating: "ж", count: 10_000)
        _ = try store.openComplaint(id: "K1", orderID: "O1", category: .damage, text: text, at: now, now: now)
        #expect(try store.complaint(id: "K1").text == text)
        let customer = try store.addCustomer(id: "C-SA", CustomerChanges(name: "فهد العتيبي 🌴", email: "fahad@example.sa", locale: "ar",
                                                                          timeZone: "Asia/Riyadh", country: "SA"), now: now)
        #expect(try store.customer(id: "C-SA") == customer)
        #expect(customer.name == "فهد العتيبي 🌴")
    }

    @Test("a refused fact writes nothing: no entity, no event")
    func refusalsWriteNothing() throws {
        let store = try seededStore()
        let before = try store.status()
        #expect(throws: AftersalesError.duplicate(entity: "customer", id: "C1")) {
            try store.addCustomer(id: "C1", CustomerChanges(name: "X", email: "x@example.com", locale: "en", timeZone: "UTC", country: "US"), now: now)
        }
        #expect(throws: AftersalesError.notFound(entity: "customer", id: "NOPE")) {
            try store.addOrder(id: "O2", customerID: "NOPE", lines: [OrderLine(sku: "P1", quantity: 1)], currency: "USD", at: now, now: now)
        }
        #expect(throws: AftersalesError.notFound(entity: "product", id: "NOPE")) {
            try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 1), OrderLine(sku: "NOPE", quantity: 1)],
                               currency: "USD", at: now, now: now)
        }
        #expect(throws: AftersalesError.self) {
            try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 1)], currency: "XYZ", at: now, now: now)
        }
        #expect(try store.status() == before)
    }

    @Test("impossible sequences are refused")
    func impossibleSequences() throws {
        let store = try seededStore()
        let shipment = Shipment(id: "S1", orderID: "O1", carrier: "DHL", trackingNumber: "1", dispatchedAt: t("2026-11-05T00:00:00Z"),
                                eta: t("2026-11-10T00:00:00Z"))
        // Dispatched before the order was placed.
        var early = shipment
        early.dispatchedAt = t("2026-10-01T00:00:00Z")
        #expect(throws: AftersalesError.self) { try store.dispatch(early, now: now) }
        _ = try store.dispatch(shipment, now: now)
        // Delivered before dispatched.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-04T00:00:00Z")), now: now)
        }
        // Delay without the new ETA.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-06T00:00:00Z"), cause: "x"), now: now)
        }
        // In the future.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .inTransit, at: t("2026-11-24T00:00:00Z")), now: now)
        }
        _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-09T00:00:00Z"), signedBy: "L. H."), now: now)
        // Nothing after delivery.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .inTransit, at: t("2026-11-10T00:00:00Z")), now: now)
        }
        // A cancelled order takes no events.
        _ = try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P2", quantity: 1)], currency: "USD", at: t("2026-11-02T00:00:00Z"), now: now)
        _ = try store.dispatch(Shipment(id: "S2", orderID: "O2", carrier: "DHL", trackingNumber: "2", dispatchedAt: t("2026-11-03T00:00:00Z"),
                                        eta: t("2026-11-10T00:00:00Z")), now: now)
        _ = try store.cancelOrder(id: "O2", at: t("2026-11-04T00:00:00Z"), now: now)
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S2", kind: .inTransit, at: t("2026-11-05T00:00:00Z")), now: now)
        }
        #expect(throws: AftersalesError.conflict("order \"O2\" is cancelled; it cannot be completed")) {
            try store.completeOrder(id: "O2", at: now, now: now)
        }
        #expect(throws: AftersalesError.self) {
            try store.dispatch(Shipment(id: "S3", orderID: "O2", carrier: "DHL", trackingNumber: "3", dispatchedAt: now, eta: now), now: now)
        }
    }

    @Test("a complaint moves through acknowledgement, solution, resolution and rating in order")
    func complaintLifecycle() throws {
        let store = try seededStore()
        _ = try store.openComplaint(id: "K1", orderID: "O1", category: .quality, text: "Leaks", at: t("2026-11-20T00:00:00Z"), now: now)
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .rate(3), at: now, now: now) }
        _ = try store.advanceComplaint(id: "K1", .acknowledge, at: t("2026-11-20T00:30:00Z"), now: now)
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .acknowledge, at: now, now: now) }
        _ = try store.advanceComplaint(id: "K1", .offerSolution("free re-shipment"), at: t("2026-11-20T10:00:00Z"), now: now)
        _ = try store.advanceComplaint(id: "K1", .resolve("replacement delivered"), at: t("2026-11-22T10:00:00Z"), now: now)
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .rate(6), at: now, now: now) }
        let rated = try store.advanceComplaint(id: "K1", .rate(3), at: now, now: now)
        #expect(rated.rating == 3 && rated.solution == "free re-shipment" && rated.resolution == "replacement delivered")
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .rate(4), at: now, now: now) }
        #expect(try store.events().suffix(4).map(\.kind) == [.complaintAcknowledged, .complaintSolutionOffered, .complaintResolved, .complaintRated])
    }

    @Test("survey answers and reviews are recorded once per order")
    func feedback() throws {
        let store = try seededStore()
        _ = try store.recordSurvey(SurveyAnswer(orderID: "O1", score: 6, reason: "slow", liked: [.quality], intent: .unsure, answeredAt: now), now: now)
        #expect(throws: AftersalesError.self) { try store.recordSurvey(SurveyAnswer(orderID: "O1", score: 9, answeredAt: now), now: now) }
        _ = try store.recordReview(Review(orderID: "O1", positive: false, text: "late", reviewedAt: now), now: now)
        let detail = try store.orderDetail(id: "O1")
        #expect(detail.survey?.intent == .unsure && detail.survey?.liked == [.quality])
        #expect(detail.reviews.count == 1)
    }

    @Test("updates change only the fields given; consent and unsubscribe are timed")
    func updates() throws {
        let store = try seededStore()
        let later = t("2026-11-24T10:00:00Z")
        let updated = try store.updateCustomer(id: "C1", CustomerChanges(locale: "es", managerName: "Wang Lei", managerEmail: "wang@example.com"), now: later)
        #expect(updated.locale.value == "es" && updated.email.value == "lucia@ferrenorte.mx" && updated.manager?.name == "Wang Lei")
        #expect(updated.consentAt == now, "consent time unchanged when consent is not touched")
        let unsubscribed = try store.unsubscribe(customerID: "C1", at: later, now: later)
        #expect(unsubscribed.unsubscribedAt == later && !unsubscribed.acceptsMarketing)
        let product = try store.succeedProduct(sku: "P1", by: "P2", offer: "20% off", at: later, now: later)
        #expect(product.successorSKU == "P2")
        #expect(throws: AftersalesError.self) { try store.succeedProduct(sku: "P1", by: "P2", offer: nil, at: later, now: later) }
    }

    @Test("a database from a newer version is refused")
    func newerDatabase() throws {
        let queue = try DatabaseQueue()
        _ = try AftersalesStore(writer: queue)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        #expect(throws: AftersalesError.self) { try AftersalesStore(writer: queue) }
    }
}
