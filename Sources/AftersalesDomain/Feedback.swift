import Foundation

/// Whether the buyer plans to buy again within three months.
public enum RepurchaseIntent: String, Sendable, Hashable, Codable, CaseIterable {
    case yes, no, unsure

    public init(parsing raw: String) throws(InvalidInput) {
        guard let intent = RepurchaseIntent(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "intent", value: raw, problem: "expected yes, no or unsure")
        }
        self = intent
    }
}

/// The services a survey asks the buyer to pick from.
public enum ServiceAspect: String, Sendable, Hashable, Codable, CaseIterable {
    case logistics, support, quality

    public init(parsing raw: String) throws(InvalidInput) {
        guard let aspect = ServiceAspect(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "liked", value: raw, problem: "expected logistics, support or quality")
        }
        self = aspect
    }
}

/// The buyer's answer to the one-minute survey.
public struct SurveyAnswer: Sendable, Hashable, Codable {
    public var orderID: String
    /// 0-10: 10 is a promoter, 7-9 passive, 0-6 a detractor.
    public var score: Int
    public var reason: String?
    public var liked: [ServiceAspect]
    public var intent: RepurchaseIntent?
    public var answeredAt: Date

    public init(orderID: String, score: Int, reason: String? = nil, liked: [ServiceAspect] = [], intent: RepurchaseIntent? = nil, answeredAt: Date) {
        self.orderID = orderID
        self.score = score
        self.reason = reason
        self.liked = liked
        self.intent = intent
        self.answeredAt = answeredAt
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case orderID, score, reason, liked, intent, answeredAt
    }

    public static func score(_ value: Int) throws(InvalidInput) -> Int {
        guard (0...10).contains(value) else { throw InvalidInput(field: "score", value: String(value), problem: "expected a score from 0 to 10") }
        return value
    }

    /// The segment the score puts the buyer in.
    public enum Segment: String, Sendable, Codable { case promoter, passive, detractor }
    public var segment: Segment { score == 10 ? .promoter : score >= 7 ? .passive : .detractor }
}

/// Feedback the buyer left on a selling platform.
public struct Review: Sendable, Hashable, Codable {
    public var orderID: String
    public var positive: Bool
    public var text: String?
    public var reviewedAt: Date

    public init(orderID: String, positive: Bool, text: String? = nil, reviewedAt: Date) {
        self.orderID = orderID
        self.positive = positive
        self.text = text
        self.reviewedAt = reviewedAt
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case orderID, positive, text, reviewedAt
    }
}
