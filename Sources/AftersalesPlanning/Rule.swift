import AftersalesDomain
import Foundation

/// Who a mail is for, and what consent it needs.
public enum MailStream: String, Sendable, Hashable, Codable, CaseIterable {
    /// Service mail (shipping, receipt, complaint handling): always goes.
    case transactional
    /// Offers and reminders: only with consent and not unsubscribed, under a frequency cap.
    case marketing
    /// Mail to our own staff.
    case `internal`
}

/// Who receives a mail.
public enum Audience: String, Sendable, Hashable, Codable, CaseIterable {
    case customer
    /// The customer's account manager (the supervisor when the customer has none).
    case manager
    case supervisor
}

/// When a mail may go out.
public enum SendWindow: String, Sendable, Hashable, Codable, CaseIterable {
    /// As soon as it is due, at any hour.
    case immediate
    /// Business hours in the recipient's time zone, skipping their weekend and holidays.
    case business
}

/// What starts a rule: a recorded event, or a date computed from the facts.
public enum Trigger: String, Sendable, Hashable, Codable, CaseIterable {
    case shipmentDispatched = "shipment.dispatched"
    /// Repeats from dispatch while the shipment is under way.
    case shipmentInTransit = "shipment.in-transit"
    case shipmentDelayed = "shipment.delayed"
    /// Computed: the arriving-at-customs event, or `customs.days_before_eta` before the ETA, whichever comes first.
    case customsApproach = "customs.approach"
    case shipmentHeld = "shipment.held"
    case shipmentDelivered = "shipment.delivered"
    /// Computed: the shipment's (updated) ETA has passed and it is not delivered.
    case shipmentOverdue = "shipment.overdue"
    case orderCompleted = "order.completed"
    case complaintOpened = "complaint.opened"
    case complaintSolutionOffered = "complaint.solution-offered"
    case complaintResolved = "complaint.resolved"
    case complaintRated = "complaint.rated"
    case surveyAnswered = "survey.answered"
    case reviewLeft = "review.left"
    case productSucceeded = "product.succeeded"
    /// Computed: the predicted next purchase of a product by a customer.
    case repurchasePredicted = "repurchase.predicted"
    /// Computed: the start of a configured industry/region season.
    case seasonStart = "season.start"
    /// Computed: the peak holiday of the customer's market (Christmas, Ramadan, Chinese New Year).
    case marketHoliday = "market.holiday"

    /// Triggered by one shipment's facts.
    public var isShipmentTrigger: Bool {
        switch self {
        case .shipmentDispatched, .shipmentInTransit, .shipmentDelayed, .customsApproach, .shipmentHeld, .shipmentDelivered, .shipmentOverdue: true
        default: false
        }
    }

    /// Worked out from the customer's facts as a whole (repurchase, successor products, seasons,
    /// holidays), not order by order.
    public var isCustomerWide: Bool {
        switch self {
        case .productSucceeded, .repurchasePredicted, .seasonStart, .marketHoliday: true
        default: false
        }
    }
}

/// A condition the facts must meet for a rule to plan a mail.
public enum Condition: String, Sendable, Hashable, Codable, CaseIterable {
    case technicalProduct = "technical-product"
    case maintenancePlan = "maintenance-plan"
    case damage = "category-damage"
    case notDamage = "category-not-damage"
    case ratingBelow4 = "rating-below-4"
    case promoter = "score-10"
    case passive = "score-7-9"
    case detractor = "score-0-6"
    case positiveReview = "review-positive"
    case negativeReview = "review-negative"
}

/// A later fact that makes a pending mail pointless; it is then cancelled with the reason.
public enum CancelCondition: String, Sendable, Hashable, Codable, CaseIterable {
    case delivered
    /// Customs cleared (or the shipment delivered).
    case cleared
    /// A solution was offered or the complaint resolved.
    case solutionOffered = "solution-offered"
    case resolved
    case rated
    case reviewed
    case surveyAnswered = "survey-answered"
    case orderCancelled = "order-cancelled"
}

