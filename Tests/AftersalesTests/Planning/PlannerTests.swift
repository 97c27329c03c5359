import AftersalesDomain
@testable import AftersalesPlanning
import Foundation
import Testing

/// Facts for one customer, built by hand: the planner is pure, so no database is needed.
struct FactsBuilder {
    var customer: Customer
    var orders: [OrderFacts] = []
    var products: [String: Product] = [
        "PUMP": Product(sku: "PUMP", name: "Pump", technical: true, maintenance: MaintenancePlan(intervalDays: 90, text: "Lubricate"), cycleDays: 180),
        "VALVE": Product(sku: "VALVE", name: "Valve", cycleDays: 90),
    ]

    init(country: String = "MX", zone: String = "America/Mexico_City", locale: String = "es-MX", consent: Bool = true) {
        customer = Customer(id: "C1", name: "Lucía", email: EmailAddress(unchecked: "lucia@example.mx"), cc: [EmailAddress(unchecked: "buy@example.mx")],
                            locale: LocaleTag(unchecked: locale), timeZone: TimeZoneID(unchecked: zone), country: CountryCode(unchecked: country),
                            consent: consent, consentAt: consent ? t("2026-01-01T00:00:00Z") : nil, createdAt: t("2026-01-01T00:00:00Z"))
    }

    mutating func order(_ id: String, _ placed: String, sku: String = "PUMP", _ edit: (inout OrderFacts) -> Void = { _ in }) {
        var facts = OrderFacts(order: Order(id: id, customerID: "C1", lines: [OrderLine(sku: sku, quantity: 2)], placedAt: t(placed)))
        edit(&facts)
        orders.append(facts)
    }

    var facts: CustomerFacts { CustomerFacts(customer: customer, orders: orders, products: products) }

    func plan(now: String, existing: [ExistingMail] = [], rules: RuleSet = .defaults, settings: PlanningSettings = PlanningSettings(),
              leavingOut: Bool = true) -> [PlannedMail] {
        Planner.plan(facts, existing: existing, rules: rules, settings: settings, now: t(now), leavingOut: leavingOut).mails
    }
}

func shipment(_ id: String, order: String, dispatched: String, eta: String, _ events: [ShipmentEvent] = []) -> TrackedShipment {
    TrackedShipment(shipment: Shipment(id: id, orderID: order, carrier: "Maersk", trackingNumber: "M1", dispatchedAt: t(dispatched), eta: t(eta)),
                    events: events)
}

extension Array where Element == PlannedMail {
    subscript(key: String) -> PlannedMail? { first { $0.key == key } }
    func sending(_ rule: String) -> [PlannedMail] { filter { $0.rule == rule && $0.disposition == .send } }
}

@Suite("Planner: default timings")
struct PlannerTimingTests {
    /// A Mexican buyer with one order dispatched on Tuesday 2026-11-03 08:00 local (14:00 UTC).
    func shipped(_ events: [ShipmentEvent] = [], complete: String? = nil) -> FactsBuilder {
        var b = FactsBuilder()
        b.order("O1", "2026-11-01T15:00:00Z") { o in
            o.shipments = [shipment("S1", order: "O1", dispatched: "2026-11-03T14:00:00Z", eta: "2026-11-20T00:00:00Z", events)]
            if let complete { o.order.completedAt = t(complete) }
        }
        return b
    }

    @Test("tracking goes at once on dispatch (immediate, within 2 h), to the buyer and their CC")
    func tracking() throws {
        let mails = shipped().plan(now: "2026-11-03T14:05:00Z")
        let mail = try #require(mails["tracking/S1/1"])
        #expect(mail.due == t("2026-11-03T14:00:00Z"))
        #expect(mail.deadline == t("2026-11-03T16:00:00Z"))
        #expect(mail.to == ["lucia@example.mx"] && mail.cc == ["buy@example.mx"])
        #expect(mail.locale == "es-MX" && mail.stream == .transactional && mail.disposition == .send)
    }

