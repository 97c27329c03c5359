import Foundation

/// What a complaint is about; decides which solution options the mail offers.
public enum ComplaintCategory: String, Sendable, Hashable, Codable, CaseIterable {
    case damage
    case quality
    case notAsDescribed = "not-as-described"
    case shortShipment = "short-shipment"
    case logisticsDelay = "logistics-delay"
    case communication
    case other

    public init(parsing raw: String) throws(InvalidInput) {
        guard let category = ComplaintCategory(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "category", value: raw, problem: "expected one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = category
    }
}

/// Where a complaint came from.
public enum ComplaintSource: String, Sendable, Hashable, Codable, CaseIterable {
    /// `aftersales complaint open` (and complaints stored before sources were recorded, unless they came by mail).
    case command
    /// A row of `aftersales import complaints`.
    case `import`
    /// A buyer's reply with a complaint keyword, read by `aftersales fetch`.
    case email
}

/// A complaint about an order, through its life: opened, acknowledged, solution offered, resolved, rated.
public struct Complaint: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var orderID: String
    public var category: ComplaintCategory
    /// The customer's own words, stored exactly as given.
    public var text: String
    public var openedAt: Date
    public var acknowledgedAt: Date?
    /// The solution offered (e.g. "free re-shipment"), and when.
    public var solution: String?
    public var solutionAt: Date?
    public var resolution: String?
    public var resolvedAt: Date?
    /// The customer's 1-5 rating of how we handled it.
    public var rating: Int?
    public var ratedAt: Date?
    /// Where it came from: a command, an import or a buyer's mail.
    public var source: ComplaintSource

    public init(id: String, orderID: String, category: ComplaintCategory, text: String, openedAt: Date,
                acknowledgedAt: Date? = nil, solution: String? = nil, solutionAt: Date? = nil, resolution: String? = nil,
                resolvedAt: Date? = nil, rating: Int? = nil, ratedAt: Date? = nil, source: ComplaintSource = .command) {
        self.id = id
        self.orderID = orderID
        self.category = category
        self.text = text
        self.openedAt = openedAt
        self.acknowledgedAt = acknowledgedAt
        self.solution = solution
        self.solutionAt = solutionAt
        self.resolution = resolution
        self.resolvedAt = resolvedAt
        self.rating = rating
        self.ratedAt = ratedAt
        self.source = source
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case id, orderID, category, text, openedAt, acknowledgedAt, solution, solutionAt, resolution, resolvedAt, rating, ratedAt, source
    }

    /// Decodes a complaint; one encoded before sources were recorded (an old event's payload) came from a command.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id), orderID: try c.decode(String.self, forKey: .orderID),
                  category: try c.decode(ComplaintCategory.self, forKey: .category), text: try c.decode(String.self, forKey: .text),
                  openedAt: try c.decode(Date.self, forKey: .openedAt), acknowledgedAt: try c.decodeIfPresent(Date.self, forKey: .acknowledgedAt),
                  solution: try c.decodeIfPresent(String.self, forKey: .solution), solutionAt: try c.decodeIfPresent(Date.self, forKey: .solutionAt),
                  resolution: try c.decodeIfPresent(String.self, forKey: .resolution), resolvedAt: try c.decodeIfPresent(Date.self, forKey: .resolvedAt),
                  rating: try c.decodeIfPresent(Int.self, forKey: .rating), ratedAt: try c.decodeIfPresent(Date.self, forKey: .ratedAt),
                  source: try c.decodeIfPresent(ComplaintSource.self, forKey: .source) ?? .command)
    }

    /// Validates a 1-5 handling rating.
    public static func rating(_ value: Int) throws(InvalidInput) -> Int {
        guard (1...5).contains(value) else { throw InvalidInput(field: "score", value: String(value), problem: "expected a rating from 1 to 5") }
        return value
    }
}