/// A document a mail carries, found under `documents.dir`.
public enum Attachment: String, Sendable, Hashable, Codable, CaseIterable {
    /// The documents of the mail's shipment: `<documents.dir>/<order id>/<document name>.*`.
    case shipmentDocuments = "shipment-documents"
    /// The installation guide of each technical product of the order: `<documents.dir>/<SKU>/installation guide.*`.
    case installationGuide = "installation-guide"
}

/// One rule of the plan. Durations are in seconds.
public struct Rule: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var description: String
    public var stream: MailStream
    public var trigger: Trigger
    /// From the trigger to the due time; negative means before (e.g. 15 days before a predicted purchase).
    public var offset: Int
    /// The mail should be out within this long after the trigger ("within 2 h").
    public var deadline: Int?
    /// Repeats every this long while the trigger holds, at most `repeatCap` times.
    public var repeatEvery: Int?
    public var repeatCap: Int?
    public var conditions: [Condition]
    public var cancelOn: [CancelCondition]
    public var window: SendWindow
    public var audience: Audience
    /// A person must approve it before it goes (it waits as `held`).
    public var approval: Bool
    public var template: String
    /// How long after its due time the mail is still worth sending; later it is cancelled as stale.
    public var staleAfter: Int?
    public var enabled: Bool
    /// The documents the mail attaches.
    public var attachments: [Attachment]
    /// When the complaint is about communication, the mail also carries its English text (side by side
    /// in HTML, after it in plain text), unless it is written in English.
    public var bilingual: Bool

    /// Whether business hours move the rule's mail: a business-hours rule writing to the customer
    /// (mail to the account manager or the supervisor goes when it is due).
    public var movedByBusinessHours: Bool { window == .business && audience == .customer }

    public init(id: String, description: String, stream: MailStream, trigger: Trigger, offset: Int = 0, deadline: Int? = nil,
                repeatEvery: Int? = nil, repeatCap: Int? = nil, conditions: [Condition] = [], cancelOn: [CancelCondition] = [],
                window: SendWindow = .business, audience: Audience = .customer, approval: Bool = false, template: String? = nil,
                staleAfter: Int? = nil, enabled: Bool = true, attachments: [Attachment] = [], bilingual: Bool = false) {
        self.id = id
        self.description = description
        self.stream = stream
        self.trigger = trigger
        self.offset = offset
        self.deadline = deadline
        self.repeatEvery = repeatEvery
        self.repeatCap = repeatCap
        self.conditions = conditions
        self.cancelOn = cancelOn
        self.window = window
        self.audience = audience
        self.approval = approval
        self.template = template ?? id
        self.staleAfter = staleAfter
        self.enabled = enabled
        self.attachments = attachments
        self.bilingual = bilingual
    }
}

/// Durations as written in rules files and shown by `rules show`: `90m`, `2h`, `3d`, `-15d`, `2w`.
public enum DurationText {
    public static func parse(_ raw: String, field: String) throws(InvalidInput) -> Int {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let factor = units[unit], let number = Int(text.dropLast()) else {
            throw InvalidInput(field: field, value: raw, problem: "expected a duration like 30m, 2h, 3d, 2w or -15d")
        }
        return number * factor
    }

    public static func format(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : ""
        let value = abs(seconds)
        for (unit, factor) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] where value >= factor && value % factor == 0 {
            return "\(sign)\(value / factor)\(unit)"
        }
        return "\(sign)\(value)s"
    }
}

/// A configured season of an industry in a region (seed 000: agrochemicals before the rainy season).
public struct Season: Sendable, Hashable, Codable {
    public var name: String
    public var industry: String
    public var countries: [String]
    public var month: Int
    public var day: Int

    public init(name: String, industry: String, countries: [String], month: Int, day: Int) {
        self.name = name
        self.industry = industry
        self.countries = countries
        self.month = month
        self.day = day
    }
}

/// The effective rules: the defaults of SEQUENCES.md with a rules file's changes applied.
public struct RuleSet: Sendable, Hashable {
    public var rules: [Rule]
    public var seasons: [Season]

