import AftersalesDomain
import AftersalesPlanning
import Foundation

/// What the renderer needs to know about one mail, whether planned in memory or stored.
public struct MailRequest: Sendable, Hashable {
    public var key: String
    public var rule: String
    public var template: String
    public var stream: MailStream
    public var audience: Audience
    public var customerID: String
    public var orderID: String?
    public var occurrence: String
    public var to: [String]
    public var cc: [String]
    public var due: Date
    public var context: [String: String]

    public init(key: String, rule: String, template: String, stream: MailStream, audience: Audience, customerID: String, orderID: String?,
                occurrence: String, to: [String], cc: [String], due: Date, context: [String: String]) {
        self.key = key
        self.rule = rule
        self.template = template
        self.stream = stream
        self.audience = audience
        self.customerID = customerID
        self.orderID = orderID
        self.occurrence = occurrence
        self.to = to
        self.cc = cc
        self.due = due
        self.context = context
    }

    public init(_ entry: OutboxEntry) {
        self.init(key: entry.key, rule: entry.rule, template: entry.template, stream: entry.stream, audience: entry.audience,
                  customerID: entry.customerID, orderID: entry.orderID, occurrence: entry.occurrence, to: entry.toAddresses,
                  cc: entry.ccAddresses, due: entry.due, context: entry.context)
    }

    public init(_ mail: PlannedMail) {
        self.init(key: mail.key, rule: mail.rule, template: mail.template, stream: mail.stream, audience: mail.audience,
                  customerID: mail.customerID, orderID: mail.orderID, occurrence: mail.occurrence, to: mail.to, cc: mail.cc,
                  due: mail.due, context: mail.context)
    }
}

