import AftersalesDomain
import AftersalesPlanning
import Foundation
import Mustache

/// The data a mail's templates see: every variable of `templates/CONTRACT.md`, typed. swift-mustache
/// reads it through ``Mustache/MustacheParent`` (no reflection, no `[String: Any]`); a part that
/// does not apply to the mail (no shipment, no complaint, ...) is nil, so a template that uses it
/// fails strictly. Dates and times are written in the buyer's locale and time zone.
public struct MailContext: MustacheParent, Sendable {
    /// `customer.*`: the buyer.
    public struct Customer: MustacheParent, Sendable {
        public var name, company, email: String
        public var hasCompany: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "name": self.name
            case "company": company
            case "has_company": hasCompany
            case "email": email
            default: nil
            }
        }
    }

    /// A name and an address: the company, the account manager.
    public struct Contact: MustacheParent, Sendable {
        public var name, email: String
        public var website: String?
        public func child(named name: String) -> Any? {
            switch name {
            case "name": self.name
            case "email": email
            case "website": website
            default: nil
            }
        }
    }

    /// `order.*`: the mail's order (else the customer's latest), its lines and when it was placed.
    public struct Order: MustacheParent, Sendable {
        /// One of `order.products`.
        public struct Line: MustacheParent, Sendable {
            public var name, sku: String
            public var quantity: Int
            public func child(named name: String) -> Any? {
                switch name {
                case "name": self.name
                case "sku": sku
                case "quantity": quantity
                default: nil
                }
            }
        }
        public var id, placed, productList: String
        public var products: [Line]
        public func child(named name: String) -> Any? {
            switch name {
            case "id": id
            case "placed": placed
            case "products": products
            case "product_list": productList
            default: nil
            }
        }
    }

    /// `product.*`: the product the mail is about (the plan's SKU, else the order's first line).
    public struct Product: MustacheParent, Sendable {
        public var name, sku, maintenanceText, partsURL, manualURL, videoURL: String
        public var maintenanceDays: Int
        public var hasParts, hasManual, hasVideo: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "name": self.name
            case "sku": sku
            case "maintenance_text": maintenanceText
            case "maintenance_days": maintenanceDays
            case "parts_url": partsURL
            case "has_parts": hasParts
            case "manual_url": manualURL
            case "has_manual": hasManual
            case "video_url": videoURL
            case "has_video": hasVideo
            default: nil
            }
        }
    }

    /// `successor.*`: the product's successor and the upgrade offer.
    public struct Successor: MustacheParent, Sendable {
        public var name, offer: String
        public var hasOffer: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "name": self.name
            case "offer": offer
            case "has_offer": hasOffer
            default: nil
            }
        }
    }

    /// A shipment document's name, in the buyer's language.
    public struct Document: MustacheParent, Sendable {
        public var name: String
        public func child(named name: String) -> Any? { name == "name" ? self.name : nil }
    }

    /// `shipment.*`: the shipment the mail is about, its state at the mail's due time, ETA in the buyer's locale.
    public struct Shipment: MustacheParent, Sendable {
        public var id, carrier, tracking, trackingURL, mode, eta, port, status, location: String
        public var hasTrackingURL, hasPort, hasLocation: Bool
        public var documents: [Document]
        public func child(named name: String) -> Any? {
            switch name {
            case "id": id
            case "carrier": carrier
            case "tracking": tracking
            case "tracking_url": trackingURL
            case "has_tracking_url": hasTrackingURL
            case "mode": mode
            case "eta": eta
            case "port": port
            case "has_port": hasPort
            case "documents": documents
            case "status": status
            case "location": location
            case "has_location": hasLocation
            default: nil
            }
        }
    }

    /// `customs.*`: the destination country and the documents customs need.
    public struct Customs: MustacheParent, Sendable {
        public var country, agent: String
        public var hasAgent: Bool
        public var documents: [Document]
        public func child(named name: String) -> Any? {
            switch name {
            case "country": country
            case "documents": documents
            case "agent": agent
            case "has_agent": hasAgent
            default: nil
            }
        }
    }

    /// `delay.*`: the delay event the mail reports, with the ETA before and after it.
    public struct Delay: MustacheParent, Sendable {
        public var cause, remedy, oldETA, newETA: String
        public var hasRemedy: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "cause": cause
            case "remedy": remedy
            case "has_remedy": hasRemedy
            case "old_eta": oldETA
            case "new_eta": newETA
            default: nil
            }
        }
    }

    /// `held.*`: the customs hold the mail reports.
    public struct Held: MustacheParent, Sendable {
        public var location, reason: String
        public var hasLocation: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "location": location
            case "has_location": hasLocation
            case "reason": reason
            default: nil
            }
        }
    }

    /// `complaint.*`: the complaint the mail answers; `due` and `opened` are local dates and times.
    public struct Complaint: MustacheParent, Sendable {
        public var id, text, categoryLabel, owner, due, opened, solution, resolution, coupon: String
        public var rating, couponDays: Int
        public var isQuality, isLogistics, isCommunication, isOther: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "id": id
            case "text", "text_en": text
            case "category_label": categoryLabel
            case "owner": owner
            case "due": due
            case "opened": opened
            case "solution": solution
            case "resolution": resolution
            case "rating": rating
            case "is_quality": isQuality
            case "is_logistics": isLogistics
            case "is_communication": isCommunication
            case "is_other": isOther
            case "coupon": coupon
            case "coupon_days": couponDays
            default: nil
            }
        }
    }

    /// `survey.*`: the order's satisfaction survey and its coupon.
    public struct Survey: MustacheParent, Sendable {
        public var url, coupon, reason: String
        public var score: Int
        public var hasReason: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "url": url
            case "coupon": coupon
            case "score": score
            case "reason": reason
            case "has_reason": hasReason
            default: nil
            }
        }
    }

    /// `review.*`: the order's latest review and the thank-you coupon.
    public struct Review: MustacheParent, Sendable {
        public var coupon, text: String
        public var validDays: Int
        public var hasText: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "coupon": coupon
            case "valid_days": validDays
            case "text": text
            case "has_text": hasText
            default: nil
            }
        }
    }

    /// A named date: a season or a holiday, with what to say about it.
    public struct Occasion: MustacheParent, Sendable {
        public var name, start: String
        public var tip: String?
        public func child(named name: String) -> Any? {
            switch name {
            case "name": self.name
            case "start": start
            case "tip": tip
            case "has_tip": tip.map { !$0.isEmpty }
            default: nil
            }
        }
    }

    /// The offer terms the templates quote (`offers.*`), from ``OfferTerms``.
    public struct Offers: MustacheParent, Sendable {
        public var terms: OfferTerms
        /// The logistics-fault coupon in the order's currency, e.g. `USD 200`.
        public var logisticsCoupon: String
        /// The mail's day, and the calendar in the buyer's zone: the coupon runs for its months from then.
        var day: Date
        var calendar: Calendar

        /// The days from the mail's day to the end of the logistics-fault coupon's months (worked out when asked).
        public var logisticsCouponDays: Int {
            let end = calendar.date(byAdding: .month, value: terms.logisticsCouponMonths, to: day) ?? day
            return calendar.dateComponents([.day], from: day, to: end).day ?? 0
        }

        public func child(named name: String) -> Any? {
            switch name {
            case "logistics_coupon": logisticsCoupon
            case "logistics_coupon_amount": terms.logisticsCouponAmount
            case "logistics_coupon_months": terms.logisticsCouponMonths
            case "logistics_coupon_days": logisticsCouponDays
            case "survey_coupon": "\(terms.surveyCouponPercent)%"
            case "survey_coupon_percent": terms.surveyCouponPercent
            case "trade_in_percent": terms.tradeInPercent
            case "review_coupon": "\(terms.reviewCouponPercent)%"
            case "review_coupon_percent": terms.reviewCouponPercent
            case "review_coupon_days": terms.reviewCouponDays
            case "returns_days": terms.returnsDays
            default: nil
            }
        }
    }

    // The top-level names of the data (`customer`, `has_manager`, `support.hours`, ...), as CONTRACT.md lists them.
    public var customer: Customer
    public var company: Contact
    public var manager: Contact
    public var hasManager: Bool
    public var supportHours: String
    public var order: Order
    /// The one-click unsubscribe link when links are on, else a `mailto:` asking to unsubscribe.
    public var unsubscribeURL: String
    /// `links.*`: the signed links of the mail (``MailLinks``).
    public var links: MailLinks = .off
    public var isRTL: Bool
    public var departmentHead: String
    public var ratingURL, clubURL: String
    public var warrantyMonths: Int
    public var updateNumber: Int
    public var technical: Bool
    public var product: Product?
    public var successor: Successor?
    public var repurchasePredicted: String?
    public var shipment: Shipment?
    public var customs: Customs?
    public var delay: Delay?
    public var held: Held?
    public var complaint: Complaint?
    public var improvements: String?
    public var survey: Survey
    public var review: Review
    public var season: Occasion?
    public var holiday: Occasion?
    public var offers: Offers

    /// The value of a top-level name; nil when the mail has no such part (strict rendering then names it).
    public func child(named name: String) -> Any? {
        switch name {
        case "customer": customer
        case "company": company
        case "manager": manager
        case "has_manager": hasManager
        case "support": ["hours": supportHours]
        case "order": order
        case "unsubscribe_url": unsubscribeURL
        case "links": links
        case "is_rtl": isRTL
        case "department_head": ["name": departmentHead]
        case "rating_url": ratingURL
        case "club_url": clubURL
        case "policy": ["returns_days": offers.terms.returnsDays, "warranty_months": warrantyMonths]
        case "update": ["number": updateNumber]
        case "technical": technical
        case "product": product
        case "successor": successor
        case "repurchase": repurchasePredicted.map { ["predicted": $0] }
        case "shipment": shipment
        case "customs": customs
        case "delay": delay
        case "held": held
        case "complaint": complaint
        case "improvements": improvements
        case "survey": survey
        case "review": review
        case "season": season
        case "holiday": holiday
        case "offers": offers
        default: nil
        }
    }
}