    public init(rules: [Rule], seasons: [Season]) {
        self.rules = rules
        self.seasons = seasons
    }

    public subscript(id: String) -> Rule? { rules.first { $0.id == id } }

    static let hour = 3600
    static let day = 86_400

    /// The default rule set, reproducing `SEQUENCES.md`.
    public static let defaults = RuleSet(rules: [
        // Shipping
        Rule(id: "tracking", description: "Carrier, tracking link, ETA and the customs documents, within 2 h of dispatch.",
             stream: .transactional, trigger: .shipmentDispatched, deadline: 2 * hour, cancelOn: [.delivered, .orderCancelled],
             window: .immediate, staleAfter: 2 * day, attachments: [.shipmentDocuments]),
        Rule(id: "transit-update", description: "Latest status, location and ETA every 3 days after dispatch until delivered.",
             stream: .transactional, trigger: .shipmentInTransit, repeatEvery: 3 * day, repeatCap: 30,
             cancelOn: [.delivered, .orderCancelled], staleAfter: 3 * day),
        Rule(id: "delay-notice", description: "Cause, new ETA and remedy, at once when a delay becomes known.",
             stream: .transactional, trigger: .shipmentDelayed, deadline: hour, cancelOn: [.delivered, .orderCancelled],
             window: .immediate, staleAfter: 2 * day),
        Rule(id: "overdue-shipment", description: "To the account manager, once per shipment, a day after its ETA passed without delivery.",
             stream: .internal, trigger: .shipmentOverdue, offset: day, cancelOn: [.delivered, .orderCancelled],
             window: .immediate, audience: .manager, staleAfter: 7 * day),
        Rule(id: "customs-notes", description: "Documents to prepare and the local agent, before the shipment reaches destination customs.",
             stream: .transactional, trigger: .customsApproach, cancelOn: [.cleared, .orderCancelled], staleAfter: 3 * day, attachments: [.shipmentDocuments]),
        Rule(id: "customs-held", description: "Where it is held and what to do, at once when customs holds the shipment.",
             stream: .transactional, trigger: .shipmentHeld, deadline: hour, cancelOn: [.cleared, .orderCancelled],
             window: .immediate, staleAfter: 2 * day, attachments: [.shipmentDocuments]),
        // Receipt and usage
        Rule(id: "inspection-guide", description: "Unboxing video and inspection checklist (plus installation guide and FAQ for technical products) within 24 h of delivery.",
             stream: .transactional, trigger: .shipmentDelivered, deadline: day, staleAfter: 5 * day, attachments: [.installationGuide]),
        Rule(id: "usage-follow-up", description: "How is it going, remote support in the customer's hours, 72 h after delivery.",
             stream: .transactional, trigger: .shipmentDelivered, offset: 3 * day, staleAfter: 7 * day),
        Rule(id: "maintenance-reminder", description: "The product's maintenance plan and parts link, 1 month after delivery.",
             stream: .transactional, trigger: .shipmentDelivered, offset: 30 * day, conditions: [.maintenancePlan], staleAfter: 14 * day),
        Rule(id: "review-request", description: "Confirm receipt and rate us, after delivery while there is no review.",
             stream: .transactional, trigger: .shipmentDelivered, offset: 5 * day, cancelOn: [.reviewed], staleAfter: 14 * day),
        Rule(id: "policy-reminder", description: "Returns window, warranty, refunds and support, after completion.",
             stream: .transactional, trigger: .orderCompleted, offset: day, staleAfter: 14 * day),
        Rule(id: "survey", description: "The one-minute survey (what pleased most, 0-10 and why, buying again), after completion.",
             stream: .transactional, trigger: .orderCompleted, offset: 3 * day, cancelOn: [.surveyAnswered], staleAfter: 14 * day),
        // Complaints
        Rule(id: "complaint-ack", description: "Names the customer's problem, promises a solution within 24 h, names the owner; within 1 h.",
             stream: .transactional, trigger: .complaintOpened, deadline: hour, conditions: [.notDamage],
             window: .immediate, staleAfter: day, bilingual: true),
        Rule(id: "damage-reply", description: "Apology, goods checked before dispatch, we investigate and compensate; at once on damage.",
             stream: .transactional, trigger: .complaintOpened, deadline: hour, conditions: [.damage],
             window: .immediate, staleAfter: day),
        Rule(id: "complaint-solution", description: "Concrete, quantified options for the complaint's category, when the solution is offered (within 24 h).",
             stream: .transactional, trigger: .complaintSolutionOffered, deadline: day, cancelOn: [.resolved],
             window: .immediate, staleAfter: 2 * day, bilingual: true),
        Rule(id: "complaint-escalation", description: "To the supervisor when a complaint has no solution 24 h after it was opened.",
             stream: .internal, trigger: .complaintOpened, offset: day, cancelOn: [.solutionOffered, .resolved],
             window: .immediate, audience: .supervisor, staleAfter: 7 * day),
        Rule(id: "satisfaction-check", description: "Was it fully solved, rate our handling 1-5; within 7 days of resolution.",
             stream: .transactional, trigger: .complaintResolved, offset: 2 * day, deadline: 7 * day, cancelOn: [.rated], staleAfter: 5 * day, bilingual: true),
        Rule(id: "improvement-commitment", description: "In the department head's name, the improvements made; after a rating below 4, approved by a person.",
             stream: .transactional, trigger: .complaintRated, offset: day, conditions: [.ratingBelow4], approval: true, staleAfter: 30 * day),
        // Feedback
        Rule(id: "survey-promoter", description: "Invitation to the VIP club after a survey score of 10.",
             stream: .marketing, trigger: .surveyAnswered, conditions: [.promoter], staleAfter: 14 * day),
        Rule(id: "survey-passive", description: "\"You told us X; we changed Y\" after a score of 7-9, approved once the weak point is improved.",
             stream: .transactional, trigger: .surveyAnswered, conditions: [.passive], approval: true, staleAfter: 90 * day),
        Rule(id: "survey-detractor", description: "Tells the account manager to call, at once after a score of 0-6.",
             stream: .internal, trigger: .surveyAnswered, conditions: [.detractor], window: .immediate, audience: .manager, staleAfter: 7 * day),
        Rule(id: "review-thanks", description: "Thanks and a coupon valid 30 days, after positive platform feedback.",
             stream: .transactional, trigger: .reviewLeft, conditions: [.positiveReview], staleAfter: 7 * day),
        Rule(id: "review-response", description: "Regret, the precise reasons, a promised solution; at once after negative feedback.",
             stream: .transactional, trigger: .reviewLeft, deadline: hour, conditions: [.negativeReview], window: .immediate, staleAfter: 2 * day),
        // Repurchase and seasons
        Rule(id: "repurchase-alert", description: "\"Model X may run low\", 15 days before the predicted next purchase.",
             stream: .marketing, trigger: .repurchasePredicted, offset: -15 * day, staleAfter: 14 * day),
        Rule(id: "seasonal-alert", description: "A seasonal solution, one month before the customer's industry/region season.",
             stream: .marketing, trigger: .seasonStart, offset: -30 * day, staleAfter: 14 * day),
        Rule(id: "peak-season", description: "Seasonal tips and a stock-check list, a month before the market's peak holiday.",
             stream: .marketing, trigger: .marketHoliday, offset: -30 * day, staleAfter: 14 * day),
        Rule(id: "upgrade-notice", description: "What changed and the trade-in offer, to every owner when a model gets a successor.",
             stream: .marketing, trigger: .productSucceeded, staleAfter: 30 * day),
    ], seasons: [
        Season(name: "rainy-season", industry: "agrochemicals", countries: ["TH", "VN", "ID", "MY", "PH", "MM", "KH", "LA", "IN", "BD"], month: 6, day: 1),
        Season(name: "planting-season", industry: "agrochemicals", countries: ["BR", "AR", "PY", "UY"], month: 10, day: 1),
        Season(name: "summer-peak", industry: "water", countries: ["SA", "AE", "QA", "KW", "OM", "BH", "EG", "NG"], month: 5, day: 1),
    ])
}
