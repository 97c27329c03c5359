import AftersalesDomain
import Foundation
import GRDB

/// How `aftersales report --by` splits every section.
public enum ReportDimension: String, Sendable, Hashable, Codable, CaseIterable {
    /// The calendar month (UTC) of the fact or mail, `2026-11`.
    case month
    /// The week (UTC, weeks starting on Monday, as SQLite's `%W`), `2026-W47`.
    case week
    /// The customer's country (a shipment's destination country).
    case market
    /// Each SKU of the order the fact or mail belongs to (an order of two products counts in both).
    case product
    /// The rule of the mail; facts that are not mail go to the group `-`.
    case rule
}

/// What a report covers: `[from, to)`, with `now` deciding which deadlines have passed.
public struct ReportQuery: Sendable, Hashable {
    public var from: Date
    public var to: Date
    public var now: Date
    public var by: ReportDimension?

    public init(from: Date, to: Date, now: Date, by: ReportDimension? = nil) {
        self.from = from
        self.to = to
        self.now = now
        self.by = by
    }

    /// The same period without a split.
    public var total: ReportQuery { ReportQuery(from: from, to: to, now: now, by: nil) }
}

/// One SQL statement of the report, as SQLite runs it (no parameters: the bench hands the very same
/// text to the sqlite3 shell).
public struct ReportStatement: Sendable, Hashable {
    public var name: String
    public var sql: String
}

/// The report's aggregates as the database computes them: counts grouped by value, so that medians
/// and percentiles are exact without reading one row per mail (a histogram of whole minutes or hours).
/// `group` is the `--by` group (empty without a split).
public struct ReportAggregates: Sendable, Hashable {
    /// Sent mail with a deadline: rule, deadline (seconds), minutes from the trigger fact to the send, met, count.
    public struct Timing: Sendable, Hashable {
        public var group: String, rule: String, deadlineSeconds: Int, minutes: Int?, met: Bool, count: Int
    }
    public struct Breach: Sendable, Hashable { public var group: String, rule: String, key: String }
    public struct Count: Sendable, Hashable { public var group: String, name: String, count: Int }
    public struct Score: Sendable, Hashable { public var group: String, month: String, score: Int, count: Int }
    public struct SurveyMail: Sendable, Hashable { public var group: String, sent: Int, answered: Int }
    public struct Repurchase: Sendable, Hashable {
        public var group: String, sku: String, converted: Bool, days: Int?, count: Int
    }
    public struct ComplaintRow: Sendable, Hashable {
        public var group: String, category: String, market: String, minutes: Int?, rating: Int?, count: Int
    }
    public struct Transit: Sendable, Hashable { public var group: String, mode: String, market: String, hours: Int, count: Int }
    public struct Hold: Sendable, Hashable { public var group: String, hours: Int?, count: Int }
    public struct Delivery: Sendable, Hashable { public var group: String, stream: String, status: String, count: Int }

    public var timings: [Timing] = []
    public var breaches: [Breach] = []
    public var scores: [Score] = []
    public var surveyMail: [SurveyMail] = []
    public var repurchase: [Repurchase] = []
    public var complaints: [ComplaintRow] = []
    /// `dispatched`, `delivered`, `delays` by group.
    public var shipmentCounts: [Count] = []
    public var transit: [Transit] = []
    public var holds: [Hold] = []
    public var deliveries: [Delivery] = []
    /// `suppressed` addresses and `unsubscribed` customers by group.
    public var addressCounts: [Count] = []
}

/// The report's SQL, one statement per aggregate.
public enum ReportSQL {
    /// The rule names of the rows measured on facts rather than on one rule's mail.
    public static let solutionRow = "solution-offered"
    public static let delayBeforeETARow = "delay-notice-before-eta"
    /// The solution is due within 24 h of the complaint; the delay notice at least 24 h before the ETA it corrects.
    public static let solutionSeconds = 86_400
    public static let delayLeadSeconds = 86_400

    /// A date as GRDB stores it (`2026-11-23 10:00:00.000`), quoted for SQL.
    static func literal(_ date: Date) -> String {
        guard case .string(let text) = date.databaseValue.storage else { return "''" }
        return "'\(text)'"
    }

    /// Whole seconds since 1970 of a date column (GRDB's text or ISO 8601).
    static func seconds(_ column: String) -> String { "CAST(strftime('%s', \(column)) AS INTEGER)" }