/// How a mail writes dates and times: in the buyer's time zone, and in the buyer's locale when the
/// template is in the buyer's language (else in the template's: the English half of a bilingual
/// reply, staff mail). Gregorian calendar; the hour as the locale writes it (24 h or with AM/PM).
struct MailDates: Sendable {
    let locale: Locale
    let zone: TimeZone
    /// The Gregorian calendar in `zone`.
    let calendar: Calendar
    let date: Date.FormatStyle
    let dateTime: Date.FormatStyle
    let time: Date.FormatStyle

    /// The styles for a buyer, a template locale and a zone, made once (a locale and a calendar cost more than a mail's dates).
    static func of(buyer: LocaleTag, template: String, zone: TimeZone) -> MailDates {
        made.value("\(buyer.value)|\(template)|\(zone.identifier)") { MailDates(buyer: buyer, template: template, zone: zone) }
    }

    static let made = Memo<String, MailDates>()

    init(buyer: LocaleTag, template: String, zone: TimeZone) {
        let language = { (tag: String) in String(tag.split(separator: "-").first ?? "en") }
        locale = Locale(identifier: language(buyer.value) == language(template) ? buyer.value : template)
        self.zone = zone
        calendar = Calendar.gregorian(in: zone)
        let base = Date.FormatStyle(locale: locale, calendar: calendar, timeZone: zone)
        date = base.day().month(.wide).year()
        dateTime = date.hour(.twoDigits(amPM: .abbreviated)).minute(.twoDigits)
        time = base.hour(.twoDigits(amPM: .abbreviated)).minute(.twoDigits)
    }

