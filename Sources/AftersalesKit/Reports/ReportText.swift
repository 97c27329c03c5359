import AftersalesDomain
import Foundation

/// How the report writes numbers and dates in text, CSV and HTML: Foundation's format styles in a
/// fixed locale, so that the output does not change with the machine's.
enum ReportFormat {
    static let locale = Locale(identifier: "en_US_POSIX")

    /// One decimal, `66.7`.
    static func decimal(_ value: Double) -> String {
        value.formatted(.number.locale(locale).precision(.fractionLength(1)).grouping(.never))
    }

    static func optional(_ value: Double?) -> String { value.map(decimal) ?? "-" }
    static func optional(_ value: Int?) -> String { value.map(integer) ?? "-" }
    static func integer(_ value: Int) -> String { value.formatted(.number.locale(locale).grouping(.never)) }
    static func percent(_ value: Double) -> String { decimal(value) + "%" }

    /// A day of the period, UTC: `2026-11-23`.
    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day())
    }

    /// The period as people read it: `[from, to)`, with the time when it is not midnight.
    static func period(_ report: Report) -> String {
        func text(_ date: Date) -> String {
            Timestamp.utc(date).hasSuffix("T00:00:00Z") ? day(date) : Timestamp.utc(date)
        }
        return "\(text(report.from)) to \(text(report.to)) (exclusive)"
    }
}

/// The report's tables, section by section: the one layout the text, CSV and HTML renderings share.
public struct ReportTable: Sendable, Hashable {
    /// The section's JSON key (and CSV file name).
    public var section: String
    public var title: String
    public var header: [String]
    public var rows: [[String]]
}

extension ReportSections {
    /// Every table of the sections, in the report's order.
    public var tables: [ReportTable] {
        let f = ReportFormat.self
        var tables: [ReportTable] = []
        tables.append(ReportTable(section: "sla", title: "SLA: mail sent within its deadline, from the trigger fact",
                                  header: ["rule", "deadline_minutes", "count", "met", "percent", "median_minutes", "p90_minutes", "breaches"],
                                  rows: sla.map { [$0.rule, f.integer($0.deadlineMinutes), f.integer($0.count), f.integer($0.met), f.decimal($0.percent),
                                                   f.optional($0.medianMinutes), f.optional($0.p90Minutes), $0.breaches.joined(separator: " ")] }))
        let n = nps
        tables.append(ReportTable(section: "nps", title: "NPS: survey answers recorded in the period", header: ["figure", "value"], rows: [
            ["answers", f.integer(n.answers)], ["promoters (9-10)", f.integer(n.promoters)], ["passives (7-8)", f.integer(n.passives)],
            ["detractors (0-6)", f.integer(n.detractors)], ["nps", f.decimal(n.nps)], ["score 10", f.integer(n.score10)],
            ["score 7-9", f.integer(n.score7To9)], ["score 0-6", f.integer(n.score0To6)], ["surveys sent", f.integer(n.surveysSent)],
            ["responses", f.integer(n.responses)], ["response rate %", f.decimal(n.responseRate)],
        ] + n.byMonth.map { ["nps \($0.month) (\($0.answers) answers)", f.decimal($0.nps)] }))
        let r = repurchase
        tables.append(ReportTable(section: "repurchase", title: "Repurchase: alerts sent, orders of the SKU within 30 days",
                                  header: ["sku", "sent", "converted", "conversion_rate", "median_days_early_or_late"],
                                  rows: r.byProduct.map { [$0.sku, f.integer($0.sent), f.integer($0.converted), f.decimal($0.conversionRate), ""] }
                                      + [["all", f.integer(r.sent), f.integer(r.converted), f.decimal(r.conversionRate), f.optional(r.medianDaysEarlyOrLate)]]))
        let c = complaints
        tables.append(ReportTable(section: "complaints", title: "Complaints opened in the period", header: ["figure", "value"], rows: [
            ["opened", f.integer(c.opened)], ["resolved", f.integer(c.resolved)],
            ["median hours to resolution", f.optional(c.medianHoursToResolution)], ["p90 hours to resolution", f.optional(c.p90HoursToResolution)],
            ["rated", f.integer(c.rated)], ["average rating", f.optional(c.averageRating)], ["rated below 4", f.integer(c.ratedBelow4)],
        ] + c.byCategory.map { ["category \($0.name)", f.integer($0.count)] } + c.byMarket.map { ["market \($0.name)", f.integer($0.count)] }
          + c.resolutionHistogram.map { ["resolved in \($0.name)", f.integer($0.count)] }))
        let d = deliverability
        tables.append(ReportTable(section: "deliverability", title: "Deliverability: outbox transitions in the period, by stream",
                                  header: ["stream", "sent", "failed", "retried", "in_doubt", "bounced"],
                                  rows: (d.byStream.map { s in (s.stream, [s.sent, s.failed, s.retried, s.inDoubt, s.bounced]) }
                                         + [("all", [d.sent, d.failed, d.retried, d.inDoubt, d.bounced])]).map { [$0.0] + $0.1.map(f.integer) }
                                      + [["suppressed addresses", f.integer(d.suppressedAddresses), "", "", "", ""],
                                       ["unsubscribes", f.integer(d.unsubscribes), "", "", "", ""]]))
        let s = shipments
        tables.append(ReportTable(section: "shipments", title: "Shipments: dispatched and delivered in the period; transit by mode and market",
                                  header: ["mode", "market", "delivered", "median_transit_days"],
                                  rows: s.transit.map { [$0.mode, $0.market, f.integer($0.delivered), f.optional($0.medianDays)] } + [
                                      ["dispatched", "", f.integer(s.dispatched), ""], ["delivered", "", f.integer(s.delivered), ""],
                                      ["delays", "", f.integer(s.delays), ""], ["customs holds", "", f.integer(s.customsHolds), ""],
                                      ["median hold hours", "", f.optional(s.medianHoldHours), ""],
                                  ]))
        return tables
    }
}

extension TextReport {
    /// The report as aligned tables, section by section (and per group with `--by`).
    public static func report(_ report: Report) -> String {
        func sections(_ s: ReportSections, heading: String) -> String {
            s.tables.map { table in
                "\(heading)\(table.title)\n" + (table.rows.isEmpty ? "(nothing in the period)" : TextTable(header: table.header.map { $0.uppercased() }, rows: table.rows).text)
            }.joined(separator: "\n\n")
        }
        var text = "Report \(ReportFormat.period(report))\n\n" + sections(report.sections, heading: "")
        for group in report.groups {
            text += "\n\n== \(report.by?.rawValue ?? "group") \(group.group) ==\n\n" + sections(group.sections, heading: "[\(group.group)] ")
        }
        // (A table's empty last cells leave the padding of the cells before them.)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in String(line[..<(line.lastIndex { $0 != " " }.map(line.index(after:)) ?? line.startIndex)]) }
            .joined(separator: "\n")
    }
}
