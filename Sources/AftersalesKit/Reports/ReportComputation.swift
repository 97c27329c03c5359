import AftersalesDomain
import AftersalesPlanning
import Foundation

extension Report {
    /// The report over `query` from the store's aggregates: the whole period, and with `query.by` each group.
    public static func compute(_ query: ReportQuery, store: AftersalesStore) throws(AftersalesError) -> Report {
        let total = ReportSections(try store.reportAggregates(query.total))
        var groups: [ReportGroup] = []
        if query.by != nil {
            let split = try store.reportAggregates(query)
            groups = split.groupNames.map { ReportGroup(group: $0, sections: ReportSections(split.only($0))) }
        }
        return Report(from: query.from, to: query.to, now: query.now, by: query.by, sections: total, groups: groups)
    }

    /// The default period: the 30 days before `now`.
    public static func defaultPeriod(now: Date) -> (from: Date, to: Date) { (now.addingTimeInterval(-30 * 86_400), now) }
}

extension ReportAggregates {
    /// Every group named by any aggregate, sorted.
    var groupNames: [String] {
        var names = Set<String>()
        names.formUnion(timings.map(\.group)); names.formUnion(breaches.map(\.group)); names.formUnion(scores.map(\.group))
        names.formUnion(surveyMail.map(\.group)); names.formUnion(repurchase.map(\.group)); names.formUnion(complaints.map(\.group))
        names.formUnion(shipmentCounts.map(\.group)); names.formUnion(transit.map(\.group)); names.formUnion(holds.map(\.group))
        names.formUnion(deliveries.map(\.group)); names.formUnion(addressCounts.map(\.group))
        return names.sorted()
    }

    /// The aggregates of one group.
    func only(_ group: String) -> ReportAggregates {
        ReportAggregates(timings: timings.filter { $0.group == group }, breaches: breaches.filter { $0.group == group },
                         scores: scores.filter { $0.group == group }, surveyMail: surveyMail.filter { $0.group == group },
                         repurchase: repurchase.filter { $0.group == group }, complaints: complaints.filter { $0.group == group },
                         shipmentCounts: shipmentCounts.filter { $0.group == group }, transit: transit.filter { $0.group == group },
                         holds: holds.filter { $0.group == group }, deliveries: deliveries.filter { $0.group == group },
                         addressCounts: addressCounts.filter { $0.group == group })
    }
}

/// Figures over histograms (value, count): exact medians and percentiles without one row per item.
enum Figures {
    /// The nearest-rank percentile `p` (0-100): the smallest value with at least p% of the items at or below it.
    static func percentile(_ histogram: [(value: Int, count: Int)], _ p: Double) -> Int? {
        let total = histogram.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        let rank = max(1, Int((p / 100 * Double(total)).rounded(.up)))
        var seen = 0
        for bin in histogram.sorted(by: { $0.value < $1.value }) {
            seen += bin.count
            if seen >= rank { return bin.value }
        }
        return nil
    }

    /// `part` of `whole` in percent, one decimal; 0 when `whole` is 0.
    static func percent(_ part: Int, of whole: Int) -> Double {
        whole == 0 ? 0 : round1(Double(part) * 100 / Double(whole))
    }

    static func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// Standard NPS of scores by count: % of 9-10 minus % of 0-6.
    static func nps(_ scores: [(score: Int, count: Int)]) -> Double {
        let total = scores.reduce(0) { $0 + $1.count }
        let promoters = scores.filter { $0.score >= 9 }.reduce(0) { $0 + $1.count }
        let detractors = scores.filter { $0.score <= 6 }.reduce(0) { $0 + $1.count }
        return total == 0 ? 0 : round1(Double(promoters - detractors) * 100 / Double(total))
    }
}

extension ReportSections {
    /// The buckets of the complaint resolution histogram, upper bounds in hours.
    static let resolutionBuckets: [(name: String, hours: Int?)] = [
        ("< 1 h", 1), ("1-4 h", 4), ("4-24 h", 24), ("1-3 d", 72), ("3-7 d", 168), ("> 7 d", nil),
    ]

    init(_ a: ReportAggregates) {
        sla = Self.sla(a)
        nps = Self.nps(a)
        repurchase = Self.repurchase(a)
        complaints = Self.complaints(a)
        deliverability = Self.deliverability(a)
        shipments = Self.shipments(a)
    }

    static func sla(_ a: ReportAggregates) -> [SLARow] {
        let byRule = Dictionary(grouping: a.timings, by: \.rule)
        let breaches = Dictionary(grouping: a.breaches, by: \.rule)
        return byRule.keys.sorted().map { rule in
            let rows = byRule[rule]!
            let count = rows.reduce(0) { $0 + $1.count }
            let met = rows.filter(\.met).reduce(0) { $0 + $1.count }
            let histogram = rows.compactMap { row in row.minutes.map { (value: $0, count: row.count) } }
            return SLARow(rule: rule, deadlineMinutes: (rows.map(\.deadlineSeconds).max() ?? 0) / 60, count: count, met: met,
                          percent: Figures.percent(met, of: count), medianMinutes: Figures.percentile(histogram, 50),
                          p90Minutes: Figures.percentile(histogram, 90), breaches: (breaches[rule] ?? []).map(\.key).sorted())
        }
    }