    /// `24 de noviembre de 2026`, `2026年11月24日`.
    func day(_ value: Date) -> String { date.format(value) }
    /// `24 de noviembre de 2026, 03:20`, `2026年11月24日 03:20`.
    func dayAndTime(_ value: Date) -> String { dateTime.format(value) }
}

extension MailContext {
    /// The data of `mail` from the customer's facts, for templates of `locale`.
    static func build(_ mail: PlannedMail, facts: CustomerFacts, configuration: Configuration, locale: String,
                      links: MailLinks = .off, mailtoUnsubscribe: String = "") -> MailContext {
        let customer = facts.customer
        let zone = customer.timeZone.timeZone
        let dates = MailDates.of(buyer: customer.locale, template: locale, zone: zone)
        let language = String(locale.split(separator: "-").first ?? "en")
        let terms = configuration.offers
        let orderFacts = mail.orderID.flatMap { id in facts.orders.first { $0.order.id == id } } ?? facts.orders.last
        let order = orderFacts?.order
        let lines = order?.lines ?? []
        let names = lines.map { facts.products[$0.sku]?.name(in: locale) ?? $0.sku }
        let website = configuration.company.website
        let companyName = configuration.company.name, companyEmail = configuration.company.email.value
        let orderID = percent(order?.id ?? "")
        let currency = order?.currency ?? "USD"
        let offers = Offers(terms: terms, logisticsCoupon: "\(currency) \(terms.logisticsCouponAmount)", day: mail.due, calendar: dates.calendar)
        var c = MailContext(
            customer: Customer(name: customer.name, company: customer.company ?? "", email: customer.email.value, hasCompany: customer.company != nil),
            company: Contact(name: companyName, email: companyEmail, website: website),
            manager: Contact(name: customer.manager?.name ?? companyName, email: customer.manager?.email.value ?? companyEmail),
            hasManager: customer.manager != nil,
            supportHours: supportHours(configuration, dates: dates, on: mail.due),
            order: Order(id: order?.id ?? "", placed: order.map { dates.day($0.placedAt) } ?? "",
                         productList: zip(lines, names).map { "\($0.quantity) × \($1)" }.joined(separator: ", "),
                         products: zip(lines, names).map { Order.Line(name: $1, sku: $0.sku, quantity: $0.quantity) }),
            unsubscribeURL: links.unsubscribe.isEmpty ? mailtoUnsubscribe : links.unsubscribe, links: links,
            isRTL: ["ar", "he", "fa", "ur"].contains(language),
            departmentHead: configuration.departmentHead.name,
            ratingURL: links.rating.isEmpty ? "\(website)/rate?o=\(orderID)" : links.rating, clubURL: "\(website)/vip", warrantyMonths: 12,
            updateNumber: Int(mail.occurrence) ?? 1,
            technical: lines.contains { facts.products[$0.sku]?.technical == true },
            survey: Survey(url: links.survey.isEmpty ? "\(website)/survey?o=\(orderFacts?.survey.map { percent($0.orderID) } ?? orderID)" : links.survey,
                           coupon: "\(terms.surveyCouponPercent)%", reason: orderFacts?.survey?.reason ?? "",
                           score: orderFacts?.survey?.score ?? 0, hasReason: orderFacts?.survey?.reason != nil),
            review: Review(coupon: "\(terms.reviewCouponPercent)%", text: orderFacts?.reviews.last?.text ?? "",
                           validDays: terms.reviewCouponDays, hasText: orderFacts?.reviews.last?.text != nil),
            offers: offers)
        // The main product of the mail: the one named by the plan, else the order's first.
        let sku = mail.context["sku"] ?? lines.first?.sku ?? ""
        if let product = facts.products[sku] ?? facts.products.values.first {
            c.product = Product(name: product.name(in: locale), sku: product.sku, maintenanceText: product.maintenance?.text ?? "",
                                partsURL: product.partsURL ?? "", manualURL: product.manualURL ?? "", videoURL: product.videoURL ?? "",
                                maintenanceDays: product.maintenance?.intervalDays ?? 0, hasParts: product.partsURL != nil,
                                hasManual: product.manualURL != nil, hasVideo: product.videoURL != nil)
            c.successor = product.successorSKU.map { successor in
                // Without an offer of its own, the upgrade notice quotes the trade-in terms.
                Successor(name: facts.products[successor]?.name(in: locale) ?? successor,
                          offer: product.successorOffer ?? Labels.tradeIn(terms.tradeInPercent, language), hasOffer: true)
            } ?? Successor(name: "", offer: "", hasOffer: false)
        }
        if let predicted = mail.context["predicted"].flatMap({ try? Timestamp.parse($0, field: "predicted") }) {
            c.repurchasePredicted = dates.day(predicted)
        }
        if let shipmentID = mail.context["shipment"], let tracked = orderFacts?.shipment(shipmentID) {
            let s = tracked.shipment
            let documents = s.documents.map { Document(name: Labels.document($0, language)) }
            let latest = tracked.events.last { $0.at <= mail.due } ?? tracked.events.last
            c.shipment = Shipment(id: s.id, carrier: s.carrier, tracking: s.trackingNumber, trackingURL: s.trackingURL ?? "",
                                  mode: Labels.mode(s.mode, language), eta: dates.day(tracked.currentETA), port: s.destinationPort ?? "",
                                  status: latest.map { Labels.status($0.kind, language) } ?? Labels.dispatched(language),
                                  location: latest?.location ?? "", hasTrackingURL: s.trackingURL != nil, hasPort: s.destinationPort != nil,
                                  hasLocation: latest?.location != nil, documents: documents)
            c.customs = Customs(country: Labels.country(s.destinationCountry?.value ?? customer.country.value, language), agent: "",
                                hasAgent: false, documents: documents)
            if let at = mail.context["delayed-at"].flatMap({ try? Timestamp.parse($0, field: "delayed-at") }),
               let delay = tracked.events.first(where: { $0.kind == .delayed && $0.at == at }) {
                let previous = tracked.events.last { $0.kind == .delayed && $0.at < at }?.newETA ?? s.dispatchETA
                c.delay = Delay(cause: delay.cause ?? "", remedy: delay.remedy ?? "", oldETA: dates.day(previous),
                                newETA: dates.day(delay.newETA ?? tracked.currentETA), hasRemedy: delay.remedy != nil)
            }
            if let at = mail.context["held-at"].flatMap({ try? Timestamp.parse($0, field: "held-at") }),
               let held = tracked.events.first(where: { $0.kind == .held && $0.at == at }) {
                c.held = Held(location: held.location ?? "", reason: held.reason ?? "", hasLocation: held.location != nil)
            }
        }
        if let complaintID = mail.context["complaint"], let k = orderFacts?.complaints.first(where: { $0.id == complaintID }) {
            c.complaint = Complaint(
                id: k.id, text: k.text, categoryLabel: Labels.category(k.category, language), owner: customer.manager?.name ?? companyName,
                due: dates.dayAndTime(k.openedAt.addingTimeInterval(86_400)), opened: dates.dayAndTime(k.openedAt),
                solution: k.solution ?? "", resolution: k.resolution ?? "", coupon: offers.logisticsCoupon,
                rating: k.rating ?? 0, couponDays: offers.logisticsCouponDays,
                isQuality: [.quality, .notAsDescribed, .shortShipment, .damage].contains(k.category),
                isLogistics: k.category == .logisticsDelay, isCommunication: k.category == .communication, isOther: k.category == .other)
            c.improvements = k.resolution ?? k.solution ?? ""
        }
        if let name = mail.context["season"], let start = mail.context["season-start"].flatMap({ try? Timestamp.parse($0, field: "season") }) {
            c.season = Occasion(name: name, start: dates.day(start), tip: "")
        }
        if let name = mail.context["holiday"], let start = mail.context["holiday-start"].flatMap({ try? Timestamp.parse($0, field: "holiday") }) {
            c.holiday = Occasion(name: Labels.holiday(name, language), start: dates.day(start))
        }
        return c
    }

