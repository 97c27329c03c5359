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

    public init(id: String, orderID: String, category: ComplaintCategory, text: String, openedAt: Date,
                acknowledgedAt: Date? = nil, solution: String? = nil, solutionAt: Date? = nil, resolution: String? = nil,
                resolvedAt: Date? = nil, rating: Int? = nil, ratedAt: Date? = nil) {
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
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case id, orderID, category, text, openedAt, acknowledgedAt, solution, solutionAt, resolution, resolvedAt, rating, ratedAt
    }

    /// Validates a 1-5 handling rating.
    public static func rating(_ value: Int) throws(InvalidInput) -> Int {
        guard (1...5).contains(value) else { throw InvalidInput(field: "score", value: String(value), problem: "expected a rating from 1 to 5") }
        return value
    }
}
