import AftersalesDomain
import AftersalesPlanning
import Foundation

/// Sample facts that trigger every default rule, for `templates check` and the tests.
public enum Samples {
    static func at(_ text: String) -> Date { (try? Timestamp.parse(text, field: "sample")) ?? Date(timeIntervalSince1970: 0) }

    /// A buyer with orders that between them trigger every rule, with hard cases: a name and
    /// complaint text in several scripts, HTML and emoji in what the customer typed.
    public static func facts(locale: String = "es-MX", zone: String = "America/Sao_Paulo", country: String = "BR") -> CustomerFacts {
        let customer = Customer(
            id: "C-SAMPLE", name: "María José Pérez-Ñúñez 李娜 فهد", company: "Ferretería <Norte> & Hijos",
            email: EmailAddress(unchecked: "maria@ferretería.mx"), cc: [EmailAddress(unchecked: "compras@ferrenorte.mx")],
            locale: LocaleTag(unchecked: locale), timeZone: TimeZoneID(unchecked: zone), country: CountryCode(unchecked: country),
            industry: "agrochemicals", manager: AccountManager(name: "Wang Lei 王磊", email: EmailAddress(unchecked: "wang.lei@example.com")),
            consent: true, consentAt: at("2025-01-01T00:00:00Z"), createdAt: at("2025-01-01T00:00:00Z"))
        let products = [
            "PUMP-200": Product(sku: "PUMP-200", name: "Centrifugal pump CP-200", technical: true,
                                maintenance: MaintenancePlan(intervalDays: 90, text: "Lubricate the bearings & check the seal"), cycleDays: 180,
                                manualURL: "https://example.com/cp-200.pdf", videoURL: "https://example.com/cp-200.mp4",
                                partsURL: "https://example.com/parts/cp-200", successorSKU: "PUMP-300", successorOffer: "20% off with trade-in",
                                succeededAt: at("2026-11-20T00:00:00Z")),
            "PUMP-300": Product(sku: "PUMP-300", name: "Centrifugal pump CP-300", technical: true),
            "VALVE-50": Product(sku: "VALVE-50", name: "Brass gate valve DN50", cycleDays: 90),
        ]
        let text = "¡Llegó roto! <b>Two</b> pumps cracked 🙁 — 两台泵外壳破裂، وصلت البضاعة تالفة\n" + String(repeating: "Очень плохо. ", count: 20)
        func shipment(_ id: String, _ order: String, events: [ShipmentEvent]) -> TrackedShipment {
            TrackedShipment(shipment: Shipment(id: id, orderID: order, carrier: "Maersk", trackingNumber: "MAEU7712034",
                                               trackingURL: "https://www.maersk.com/tracking/MAEU7712034?ref=a&b=c", mode: .sea,
                                               dispatchedAt: at("2026-11-02T15:00:00Z"), eta: at("2026-11-30T00:00:00Z"),
                                               destinationCountry: CountryCode(unchecked: country), destinationPort: "Manzanillo",
                                               documents: Shipment.defaultDocuments),
                            events: events)
        }
        var orders: [OrderFacts] = []
        // A shipment under way: delayed, arriving at customs, held.
        orders.append(OrderFacts(order: Order(id: "SO-1", customerID: customer.id, lines: [OrderLine(sku: "VALVE-50", quantity: 200, unitPriceMinor: 1850)],
                                              placedAt: at("2026-11-01T15:00:00Z")),
                                 shipments: [shipment("SH-1", "SO-1", events: [
                                     ShipmentEvent(shipmentID: "SH-1", kind: .inTransit, at: at("2026-11-10T00:00:00Z"), location: "Port of Singapore"),
                                     ShipmentEvent(shipmentID: "SH-1", kind: .delayed, at: at("2026-11-20T00:00:00Z"), newETA: at("2026-12-05T00:00:00Z"),
                                                   cause: "port congestion", remedy: "priority on the next vessel"),
                                     ShipmentEvent(shipmentID: "SH-1", kind: .atCustoms, at: at("2026-11-21T00:00:00Z"), location: "Manzanillo"),
                                     ShipmentEvent(shipmentID: "SH-1", kind: .held, at: at("2026-11-21T12:00:00Z"), location: "Manzanillo",
                                                   reason: "missing import licence"),
                                 ])]))
        // Delivered and completed, with complaints of every kind, a promoter survey and reviews.
        var complaints: [Complaint] = []
        for (i, category) in ComplaintCategory.allCases.enumerated() {
            complaints.append(Complaint(id: "K-\(i)", orderID: "SO-2", category: category, text: text, openedAt: at("2026-11-21T10:00:00Z"),
                                        acknowledgedAt: at("2026-11-21T10:30:00Z"), solution: "free re-shipment", solutionAt: at("2026-11-21T20:00:00Z"),
                                        resolution: category == .quality ? "replacement delivered" : nil,
                                        resolvedAt: category == .quality ? at("2026-11-22T10:00:00Z") : nil,
                                        rating: category == .quality ? 2 : nil, ratedAt: category == .quality ? at("2026-11-22T12:00:00Z") : nil))
        }
        complaints.append(Complaint(id: "K-open", orderID: "SO-2", category: .quality, text: text, openedAt: at("2026-11-22T09:00:00Z")))
        complaints.append(Complaint(id: "K-resolved", orderID: "SO-2", category: .communication, text: text, openedAt: at("2026-11-20T09:00:00Z"),
                                    solution: "video call", solutionAt: at("2026-11-20T12:00:00Z"), resolution: "clarified in Spanish",
                                    resolvedAt: at("2026-11-21T12:00:00Z")))
        orders.append(OrderFacts(order: Order(id: "SO-2", customerID: customer.id, lines: [OrderLine(sku: "PUMP-200", quantity: 2, unitPriceMinor: 129_900)],
                                              placedAt: at("2026-10-01T15:00:00Z"), completedAt: at("2026-11-21T15:00:00Z")),
                                 shipments: [TrackedShipment(shipment: Shipment(id: "SH-2", orderID: "SO-2", carrier: "DHL Express", trackingNumber: "4471203398",
                                                                                mode: .express, dispatchedAt: at("2026-10-05T00:00:00Z"), eta: at("2026-10-30T00:00:00Z")),
                                                             events: [ShipmentEvent(shipmentID: "SH-2", kind: .delivered, at: at("2026-11-21T12:00:00Z"), signedBy: "M. Pérez")])],
                                 complaints: complaints,
                                 survey: SurveyAnswer(orderID: "SO-2", score: 10, reason: "fast <support>", liked: [.support], intent: .yes, answeredAt: at("2026-11-22T00:00:00Z")),
                                 reviews: [Review(orderID: "SO-2", positive: true, text: "Great <3", reviewedAt: at("2026-11-22T01:00:00Z")),
                                           Review(orderID: "SO-2", positive: false, text: "Late & \"broken\"", reviewedAt: at("2026-11-22T02:00:00Z"))]))
        for (id, score) in [("SO-3", 8), ("SO-4", 3)] {
            orders.append(OrderFacts(order: Order(id: id, customerID: customer.id, lines: [OrderLine(sku: "VALVE-50", quantity: 10)],
                                                  placedAt: at("2026-09-01T15:00:00Z"), completedAt: at("2026-11-21T15:00:00Z")),
                                     survey: SurveyAnswer(orderID: id, score: score, reason: "customs paperwork was slow", answeredAt: at("2026-11-22T00:00:00Z"))))
        }
        return CustomerFacts(customer: customer, orders: orders, products: products)
    }

    /// The instant the sample plan is made at.
    public static let now = at("2026-11-22T13:00:00Z")

    /// One planned mail per rule (per template of a rule) of the default set, from the sample facts.
    public static func mails(facts: CustomerFacts = facts()) -> [PlannedMail] {
        var settings = PlanningSettings()
        settings.marketingCap = 0
        // Every rule's mail, history included: none is left out for being long stale.
        let plan = Planner.plan(facts, existing: [], rules: .defaults, settings: settings, now: now, leavingOut: false)
        var seen: Set<String> = []
        var result: [PlannedMail] = []
        // Prefer a mail that would be sent, else any of the rule.
        // (By template: a rule may use two, like the transit update once the ETA has passed.)
        for mail in plan.mails.sorted(by: { ($0.disposition == .send ? 0 : 1, $0.key) < ($1.disposition == .send ? 0 : 1, $1.key) })
        where !seen.contains(mail.template) {
            seen.insert(mail.template)
            result.append(mail)
        }
        return result.sorted { ($0.rule, $0.template) < ($1.rule, $1.template) }
    }
}