    static func nps(_ a: ReportAggregates) -> NPSSection {
        func count(_ range: ClosedRange<Int>) -> Int { a.scores.filter { range.contains($0.score) }.reduce(0) { $0 + $1.count } }
        let answers = count(0...10)
        let sent = a.surveyMail.reduce(0) { $0 + $1.sent }, responses = a.surveyMail.reduce(0) { $0 + $1.answered }
        let months = Dictionary(grouping: a.scores, by: \.month)
        return NPSSection(
            answers: answers, promoters: count(9...10), passives: count(7...8), detractors: count(0...6),
            nps: Figures.nps(a.scores.map { ($0.score, $0.count) }), score10: count(10...10), score7To9: count(7...9), score0To6: count(0...6),
            surveysSent: sent, responses: responses, responseRate: Figures.percent(responses, of: sent),
            byMonth: months.keys.sorted().map { month in
                let rows = months[month]!
                return NPSMonth(month: month, answers: rows.reduce(0) { $0 + $1.count }, nps: Figures.nps(rows.map { ($0.score, $0.count) }))
            })
    }

    static func repurchase(_ a: ReportAggregates) -> RepurchaseSection {
        let sent = a.repurchase.reduce(0) { $0 + $1.count }
        let converted = a.repurchase.filter(\.converted).reduce(0) { $0 + $1.count }
        let days = a.repurchase.filter(\.converted).compactMap { row in row.days.map { (value: $0, count: row.count) } }
        let bySKU = Dictionary(grouping: a.repurchase, by: \.sku)
        return RepurchaseSection(
            sent: sent, converted: converted, conversionRate: Figures.percent(converted, of: sent),
            medianDaysEarlyOrLate: Figures.percentile(days, 50),
            byProduct: bySKU.keys.sorted().map { sku in
                let rows = bySKU[sku]!
                let sent = rows.reduce(0) { $0 + $1.count }, converted = rows.filter(\.converted).reduce(0) { $0 + $1.count }
                return ProductConversion(sku: sku, sent: sent, converted: converted, conversionRate: Figures.percent(converted, of: sent))
            })
    }

    static func counts(_ pairs: [(String, Int)]) -> [NamedCount] {
        Dictionary(pairs, uniquingKeysWith: +).map { NamedCount(name: $0.key, count: $0.value) }
            .sorted { ($1.count, $0.name) < ($0.count, $1.name) }
    }

    static func complaints(_ a: ReportAggregates) -> ComplaintSection {
        let rows = a.complaints
        let resolved = rows.compactMap { row in row.minutes.map { (value: $0, count: row.count) } }
        let rated = rows.filter { $0.rating != nil }
        let ratedCount = rated.reduce(0) { $0 + $1.count }
        let ratingSum = rated.reduce(0) { $0 + ($1.rating ?? 0) * $1.count }
        var histogram: [NamedCount] = []
        var lower = 0
        for bucket in resolutionBuckets {
            let upper = bucket.hours.map { $0 * 60 } ?? Int.max
            histogram.append(NamedCount(name: bucket.name, count: resolved.filter { $0.value >= lower && $0.value < upper }.reduce(0) { $0 + $1.count }))
            lower = upper
        }
        return ComplaintSection(
            opened: rows.reduce(0) { $0 + $1.count }, byCategory: counts(rows.map { ($0.category, $0.count) }),
            byMarket: counts(rows.map { ($0.market, $0.count) }), resolved: resolved.reduce(0) { $0 + $1.count },
            medianHoursToResolution: Figures.percentile(resolved, 50).map { Figures.round1(Double($0) / 60) },
            p90HoursToResolution: Figures.percentile(resolved, 90).map { Figures.round1(Double($0) / 60) },
            resolutionHistogram: histogram, rated: ratedCount,
            averageRating: ratedCount == 0 ? nil : Figures.round1(Double(ratingSum) / Double(ratedCount)),
            ratedBelow4: rated.filter { ($0.rating ?? 5) < 4 }.reduce(0) { $0 + $1.count })
    }

    static func deliverability(_ a: ReportAggregates) -> DeliverabilitySection {
        func count(_ status: String, _ stream: String? = nil) -> Int {
            a.deliveries.filter { $0.status == status && (stream == nil || $0.stream == stream) }.reduce(0) { $0 + $1.count }
        }
        let streams = MailStream.allCases.map(\.rawValue) + Set(a.deliveries.map(\.stream)).subtracting(MailStream.allCases.map(\.rawValue)).sorted()
        let address = { (name: String) in a.addressCounts.filter { $0.name == name }.reduce(0) { $0 + $1.count } }
        return DeliverabilitySection(
            byStream: streams.map { StreamDelivery(stream: $0, sent: count("sent", $0), failed: count("failed", $0), retried: count("retry", $0),
                                                   inDoubt: count("in-doubt", $0), bounced: count("bounced", $0)) },
            sent: count("sent"), failed: count("failed"), retried: count("retry"), inDoubt: count("in-doubt"), bounced: count("bounced"),
            suppressedAddresses: address("suppressed"), unsubscribes: address("unsubscribed"))
    }

    static func shipments(_ a: ReportAggregates) -> ShipmentSection {
        func count(_ name: String) -> Int { a.shipmentCounts.filter { $0.name == name }.reduce(0) { $0 + $1.count } }
        struct Lane: Hashable { var mode: String, market: String }
        let lanes = Dictionary(grouping: a.transit) { Lane(mode: $0.mode, market: $0.market) }
        let holds = a.holds.compactMap { row in row.hours.map { (value: $0, count: row.count) } }
        return ShipmentSection(
            dispatched: count("dispatched"), delivered: count("delivered"),
            transit: lanes.keys.sorted { ($0.mode, $0.market) < ($1.mode, $1.market) }.map { lane in
                let rows = lanes[lane]!
                return TransitRow(mode: lane.mode, market: lane.market, delivered: rows.reduce(0) { $0 + $1.count },
                                  medianDays: Figures.percentile(rows.map { ($0.hours, $0.count) }, 50).map { Figures.round1(Double($0) / 24) })
            },
            delays: count("delayed"), customsHolds: a.holds.reduce(0) { $0 + $1.count },
            medianHoldHours: Figures.percentile(holds, 50).map(Double.init))
    }
}