/// Builds the Mustache data of a mail from the customer's facts: every variable of
/// `templates/CONTRACT.md`, with dates and hours in the buyer's time zone. The values are typed
/// as they are made (no `Any` to cast back on every lookup).
enum RenderContext {
    /// The data of `request`. With `needs` (the names a mail's templates use at their top level, see
    /// ``TemplateStore/needs(_:locale:)``), only those are built: a mail's templates use a third of them.
    static func build(_ request: MailRequest, facts: CustomerFacts, configuration: Configuration, locale: String,
                      needs: Set<String>? = nil) -> [String: TemplateValue] {
        let customer = facts.customer
        let zone = customer.timeZone.timeZone
        let language = String(locale.split(separator: "-").first ?? "en")
        func day(_ date: Date) -> TemplateValue { .string(format(date, zone, "yyyy-MM-dd")) }
        func text(_ value: String?) -> TemplateValue { .string(value ?? "") }
        func flag(_ value: Bool) -> TemplateValue { .bool(value) }
        func wants(_ name: String) -> Bool { needs?.contains(name) ?? true }
        var c: [String: TemplateValue] = [:]
        c.reserveCapacity(needs?.count ?? 32)
        /// Sets `name` when the templates use it; the value is made only then.
        func put(_ name: String, _ value: @autoclosure () -> TemplateValue) { if wants(name) { c[name] = value() } }
        let orderFacts = request.orderID.flatMap { id in facts.orders.first { $0.order.id == id } } ?? facts.orders.last
        let order = orderFacts?.order
        let lines = order?.lines ?? []
        let names = lines.map { facts.products[$0.sku]?.name ?? $0.sku }
        let website = configuration.company.website
        let companyName = configuration.company.name, companyEmail = configuration.company.email.value
        let orderID = percent(order?.id ?? "")
        put("customer", .object(["name": .string(customer.name), "company": text(customer.company), "has_company": flag(customer.company != nil),
                                 "email": .string(customer.email.value)]))
        put("company", .object(["name": .string(companyName), "email": .string(companyEmail), "website": .string(website)]))
        put("manager", .object(["name": .string(customer.manager?.name ?? companyName), "email": .string(customer.manager?.email.value ?? companyEmail)]))
        put("has_manager", flag(customer.manager != nil))
        put("support", .object(["hours": .string(supportHours(configuration, zone: zone, on: request.due))]))
        put("order", .object([
            "id": text(order?.id), "placed": order.map { day($0.placedAt) } ?? "",
            "products": .list(zip(lines, names).map { line, name in .object(["name": .string(name), "sku": .string(line.sku), "quantity": .int(line.quantity)]) }),
            "product_list": .string(zip(lines, names).map { "\($0.quantity) × \($1)" }.joined(separator: ", ")),
        ]))
        put("unsubscribe_url", .string(configuration.company.unsubscribeURL + "?c=" + percent(customer.id)))
        put("is_rtl", flag(["ar", "he", "fa", "ur"].contains(language)))
        put("department_head", .object(["name": .string(configuration.departmentHead.name)]))
        put("rating_url", .string("\(website)/rate?o=\(orderID)"))
        put("club_url", .string("\(website)/vip"))
        put("policy", .object(["returns_days": 30, "warranty_months": 12]))
        put("update", .object(["number": .int(Int(request.occurrence) ?? 1)]))
        put("technical", flag(lines.contains { facts.products[$0.sku]?.technical == true }))
        // The main product of the mail: the one named by the plan, else the order's first.
        let sku = request.context["sku"] ?? lines.first?.sku ?? ""
        if wants("product") || wants("successor"), let product = facts.products[sku] ?? facts.products.values.first {
            put("product", .object([
                "name": .string(product.name), "sku": .string(product.sku),
                "maintenance_text": text(product.maintenance?.text), "maintenance_days": .int(product.maintenance?.intervalDays ?? 0),
                "parts_url": text(product.partsURL), "has_parts": flag(product.partsURL != nil),
                "manual_url": text(product.manualURL), "has_manual": flag(product.manualURL != nil),
                "video_url": text(product.videoURL), "has_video": flag(product.videoURL != nil),
            ]))
            if let successorSKU = product.successorSKU {
                put("successor", .object(["name": .string(facts.products[successorSKU]?.name ?? successorSKU), "offer": text(product.successorOffer),
                                          "has_offer": flag(product.successorOffer != nil)]))
            } else {
                put("successor", .object(["name": "", "offer": "", "has_offer": false]))
            }
        }
        if wants("repurchase"), let predicted = request.context["predicted"].flatMap({ try? Timestamp.parse($0, field: "predicted") }) {
            c["repurchase"] = .object(["predicted": day(predicted)])
        }
        if wants("shipment") || wants("customs") || wants("delay") || wants("held"),
           let shipmentID = request.context["shipment"], let tracked = orderFacts?.shipment(shipmentID) {
            let s = tracked.shipment
            let documents = TemplateValue.list(s.documents.map { .object(["name": .string(Labels.document($0, language))]) })
            let latest = tracked.events.last { $0.at <= request.due } ?? tracked.events.last
            put("shipment", .object([
                "id": .string(s.id), "carrier": .string(s.carrier), "tracking": .string(s.trackingNumber), "tracking_url": text(s.trackingURL),
                "has_tracking_url": flag(s.trackingURL != nil), "mode": .string(Labels.mode(s.mode, language)), "eta": day(tracked.currentETA),
                "port": text(s.destinationPort), "has_port": flag(s.destinationPort != nil), "documents": documents,
                "status": .string(latest.map { Labels.status($0.kind, language) } ?? Labels.dispatched(language)),
                "location": text(latest?.location), "has_location": flag(latest?.location != nil),
            ]))
            put("customs", .object(["country": .string(Labels.country(s.destinationCountry?.value ?? customer.country.value, language)),
                                    "documents": documents, "agent": "", "has_agent": false]))
            if wants("delay"), let at = request.context["delayed-at"].flatMap({ try? Timestamp.parse($0, field: "delayed-at") }),
               let delay = tracked.events.first(where: { $0.kind == .delayed && $0.at == at }) {
                let previous = tracked.events.last { $0.kind == .delayed && $0.at < at }?.newETA ?? s.eta
                c["delay"] = .object(["cause": text(delay.cause), "remedy": text(delay.remedy), "has_remedy": flag(delay.remedy != nil),
                                      "old_eta": day(previous), "new_eta": day(delay.newETA ?? tracked.currentETA)])
            }
            if wants("held"), let at = request.context["held-at"].flatMap({ try? Timestamp.parse($0, field: "held-at") }),
               let held = tracked.events.first(where: { $0.kind == .held && $0.at == at }) {
                c["held"] = .object(["location": text(held.location), "has_location": flag(held.location != nil), "reason": text(held.reason)])
            }
        }
        if wants("complaint") || wants("improvements"),
           let complaintID = request.context["complaint"], let k = orderFacts?.complaints.first(where: { $0.id == complaintID }) {
            let currency = order?.currency ?? "USD"
            put("complaint", .object([
                "id": .string(k.id), "text": .string(k.text), "text_en": .string(k.text), "category_label": .string(Labels.category(k.category, language)),
                "owner": .string(customer.manager?.name ?? companyName),
                "due": .string(format(k.openedAt.addingTimeInterval(86_400), zone, "yyyy-MM-dd HH:mm")),
                "opened": .string(format(k.openedAt, zone, "yyyy-MM-dd HH:mm")),
                "solution": text(k.solution), "resolution": text(k.resolution), "rating": .int(k.rating ?? 0),
                "is_quality": flag([.quality, .notAsDescribed, .shortShipment, .damage].contains(k.category)),
                "is_logistics": flag(k.category == .logisticsDelay), "is_communication": flag(k.category == .communication),
                "is_other": flag(k.category == .other), "coupon": .string("\(currency) 50"), "coupon_days": 90,
            ]))
            put("improvements", text(k.resolution ?? k.solution))
        }
        if let survey = orderFacts?.survey {
            put("survey", .object(["url": .string("\(website)/survey?o=\(percent(survey.orderID))"), "coupon": "10%", "score": .int(survey.score),
                                   "reason": text(survey.reason), "has_reason": flag(survey.reason != nil)]))
        } else {
            put("survey", .object(["url": .string("\(website)/survey?o=\(orderID)"), "coupon": "10%", "score": 0, "reason": "", "has_reason": false]))
        }
        if let review = orderFacts?.reviews.last {
            put("review", .object(["coupon": "5%", "valid_days": 30, "text": text(review.text), "has_text": flag(review.text != nil)]))
        } else {
            put("review", .object(["coupon": "5%", "valid_days": 30, "text": "", "has_text": false]))
        }
        if wants("season"), let name = request.context["season"], let start = request.context["season-start"].flatMap({ try? Timestamp.parse($0, field: "season") }) {
            c["season"] = .object(["name": .string(name), "start": day(start), "tip": "", "has_tip": false])
        }
        if wants("holiday"), let name = request.context["holiday"], let start = request.context["holiday-start"].flatMap({ try? Timestamp.parse($0, field: "holiday") }) {
            c["holiday"] = .object(["name": .string(Labels.holiday(name, language)), "start": day(start)])
        }
        return c
    }

