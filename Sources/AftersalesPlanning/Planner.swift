import AftersalesDomain
import Foundation

/// One mail the rules want, or want cancelled, with everything needed to store, explain and send it.
public struct PlannedMail: Sendable, Hashable, Codable {
    /// Whether the mail should go, or be cancelled (with the reason).
    public enum Disposition: Sendable, Hashable, Codable {
        case send
        case cancel(String)
    }

    /// The deterministic key: `rule/subject/occurrence`.
    public var key: String
    public var rule: String
    public var stream: MailStream
    public var audience: Audience
    public var customerID: String
    public var orderID: String?
    /// The entity the mail is about: a shipment, complaint, order, or customer/product pair.
    public var subject: String
    public var occurrence: String
    /// When the trigger happened.
    public var triggeredAt: Date
    /// Trigger plus offset, before any window shift.
    public var nominalDue: Date
    /// When it may go out: after window shifts and the marketing cap.
    public var due: Date
    /// "Within" deadline of the rule, if any.
    public var deadline: Date?
    /// After this it is stale and is cancelled instead of sent.
    public var staleAt: Date?
    public var to: [String]
    public var cc: [String]
    /// The recipient's locale tag (templates fall back along its chain).
    public var locale: String
    /// The recipient's time zone, for local times.
    public var timeZone: String
    public var template: String
    public var needsApproval: Bool
    public var disposition: Disposition
    /// Why it is planned, and why it was moved: what `preview --explain` prints.
    public var reasons: [String]
    /// Notable facts about it, e.g. a delay notice going out less than 24 h before the ETA it corrects.
    public var flags: [String]
    /// Facts the template needs that are not on the mail itself (shipment, complaint, SKU ids, ...).
    public var context: [String: String]

    public init(key: String, rule: String, stream: MailStream, audience: Audience, customerID: String, orderID: String?, subject: String,
                occurrence: String, triggeredAt: Date, nominalDue: Date, due: Date, deadline: Date?, staleAt: Date?, to: [String], cc: [String],
                locale: String, timeZone: String, template: String, needsApproval: Bool, disposition: Disposition, reasons: [String],
                flags: [String], context: [String: String]) {
        self.key = key
        self.rule = rule
        self.stream = stream
        self.audience = audience
        self.customerID = customerID
        self.orderID = orderID
        self.subject = subject
        self.occurrence = occurrence
        self.triggeredAt = triggeredAt
        self.nominalDue = nominalDue
        self.due = due
        self.deadline = deadline
        self.staleAt = staleAt
        self.to = to
        self.cc = cc
        self.locale = locale
        self.timeZone = timeZone
        self.template = template
        self.needsApproval = needsApproval
        self.disposition = disposition
        self.reasons = reasons
        self.flags = flags
        self.context = context
    }
}

/// The planner's answer for one customer.
public struct CustomerPlan: Sendable, Hashable {
    public var customerID: String
    public var mails: [PlannedMail]
    /// When time alone will change this plan (the next year's season and holiday dates enter the
    /// horizon): early next year, spread over its first four weeks by customer, so that a new year
    /// does not re-plan every customer in the same run.
    public var wakeAt: Date
}

/// Turns a customer's facts into planned mail. Pure: no I/O, and `now` is a parameter.
public enum Planner {
    struct Occurrence {
        var rule: Rule
        var orderID: String?
        var subject: String
        var occurrence: String
        var anchor: Date
        /// Why it is cancelled, worded only for the mail that is kept (most history is left out).
        var cancel: (() -> String)?
        /// Why the rule fired: worked out only for the mail that is kept (most history is left out).
        var why: () -> String
        var context: [String: String]
        var flagBeforeETA: Date?
        /// Another template than the rule's for this mail (a transit update once the ETA has passed).
        var template: String? = nil
    }

    /// The template of a transit update that goes out after the ETA passed without delivery: it says the
    /// shipment is late and that we are checking with the carrier, instead of quoting the old ETA.
    public static let lateTransitTemplate = "transit-late"

    /// How far back `preview --explain` shows cancelled mail that was never stored.
    public static let cancellationLookback: TimeInterval = 7 * 86_400

