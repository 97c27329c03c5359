import AftersalesDomain
import Foundation

/// `aftersales report`: what the source documents measure, over a period. Every section is a key of
/// the JSON (snake case); `groups` holds the same sections per `--by` group. Percentages are 0-100,
/// rounded to one decimal; a median or percentile with nothing to measure is null, a rate over
/// nothing is 0.
public struct Report: Sendable, Hashable, Codable {
    /// The period `[from, to)` and the instant deadlines were judged at.
    public var from: Date
    public var to: Date
    public var now: Date
    public var by: ReportDimension?
    public var sections: ReportSections
    /// The sections per group of `--by`, by group (empty without `--by`).
    public var groups: [ReportGroup]

    public init(from: Date, to: Date, now: Date, by: ReportDimension?, sections: ReportSections, groups: [ReportGroup]) {
        self.from = from
        self.to = to
        self.now = now
        self.by = by
        self.sections = sections
        self.groups = groups
    }

    enum CodingKeys: String, CodingKey { case from, to, now, by, groups }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = try c.decode(Date.self, forKey: .from)
        to = try c.decode(Date.self, forKey: .to)
        now = try c.decode(Date.self, forKey: .now)
        by = try c.decodeIfPresent(ReportDimension.self, forKey: .by)
        groups = try c.decode([ReportGroup].self, forKey: .groups)
        sections = try ReportSections(from: decoder)
    }

    /// The sections are keys of the report itself (`sla`, `nps`, ...), beside the period.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(from, forKey: .from)
        try c.encode(to, forKey: .to)
        try c.encode(now, forKey: .now)
        try c.encode(by, forKey: .by)
        try c.encode(groups, forKey: .groups)
        try sections.encode(to: encoder)
    }

    /// The target the SLA chart draws each rule's attainment against, percent.
    public static let slaTargetPercent = 95.0

    /// The report as JSON: snake-case keys, ISO 8601 instants.
    public var json: String {
        let encoder = JSONOutput.encoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// One group of `--by` with its sections.
public struct ReportGroup: Sendable, Hashable, Codable {
    public var group: String
    public var sections: ReportSections

    enum CodingKeys: String, CodingKey { case group }

    public init(group: String, sections: ReportSections) {
        self.group = group
        self.sections = sections
    }

    public init(from decoder: any Decoder) throws {
        group = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .group)
        sections = try ReportSections(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group, forKey: .group)
        try sections.encode(to: encoder)
    }
}

/// The six sections of a report.
public struct ReportSections: Sendable, Hashable, Codable {
    /// One row per rule with a deadline (and the two rows measured on facts), by rule.
    public var sla: [SLARow]
    public var nps: NPSSection
    public var repurchase: RepurchaseSection
    public var complaints: ComplaintSection
    public var deliverability: DeliverabilitySection
    public var shipments: ShipmentSection
}

/// A name with a count (a category, a market, a histogram bucket).
public struct NamedCount: Sendable, Hashable, Codable {
    public var name: String
    public var count: Int
}

/// Deadline attainment of one rule.
public struct SLARow: Sendable, Hashable, Codable {
    public var rule: String
    /// The deadline: from the trigger fact to the send (for `delay-notice-before-eta`, the lead before the corrected ETA).
    public var deadlineMinutes: Int
    public var count: Int
    public var met: Int
    public var percent: Double
    /// Whole minutes from the trigger fact to the send (`delay-notice-before-eta`: before the corrected ETA), nearest rank.
    public var medianMinutes: Int?
    public var p90Minutes: Int?
    /// The keys of the mail (the complaint ids for `solution-offered`) that missed the deadline.
    public var breaches: [String]
}

public struct NPSMonth: Sendable, Hashable, Codable {
    public var month: String
    public var answers: Int
    public var nps: Double
}

public struct NPSSection: Sendable, Hashable, Codable {
    /// Survey answers recorded in the period.
    public var answers: Int
    /// Scores 9-10, 7-8 and 0-6 (the standard NPS segments).
    public var promoters: Int
    public var passives: Int
    public var detractors: Int
    /// % promoters minus % detractors.
    public var nps: Double
    /// The product's own segments, as the survey rules use them: 10, 7-9, 0-6.
    public var score10: Int
    public var score7To9: Int
    public var score0To6: Int
    /// Survey mail sent in the period, those of them answered (whenever), answered / sent in percent.
    public var surveysSent: Int
    public var responses: Int
    public var responseRate: Double
    /// NPS per month of the answers (UTC).
    public var byMonth: [NPSMonth]

    enum CodingKeys: String, CodingKey {
        case answers, promoters, passives, detractors, nps, score10 = "score_10", score7To9 = "score_7_9", score0To6 = "score_0_6"
        case surveysSent, responses, responseRate, byMonth
    }
}

public struct ProductConversion: Sendable, Hashable, Codable {
    public var sku: String
    public var sent: Int
    public var converted: Int
    public var conversionRate: Double
}

public struct RepurchaseSection: Sendable, Hashable, Codable {
    /// Repurchase-alert mail sent in the period.
    public var sent: Int
    /// Of those, the customer ordered the SKU (an order not cancelled) within 30 days after the mail.
    public var converted: Int
    public var conversionRate: Double
    /// Days from the predicted date to the first such order (negative: early), median by nearest rank.
    public var medianDaysEarlyOrLate: Int?
    public var byProduct: [ProductConversion]
}

public struct ComplaintSection: Sendable, Hashable, Codable {
    /// Complaints opened in the period.
    public var opened: Int
    public var byCategory: [NamedCount]
    public var byMarket: [NamedCount]
    /// Of those, resolved (by now), and the hours from opening to resolution.
    public var resolved: Int
    public var medianHoursToResolution: Double?
    public var p90HoursToResolution: Double?
    /// The resolved ones by time to resolution.
    public var resolutionHistogram: [NamedCount]
    public var rated: Int
    public var averageRating: Double?
    public var ratedBelow4: Int

    enum CodingKeys: String, CodingKey {
        case opened, byCategory, byMarket, resolved, medianHoursToResolution, p90HoursToResolution, resolutionHistogram, rated, averageRating
        case ratedBelow4 = "rated_below_4"
    }
}

public struct StreamDelivery: Sendable, Hashable, Codable {
    public var stream: String
    public var sent: Int
    public var failed: Int
    public var retried: Int
    public var inDoubt: Int
    public var bounced: Int
}

public struct DeliverabilitySection: Sendable, Hashable, Codable {
    /// Transitions of the outbox history in the period, by stream (mail may count in several: a retry, then sent).
    public var byStream: [StreamDelivery]
    public var sent: Int
    public var failed: Int
    public var retried: Int
    public var inDoubt: Int
    /// Outbox entries in status `bounced` updated in the period (once inbound mail is processed).
    public var bounced: Int
    /// Addresses suppressed in the period (refused at RCPT), customers unsubscribed in the period.
    public var suppressedAddresses: Int
    public var unsubscribes: Int
}

public struct TransitRow: Sendable, Hashable, Codable {
    public var mode: String
    public var market: String
    public var delivered: Int
    public var medianDays: Double?
}

public struct ShipmentSection: Sendable, Hashable, Codable {
    /// Shipments dispatched in the period; shipments delivered in the period.
    public var dispatched: Int
    public var delivered: Int
    /// Of the delivered ones: days from dispatch to delivery, by mode and destination market.
    public var transit: [TransitRow]
    /// Delays recorded in the period.
    public var delays: Int
    /// Customs holds recorded in the period, and the hours from the hold to the clearance (or delivery).
    public var customsHolds: Int
    public var medianHoldHours: Double?
}