    @Test("transit updates every 3 days after dispatch, in business hours, until delivered")
    func transitUpdates() throws {
        let mails = shipped().plan(now: "2026-11-03T14:05:00Z").sending("transit-update")
        // Dispatch + 3 d = Fri 2026-11-06 08:00 local → 09:00 local opening (15:00 UTC).
        #expect(mails.first?.key == "transit-update/S1/1")
        #expect(mails.first?.nominalDue == t("2026-11-06T14:00:00Z"))
        #expect(mails.first?.due == t("2026-11-06T15:00:00Z"))
        // + 6 d = Mon 2026-11-09 08:00 local → 09:00.
        #expect(mails[1].due == t("2026-11-09T15:00:00Z"))
        // Occurrences until ETA + 7 days (2026-11-27): dispatch + 3k ≤ 11-27 → k ≤ 7.
        #expect(mails.count == 7)
        let delivered = shipped([ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-12T18:00:00Z"))]).plan(now: "2026-11-12T18:05:00Z")
        #expect(delivered.sending("transit-update").isEmpty)
        #expect(delivered["transit-update/S1/4"]?.disposition == .cancel("shipment S1 delivered at 2026-11-12T18:00:00Z"))
    }

    @Test("delay notice at once; flagged when it goes out less than 24 h before the ETA it corrects")
    func delayNotice() throws {
        let early = ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-10T03:00:00Z"), newETA: t("2026-11-25T00:00:00Z"), cause: "port congestion")
        let late = ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-24T12:00:00Z"), newETA: t("2026-11-30T00:00:00Z"), cause: "missed connection")
        // The first is long stale by now: planned with all the history, to look at it.
        let mails = shipped([early, late]).plan(now: "2026-11-24T12:05:00Z", leavingOut: false)
        let first = try #require(mails["delay-notice/S1/20261110T030000Z"])
        #expect(first.due == t("2026-11-10T03:00:00Z"), "immediate: 21:00 local the day before is fine")
        #expect(first.flags.isEmpty)
        let second = try #require(mails["delay-notice/S1/20261124T120000Z"])
        #expect(second.due == t("2026-11-24T12:00:00Z"))
        #expect(second.flags.contains { $0.contains("less than 24 h before the ETA it corrects (2026-11-25T00:00:00Z)") })
    }

    @Test("customs notes: days before the ETA, or on arrival at customs when that is earlier")
    func customsNotes() throws {
        let byETA = try #require(shipped().plan(now: "2026-11-03T15:00:00Z")["customs-notes/S1/1"])
        // ETA 2026-11-20 00:00Z − 3 d = Mon 2026-11-16 18:00 local (after hours) → Tue 09:00 local.
        #expect(byETA.nominalDue == t("2026-11-17T00:00:00Z"))
        #expect(byETA.due == t("2026-11-17T15:00:00Z"))
        let arriving = ShipmentEvent(shipmentID: "S1", kind: .atCustoms, at: t("2026-11-12T16:00:00Z"))
        let byEvent = try #require(shipped([arriving]).plan(now: "2026-11-12T16:05:00Z")["customs-notes/S1/1"])
        #expect(byEvent.due == t("2026-11-12T16:00:00Z"))
        var settings = PlanningSettings()
        settings.customsDaysBeforeETA = 10
        let configured = try #require(shipped().plan(now: "2026-11-03T15:00:00Z", settings: settings)["customs-notes/S1/1"])
        #expect(configured.nominalDue == t("2026-11-10T00:00:00Z"))
        let cleared = shipped([ShipmentEvent(shipmentID: "S1", kind: .cleared, at: t("2026-11-15T10:00:00Z"))]).plan(now: "2026-11-15T10:05:00Z")
        #expect(cleared["customs-notes/S1/1"]?.disposition == .cancel("shipment S1 cleared customs at 2026-11-15T10:00:00Z"))
    }

    @Test("held at customs: at once, even at night")
    func customsHeld() throws {
        let held = ShipmentEvent(shipmentID: "S1", kind: .held, at: t("2026-11-15T07:00:00Z"), reason: "missing import licence")
        let mail = try #require(shipped([held]).plan(now: "2026-11-15T07:01:00Z")["customs-held/S1/20261115T070000Z"])
        #expect(mail.due == t("2026-11-15T07:00:00Z"), "01:00 local on a Sunday, still immediate")
    }

    @Test("after delivery: inspection guide within 24 h, usage follow-up at 72 h, maintenance after a month, review request")
    func afterDelivery() throws {
        // Delivered Thu 2026-11-12 12:00 local (18:00 UTC).
        let delivered = ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-12T18:00:00Z"))
        let mails = shipped([delivered]).plan(now: "2026-11-12T18:05:00Z")
        #expect(mails["inspection-guide/S1/1"]?.due == t("2026-11-12T18:00:00Z"))
        #expect(mails["inspection-guide/S1/1"]?.deadline == t("2026-11-13T18:00:00Z"))
        #expect(mails["usage-follow-up/S1/1"]?.nominalDue == t("2026-11-15T18:00:00Z"))
        #expect(mails["usage-follow-up/S1/1"]?.due == t("2026-11-16T15:00:00Z"), "72 h later is Sunday 12:00 local → Monday 09:00 local")
        #expect(mails["maintenance-reminder/S1/1"]?.nominalDue == t("2026-12-12T18:00:00Z"))
        #expect(mails["review-request/S1/1"]?.nominalDue == t("2026-11-17T18:00:00Z"))
        var noPlan = shipped([delivered])
        noPlan.products["PUMP"]?.maintenance = nil
        #expect(noPlan.plan(now: "2026-11-12T18:05:00Z")["maintenance-reminder/S1/1"] == nil, "only products with a maintenance plan")
    }

    @Test("completion: policy reminder after a day, survey after three; an answered survey cancels it")
    func completion() throws {
        let mails = shipped(complete: "2026-11-16T16:00:00Z").plan(now: "2026-11-16T16:05:00Z")
        #expect(mails["policy-reminder/O1/1"]?.due == t("2026-11-17T16:00:00Z"))
        #expect(mails["survey/O1/1"]?.due == t("2026-11-19T16:00:00Z"))
        var answered = shipped(complete: "2026-11-16T16:00:00Z")
        answered.orders[0].survey = SurveyAnswer(orderID: "O1", score: 10, answeredAt: t("2026-11-18T00:00:00Z"))
        #expect(answered.plan(now: "2026-11-18T00:05:00Z")["survey/O1/1"]?.disposition == .cancel("survey answered at 2026-11-18T00:00:00Z"))
    }

    func complaint(_ category: ComplaintCategory, _ edit: (inout Complaint) -> Void = { _ in }) -> FactsBuilder {
        var b = shipped()
        var k = Complaint(id: "K1", orderID: "O1", category: category, text: "Cracked housing", openedAt: t("2026-11-14T04:00:00Z"))
        edit(&k)
        b.orders[0].complaints = [k]
        return b
    }

    @Test("complaints: acknowledgement within 1 h at once (damage gets the damage reply), escalation at 24 h unless solved")
    func complaints() throws {
        let quality = complaint(.quality).plan(now: "2026-11-14T04:01:00Z")
        #expect(quality["complaint-ack/K1/1"]?.due == t("2026-11-14T04:00:00Z"))
        #expect(quality["complaint-ack/K1/1"]?.deadline == t("2026-11-14T05:00:00Z"))
        #expect(quality["damage-reply/K1/1"] == nil)
        let escalation = try #require(quality["complaint-escalation/K1/1"])
        #expect(escalation.due == t("2026-11-15T04:00:00Z") && escalation.audience == .supervisor && escalation.stream == .internal)
        #expect(escalation.to == ["supervisor@example.com"])
        let damage = complaint(.damage).plan(now: "2026-11-14T04:01:00Z")
        #expect(damage["damage-reply/K1/1"]?.due == t("2026-11-14T04:00:00Z"))
        #expect(damage["complaint-ack/K1/1"] == nil)
        let solved = complaint(.quality) { $0.solution = "re-shipment"; $0.solutionAt = t("2026-11-14T20:00:00Z") }.plan(now: "2026-11-14T20:05:00Z")
        #expect(solved["complaint-escalation/K1/1"]?.disposition == .cancel("solution offered at 2026-11-14T20:00:00Z"))
        #expect(solved["complaint-solution/K1/1"]?.due == t("2026-11-14T20:00:00Z"))
    }

    @Test("resolution: satisfaction check within 7 days; a rating below 4 plans an improvement commitment held for approval")
    func resolution() throws {
        let resolved = complaint(.quality) { $0.resolvedAt = t("2026-11-16T16:00:00Z"); $0.resolution = "replaced" }.plan(now: "2026-11-16T16:05:00Z")
        let check = try #require(resolved["satisfaction-check/K1/1"])
        #expect(check.due == t("2026-11-18T16:00:00Z") && check.deadline == t("2026-11-23T16:00:00Z"))
        #expect(resolved["complaint-escalation/K1/1"]?.disposition == .cancel("complaint resolved at 2026-11-16T16:00:00Z"))
        let low = complaint(.quality) { $0.resolvedAt = t("2026-11-16T16:00:00Z"); $0.rating = 3; $0.ratedAt = t("2026-11-18T16:00:00Z") }
            .plan(now: "2026-11-18T16:05:00Z")
        #expect(low["improvement-commitment/K1/1"]?.needsApproval == true)
        #expect(low["satisfaction-check/K1/1"]?.disposition == .cancel("customer rated the handling at 2026-11-18T16:00:00Z"))
        let high = complaint(.quality) { $0.resolvedAt = t("2026-11-16T16:00:00Z"); $0.rating = 4; $0.ratedAt = t("2026-11-18T16:00:00Z") }
            .plan(now: "2026-11-18T16:05:00Z")
        #expect(high["improvement-commitment/K1/1"] == nil)
    }

    @Test("survey segments: 10 promoter, 7-9 passive (approval), 0-6 detractor to the account manager at once",
          arguments: [(10, "survey-promoter"), (9, "survey-passive"), (7, "survey-passive"), (6, "survey-detractor"), (0, "survey-detractor")])
    func segments(score: Int, rule: String) throws {
        var b = shipped(complete: "2026-11-16T16:00:00Z")
        b.orders[0].survey = SurveyAnswer(orderID: "O1", score: score, reason: "slow", answeredAt: t("2026-11-18T20:00:00Z"))
        let mails = b.plan(now: "2026-11-18T20:05:00Z")
        let segment = mails.filter { $0.rule.hasPrefix("survey-") }
        #expect(segment.map(\.rule) == [rule])
        if rule == "survey-detractor" {
            #expect(segment[0].to == ["supervisor@example.com"], "no account manager: the supervisor is told")
            #expect(segment[0].due == t("2026-11-18T20:00:00Z"))
        }
        if rule == "survey-passive" { #expect(segment[0].needsApproval) }
    }

    @Test("reviews: thanks for positive, an immediate response to negative; a review cancels the review request")
    func reviews() throws {
        let delivered = ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-12T18:00:00Z"))
        var b = shipped([delivered])
        b.orders[0].reviews = [Review(orderID: "O1", positive: false, text: "late", reviewedAt: t("2026-11-14T06:00:00Z"))]
        let mails = b.plan(now: "2026-11-14T06:05:00Z")
        #expect(mails["review-response/O1/20261114T060000Z"]?.due == t("2026-11-14T06:00:00Z"))
        #expect(mails.contains { $0.rule == "review-thanks" } == false)
        #expect(mails["review-request/S1/1"]?.disposition == .cancel("review left at 2026-11-14T06:00:00Z"))
    }
}

@Suite("Planner: waking up")
struct PlannerWakeTests {
    @Test("each customer wakes early next year, spread over four weeks by customer id, the same in every run")
    func wake() {
        var one = FactsBuilder()
        one.order("O1", "2026-06-01T15:00:00Z", sku: "VALVE")
        let now = t("2026-11-23T10:00:00Z")
        let plan = Planner.plan(one.facts, existing: [], rules: .defaults, settings: PlanningSettings(), now: now)
        #expect(plan.customerID == "C1")
        #expect(plan.wakeAt >= t("2027-01-01T00:00:00Z") && plan.wakeAt < t("2027-01-29T00:00:00Z"))
        #expect(Planner.plan(one.facts, existing: [], rules: .defaults, settings: PlanningSettings(), now: now).wakeAt == plan.wakeAt)
        var wakes: Set<Date> = []
        for index in 0..<20 {
            var other = one
            other.customer.id = "C-\(index)"
            wakes.insert(Planner.plan(other.facts, existing: [], rules: .defaults, settings: PlanningSettings(), now: now).wakeAt)
        }
        #expect(wakes.count > 10, "customers do not all wake at the same minute")
    }
}

@Suite("Planner: repurchase, marketing and upgrades")
struct PlannerMarketingTests {
    @Test("repurchase alert 15 days before the product's cycle; the customer's median gap once there are two gaps")
    func repurchase() throws {
        var one = FactsBuilder()
        one.order("O1", "2026-06-01T15:00:00Z", sku: "VALVE")
        let alert = try #require(one.plan(now: "2026-06-01T16:00:00Z")["repurchase-alert/C1/VALVE/O1"])
        #expect(alert.nominalDue == t("2026-06-01T15:00:00Z").addingTimeInterval((90 - 15) * 86_400))
        #expect(alert.stream == .marketing)
        var history = FactsBuilder()
        history.order("O1", "2026-01-01T15:00:00Z", sku: "VALVE")
        history.order("O2", "2026-02-01T15:00:00Z", sku: "VALVE") // 31 days
        history.order("O3", "2026-03-15T15:00:00Z", sku: "VALVE") // 42 days
        history.order("O4", "2026-04-24T15:00:00Z", sku: "VALVE") // 40 days → median 40
        let pending = ExistingMail(key: "repurchase-alert/C1/VALVE/O3", rule: "repurchase-alert", stream: .marketing, pending: true, sentAt: nil)
        let mails = history.plan(now: "2026-04-24T16:00:00Z", existing: [pending])
        let predicted = try #require(mails["repurchase-alert/C1/VALVE/O4"])
        #expect(predicted.nominalDue == t("2026-04-24T15:00:00Z").addingTimeInterval((40 - 15) * 86_400))
        #expect(mails["repurchase-alert/C1/VALVE/O3"]?.disposition == .cancel("re-ordered: order O4 placed at 2026-04-24T15:00:00Z"),
                "an order placed cancels the pending alert")
        #expect(history.plan(now: "2026-04-24T16:00:00Z")["repurchase-alert/C1/VALVE/O2"] == nil,
                "a cancellation of mail never stored and older than the explain window is left out of the plan")
    }

    @Test("marketing mail only with consent and not unsubscribed; transactional mail still goes")
    func consent() throws {
        var b = FactsBuilder(consent: false)
        b.order("O1", "2026-06-01T15:00:00Z", sku: "VALVE") { $0.order.completedAt = t("2026-06-02T15:00:00Z") }
        let mails = b.plan(now: "2026-06-02T16:00:00Z")
        #expect(mails.sending("repurchase-alert").isEmpty)
        #expect(mails["repurchase-alert/C1/VALVE/O1"]?.disposition == .cancel("customer has not consented to marketing mail"))
        #expect(mails.sending("policy-reminder").count == 1)
        var unsubscribed = FactsBuilder()
        unsubscribed.customer.unsubscribedAt = t("2026-06-10T00:00:00Z")
        unsubscribed.order("O1", "2026-06-01T15:00:00Z", sku: "VALVE")
        #expect(unsubscribed.plan(now: "2026-06-10T01:00:00Z")["repurchase-alert/C1/VALVE/O1"]?.disposition
                == .cancel("customer unsubscribed from marketing mail at 2026-06-10T00:00:00Z"))
    }