    /// Plans every mail the rules want for this customer. `existing` is what the outbox holds
    /// for the customer (for the marketing cap and to know which cancellations matter).
    /// With `leavingOut` false, no history is left out (sample mails, tests): what is stored or shown is the same.
    public static func plan(_ facts: CustomerFacts, existing: [ExistingMail], rules: RuleSet, settings: PlanningSettings, now: Date,
                            leavingOut: Bool = true) -> CustomerPlan {
        let customer = facts.customer
        let zone = customer.timeZone.timeZone
        // A cancellation matters for a stored mail, or for `preview --explain` when recent; the rest of
        // the history's cancellations (every transit update of every delivered shipment) are left out.
        // So is history that is certainly stale: mail that, even as late as business hours could move
        // it (`MarketCalendar.maxMove`), or else where they do move it, would have gone stale before the
        // explain window: it would only be cancelled, unstored and unshown. Marketing mail stays, for
        // the cap. Left out as the triggers find them, before anything is built for them.
        let history = History(stored: Set(existing.map(\.key)), storedRules: Set(existing.map(\.rule)),
                              lookback: now.addingTimeInterval(-cancellationLookback), calendar: settings.calendar, zone: zone, country: customer.country.value,
                              keepsAll: !leavingOut)
        let kinds = facts.orders.map { ProductKinds($0.order, products: facts.products) }
        let latest = facts.orders.map { latestAnchor($0, settings: settings) }
        var occurrences: [Occurrence] = []
        for rule in rules.rules where rule.enabled {
            occurrences += triggers(rule, facts: facts, kinds: kinds, latest: latest, seasons: rules.seasons, settings: settings, now: now, history: history)
        }
        var mails = occurrences.map { mail(for: $0, customer: customer, zone: zone, settings: settings, now: now) }
        applyMarketingCap(&mails, existing: existing, settings: settings, zone: zone, country: customer.country.value)
        // Looked up by key once: passing the whole array next to an element being changed would copy it every time.
        let dueToSend = Dictionary(mails.compactMap { mail -> (String, Date)? in
            guard case .send = mail.disposition else { return nil }
            return (mail.key, mail.due)
        }) { first, _ in first }
        for index in mails.indices {
            markStale(&mails[index], dueToSend: dueToSend, rules: rules, now: now)
        }
        mails.sort { ($0.due, $0.key) < ($1.due, $1.key) }
        let year = Timestamp.fields(now, in: TimeZone(secondsFromGMT: 0)!).year
        let spread = Double(Text.fnv1a(customer.id) % UInt64(28 * 24 * 60)) * 60
        let wake = Timestamp.instant(year: year + 1, month: 1, day: 1, minutes: 0, zone: TimeZone(secondsFromGMT: 0)!).addingTimeInterval(spread)
        return CustomerPlan(customerID: customer.id, mails: mails, wakeAt: wake)
    }

    /// What decides whether an occurrence of the past is left out of the plan (see ``plan(_:existing:rules:settings:now:)``).
    struct History {
        /// Keys of the customer's stored mail: those are always kept, to be updated or cancelled with a reason.
        var stored: Set<String>
        /// The rules of the stored mail: an order is skipped for a rule only when none of its mail is stored.
        var storedRules: Set<String>
        /// The start of `preview --explain`'s window.
        var lookback: Date
        /// The customer's market, to know when business hours would put a mail (see ``staleAtDue(_:nominal:)``).
        var calendar: MarketCalendar
        var zone: TimeZone
        var country: String
        /// Leaves nothing out (sample mails, tests).
        var keepsAll = false

        /// Whether everything `rule` can plan from an order whose facts end at `latest` (see
        /// ``latestAnchor(_:settings:)``) would be left out by ``leavesOut(_:_:_:anchor:cancelled:)``: then the
        /// order is not walked for the rule at all. Marketing rules and rules that never go stale never are.
        func settles(_ rule: Rule, latest: Date) -> Bool {
            // (A stale time that could pass before the nominal one would not also settle the cancellations.)
            guard !keepsAll, (rule.staleAfter ?? -1) >= 0, !storedRules.contains(rule.id) else { return false }
            // Every nominal time is at most the latest anchor plus a positive offset (a transit update's is at most its bound).
            return staleBeforeWindow(rule, nominal: latest.addingTimeInterval(Double(max(rule.offset, 0))))
        }