    /// The group column and the join it needs, for facts at time `at` of the customer `country`, the
    /// order `order` and the rule `rule` (nil: no such thing, the group is `-`).
    static func group(_ by: ReportDimension?, at: String, country: String?, order: String?, rule: String?) -> (column: String, join: String) {
        switch by {
        case nil: return ("''", "")
        case .month: return ("strftime('%Y-%m', \(at))", "")
        case .week: return ("strftime('%Y-W%W', \(at))", "")
        case .market: return (country.map { "COALESCE(\($0), '-')" } ?? "'-'", "")
        case .rule: return (rule ?? "'-'", "")
        case .product:
            guard let order else { return ("'-'", "") }
            return ("COALESCE(gp.sku, '-')", " LEFT JOIN (SELECT DISTINCT orderID, sku FROM order_lines) gp ON gp.orderID = \(order)")
        }
    }

    /// Every statement of the report over `query`, in the order ``AftersalesStore/reportAggregates(_:)`` runs them.
    public static func statements(_ query: ReportQuery) -> [ReportStatement] {
        let from = literal(query.from), to = literal(query.to), now = literal(query.now)
        let by = query.by
        func period(_ column: String) -> String { "\(column) >= \(from) AND \(column) < \(to)" }
        let mail = group(by, at: "o.sentAt", country: "c.country", order: "o.orderID", rule: "o.rule")
        let sentIn = "o.status = 'sent' AND \(period("o.sentAt"))"
        let complaint = group(by, at: "k.openedAt", country: "c.country", order: "k.orderID", rule: nil)
        let solutionKnown = "(k.solutionAt IS NOT NULL OR \(seconds("k.openedAt")) + \(solutionSeconds) <= \(seconds(now)))"
        let solutionMet = "(k.solutionAt IS NOT NULL AND \(seconds("k.solutionAt")) - \(seconds("k.openedAt")) <= \(solutionSeconds))"
        // The ETA a delay corrects: the new ETA of the shipment's previous delay, else the ETA it was dispatched with (the event log).
        let correctedETA = """
            COALESCE((SELECT p.newETA FROM shipment_events p WHERE p.shipmentID = e.shipmentID AND p.kind = 'delayed' AND p.at < e.at ORDER BY p.at DESC, p.rowid DESC LIMIT 1),
                     (SELECT json_extract(v.payload, '$.eta') FROM events v WHERE v.orderID = o.orderID AND v.kind = 'shipment.dispatched' AND v.subject = e.shipmentID))
            """
        let delayed = """
            FROM outbox o JOIN customers c ON c.id = o.customerID
            JOIN shipment_events e ON e.shipmentID = o.subject AND e.kind = 'delayed' AND strftime('%s', e.at) = strftime('%s', json_extract(o.context, '$."delayed-at"'))\(mail.join)
            WHERE o.rule = 'delay-notice' AND \(sentIn)
            """
        let shipment = group(by, at: "s.dispatchedAt", country: "s.destinationCountry", order: "s.orderID", rule: nil)
        let event = group(by, at: "e.at", country: "s.destinationCountry", order: "s.orderID", rule: nil)
        let survey = group(by, at: "sv.answeredAt", country: "c.country", order: "sv.orderID", rule: nil)
        let history = group(by, at: "h.at", country: "c.country", order: "o.orderID", rule: "o.rule")
        let bounced = group(by, at: "o.updatedAt", country: "c.country", order: "o.orderID", rule: "o.rule")
        // Addresses have no order or rule: split by time, and by market through the customer whose address it is.
        func address(at: String, country: String) -> String {
            switch by {
            case nil, .month, .week, .market: group(by, at: at, country: country, order: nil, rule: nil).column
            case .product, .rule: "'-'"
            }
        }
        let repurchase = group(by, at: "o.sentAt", country: "c.country", order: "o.orderID", rule: "o.rule")
        let repurchaseGroup = by == .product ? "json_extract(o.context, '$.sku')" : repurchase.column
        return [
            ReportStatement(name: "sla", sql: """
                SELECT \(mail.column), o.rule, \(seconds("o.deadline")) - \(seconds("o.triggeredAt")),
                       (\(seconds("o.sentAt")) - \(seconds("o.triggeredAt"))) / 60, o.sentAt <= o.deadline, COUNT(*)
                FROM outbox o JOIN customers c ON c.id = o.customerID\(mail.join)
                WHERE o.deadline IS NOT NULL AND \(sentIn)
                GROUP BY 1, 2, 3, 4, 5
                UNION ALL
                SELECT \(complaint.column), '\(solutionRow)', \(solutionSeconds),
                       CASE WHEN k.solutionAt IS NOT NULL THEN (\(seconds("k.solutionAt")) - \(seconds("k.openedAt"))) / 60 END, \(solutionMet), COUNT(*)
                FROM complaints k JOIN orders r ON r.id = k.orderID JOIN customers c ON c.id = r.customerID\(complaint.join)
                WHERE \(period("k.openedAt")) AND \(solutionKnown)
                GROUP BY 1, 2, 3, 4, 5
                UNION ALL
                SELECT \(mail.column), '\(delayBeforeETARow)', \(delayLeadSeconds),
                       (\(seconds(correctedETA)) - \(seconds("o.sentAt"))) / 60, \(seconds(correctedETA)) - \(seconds("o.sentAt")) >= \(delayLeadSeconds), COUNT(*)
                \(delayed)
                GROUP BY 1, 2, 3, 4, 5
                """),
            ReportStatement(name: "sla-breaches", sql: """
                SELECT \(mail.column), o.rule, o.key
                FROM outbox o JOIN customers c ON c.id = o.customerID\(mail.join)
                WHERE o.deadline IS NOT NULL AND \(sentIn) AND o.sentAt > o.deadline
                UNION ALL
                SELECT \(complaint.column), '\(solutionRow)', k.id
                FROM complaints k JOIN orders r ON r.id = k.orderID JOIN customers c ON c.id = r.customerID\(complaint.join)
                WHERE \(period("k.openedAt")) AND \(solutionKnown) AND NOT \(solutionMet)
                UNION ALL
                SELECT \(mail.column), '\(delayBeforeETARow)', o.key
                \(delayed) AND \(seconds(correctedETA)) - \(seconds("o.sentAt")) < \(delayLeadSeconds)
                ORDER BY 1, 2, 3
                """),
            ReportStatement(name: "nps", sql: """
                SELECT \(survey.column), strftime('%Y-%m', sv.answeredAt), sv.score, COUNT(*)
                FROM surveys sv JOIN orders r ON r.id = sv.orderID JOIN customers c ON c.id = r.customerID\(survey.join)
                WHERE \(period("sv.answeredAt"))
                GROUP BY 1, 2, 3
                """),
            ReportStatement(name: "survey-mail", sql: """
                SELECT \(mail.column), COUNT(*), SUM(EXISTS (SELECT 1 FROM surveys sv WHERE sv.orderID = o.orderID))
                FROM outbox o JOIN customers c ON c.id = o.customerID\(mail.join)
                WHERE o.rule = 'survey' AND \(sentIn)
                GROUP BY 1
                """),
            ReportStatement(name: "repurchase", sql: """
                -- (CROSS JOIN: SQLite walks the customer's orders, by index, not every line of the SKU.)
                SELECT grp, sku, firstOrder IS NOT NULL, CAST(ROUND(julianday(firstOrder) - julianday(predicted)) AS INTEGER), COUNT(*)
                FROM (SELECT \(repurchaseGroup) AS grp, json_extract(o.context, '$.sku') AS sku, json_extract(o.context, '$.predicted') AS predicted,
                             (SELECT MIN(r.placedAt) FROM orders r CROSS JOIN order_lines l ON l.orderID = r.id
                              WHERE l.sku = json_extract(o.context, '$.sku') AND r.customerID = o.customerID AND r.cancelledAt IS NULL
                                AND r.placedAt > o.sentAt AND julianday(r.placedAt) <= julianday(o.sentAt) + 30) AS firstOrder
                      FROM outbox o JOIN customers c ON c.id = o.customerID
                      WHERE o.rule = 'repurchase-alert' AND \(sentIn))
                GROUP BY 1, 2, 3, 4
                """),
            ReportStatement(name: "complaints", sql: """
                SELECT \(complaint.column), k.category, c.country,
                       CASE WHEN k.resolvedAt IS NOT NULL THEN (\(seconds("k.resolvedAt")) - \(seconds("k.openedAt"))) / 60 END, k.rating, COUNT(*)
                FROM complaints k JOIN orders r ON r.id = k.orderID JOIN customers c ON c.id = r.customerID\(complaint.join)
                WHERE \(period("k.openedAt"))
                GROUP BY 1, 2, 3, 4, 5
                """),
            ReportStatement(name: "shipments", sql: """
                SELECT \(shipment.column), 'dispatched', COUNT(*)
                FROM shipments s\(shipment.join) WHERE \(period("s.dispatchedAt")) GROUP BY 1
                UNION ALL
                SELECT \(event.column), e.kind, COUNT(*)
                FROM shipment_events e JOIN shipments s ON s.id = e.shipmentID\(event.join)
                WHERE e.kind IN ('delivered', 'delayed') AND \(period("e.at")) GROUP BY 1, 2
                """),
            ReportStatement(name: "transit", sql: """
                SELECT \(event.column), s.mode, COALESCE(s.destinationCountry, '-'), (\(seconds("e.at")) - \(seconds("s.dispatchedAt"))) / 3600, COUNT(*)
                FROM shipment_events e JOIN shipments s ON s.id = e.shipmentID\(event.join)
                WHERE e.kind = 'delivered' AND \(period("e.at"))
                GROUP BY 1, 2, 3, 4
                """),
            ReportStatement(name: "customs-holds", sql: """
                SELECT \(event.column),
                       (SELECT (\(seconds("MIN(n.at)")) - \(seconds("e.at"))) / 3600 FROM shipment_events n
                        WHERE n.shipmentID = e.shipmentID AND n.kind IN ('cleared', 'delivered') AND n.at >= e.at), COUNT(*)
                FROM shipment_events e JOIN shipments s ON s.id = e.shipmentID\(event.join)
                WHERE e.kind = 'held' AND \(period("e.at"))
                GROUP BY 1, 2
                """),
            ReportStatement(name: "deliverability", sql: """
                SELECT \(history.column), o.stream, h.toStatus, COUNT(*)
                FROM outbox_history h JOIN outbox o ON o.key = h.key JOIN customers c ON c.id = o.customerID\(history.join)
                WHERE h.toStatus IN ('sent', 'failed', 'retry', 'in-doubt') AND \(period("h.at"))
                GROUP BY 1, 2, 3
                UNION ALL
                SELECT \(bounced.column), o.stream, o.status, COUNT(*)
                FROM outbox o JOIN customers c ON c.id = o.customerID\(bounced.join)
                WHERE o.status = 'bounced' AND \(period("o.updatedAt"))
                GROUP BY 1, 2, 3
                """),
            ReportStatement(name: "addresses", sql: """
                SELECT \(address(at: "x.at", country: "c.country")), 'suppressed', COUNT(*)
                FROM suppressions x LEFT JOIN customers c ON c.email = x.address WHERE \(period("x.at")) GROUP BY 1
                UNION ALL
                SELECT \(address(at: "c.unsubscribedAt", country: "c.country")), 'unsubscribed', COUNT(*)
                FROM customers c WHERE \(period("c.unsubscribedAt")) GROUP BY 1
                """),
        ]
    }
}