    @Test("the frequency cap postpones the third marketing mail in 7 days, with the reason, and drops nothing")
    func frequencyCap() throws {
        var b = FactsBuilder(country: "DE", zone: "Europe/Berlin", locale: "de")
        b.products["A"] = Product(sku: "A", name: "A", cycleDays: 40)
        b.products["B"] = Product(sku: "B", name: "B", cycleDays: 40)
        b.products["C"] = Product(sku: "C", name: "C", cycleDays: 40)
        b.order("O1", "2026-03-02T09:00:00Z") { $0.order.lines = [OrderLine(sku: "A", quantity: 1), OrderLine(sku: "B", quantity: 1), OrderLine(sku: "C", quantity: 1)] }
        let alerts = b.plan(now: "2026-03-02T10:00:00Z").sending("repurchase-alert")
        #expect(alerts.count == 3)
        // Due 2026-03-27 10:00 local (Friday) for all three: two go, the third waits 7 days.
        #expect(alerts[0].due == t("2026-03-27T09:00:00Z") && alerts[1].due == t("2026-03-27T09:00:00Z"))
        #expect(alerts[2].due > t("2026-04-03T09:00:00Z"))
        #expect(alerts[2].reasons.contains { $0.contains("postponed by the marketing cap (2 in 7 days)") })
    }