        func leavesOut(_ rule: Rule, _ subject: String, _ occurrence: String, anchor: Date, cancelled: Bool) -> Bool {
            let nominal = anchor.addingTimeInterval(Double(rule.offset))
            guard !keepsAll, cancelled ? nominal < lookback : staleBeforeWindow(rule, nominal: nominal) || staleAtDue(rule, nominal: nominal) else { return false }
            // (Building the key is what costs; a customer planned from scratch has nothing stored.)
            return stored.isEmpty || !stored.contains("\(rule.id)/\(subject)/\(occurrence)")
        }

        /// Non-marketing mail due at `nominal` that, moved where business hours put it, went stale
        /// before the explain window: it would be cancelled as stale and never shown (its due time is
        /// before the window too). Worked out only where the bound of ``staleBeforeWindow(_:nominal:)``
        /// cannot tell, and only for a rule with no stored mail: a stored mail's reason may name the later
        /// occurrence that supersedes it. Among a rule's unstored mail nothing changes either: a later
        /// occurrence is due no earlier, so the one it would supersede is left out too.
        func staleAtDue(_ rule: Rule, nominal: Date) -> Bool {
            guard rule.stream != .marketing, let after = rule.staleAfter.map(Double.init), after >= 0, !storedRules.contains(rule.id),
                  nominal.addingTimeInterval(after) < lookback else { return false }
            let due = rule.movedByBusinessHours ? calendar.opening(at: nominal, zone: zone, country: country) : nominal
            return due.addingTimeInterval(after) < lookback
        }

        /// Non-marketing mail due at `nominal` that would have gone stale before the explain window even
        /// if business hours had moved it as late as they can.
        func staleBeforeWindow(_ rule: Rule, nominal: Date) -> Bool {
            rule.stream != .marketing
                && rule.staleAfter.map { nominal.addingTimeInterval(Double($0) + MarketCalendar.maxMove) < lookback } == true
        }
    }

    // MARK: Triggers

    static func stamp(_ date: Date) -> String {
        String(Timestamp.utc(date).filter { $0 != "-" && $0 != ":" })
    }

    /// What the products of an order are, for the rules' product conditions (worked out once per customer, not per rule).
    struct ProductKinds {
        var technical: Bool
        var maintenance: Bool

        init(_ order: Order, products: [String: Product]) {
            technical = order.lines.contains { products[$0.sku]?.technical == true }
            maintenance = order.lines.contains { products[$0.sku]?.maintenance != nil }
        }
    }

    /// The latest instant any rule can anchor a mail to from this order's facts: its own times, its
    /// shipments' times and (updated) ETAs plus the week transit updates may run past them, its
    /// events, complaints, survey and reviews.
    static func latestAnchor(_ order: OrderFacts, settings: PlanningSettings) -> Date {
        var latest = order.order.placedAt
        func see(_ date: Date?) { if let date, date > latest { latest = date } }
        see(order.order.completedAt)
        see(order.order.cancelledAt)
        for tracked in order.shipments {
            see(tracked.shipment.dispatchedAt)
            see(tracked.shipment.eta.addingTimeInterval(7 * 86_400))
            see(tracked.currentETA.addingTimeInterval(7 * 86_400))
            // (customs notes are due before the ETA, unless configured after it)
            see(tracked.currentETA.addingTimeInterval(Double(max(0, -settings.customsDaysBeforeETA) * 86_400)))
            for event in tracked.events {
                see(event.at)
                see(event.newETA.map { $0.addingTimeInterval(7 * 86_400) })
            }
        }
        for complaint in order.complaints {
            see(complaint.openedAt)
            see(complaint.acknowledgedAt)
            see(complaint.solutionAt)
            see(complaint.resolvedAt)
            see(complaint.ratedAt)
        }
        see(order.survey?.answeredAt)
        for review in order.reviews { see(review.reviewedAt) }
        return latest
    }

