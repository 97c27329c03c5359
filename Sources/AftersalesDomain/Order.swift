import Foundation

/// One line of an order. Prices are in minor units of the order's currency (cents).
public struct OrderLine: Sendable, Hashable, Codable {
    public var sku: String
    public var quantity: Int
    public var unitPriceMinor: Int64?

    public init(sku: String, quantity: Int, unitPriceMinor: Int64? = nil) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
    }

    /// Parses `SKU:QTY` or `SKU:QTY:PRICE`, where PRICE is in minor units (e.g. 129900 for 1,299.00).
    public static func parse(_ raw: String) throws(InvalidInput) -> OrderLine {
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let problem = "expected SKU:QUANTITY or SKU:QUANTITY:UNIT_PRICE_IN_MINOR_UNITS, like PUMP-200:4:129900"
        guard (2...3).contains(parts.count), !parts[0].isEmpty else { throw InvalidInput(field: "line", value: raw, problem: problem) }
        guard let quantity = Int(parts[1]), (1...1_000_000).contains(quantity) else {
            throw InvalidInput(field: "line", value: raw, problem: "quantity must be a whole number from 1 to 1000000")
        }
        var price: Int64?
        if parts.count == 3 {
            guard let p = Int64(parts[2]), p >= 0 else {
                throw InvalidInput(field: "line", value: raw, problem: "unit price must be a whole number of minor units (cents), 0 or more")
            }
            price = p
        }
        return OrderLine(sku: try Text.identifier(parts[0], field: "line"), quantity: quantity, unitPriceMinor: price)
    }
}

/// A sale to a customer.
public struct Order: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var customerID: String
    public var lines: [OrderLine]
    /// ISO 4217 currency code of the prices.
    public var currency: String
    public var placedAt: Date
    public var completedAt: Date?
    public var cancelledAt: Date?

    public init(id: String, customerID: String, lines: [OrderLine], currency: String = "USD", placedAt: Date,
                completedAt: Date? = nil, cancelledAt: Date? = nil) {
        self.id = id
        self.customerID = customerID
        self.lines = lines
        self.currency = currency
        self.placedAt = placedAt
        self.completedAt = completedAt
        self.cancelledAt = cancelledAt
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case id, customerID, lines, currency, placedAt, completedAt, cancelledAt
    }

    /// Validates a currency code: three ASCII letters, upper-cased.
    public static func currency(_ raw: String) throws(InvalidInput) -> String {
        let upper = raw.uppercased()
        guard upper.count == 3, upper.allSatisfy({ $0.isASCII && $0.isLetter }),
              Locale.Currency.isoCurrencies.contains(where: { $0.identifier == upper })
        else { throw InvalidInput(field: "currency", value: raw, problem: "expected an ISO 4217 currency code, like USD, EUR or MXN") }
        return upper
    }

    /// Total in minor units of the lines that have a price.
    public var totalMinor: Int64 { lines.reduce(0) { $0 + Int64($1.quantity) * ($1.unitPriceMinor ?? 0) } }
}