    @Test("upgrade notice to every owner when a model gets a successor")
    func upgrade() throws {
        var b = FactsBuilder()
        b.products["PUMP"]?.successorSKU = "PUMP2"
        b.products["PUMP"]?.succeededAt = t("2026-09-01T12:00:00Z")
        b.order("O1", "2026-06-01T15:00:00Z")
        b.order("O2", "2026-07-01T15:00:00Z")
        let notices = b.plan(now: "2026-09-01T12:05:00Z").filter { $0.rule == "upgrade-notice" }
        #expect(notices.map(\.key) == ["upgrade-notice/C1/PUMP/1"], "once per owner, not per order")
        #expect(notices.first?.orderID == "O2")
    }

    @Test("peak season a month before the market's holiday: Christmas, Ramadan, Chinese New Year")
    func peakSeason() throws {
        let mexico = FactsBuilder().plan(now: "2026-10-01T00:00:00Z")
        #expect(mexico["peak-season/C1/christmas-2026/1"]?.nominalDue == t("2026-11-25T06:00:00Z"))
        let saudi = FactsBuilder(country: "SA", zone: "Asia/Riyadh", locale: "ar").plan(now: "2026-10-01T00:00:00Z")
        #expect(saudi["peak-season/C1/ramadan-2027/1"] != nil)
        #expect(saudi.contains { $0.key.contains("christmas") } == false)
        let china = FactsBuilder(country: "CN", zone: "Asia/Shanghai", locale: "zh-Hans").plan(now: "2026-10-01T00:00:00Z")
        // Chinese New Year 2027 is 6 February.
        #expect(china["peak-season/C1/chinese-new-year-2027/1"]?.nominalDue == t("2027-02-05T16:00:00Z").addingTimeInterval(-30 * 86_400))
    }