    /// `yyyy-MM-dd`, `HH:mm` or `yyyy-MM-dd HH:mm` in `zone`, without a formatter object.
    static func format(_ date: Date, _ zone: TimeZone, _ pattern: String) -> String {
        let f = Timestamp.fields(date, in: zone)
        let day = Timestamp.day(f.year, f.month, f.day), time = (f.hour < 10 ? "0" : "") + String(f.hour) + (f.minute < 10 ? ":0" : ":") + String(f.minute)
        switch pattern {
        case "HH:mm": return time
        case "yyyy-MM-dd HH:mm": return day + " " + time
        default: return day
        }
    }

    /// Support hours from `support.*`, converted to the buyer's zone on the mail's day. The same for
    /// every mail to a zone on a day, so each conversion is made once (seven time zone offsets).
    static func supportHours(_ configuration: Configuration, zone: TimeZone, on date: Date) -> String {
        let supportZone = configuration.support.timeZone.timeZone
        let day = Timestamp.fields(date, in: supportZone)
        let start = configuration.support.hoursStart.text, end = configuration.support.hoursEnd.text
        let key = "\(start)|\(end)|\(supportZone.identifier)|\(zone.identifier)|\(day.year)-\(day.month)-\(day.day)"
        return supportHoursMemo.value(key) { convertedSupportHours(start: start, end: end, from: supportZone, to: zone, on: day) }
    }

    static let supportHoursMemo = Memo<String, String>()

    /// `start`–`end` (`HH:mm` in `supportZone` on `day`) as `HH:mm` in `zone`, with the zone's name.
    static func convertedSupportHours(start: String, end: String, from supportZone: TimeZone, to zone: TimeZone,
                                      on day: (year: Int, month: Int, day: Int, hour: Int, minute: Int)) -> String {
        func local(_ text: String) -> String {
            let minutes = Configuration.minutes(text) ?? 0
            return format(Timestamp.instant(year: day.year, month: day.month, day: day.day, minutes: minutes, zone: supportZone), zone, "HH:mm")
        }
        return "\(local(start))–\(local(end)) (\(zone.identifier))"
    }

    static func percent(_ text: String) -> String { MIME.percent(text) }
}
