import AftersalesDomain
import Foundation

/// A plain-text table with aligned columns.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    public var text: String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Text renderings of stored values, as the CLI prints them without `--json`.
public enum TextReport {
    static func fields(_ pairs: [(String, String?)]) -> String {
        let shown = pairs.compactMap { key, value in value.map { (key, $0) } }
        let width = shown.map(\.0.count).max() ?? 0
        return shown.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    static func time(_ date: Date?) -> String? { date.map(Timestamp.utc) }

    public static func customer(_ c: Customer) -> String {
        fields([
            ("id", c.id), ("name", c.name), ("company", c.company), ("email", c.email.value),
            ("cc", c.cc.isEmpty ? nil : c.cc.map(\.value).joined(separator: ", ")),
            ("locale", c.locale.value), ("timezone", c.timeZone.value), ("country", c.country.value), ("industry", c.industry),
            ("manager", c.manager.map { "\($0.name) <\($0.email)>" }),
            ("consent", c.consent ? "yes" + (c.consentAt.map { " (given \(Timestamp.utc($0)))" } ?? "") : "no"),
            ("unsubscribed", time(c.unsubscribedAt)), ("created", time(c.createdAt)),
        ])
    }

    public static func customers(_ list: [Customer]) -> String {
        if list.isEmpty { return "No customers." }
        return TextTable(header: ["ID", "NAME", "EMAIL", "LOCALE", "TIMEZONE", "COUNTRY", "MARKETING"],
                         rows: list.map { [$0.id, $0.name, $0.email.value, $0.locale.value, $0.timeZone.value, $0.country.value,
                                           $0.acceptsMarketing ? "yes" : "no"] }).text
    }

    public static func product(_ p: Product) -> String {
        fields([
            ("sku", p.sku), ("name", p.name), ("technical", p.technical ? "yes" : "no"),
            ("maintenance", p.maintenance.map { "every \($0.intervalDays) days: \($0.text)" }),
            ("cycle", p.cycleDays.map { "\($0) days" }), ("manual", p.manualURL), ("video", p.videoURL), ("parts", p.partsURL),
            ("successor", p.successorSKU.map { $0 + (p.successorOffer.map { " (offer: \($0))" } ?? "") }),
        ])
    }

    public static func products(_ list: [Product]) -> String {
        if list.isEmpty { return "No products." }
        return TextTable(header: ["SKU", "NAME", "TECHNICAL", "MAINTENANCE", "CYCLE", "SUCCESSOR"],
                         rows: list.map { [$0.sku, $0.name, $0.technical ? "yes" : "no",
                                           $0.maintenance.map { "\($0.intervalDays)d" } ?? "-",
                                           $0.cycleDays.map { "\($0)d" } ?? "-", $0.successorSKU ?? "-"] }).text
    }

    static func orderState(_ o: Order) -> String {
        o.cancelledAt != nil ? "cancelled" : o.completedAt != nil ? "completed" : "open"
    }

    public static func order(_ o: Order) -> String {
        fields([
            ("id", o.id), ("customer", o.customerID),
            ("lines", o.lines.map { "\($0.sku) x\($0.quantity)" + ($0.unitPriceMinor.map { " @ \($0) \(o.currency) minor units" } ?? "") }
                .joined(separator: "; ")),
            ("total", "\(o.totalMinor) \(o.currency) minor units"), ("placed", time(o.placedAt)),
            ("completed", time(o.completedAt)), ("cancelled", time(o.cancelledAt)), ("state", orderState(o)),
        ])
    }

    public static func orders(_ list: [Order]) -> String {
        if list.isEmpty { return "No orders." }
        return TextTable(header: ["ID", "CUSTOMER", "PLACED", "STATE", "LINES"],
                         rows: list.map { [$0.id, $0.customerID, Timestamp.utc($0.placedAt), orderState($0),
                                           $0.lines.map { "\($0.sku)x\($0.quantity)" }.joined(separator: ",")] }).text
    }

    public static func orderDetail(_ d: OrderDetail) -> String {
        var parts = [order(d.order)]
        for s in d.shipments { parts.append("\n" + shipment(s)) }
        for c in d.complaints { parts.append("\n" + complaint(c)) }
        if let survey = d.survey { parts.append("\nsurvey    score \(survey.score)" + (survey.reason.map { ": \($0)" } ?? "")) }
        for r in d.reviews { parts.append("review    \(r.positive ? "positive" : "negative")" + (r.text.map { ": \($0)" } ?? "")) }
        return parts.joined(separator: "\n")
    }

    public static func shipment(_ d: ShipmentDetail) -> String {
        let s = d.shipment
        var text = fields([
            ("shipment", s.id), ("order", s.orderID), ("carrier", s.carrier), ("tracking", s.trackingNumber),
            ("tracking url", s.trackingURL), ("mode", s.mode.rawValue), ("dispatched", time(s.dispatchedAt)), ("eta", time(s.eta)),
            ("destination", [s.destinationPort, s.destinationCountry?.value].compactMap { $0 }.joined(separator: ", ")),
            ("documents", s.documents.joined(separator: ", ")), ("state", d.state),
        ])
        for e in d.events {
            let detail = [e.location, e.note, e.cause, e.remedy, e.reason, e.signedBy.map { "signed by \($0)" },
                          e.newETA.map { "new ETA \(Timestamp.utc($0))" }].compactMap { $0 }.joined(separator: "; ")
            text += "\n  \(Timestamp.utc(e.at))  \(e.kind.rawValue)" + (detail.isEmpty ? "" : "  \(detail)")
        }
        return text
    }

    public static func shipmentEvent(_ e: ShipmentEvent) -> String {
        "Recorded \(e.kind.rawValue) for shipment \(e.shipmentID) at \(Timestamp.utc(e.at))."
    }

    public static func complaint(_ c: Complaint) -> String {
        fields([
            ("complaint", c.id), ("order", c.orderID), ("category", c.category.rawValue), ("source", c.source.rawValue), ("text", c.text),
            ("opened", time(c.openedAt)), ("acknowledged", time(c.acknowledgedAt)), ("solution", c.solution),
            ("resolution", c.resolution), ("resolved", time(c.resolvedAt)), ("rating", c.rating.map { "\($0)/5" }),
        ])
    }

    public static func survey(_ s: SurveyAnswer) -> String {
        "Recorded survey answer for order \(s.orderID): score \(s.score) (\(s.segment.rawValue))."
    }

    public static func review(_ r: Review) -> String {
        "Recorded \(r.positive ? "positive" : "negative") review for order \(r.orderID)."
    }

    public static func status(_ s: StoreStatus, database: String) -> String {
        "Database: \(database)\n" + fields([
            ("customers", "\(s.customers)"), ("products", "\(s.products)"),
            ("orders", "\(s.orders) (\(s.openOrders) open)"),
            ("shipments", "\(s.shipments) (\(s.shipmentsInTransit) under way, \(s.shipmentsDelivered) delivered)"),
            ("complaints", "\(s.complaints) (\(s.openComplaints) open)"),
            ("surveys", "\(s.surveys)"), ("reviews", "\(s.reviews)"), ("events", "\(s.events)"),
        ])
    }
}