    @Test("seasonal alert a month before a configured industry/region season")
    func seasonal() throws {
        var b = FactsBuilder(country: "TH", zone: "Asia/Bangkok", locale: "th")
        b.customer.industry = "Agrochemicals"
        let mail = try #require(b.plan(now: "2026-01-10T00:00:00Z")["seasonal-alert/C1/rainy-season-2026/1"])
        #expect(mail.nominalDue == t("2026-05-31T17:00:00Z").addingTimeInterval(-30 * 86_400))
    }
}

@Suite("Planner: send windows and staleness")
struct PlannerWindowTests {
    let calendar = MarketCalendar()

    @Test("weekends: Saturday-Sunday in Mexico, Friday-Saturday in Saudi Arabia")
    func weekends() {
        // Friday 2026-11-20 10:00 in Riyadh (07:00 UTC) → Sunday 09:00.
        let (riyadh, why) = calendar.nextOpening(at: t("2026-11-20T07:00:00Z"), zone: TimeZone(identifier: "Asia/Riyadh")!, country: "SA")
        #expect(riyadh == t("2026-11-22T06:00:00Z"))
        #expect(why.contains { $0.contains("weekend day in SA") })
        // Saturday 2026-11-21 10:00 in Mexico City → Monday 09:00.
        let (mexico, _) = calendar.nextOpening(at: t("2026-11-21T16:00:00Z"), zone: TimeZone(identifier: "America/Mexico_City")!, country: "MX")
        #expect(mexico == t("2026-11-23T15:00:00Z"))
        // Sunday is a working day in Riyadh.
        let (sunday, _) = calendar.nextOpening(at: t("2026-11-22T07:00:00Z"), zone: TimeZone(identifier: "Asia/Riyadh")!, country: "SA")
        #expect(sunday == t("2026-11-22T07:00:00Z"))
    }