    /// Support hours from `support.*`, converted to the buyer's zone on the mail's day and written as
    /// the buyer's locale writes times. The same for every mail to a zone and locale on a day, so
    /// each is worked out once.
    static func supportHours(_ configuration: Configuration, dates: MailDates, on date: Date) -> String {
        let supportZone = configuration.support.timeZone.timeZone
        let start = configuration.support.hoursStart, end = configuration.support.hoursEnd
        // The support zone's day, counted from 1970 by its offset at that moment (a calendar's date
        // components cost more than the rest of the key: 4.5% of a render's profile).
        let day = Int(((date.timeIntervalSince1970 + Double(supportZone.secondsFromGMT(for: date))) / 86_400).rounded(.down))
        let key = SupportHoursKey(start: start.minutes, end: end.minutes, supportZone: supportZone.identifier, zone: dates.zone.identifier,
                                  locale: dates.locale.identifier, day: day)
        return supportHoursMemo.value(key) {
            convertedSupportHours(start: start.text, end: end.text, from: supportZone, dates: dates,
                                  on: Calendar.gregorian(in: supportZone).dateComponents([.year, .month, .day], from: date))
        }
    }

    struct SupportHoursKey: Hashable, Sendable {
        /// The hours as minutes of the day (their `HH:MM` text, made with `String(format:)`, was 1.8% of a render).
        var start, end: Int
        var supportZone, zone, locale: String
        var day: Int
    }