    /// Every occurrence of `rule` in the customer's facts, except history that is left out. With
    /// `walkSettled` (tests), orders are walked even when ``History/settles(_:latest:)`` says nothing
    /// of theirs can be kept: the result must be the same.
    static func triggers(_ rule: Rule, facts: CustomerFacts, kinds: [ProductKinds], latest: [Date], seasons: [Season], settings: PlanningSettings,
                         now: Date, history: History, walkSettled: Bool = false) -> [Occurrence] {
        let customer = facts.customer
        var out: [Occurrence] = []
        func add(_ order: Order?, _ subject: String, _ occurrence: String, _ anchor: Date, _ why: @autoclosure @escaping () -> String,
                 context: @autoclosure () -> [String: String] = [:], cancel: (() -> String)? = nil, flagBeforeETA: Date? = nil,
                 template: String? = nil) {
            guard !history.leavesOut(rule, subject, occurrence, anchor: anchor, cancelled: cancel != nil) else { return }
            var context = context()
            if let order { context["order"] = order.id }
            out.append(Occurrence(rule: rule, orderID: order?.id, subject: subject, occurrence: occurrence, anchor: anchor,
                                  cancel: cancel, why: why, context: context, flagBeforeETA: flagBeforeETA, template: template))
        }
        let allProducts = facts.products
        // Only the rules triggered by an order's facts walk the orders, and only the shipment rules their shipments.
        let perOrder = !rule.trigger.isCustomerWide
        // (By index: an order is copied only once it is walked, not for every rule that skips it.)
        for index in facts.orders.indices where perOrder && (walkSettled || !history.settles(rule, latest: latest[index])) {
            let orderFacts = facts.orders[index]
            let order = orderFacts.order
            let orderProducts = kinds[index]
            guard conditionsHold(rule.conditions, order: orderFacts, products: orderProducts, complaint: nil) || isComplaintOrFeedbackRule(rule)
                    || rule.trigger == .surveyAnswered else { continue }
            for tracked in orderFacts.shipments where rule.trigger.isShipmentTrigger {
                let s = tracked.shipment
                let shipmentContext = ["shipment": s.id]
                switch rule.trigger {
                case .shipmentDispatched:
                    add(order, s.id, "1", s.dispatchedAt, "shipment \(s.id) dispatched at \(Timestamp.utc(s.dispatchedAt))", context: shipmentContext,
                        cancel: cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil))
                case .shipmentInTransit:
                    let every = rule.repeatEvery ?? 3 * 86_400
                    let cap = rule.repeatCap ?? 30
                    let bound = tracked.currentETA.addingTimeInterval(7 * 86_400)
                    let cancel = cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil)
                    for k in 1...max(cap, 1) {
                        let due = s.dispatchedAt.addingTimeInterval(Double(k * every))
                        if due > bound { break }
                        // After the ETA, not delivered (else it is cancelled): the late wording, not the old ETA.
                        let late = due > tracked.currentETA && rule.template == "transit-update"
                        add(order, s.id, String(k), due.addingTimeInterval(-Double(rule.offset)),
                            "update \(k) of at most \(cap), every \(DurationText.format(every)) after dispatch at \(Timestamp.utc(s.dispatchedAt)) while not delivered"
                                + (late ? "; after the ETA \(Timestamp.utc(tracked.currentETA)): says the shipment is late" : ""),
                            context: shipmentContext, cancel: cancel, template: late ? Self.lateTransitTemplate : nil)
                    }
                case .shipmentDelayed:
                    // The ETA a delay corrects: the previous delay's new ETA, for the first one the ETA given at dispatch.
                    var previousETA = s.dispatchETA
                    for event in tracked.events where event.kind == .delayed {
                        add(order, s.id, stamp(event.at), event.at, "delay recorded at \(Timestamp.utc(event.at)): \(event.cause ?? "")",
                            context: shipmentContext.merging(["delayed-at": Timestamp.utc(event.at)]) { $1 },
                            cancel: cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil), flagBeforeETA: previousETA)
                        previousETA = event.newETA ?? previousETA
                    }
                case .customsApproach:
                    let beforeETA = tracked.currentETA.addingTimeInterval(Double(-settings.customsDaysBeforeETA * 86_400))
                    var anchor = beforeETA
                    var why = "\(settings.customsDaysBeforeETA) days before the ETA \(Timestamp.utc(tracked.currentETA))"
                    if let arriving = tracked.first(.atCustoms), arriving.at < beforeETA {
                        anchor = arriving.at
                        why = "shipment arriving at destination customs at \(Timestamp.utc(arriving.at))"
                    }
                    if anchor < s.dispatchedAt { anchor = s.dispatchedAt }
                    add(order, s.id, "1", anchor, why, context: shipmentContext,
                        cancel: cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil))
                case .shipmentHeld:
                    for event in tracked.events where event.kind == .held {
                        add(order, s.id, stamp(event.at), event.at, "held at customs at \(Timestamp.utc(event.at)): \(event.reason ?? "")",
                            context: shipmentContext.merging(["held-at": Timestamp.utc(event.at)]) { $1 },
                            cancel: cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil))
                    }
                case .shipmentOverdue:
                    add(order, s.id, "1", tracked.currentETA, "ETA \(Timestamp.utc(tracked.currentETA)) passed without delivery",
                        context: shipmentContext, cancel: cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil))
                case .shipmentDelivered:
                    if let delivered = tracked.delivered {
                        add(order, s.id, "1", delivered.at, "shipment \(s.id) delivered at \(Timestamp.utc(delivered.at))", context: shipmentContext,
                            cancel: cancelReason(rule, order: orderFacts, shipment: tracked, complaint: nil))
                    }
                default: break
                }
            }
            switch rule.trigger {
            case .orderCompleted:
                if let completed = order.completedAt {
                    add(order, order.id, "1", completed, "order completed at \(Timestamp.utc(completed))",
                        cancel: cancelReason(rule, order: orderFacts, shipment: nil, complaint: nil))
                }
            case .complaintOpened, .complaintSolutionOffered, .complaintResolved, .complaintRated:
                for complaint in orderFacts.complaints where conditionsHold(rule.conditions, order: orderFacts, products: orderProducts, complaint: complaint) {
                    let anchor: Date?
                    switch rule.trigger {
                    case .complaintOpened: anchor = complaint.openedAt
                    case .complaintSolutionOffered: anchor = complaint.solutionAt
                    case .complaintResolved: anchor = complaint.resolvedAt
                    default: anchor = complaint.ratedAt
                    }
                    if let anchor {
                        add(order, complaint.id, "1", anchor, "complaint \(complaint.id) (\(complaint.category.rawValue)) \(rule.trigger.rawValue.split(separator: ".").last ?? "") at \(Timestamp.utc(anchor))",
                            context: ["complaint": complaint.id], cancel: cancelReason(rule, order: orderFacts, shipment: nil, complaint: complaint))
                    }
                }
            case .surveyAnswered:
                if let survey = orderFacts.survey {
                    let why = "survey answered with \(survey.score) at \(Timestamp.utc(survey.answeredAt))"
                    if conditionsHold(rule.conditions, order: orderFacts, products: orderProducts, complaint: nil) {
                        add(order, order.id, "1", survey.answeredAt, why)
                    } else if rule.conditions.contains(where: { [.promoter, .passive, .detractor].contains($0) }),
                              history.stored.contains("\(rule.id)/\(order.id)/1") {
                        // The buyer answered again and moved to another segment: this segment's mail goes.
                        add(order, order.id, "1", survey.answeredAt, why, cancel: {
                            "survey answer changed to \(survey.score) (\(survey.segment.rawValue)) at \(Timestamp.utc(survey.answeredAt))"
                        })
                    }
                }
            case .reviewLeft:
                for review in orderFacts.reviews where rule.conditions.allSatisfy({ c in
                    c == .positiveReview ? review.positive : c == .negativeReview ? !review.positive : true
                }) {
                    add(order, order.id, stamp(review.reviewedAt), review.reviewedAt,
                        "\(review.positive ? "positive" : "negative") review at \(Timestamp.utc(review.reviewedAt))")
                }
            default: break
            }
        }
        switch rule.trigger {
        case .repurchasePredicted:
            out += repurchase(rule, facts: facts, history: history)
        case .productSucceeded:
            var seen: Set<String> = []
            for orderFacts in facts.orders.reversed() where orderFacts.order.cancelledAt == nil {
                for line in orderFacts.order.lines where !seen.contains(line.sku) {
                    guard let product = allProducts[line.sku], let successor = product.successorSKU, let at = product.succeededAt else { continue }
                    seen.insert(line.sku)
                    add(orderFacts.order, "\(customer.id)/\(line.sku)", "1", at, "\(line.sku) succeeded by \(successor) at \(Timestamp.utc(at))",
                        context: ["sku": line.sku, "successor": successor])
                }
            }
        case .seasonStart, .marketHoliday:
            let year = Timestamp.fields(now, in: customer.timeZone.timeZone).year
            for y in [year, year + 1] {
                if rule.trigger == .marketHoliday {
                    for holiday in MarketCalendar.peakHolidays(country: customer.country.value, year: y, zone: customer.timeZone.timeZone) {
                        add(nil, "\(customer.id)/\(holiday.id)", "1", holiday.start,
                            "\(holiday.name) in \(customer.country.value) starts \(Timestamp.local(holiday.start, in: customer.timeZone.timeZone))",
                            context: ["holiday": holiday.name, "holiday-start": Timestamp.utc(holiday.start)])
                    }
                } else if let industry = customer.industry?.lowercased() {
                    for season in seasons where season.industry.lowercased() == industry && season.countries.contains(customer.country.value) {
                        guard (1...12).contains(season.month), (1...Timestamp.daysIn(y, season.month)).contains(season.day) else { continue }
                        let start = Timestamp.instant(year: y, month: season.month, day: season.day, minutes: 0, zone: customer.timeZone.timeZone)
                        add(nil, "\(customer.id)/\(season.name)-\(y)", "1", start,
                            "\(season.name) of \(season.industry) in \(customer.country.value) starts \(Timestamp.local(start, in: customer.timeZone.timeZone))",
                            context: ["season": season.name, "season-start": Timestamp.utc(start)])
                    }
                }
            }
        default: break
        }
        return out
    }

    static func isComplaintOrFeedbackRule(_ rule: Rule) -> Bool {
        [.complaintOpened, .complaintSolutionOffered, .complaintResolved, .complaintRated, .reviewLeft].contains(rule.trigger)
    }

    /// Order-level conditions (products, survey score); complaint conditions when a complaint is given.
    static func conditionsHold(_ conditions: [Condition], order: OrderFacts, products: ProductKinds, complaint: Complaint?) -> Bool {
        conditions.allSatisfy { condition in
            switch condition {
            case .technicalProduct: return products.technical
            case .maintenancePlan: return products.maintenance
            case .damage: return complaint.map { $0.category == .damage } ?? true
            case .notDamage: return complaint.map { $0.category != .damage } ?? true
            case .ratingBelow4: return complaint.map { ($0.rating ?? 5) < 4 } ?? true
            case .promoter: return order.survey.map { $0.segment == .promoter } ?? false
            case .passive: return order.survey.map { $0.segment == .passive } ?? false
            case .detractor: return order.survey.map { $0.segment == .detractor } ?? false
            case .positiveReview, .negativeReview: return true
            }
        }
    }

    /// The first of the rule's cancel conditions that holds, as a reason.
    static func cancelReason(_ rule: Rule, order: OrderFacts, shipment: TrackedShipment?, complaint: Complaint?) -> (() -> String)? {
        for condition in rule.cancelOn {
            switch condition {
            case .delivered:
                if let d = shipment?.delivered { return { "shipment \(d.shipmentID) delivered at \(Timestamp.utc(d.at))" } }
            case .cleared:
                if let c = shipment?.first(.cleared) ?? shipment?.delivered { return { "shipment \(c.shipmentID) \(c.kind == .cleared ? "cleared customs" : "delivered") at \(Timestamp.utc(c.at))" } }
            case .solutionOffered:
                if let c = complaint, let at = c.resolvedAt { return { "complaint resolved at \(Timestamp.utc(at))" } }
                if let c = complaint, let at = c.solutionAt { return { "solution offered at \(Timestamp.utc(at))" } }
            case .resolved:
                if let c = complaint, let at = c.resolvedAt { return { "complaint resolved at \(Timestamp.utc(at))" } }
            case .rated:
                if let c = complaint, let at = c.ratedAt { return { "customer rated the handling at \(Timestamp.utc(at))" } }
            case .reviewed:
                if let r = order.reviews.first { return { "review left at \(Timestamp.utc(r.reviewedAt))" } }
            case .surveyAnswered:
                if let s = order.survey { return { "survey answered at \(Timestamp.utc(s.answeredAt))" } }
            case .orderCancelled:
                if let at = order.order.cancelledAt { let id = order.order.id; return { orderCancelledPrefix(id) + Timestamp.utc(at) } }
            }
        }
        return nil
    }

    /// How the reason mail is cancelled with because its order was cancelled begins (the time follows).
    static func orderCancelledPrefix(_ orderID: String) -> String { "order \(orderID) cancelled at " }

    /// Repurchase predictions per product: the median gap of the customer's own orders once there
    /// are at least two gaps, else the product's usual cycle. Older predictions are cancelled as
    /// re-ordered. History that is left out is dropped before it is built.
    static func repurchase(_ rule: Rule, facts: CustomerFacts, history: History) -> [Occurrence] {
        var bySKU: [String: [Order]] = [:]
        for o in facts.orders where o.order.cancelledAt == nil {
            for sku in Set(o.order.lines.map(\.sku)) { bySKU[sku, default: []].append(o.order) }
        }
        var out: [Occurrence] = []
        for (sku, unsorted) in bySKU.sorted(by: { $0.key < $1.key }) {
            let orders = unsorted.sorted { ($0.placedAt, $0.id) < ($1.placedAt, $1.id) }
            guard let last = orders.last else { continue }
            let subject = "\(facts.customer.id)/\(sku)"
            for (earlier, next) in zip(orders, orders.dropFirst())
            where !history.leavesOut(rule, subject, earlier.id, anchor: earlier.placedAt, cancelled: true) {
                out.append(Occurrence(rule: rule, orderID: earlier.id, subject: subject, occurrence: earlier.id, anchor: earlier.placedAt,
                                      cancel: { "re-ordered: order \(next.id) placed at \(Timestamp.utc(next.placedAt))" },
                                      why: { "prediction from order \(earlier.id)" }, context: ["sku": sku, "order": earlier.id]))
            }
            let gaps = zip(orders, orders.dropFirst()).map { $1.placedAt.timeIntervalSince($0.placedAt) }.sorted()
            let gap: TimeInterval
            let why: String
            if gaps.count >= 2 {
                gap = gaps.count % 2 == 1 ? gaps[gaps.count / 2] : (gaps[gaps.count / 2 - 1] + gaps[gaps.count / 2]) / 2
                why = "median gap of \(Int((gap / 86_400).rounded())) days between this customer's \(orders.count) orders of \(sku)"
            } else if let cycle = facts.products[sku]?.cycleDays {
                gap = TimeInterval(cycle * 86_400)
                why = "\(sku)'s usual cycle of \(cycle) days"
            } else {
                continue
            }
            let predicted = last.placedAt.addingTimeInterval(gap)
            guard !history.leavesOut(rule, subject, last.id, anchor: predicted, cancelled: false) else { continue }
            out.append(Occurrence(rule: rule, orderID: last.id, subject: subject, occurrence: last.id, anchor: predicted, cancel: nil,
                                  why: { "next purchase of \(sku) predicted for \(Timestamp.utc(predicted)) (\(why), from order \(last.id))" },
                                  context: ["sku": sku, "order": last.id, "predicted": Timestamp.utc(predicted)]))
        }
        return out
    }

    // MARK: From occurrence to mail

    static let utc = TimeZone(identifier: "UTC")!

    static func mail(for o: Occurrence, customer: Customer, zone customerZone: TimeZone, settings: PlanningSettings, now: Date) -> PlannedMail {
        let rule = o.rule
        let zone: TimeZone
        let to: [String], cc: [String], locale: String, country: String
        switch rule.audience {
        case .customer:
            (to, cc, locale, zone, country) = ([customer.email.value], customer.cc.map(\.value), customer.locale.value, customerZone, customer.country.value)
        case .manager:
            (to, cc, locale, zone, country) = ([customer.manager?.email.value ?? settings.supervisorEmail], [], "en", utc, "")
        case .supervisor:
            (to, cc, locale, zone, country) = ([settings.supervisorEmail], [], "en", utc, "")
        }
        let nominal = o.anchor.addingTimeInterval(Double(rule.offset))
        var reasons = [o.why()]
        if rule.offset != 0 { reasons.append("due \(DurationText.format(rule.offset)) after that: \(Timestamp.utc(nominal))") }
        var due = nominal
        // Business hours move only mail that will go out; a cancelled one keeps its nominal time.
        if rule.movedByBusinessHours, o.cancel == nil {
            let (opening, moves) = settings.calendar.nextOpening(at: nominal, zone: zone, country: country)
            if opening != nominal {
                reasons.append("moved to \(Timestamp.local(opening, in: zone)) (recipient's time): " + moves.joined(separator: "; "))
            }
            due = opening
        }
        var disposition = PlannedMail.Disposition.send
        if let cancel = o.cancel { disposition = .cancel(cancel()) }
        if rule.stream == .marketing, !customer.acceptsMarketing, case .send = disposition {
            disposition = .cancel(customer.unsubscribedAt.map { "customer unsubscribed from marketing mail at \(Timestamp.utc($0))" }
                                  ?? "customer has not consented to marketing mail")
        }
        var flags: [String] = []
        if let eta = o.flagBeforeETA, due > eta.addingTimeInterval(-86_400) {
            flags.append("late: goes out less than 24 h before the ETA it corrects (\(Timestamp.utc(eta)))")
        }
        if let deadline = rule.deadline, due > o.anchor.addingTimeInterval(Double(deadline)) {
            flags.append("after the \(DurationText.format(deadline)) deadline (\(Timestamp.utc(o.anchor.addingTimeInterval(Double(deadline)))))")
        }
        return PlannedMail(
            key: "\(rule.id)/\(o.subject)/\(o.occurrence)", rule: rule.id, stream: rule.stream, audience: rule.audience,
            customerID: customer.id, orderID: o.orderID, subject: o.subject, occurrence: o.occurrence, triggeredAt: o.anchor,
            nominalDue: nominal, due: due, deadline: rule.deadline.map { o.anchor.addingTimeInterval(Double($0)) },
            staleAt: rule.staleAfter.map { due.addingTimeInterval(Double($0)) }, to: to, cc: cc, locale: locale,
            timeZone: zone.identifier, template: o.template ?? rule.template, needsApproval: rule.approval, disposition: disposition,
            reasons: reasons, flags: flags, context: o.context)
    }

    /// At most `marketingCap` marketing mails in any `marketingCapDays`: the excess moves to the next free slot.
    static func applyMarketingCap(_ mails: inout [PlannedMail], existing: [ExistingMail], settings: PlanningSettings, zone: TimeZone, country: String) {
        guard settings.marketingCap > 0 else { return }
        let span = TimeInterval(settings.marketingCapDays * 86_400)
        let planned = Set(mails.map(\.key))
        var taken = existing.filter { $0.stream == .marketing && !planned.contains($0.key) }.compactMap(\.sentAt)
        let order = mails.indices.filter { mails[$0].stream == .marketing && mails[$0].disposition == .send }
            .sorted { (mails[$0].due, mails[$0].key) < (mails[$1].due, mails[$1].key) }
        for index in order {
            var t = mails[index].due
            for _ in 0..<100 {
                let inWindow = taken.filter { $0 > t - span && $0 <= t }.sorted()
                if inWindow.count < settings.marketingCap { break }
                t = inWindow[inWindow.count - settings.marketingCap].addingTimeInterval(span + 1)
            }
            if t != mails[index].due {
                let (opening, _) = settings.calendar.nextOpening(at: t, zone: zone, country: country)
                mails[index].reasons.append("postponed by the marketing cap (\(settings.marketingCap) in \(settings.marketingCapDays) days) from \(Timestamp.utc(mails[index].due)) to \(Timestamp.utc(opening))")
                mails[index].due = opening
                if let stale = mails[index].staleAt {
                    mails[index].staleAt = opening.addingTimeInterval(max(stale.timeIntervalSince(mails[index].nominalDue), 0))
                }
            }
            taken.append(mails[index].due)
        }
    }

    /// Cancels mail that is no longer worth sending: past its stale time, or superseded by a later
    /// occurrence of the same repeating rule that is already due.
    /// `dueToSend` holds the due time of every mail planned to be sent, by key.
    static func markStale(_ mail: inout PlannedMail, dueToSend: [String: Date], rules: RuleSet, now: Date) {
        guard case .send = mail.disposition else { return }
        if rules[mail.rule]?.repeatEvery != nil, let k = Int(mail.occurrence) {
            let nextKey = "\(mail.rule)/\(mail.subject)/\(k + 1)"
            if let nextDue = dueToSend[nextKey], nextDue <= now {
                mail.disposition = .cancel("stale: superseded by \(nextKey), due \(Timestamp.utc(nextDue))")
                return
            }
        }
        if let staleAt = mail.staleAt, now > staleAt {
            mail.disposition = .cancel("stale: due \(Timestamp.utc(mail.due)), no longer worth sending after \(Timestamp.utc(staleAt))")
        }
    }
}