    @Test("Ramadan: shorter hours in Muslim markets; Eid al-Fitr is a holiday")
    func ramadan() {
        let riyadh = TimeZone(identifier: "Asia/Riyadh")!
        // 2027-02-15 (Monday) is in Ramadan 1448: 09:00 local is before the 10:00 Ramadan opening.
        let (opening, why) = calendar.nextOpening(at: t("2027-02-15T06:00:00Z"), zone: riyadh, country: "SA")
        #expect(opening == t("2027-02-15T07:00:00Z"))
        #expect(why.contains { $0.contains("Ramadan hours") })
        // 16:00 local in Ramadan is after the 15:00 close → next day 10:00.
        let (late, _) = calendar.nextOpening(at: t("2027-02-15T13:00:00Z"), zone: riyadh, country: "SA")
        #expect(late == t("2027-02-16T07:00:00Z"))
        // Eid al-Fitr 1448 begins 2027-03-09 (Umm al-Qura): Tuesday 9 to Thursday 11 March are holidays.
        let (eid, eidWhy) = calendar.nextOpening(at: t("2027-03-09T07:00:00Z"), zone: riyadh, country: "SA")
        #expect(eidWhy.contains { $0.contains("Eid al-Fitr") })
        #expect(eid == t("2027-03-14T06:00:00Z"), "Fri-Sat weekend follows, so Sunday the 14th")
        // Mexico does not shift for Ramadan.
        let (mx, _) = calendar.nextOpening(at: t("2027-02-15T15:00:00Z"), zone: TimeZone(identifier: "America/Mexico_City")!, country: "MX")
        #expect(mx == t("2027-02-15T15:00:00Z"))
    }

    @Test("Chinese New Year: the Spring Festival week is off in China")
    func chineseNewYear() {
        let shanghai = TimeZone(identifier: "Asia/Shanghai")!
        // 2027-02-08 is the third day of the new year.
        let (opening, why) = calendar.nextOpening(at: t("2027-02-08T02:00:00Z"), zone: shanghai, country: "CN")
        #expect(why.contains { $0.contains("Chinese New Year") })
        #expect(opening == t("2027-02-15T01:00:00Z"), "back on Monday 15 February, 09:00 local")
    }

    @Test("daylight saving: 09:00 local before and after the change in Berlin")
    func dst() {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // Sunday 2026-03-29 is the spring-forward day; Monday 09:00 CEST = 07:00 UTC.
        let (spring, _) = calendar.nextOpening(at: t("2026-03-28T10:00:00Z"), zone: berlin, country: "DE")
        #expect(spring == t("2026-03-30T07:00:00Z"))
        // Before the change, Friday 2026-03-27 07:30 UTC is 08:30 CET → 09:00 CET = 08:00 UTC.
        let (before, _) = calendar.nextOpening(at: t("2026-03-27T07:30:00Z"), zone: berlin, country: "DE")
        #expect(before == t("2026-03-27T08:00:00Z"))
    }

