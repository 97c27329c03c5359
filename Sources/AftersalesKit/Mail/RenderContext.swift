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
/// `templates/CONTRACT.md`, with dates and hours in the buyer's time zone.
enum RenderContext {
    static func build(_ request: MailRequest, facts: CustomerFacts, configuration: Configuration, locale: String) -> [String: Any] {
        let customer = facts.customer
        let zone = customer.timeZone.timeZone
        let language = String(locale.split(separator: "-").first ?? "en")
        func day(_ date: Date) -> String { format(date, zone, "yyyy-MM-dd") }
        let orderFacts = facts.orders.first { $0.order.id == request.orderID } ?? facts.orders.last
        let order = orderFacts?.order
        let products = (order?.lines ?? []).map { line -> [String: Any] in
            ["name": facts.products[line.sku]?.name ?? line.sku, "sku": line.sku, "quantity": line.quantity]
        }
        let website = configuration["company.website"]
        var c: [String: Any] = [
            "customer": ["name": customer.name, "company": customer.company ?? "", "has_company": customer.company != nil, "email": customer.email.value],
            "company": ["name": configuration["company.name"], "email": configuration["company.email"], "website": website],
            "manager": ["name": customer.manager?.name ?? configuration["company.name"],
                        "email": customer.manager?.email.value ?? configuration["company.email"]],
            "has_manager": customer.manager != nil,
            "support": ["hours": supportHours(configuration, zone: zone, on: request.due)],
            "order": ["id": order?.id ?? "", "placed": order.map { day($0.placedAt) } ?? "", "products": products,
                      "product_list": products.map { "\($0["quantity"] ?? 1) × \($0["name"] ?? "")" }.joined(separator: ", ")],
            "unsubscribe_url": configuration["company.unsubscribe_url"] + "?c=" + percent(customer.id),
            "is_rtl": ["ar", "he", "fa", "ur"].contains(language),
            "department_head": ["name": configuration["department_head.name"]],
            "survey": ["url": "\(website)/survey?o=\(percent(order?.id ?? ""))", "coupon": "10%", "score": 0, "reason": "", "has_reason": false],
            "rating_url": "\(website)/rate?o=\(percent(order?.id ?? ""))",
            "club_url": "\(website)/vip",
            "policy": ["returns_days": 30, "warranty_months": 12],
            "review": ["coupon": "5%", "valid_days": 30, "text": "", "has_text": false],
            "update": ["number": Int(request.occurrence) ?? 1],
            "technical": (order?.lines ?? []).contains { facts.products[$0.sku]?.technical == true },
        ]
        // The main product of the mail: the one named by the plan, else the order's first.
        let sku = request.context["sku"] ?? order?.lines.first?.sku ?? ""
        if let product = facts.products[sku] ?? facts.products.values.first {
            c["product"] = [
                "name": product.name, "sku": product.sku,
                "maintenance_text": product.maintenance?.text ?? "", "maintenance_days": product.maintenance?.intervalDays ?? 0,
                "parts_url": product.partsURL ?? "", "has_parts": product.partsURL != nil,
                "manual_url": product.manualURL ?? "", "has_manual": product.manualURL != nil,
                "video_url": product.videoURL ?? "", "has_video": product.videoURL != nil,
            ]
            if let successorSKU = product.successorSKU {
                c["successor"] = ["name": facts.products[successorSKU]?.name ?? successorSKU, "offer": product.successorOffer ?? "",
                                  "has_offer": product.successorOffer != nil]
            } else {
                c["successor"] = ["name": "", "offer": "", "has_offer": false]
            }
        }
        if let predicted = request.context["predicted"].flatMap({ try? Timestamp.parse($0, field: "predicted") }) {
            c["repurchase"] = ["predicted": day(predicted)]
        }
        if let shipmentID = request.context["shipment"], let tracked = orderFacts?.shipments.first(where: { $0.shipment.id == shipmentID }) {
            let s = tracked.shipment
            let latest = tracked.events.last { $0.at <= request.due } ?? tracked.events.last
            let documents = s.documents.map { ["name": Labels.document($0, language)] }
            c["shipment"] = [
                "id": s.id, "carrier": s.carrier, "tracking": s.trackingNumber, "tracking_url": s.trackingURL ?? "",
                "has_tracking_url": s.trackingURL != nil, "mode": Labels.mode(s.mode, language), "eta": day(tracked.currentETA),
                "port": s.destinationPort ?? "", "has_port": s.destinationPort != nil, "documents": documents,
                "status": latest.map { Labels.status($0.kind, language) } ?? Labels.dispatched(language),
                "location": latest?.location ?? "", "has_location": latest?.location != nil,
            ]
            c["customs"] = ["country": Labels.country(s.destinationCountry?.value ?? customer.country.value, language), "documents": documents,
                            "agent": "", "has_agent": false]
            if let at = request.context["delayed-at"].flatMap({ try? Timestamp.parse($0, field: "delayed-at") }),
               let delay = tracked.events.first(where: { $0.kind == .delayed && $0.at == at }) {
                let previous = tracked.events.last { $0.kind == .delayed && $0.at < at }?.newETA ?? s.eta
                c["delay"] = ["cause": delay.cause ?? "", "remedy": delay.remedy ?? "", "has_remedy": delay.remedy != nil,
                              "old_eta": day(previous), "new_eta": day(delay.newETA ?? tracked.currentETA)]
            }
            if let at = request.context["held-at"].flatMap({ try? Timestamp.parse($0, field: "held-at") }),
               let held = tracked.events.first(where: { $0.kind == .held && $0.at == at }) {
                c["held"] = ["location": held.location ?? "", "has_location": held.location != nil, "reason": held.reason ?? ""]
            }
        }
        if let complaintID = request.context["complaint"], let k = orderFacts?.complaints.first(where: { $0.id == complaintID }) {
            let currency = order?.currency ?? "USD"
            c["complaint"] = [
                "id": k.id, "text": k.text, "text_en": k.text, "category_label": Labels.category(k.category, language),
                "owner": customer.manager?.name ?? configuration["company.name"],
                "due": format(k.openedAt.addingTimeInterval(86_400), zone, "yyyy-MM-dd HH:mm"),
                "opened": format(k.openedAt, zone, "yyyy-MM-dd HH:mm"),
                "solution": k.solution ?? "", "resolution": k.resolution ?? "", "rating": k.rating ?? 0,
                "is_quality": [.quality, .notAsDescribed, .shortShipment, .damage].contains(k.category),
                "is_logistics": k.category == .logisticsDelay, "is_communication": k.category == .communication,
                "is_other": k.category == .other, "coupon": "\(currency) 50", "coupon_days": 90,
            ]
            c["improvements"] = k.resolution ?? k.solution ?? ""
        }
        if let survey = orderFacts?.survey {
            c["survey"] = ["url": "\(website)/survey?o=\(percent(survey.orderID))", "coupon": "10%", "score": survey.score,
                           "reason": survey.reason ?? "", "has_reason": survey.reason != nil]
        }
        if let review = orderFacts?.reviews.last {
            c["review"] = ["coupon": "5%", "valid_days": 30, "text": review.text ?? "", "has_text": review.text != nil]
        }
        if let name = request.context["season"], let start = request.context["season-start"].flatMap({ try? Timestamp.parse($0, field: "season") }) {
            c["season"] = ["name": name, "start": day(start), "tip": "", "has_tip": false]
        }
        if let name = request.context["holiday"], let start = request.context["holiday-start"].flatMap({ try? Timestamp.parse($0, field: "holiday") }) {
            c["holiday"] = ["name": Labels.holiday(name, language), "start": day(start)]
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

    /// Support hours from `support.*`, converted to the buyer's zone on the mail's day.
    static func supportHours(_ configuration: Configuration, zone: TimeZone, on date: Date) -> String {
        let supportZone = TimeZoneID(unchecked: configuration["support.time_zone"]).timeZone
        let day = Timestamp.fields(date, in: supportZone)
        func local(_ key: String) -> String {
            let minutes = Configuration.minutes(configuration[key]) ?? 0
            return format(Timestamp.instant(year: day.year, month: day.month, day: day.day, minutes: minutes, zone: supportZone), zone, "HH:mm")
        }
        return "\(local("support.hours_start"))–\(local("support.hours_end")) (\(zone.identifier))"
    }

    static func percent(_ text: String) -> String { MIME.percent(text) }
}