extension AftersalesStore {
    /// The report's aggregates over `query`, in one read transaction (one consistent snapshot).
    public func reportAggregates(_ query: ReportQuery) throws(AftersalesError) -> ReportAggregates {
        let statements = Dictionary(uniqueKeysWithValues: ReportSQL.statements(query).map { ($0.name, $0.sql) })
        return try read { db in
            var result = ReportAggregates()
            func rows(_ name: String, _ body: (Row) throws -> Void) throws {
                let cursor = try Row.fetchCursor(db, sql: statements[name]!)
                while let row = try cursor.next() { try body(row) }
            }
            func label(_ row: Row, _ index: Int) -> String { (row[index] as String?) ?? "-" }
            try rows("sla") { r in
                result.timings.append(.init(group: label(r, 0), rule: r[1], deadlineSeconds: r[2] ?? 0, minutes: r[3], met: r[4] ?? false, count: r[5]))
            }
            try rows("sla-breaches") { r in result.breaches.append(.init(group: label(r, 0), rule: r[1], key: r[2])) }
            try rows("nps") { r in result.scores.append(.init(group: label(r, 0), month: label(r, 1), score: r[2], count: r[3])) }
            try rows("survey-mail") { r in result.surveyMail.append(.init(group: label(r, 0), sent: r[1], answered: r[2] ?? 0)) }
            try rows("repurchase") { r in
                result.repurchase.append(.init(group: label(r, 0), sku: label(r, 1), converted: r[2] ?? false, days: r[3], count: r[4]))
            }
            try rows("complaints") { r in
                result.complaints.append(.init(group: label(r, 0), category: r[1], market: label(r, 2), minutes: r[3], rating: r[4], count: r[5]))
            }
            try rows("shipments") { r in result.shipmentCounts.append(.init(group: label(r, 0), name: r[1], count: r[2])) }
            try rows("transit") { r in result.transit.append(.init(group: label(r, 0), mode: r[1], market: label(r, 2), hours: r[3] ?? 0, count: r[4])) }
            try rows("customs-holds") { r in result.holds.append(.init(group: label(r, 0), hours: r[1], count: r[2])) }
            try rows("deliverability") { r in result.deliveries.append(.init(group: label(r, 0), stream: r[1], status: r[2], count: r[3])) }
            try rows("addresses") { r in result.addressCounts.append(.init(group: label(r, 0), name: r[1], count: r[2])) }
            return result
        }
    }
}