    @Test("a market's holidays and Ramadan, from where each starts, are those of asking the calendars day by day",
          arguments: [("SA", "Asia/Riyadh"), ("AE", "Asia/Dubai"), ("ID", "Asia/Jakarta"), ("MA", "Africa/Casablanca"), ("TR", "America/New_York"),
                      ("CN", "Asia/Shanghai"), ("KR", "Asia/Seoul"), ("VN", "Europe/Berlin")])
    func holidayYears(country: String, zoneID: String) throws {
        let zone = try #require(TimeZone(identifier: zoneID))
        for year in [2025, 2026, 2027, 2030, 2033] {
            #expect(MarketCalendar.computeYear(year, country: country, zone: zone) == dayByDay(year, country: country, zone: zone), "\(country) \(zoneID) \(year)")
        }
        #expect(!MarketCalendar.computeYear(2026, country: country, zone: zone).holidays.isEmpty)
    }

    /// The reference: every day of the year at local noon, asked for its Islamic and Chinese date.
    func dayByDay(_ year: Int, country: String, zone: TimeZone) -> MarketCalendar.Year {
        var result = MarketCalendar.Year()
        let muslim = MarketCalendar.muslimMarkets.contains(country), lunar = MarketCalendar.lunarNewYearMarkets.contains(country)
        var gregorian = Calendar(identifier: .gregorian), islamic = Calendar(identifier: .islamicUmmAlQura), chinese = Calendar(identifier: .chinese)
        gregorian.timeZone = zone
        islamic.timeZone = zone
        chinese.timeZone = zone
        var day = gregorian.date(from: DateComponents(year: year, month: 1, day: 1, hour: 12))!
        while gregorian.component(.year, from: day) == year {
            let f = Timestamp.fields(day, in: zone)
            let key = MarketCalendar.dayKey(f.year, f.month, f.day)
            if muslim {
                let h = islamic.dateComponents([.month, .day], from: day)
                if h.month == 9 { result.ramadan.insert(key) }
                if h.month == 10, let d = h.day, d <= 3 { result.holidays[key] = "Eid al-Fitr" }
                if h.month == 12, let d = h.day, (10...12).contains(d) { result.holidays[key] = "Eid al-Adha" }
            }
            if lunar {
                let c = chinese.dateComponents([.month, .day], from: day)
                if c.month == 1, let d = c.day, d <= (country == "CN" ? 7 : 3) { result.holidays[key] = "Chinese New Year" }
                if country == "CN", c.month == 12, let next = chinese.date(byAdding: .day, value: 1, to: day),
                   chinese.component(.month, from: next) == 1 { result.holidays[key] = "Chinese New Year's Eve" }
            }
            day = day.addingTimeInterval(86_400)
        }
        return result
    }

    @Test("fixed holidays and extra configured dates")
    func holidays() {
        let paris = TimeZone(identifier: "Europe/Paris")!
        let (christmas, why) = calendar.nextOpening(at: t("2026-12-25T09:00:00Z"), zone: paris, country: "FR")
        #expect(why.contains { $0.contains("Christmas Day") })
        #expect(christmas == t("2026-12-28T08:00:00Z"))
        let company = MarketCalendar(extraHolidays: ["2026-12-24"])
        let (eve, eveWhy) = company.nextOpening(at: t("2026-12-24T09:00:00Z"), zone: paris, country: "FR")
        #expect(eveWhy.contains { $0.contains("company holiday 2026-12-24") })
        #expect(eve == t("2026-12-28T08:00:00Z"))
    }

