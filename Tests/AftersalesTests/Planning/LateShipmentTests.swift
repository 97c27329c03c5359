import AftersalesDomain
@testable import AftersalesPlanning
import Foundation
import Testing

/// Issue 17: what carrier feeds reveal about late shipments.
@Suite("Planner: late shipments")
struct LateShipmentTests {
    /// Dispatched 2026-11-03 14:00 UTC, ETA 2026-11-12: transit updates every 3 days, the 3rd (11-12 14:00) after the ETA.
    func shipped(_ events: [ShipmentEvent] = [], manager: Bool = true) -> FactsBuilder {
        var b = FactsBuilder()
        if manager { b.customer.manager = AccountManager(name: "Wang Lei", email: EmailAddress(unchecked: "wang@example.com")) }
        b.order("O1", "2026-11-01T15:00:00Z") { o in
            o.shipments = [shipment("S1", order: "O1", dispatched: "2026-11-03T14:00:00Z", eta: "2026-11-12T00:00:00Z", events)]
        }
        return b
    }

    @Test("a transit update due after the ETA without delivery uses the late wording; the ones before quote the ETA")
    func lateTransitUpdate() throws {
        let mails = shipped().plan(now: "2026-11-03T14:05:00Z")
        #expect(mails["transit-update/S1/1"]?.template == "transit-update")
        #expect(mails["transit-update/S1/2"]?.template == "transit-update")
        #expect(mails["transit-update/S1/3"]?.template == Planner.lateTransitTemplate)
        #expect(mails["transit-update/S1/4"]?.template == Planner.lateTransitTemplate)
        #expect(mails["transit-update/S1/3"]?.reasons.contains { $0.contains("says the shipment is late") } == true)

        // A delay moves the ETA: the same updates quote the new one again.
        let delayed = shipped([ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-08T00:00:00Z"), newETA: t("2026-11-20T00:00:00Z"), cause: "port congestion")])
            .plan(now: "2026-11-08T00:05:00Z")
        #expect(delayed["transit-update/S1/3"]?.template == "transit-update")
        #expect(delayed["transit-update/S1/6"]?.template == Planner.lateTransitTemplate, "11-21 is after the new ETA")
    }

    @Test("one internal overdue mail to the account manager a day after the ETA; none once delivered in time")
    func overdue() throws {
        let mails = shipped().plan(now: "2026-11-03T14:05:00Z")
        let mail = try #require(mails["overdue-shipment/S1/1"])
        #expect(mail.to == ["wang@example.com"] && mail.stream == .internal && mail.locale == "en")
        #expect(mail.due == t("2026-11-13T00:00:00Z"))
        #expect(mails.filter { $0.rule == "overdue-shipment" }.count == 1, "once per shipment")

        let delivered = shipped([ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-11T09:00:00Z"))]).plan(now: "2026-11-11T09:05:00Z")
        #expect(delivered.sending("overdue-shipment").isEmpty)
        #expect(delivered.sending("transit-update").allSatisfy { $0.template == "transit-update" })

        // Without an account manager it goes to the supervisor, as every manager mail does.
        let unmanaged = shipped(manager: false).plan(now: "2026-11-03T14:05:00Z")
        #expect(unmanaged["overdue-shipment/S1/1"]?.to == [PlanningSettings().supervisorEmail])
    }
}