    static let supportHoursMemo = Memo<SupportHoursKey, String>()

    /// `start`–`end` (`HH:mm` in `supportZone` on `day`) as times of `dates`' locale and zone, with the zone's name.
    static func convertedSupportHours(start: String, end: String, from supportZone: TimeZone, dates: MailDates, on day: DateComponents) -> String {
        func local(_ text: String) -> String {
            let minutes = Configuration.minutes(text) ?? 0
            var components = day
            components.hour = minutes / 60
            components.minute = minutes % 60
            let instant = Calendar.gregorian(in: supportZone).date(from: components) ?? Date(timeIntervalSince1970: 0)
            return dates.time.format(instant)
        }
        return "\(local(start))–\(local(end)) (\(dates.zone.identifier))"
    }

    /// A URL query value: unreserved characters stay, the rest is percent-encoded (RFC 3986).
    static func percent(_ text: String) -> String { MIME.percent(text) }
}

private extension Calendar {
    /// The Gregorian calendar in `zone`, made once per zone.
    static func gregorian(in zone: TimeZone) -> Calendar {
        gregorianCalendars.value(zone.identifier) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            return calendar
        }
    }

    static let gregorianCalendars = Memo<String, Calendar>()
}

// The values a context hands swift-mustache, text and numbers, render through its `MustacheCustomRenderable`
// extension point: the renderer's second type test finds them, where they fell through its lambda and optional
// tests to `String(describing:)` and its own protocol tests (dynamic casts 21% of a render before, 18% after;
// perf, release, bench row 4 at 2,400 to 3,300 msg/s against a target of 3,000). The text is the same.
extension String: @retroactive MustacheCustomRenderable {
    public var renderText: String { self }
    public var isNull: Bool { false }
}

extension Int: @retroactive MustacheCustomRenderable {
    public var renderText: String { String(self) }
    public var isNull: Bool { false }
}