    @Test("history that is certainly stale and was never stored is left out; stored, recent or marketing mail stays")
    func settledHistory() throws {
        var b = FactsBuilder()
        b.order("O1", "2026-11-01T15:00:00Z") { o in
            o.shipments = [shipment("S1", order: "O1", dispatched: "2026-11-03T14:00:00Z", eta: "2026-11-30T00:00:00Z")]
        }
        // Tracking goes at once and is stale 2 days after 11-03 14:00; the explain window is the last 7 days.
        let staleAt = t("2026-11-05T14:00:00Z").addingTimeInterval(Planner.cancellationLookback)
        let before = Timestamp.utc(staleAt.addingTimeInterval(-3600)), after = Timestamp.utc(staleAt.addingTimeInterval(3600))
        #expect(b.plan(now: before)["tracking/S1/1"]?.disposition == .cancel("stale: due 2026-11-03T14:00:00Z, no longer worth sending after 2026-11-05T14:00:00Z"))
        #expect(b.plan(now: after)["tracking/S1/1"] == nil)
        let stored = ExistingMail(key: "tracking/S1/1", rule: "tracking", stream: .transactional, pending: true, sentAt: nil)
        let kept = try #require(b.plan(now: after, existing: [stored])["tracking/S1/1"], "a stored mail is still planned, to be cancelled")
        #expect(kept.disposition == .cancel("stale: due 2026-11-03T14:00:00Z, no longer worth sending after 2026-11-05T14:00:00Z"))
        // Business hours count where they put the mail: transit update 1 is due 11-06 14:00 UTC, 08:00 in
        // Mexico City, moved to 09:00 (15:00 UTC), so stale from 11-09 15:00 and out of the window an hour
        // later than its nominal time says.
        #expect(b.plan(now: "2026-11-16T14:30:00Z")["transit-update/S1/1"] != nil)
        #expect(b.plan(now: "2026-11-16T15:30:00Z")["transit-update/S1/1"] == nil)
        // With mail of the rule stored, the rule's history stays: a stored update's reason names the one that supersedes it.
        #expect(b.plan(now: "2026-11-19T16:00:00Z")["transit-update/S1/2"] == nil)
        let update = ExistingMail(key: "transit-update/S1/1", rule: "transit-update", stream: .transactional, pending: true, sentAt: nil)
        let superseded = b.plan(now: "2026-11-19T16:00:00Z", existing: [update])
        #expect(superseded["transit-update/S1/1"]?.disposition == .cancel("stale: superseded by transit-update/S1/2, due 2026-11-09T15:00:00Z"))
        // Marketing history stays however old: it counts towards the marketing cap.
        b.orders[0].survey = SurveyAnswer(orderID: "O1", score: 10, answeredAt: t("2026-11-06T00:00:00Z"))
        let promoter = try #require(b.plan(now: "2027-11-06T00:00:00Z")["survey-promoter/O1/1"])
        #expect(promoter.disposition != .send)
        #expect(MarketCalendar.maxMove >= 121 * 86_400)
    }

    @Test("stale mail is cancelled, not sent late; a superseded transit update too; tracking after delivery")
    func staleness() throws {
        var b = FactsBuilder()
        b.order("O1", "2026-11-01T15:00:00Z") { o in
            o.shipments = [shipment("S1", order: "O1", dispatched: "2026-11-03T14:00:00Z", eta: "2026-11-30T00:00:00Z")]
        }
        let mails = b.plan(now: "2026-11-10T16:00:00Z")
        #expect(mails["tracking/S1/1"]?.disposition == .cancel("stale: due 2026-11-03T14:00:00Z, no longer worth sending after 2026-11-05T14:00:00Z"))
        // Updates 1 (11-06) and 2 (11-09) are both due; 1 is superseded by 2.
        #expect(mails["transit-update/S1/1"]?.disposition == .cancel("stale: superseded by transit-update/S1/2, due 2026-11-09T15:00:00Z"))
        #expect(mails["transit-update/S1/2"]?.disposition == .send)
        b.orders[0].shipments[0].events = [ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-03T20:00:00Z"))]
        #expect(b.plan(now: "2026-11-03T20:05:00Z")["tracking/S1/1"]?.disposition == .cancel("shipment S1 delivered at 2026-11-03T20:00:00Z"))
    }

    @Test("planning is deterministic: same facts, same clock, same plan")
    func deterministic() {
        var b = FactsBuilder()
        b.order("O1", "2026-11-01T15:00:00Z") { $0.shipments = [shipment("S1", order: "O1", dispatched: "2026-11-03T14:00:00Z", eta: "2026-11-30T00:00:00Z")] }
        #expect(b.plan(now: "2026-11-04T00:00:00Z") == b.plan(now: "2026-11-04T00:00:00Z"))
    }
}

@Suite("Facts")
struct FactsLookupTests {
    @Test("an order's shipment is found by id whatever the order of its shipments: bisected in id order, scanned otherwise")
    func shipmentByID() {
        let ids = (0..<40).map { String(format: "S%03d", $0) }
        let orders: [[String]] = [ids, ids.reversed(), ids.shuffled(), ["S9", "S10", "S2"], ["S1"], []]
        for list in orders {
            var facts = OrderFacts(order: Order(id: "O1", customerID: "C1", lines: [], currency: "USD", placedAt: Date(timeIntervalSince1970: 0)))
            facts.shipments = list.map { shipment($0, order: "O1", dispatched: "2026-11-03T14:00:00Z", eta: "2026-11-20T00:00:00Z") }
            for id in list { #expect(facts.shipment(id)?.shipment.id == id, "\(id) in \(list)") }
            #expect(facts.shipment("S999") == nil)
            #expect(facts.shipment("") == nil)
        }
    }
}
